"""How class structure sharpens layer by layer: within-class variance and a nearest-class-mean probe.

For features ``H`` (N, d) with labels ``y``, class means ``mu_c`` and overall mean ``mu``::

    S_W = (1/N) sum_i (h_i - mu_{y_i})(h_i - mu_{y_i})^T     (pooled within-class covariance)
    S_T = (1/N) sum_i (h_i - mu)(h_i - mu)^T                 (total covariance)
    within-class fraction = tr S_W / tr S_T   in [0, 1]

0 means every example sits on its class mean (the "collapse" seen late in training at the last layer);
1 means the class means coincide. The nearest-class-mean probe classifies a point by the closest
training-class mean: it measures how much class information is *linearly usable* in a layer, and it
costs milliseconds, unlike fitting a logistic-regression probe per layer.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _features(name: str, H) -> np.ndarray:
    if hasattr(H, "detach"):
        H = H.detach().cpu().numpy()
    H = np.asarray(H)
    if H.dtype == object or not np.issubdtype(H.dtype, np.number):
        raise TypeError(f"{name}: expected a numeric array or tensor, got dtype {H.dtype}")
    if H.ndim != 2 or H.shape[0] < 2:
        raise ValueError(f"{name}: expected a (N, d) array with N >= 2, got shape {H.shape}")
    H = H.astype(np.float64)
    if not np.all(np.isfinite(H)):
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return H


def _labels(name: str, y, n: int) -> np.ndarray:
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{name}: expected {n} labels of shape ({n},), got shape {y.shape}")
    return y


def within_class_fraction(H, y) -> float:
    """``tr S_W / tr S_T`` (see the module docstring). Needs at least two distinct rows."""
    H = _features("H", H)
    y = _labels("y", y, H.shape[0])
    classes, inv = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError("y: expected at least two classes")
    means = np.stack([H[inv == c].mean(axis=0) for c in range(classes.size)])
    within = np.sum((H - means[inv]) ** 2)
    total = np.sum((H - H.mean(axis=0)) ** 2)
    if total == 0:
        raise ValueError("H: all rows are equal, so the total variance is 0")
    return float(within / total)


def nearest_class_mean_accuracy(Htr, ytr, Hte, yte) -> float:
    """Accuracy on (Hte, yte) of predicting the class whose training mean (from Htr, ytr) is closest
    in Euclidean distance."""
    Htr, Hte = _features("Htr", Htr), _features("Hte", Hte)
    if Htr.shape[1] != Hte.shape[1]:
        raise ValueError(f"Hte: expected {Htr.shape[1]} columns like Htr, got shape {Hte.shape}")
    ytr, yte = _labels("ytr", ytr, Htr.shape[0]), _labels("yte", yte, Hte.shape[0])
    classes, inv = np.unique(ytr, return_inverse=True)
    means = np.stack([Htr[inv == c].mean(axis=0) for c in range(classes.size)])
    d2 = (Hte ** 2).sum(1)[:, None] - 2 * Hte @ means.T + (means ** 2).sum(1)[None, :]
    return float(np.mean(classes[np.argmin(d2, axis=1)] == yte))


def layerwise_report(model, X, y, Xte, yte) -> pd.DataFrame:
    """One row per layer of an MLP from ``lib.nn.make_mlp`` (input, each hidden layer, output scores):
    ``layer`` (0 = input), ``width``, ``within_class_fraction`` on (X, y) and ``ncm_accuracy``, the
    nearest-class-mean probe fitted on (X, y) and scored on (Xte, yte)."""
    from .nn import layer_activations

    tr = layer_activations(model, X)
    te = layer_activations(model, Xte)
    rows = []
    for l, (Htr, Hte) in enumerate(zip(tr, te)):
        rows.append({"layer": l, "width": int(Htr.shape[1]),
                     "within_class_fraction": within_class_fraction(Htr, y),
                     "ncm_accuracy": nearest_class_mean_accuracy(Htr, y, Hte, yte)})
    return pd.DataFrame(rows)
