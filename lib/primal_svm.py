"""The soft-margin SVM solved in the primal, as a loss minimisation: regulariser + C * hinge (torch, Adam).

Eliminating the slack variables (10.8) turns the constrained primal into an unconstrained one::

    min_f  1/2 ||f||_H^2 + C sum_i max(0, 1 - y_i f(x_i))

Two parametrisations of f:

* linear (``kernel=None``): ``f(x) = w^T x + b`` and ``||f||^2 = ||w||^2``;
* representer form (``kernel="rbf"``): ``f(x) = sum_j c_j k(x_j, x) + b`` with ``c`` in R^n, so
  ``||f||_H^2 = c^T K c`` (one parametrisation, ``c_j = alpha_j y_j`` at the dual optimum).

  Gradient steps directly on c are badly conditioned (the RBF Gram matrix has eigenvalues spanning many
  decades), so the optimiser works in whitened coordinates: with ``K = U S U^T`` (eigenvalues below
  ``1e-10 max S`` dropped) set ``c = U S^{-1/2} v``. Then ``K c = (U S^{1/2}) v`` and ``c^T K c = ||v||^2``:
  the kernel problem becomes a linear SVM on the n-dimensional features ``U S^{1/2}`` (the empirical
  kernel map), and ``c`` is read back at the end.

The bias b is free (not penalised), as in the SVC primal. The objective is convex but not smooth (the hinge
kink), so plain Adam hovers around the optimum at a distance set by the step; the step is therefore decayed
geometrically to ``lr * final_lr_frac`` over the run and the best iterate seen is returned. The subgradient is
written out (``w - C sum_{y_i f_i < 1} y_i x_i``, and ``-C sum_{y_i f_i < 1} y_i`` for b) and Adam's update is
spelled out in a few lines, so no autograd graph or optimiser object is needed.

Everything runs in float64 on ``device`` (CPU or GPU); inputs are numpy arrays or tensors.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from .device import get_device

KERNELS = (None, "linear", "rbf")


def _as_float(name: str, v, positive: bool = True) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v) \
            or (positive and v <= 0):
        raise ValueError(f"{name}: expected a positive finite number, got {v!r}")
    return float(v)


def _check_Xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X.detach().cpu() if torch.is_tensor(X) else X, dtype=np.float64)
    y = np.asarray(y.detach().cpu() if torch.is_tensor(y) else y, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"X: expected a 2-D array (n, d) with n >= 2, got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y: expected shape ({X.shape[0]},), got {y.shape}")
    if not np.isin(y, (-1.0, 1.0)).all() or (y > 0).all() or (y < 0).all():
        raise ValueError("y: expected labels in {-1, +1} with both classes present")
    return X, y


def rbf_gram(X: torch.Tensor, Z: torch.Tensor, gamma: float) -> torch.Tensor:
    """``exp(-gamma ||x - z||^2)``, shape (len(X), len(Z)); squared distances clamped at 0."""
    d2 = (X * X).sum(1)[:, None] + (Z * Z).sum(1)[None, :] - 2 * X @ Z.T
    return torch.exp(-gamma * d2.clamp_min(0.0))


def hinge_objective(norm_sq, margins, C: float):
    """``1/2 norm_sq + C sum max(0, 1 - margins)``: works on tensors and numpy arrays alike."""
    if torch.is_tensor(margins):
        return 0.5 * norm_sq + C * torch.clamp(1.0 - margins, min=0.0).sum()
    return float(0.5 * norm_sq + C * np.maximum(0.0, 1.0 - np.asarray(margins)).sum())


def fit_hinge_primal(X, y, C: float, kernel: str | None = None, gamma: float | None = None, epochs: int = 500,
                     lr: float = 0.05, device=None, seed: int = 0, final_lr_frac: float = 1e-3) -> dict:
    """Minimise ``1/2 ||f||_H^2 + C sum_i hinge(y_i f(x_i))`` with full-batch Adam (subgradients) in float64.

    ``X``: (n, d); ``y``: (n,) in {-1, +1}; ``kernel``: None / "linear" (f = w^T x + b) or "rbf"
    (f = K c + b with ``K_ij = exp(-gamma ||x_i - x_j||^2)``, ``gamma`` required). The step decays
    geometrically from ``lr`` to ``lr * final_lr_frac``. ``seed`` fixes the small random start.
    ``device``: where the tensors live (None: :func:`lib.device.get_device`, the GPU when there is one).

    Returns ``dict(kernel, w (d,) or None, c (n,) or None, b, objective (best), history (objective per
    epoch), margins (y_i f(x_i) at the best iterate), slack (max(0, 1 - margins)), device, fit_time)``.
    ``predict_fn(Xnew)`` in the dict evaluates f on new points (numpy in, numpy out).
    """
    X, y = _check_Xy(X, y)
    C = _as_float("C", C)
    lr = _as_float("lr", lr)
    final_lr_frac = _as_float("final_lr_frac", final_lr_frac)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs: expected an integer >= 1, got {epochs!r}")
    if kernel not in KERNELS:
        raise ValueError(f"kernel: expected None, 'linear' or 'rbf', got {kernel!r}")
    if kernel == "rbf":
        gamma = _as_float("gamma", gamma) if gamma is not None else None
        if gamma is None:
            raise ValueError("gamma: required (a positive number) for kernel='rbf'")
    dev = torch.device(device) if device is not None else get_device()
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(int(seed))
    Xt = torch.as_tensor(X, dtype=torch.float64, device=dev)
    yt = torch.as_tensor(y, dtype=torch.float64, device=dev)
    if kernel == "rbf":
        S, U = torch.linalg.eigh(rbf_gram(Xt, Xt, gamma))
        keep = S > 1e-10 * S.max()
        U, S = U[:, keep], S[keep]
        F = U * S.sqrt()  # features: F F^T = K (up to the dropped directions)
        back = U / S.sqrt()  # c = back @ v
    else:
        F, back = Xt, None
    theta = (1e-3 * torch.randn(F.shape[1], generator=gen, dtype=torch.float64)).to(dev)
    b = torch.zeros((), dtype=torch.float64, device=dev)

    def objective_and_subgradient(theta, b):
        m = yt * (F @ theta + b)
        active = (m < 1).to(torch.float64) * yt  # -d hinge / d f_i = y_i where the margin is violated
        obj = 0.5 * theta @ theta + C * torch.clamp(1.0 - m, min=0.0).sum()
        return obj, theta - C * (F.T @ active), -C * active.sum()

    # Adam (Kingma & Ba), written out: m, v are running means of the (sub)gradient and its square
    b1, b2, eps = 0.9, 0.999, 1e-8
    m_t, v_t = torch.zeros_like(theta), torch.zeros_like(theta)
    m_b, v_b = torch.zeros_like(b), torch.zeros_like(b)
    decay = final_lr_frac ** (1.0 / max(epochs - 1, 1))
    history = np.empty(epochs)
    best, best_theta, best_b = math.inf, theta.clone(), b.clone()
    step = lr
    for t in range(1, epochs + 1):
        obj, g_t, g_b = objective_and_subgradient(theta, b)
        val = float(obj)
        history[t - 1] = val
        if val < best:
            best, best_theta, best_b = val, theta.clone(), b.clone()
        m_t.mul_(b1).add_(g_t, alpha=1 - b1)
        v_t.mul_(b2).addcmul_(g_t, g_t, value=1 - b2)
        m_b = b1 * m_b + (1 - b1) * g_b
        v_b = b2 * v_b + (1 - b2) * g_b * g_b
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        theta = theta - step * (m_t / c1) / ((v_t / c2).sqrt() + eps)
        b = b - step * (m_b / c1) / ((v_b / c2).sqrt() + eps)
        step *= decay
    val = float(objective_and_subgradient(theta, b)[0])  # the last step is not yet evaluated
    if val < best:
        best, best_theta, best_b = val, theta.clone(), b.clone()
    bb = float(best_b.cpu())
    f_train = (F @ best_theta).cpu().numpy() + bb
    if kernel == "rbf":
        c_t = back @ best_theta
        th = c_t.cpu().numpy()

        def predict_fn(Xnew):
            Zt = torch.as_tensor(np.asarray(Xnew, dtype=np.float64), device=dev)
            return (rbf_gram(Zt, Xt, gamma) @ c_t).cpu().numpy() + bb
    else:
        th = best_theta.cpu().numpy()

        def predict_fn(Xnew):
            return np.asarray(Xnew, dtype=np.float64) @ th + bb
    margins = y * f_train
    return dict(kernel=kernel, w=None if kernel == "rbf" else th, c=th if kernel == "rbf" else None, b=bb,
                objective=best, history=history, margins=margins, slack=np.maximum(0.0, 1.0 - margins),
                predict_fn=predict_fn, device=str(dev), fit_time=time.perf_counter() - t0)
