"""Output layers and their log-likelihoods: softmax, log-sum-exp, cross-entropy, and the "error" y - p.

For scores (logits) ``s`` in R^C and a class ``y``::

    logsumexp(s) = m + log sum_j exp(s_j - m),   m = max_j s_j      (never overflows)
    softmax(s)_c = exp(s_c - logsumexp(s))                          (probabilities, sum 1)
    log p_y      = s_y - logsumexp(s)                               (log-likelihood J of one example)
    dJ/ds        = onehot(y) - softmax(s)                           ("target minus prediction")

Softmax is shift-invariant, ``softmax(s + c 1) = softmax(s)``: subtracting ``m`` changes nothing
mathematically and only keeps ``exp`` in range. The same "target minus prediction" error appears for
a Gaussian output with unit variance (``y - s``) and for a Bernoulli output (``y - sigmoid(s)``):
:func:`loglik_and_error` returns all three with the book's sign (J is a log-likelihood, to be
maximised); :func:`cross_entropy` is its negative mean, as ``torch.nn.functional.cross_entropy``.
Everything is float64 numpy; functions of a batch act on the last axis by default.
"""
from __future__ import annotations

import numpy as np

from .logistic import log1pexp, sigmoid

KINDS = ("gaussian", "bernoulli", "categorical")
REDUCTIONS = ("mean", "sum", "none")


# --------------------------------------------------------------------------- input checks
def _scores(name: str, s, min_ndim: int = 1) -> np.ndarray:
    s = np.asarray(s)
    if s.dtype == object or not (np.issubdtype(s.dtype, np.number) or s.dtype == bool):
        raise TypeError(f"{name}: expected a numeric array, got dtype {s.dtype}")
    if s.ndim < min_ndim or s.size == 0:
        raise ValueError(f"{name}: expected a non-empty array with at least {min_ndim} dimension(s), "
                         f"got shape {s.shape}")
    s = s.astype(np.float64)
    if np.isnan(s).any() or np.isposinf(s).any():
        raise ValueError(f"{name}: expected finite values (or -inf for impossible classes), found NaN or +inf")
    return s


def _axis(axis, ndim: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"axis: expected an integer in [-{ndim}, {ndim}), got {axis!r}")
    return int(axis)


def _labels(name: str, y, n: int, C: int) -> np.ndarray:
    y = np.asarray(y)
    if y.dtype == object or not np.issubdtype(y.dtype, np.number) or y.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of integer class labels, got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"{name}: expected {n} labels (one per row of s), got {y.shape[0]}")
    if not np.all(y == np.round(y)) or (y.size and (y.min() < 0 or y.max() >= C)):
        raise ValueError(f"{name}: expected integer labels in 0..{C - 1}")
    return y.astype(np.int64)


# --------------------------------------------------------------------------- softmax family
def logsumexp(s, axis: int = -1) -> np.ndarray:
    """``log sum_j exp(s_j)`` along ``axis`` (that axis removed), computed as ``m + log sum exp(s - m)``."""
    s = _scores("s", s)
    axis = _axis(axis, s.ndim)
    m = np.max(s, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # a row of all -inf gives -inf, not NaN
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(s - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis)[()]


def log_softmax(s, axis: int = -1) -> np.ndarray:
    """``log softmax(s) = s - logsumexp(s)`` along ``axis``; same shape as ``s``."""
    s = _scores("s", s)
    axis = _axis(axis, s.ndim)
    return s - np.expand_dims(logsumexp(s, axis=axis), axis)


def softmax(s, axis: int = -1) -> np.ndarray:
    """``exp(s_c) / sum_j exp(s_j)`` along ``axis``; same shape as ``s``; entries in [0, 1] summing to 1."""
    return np.exp(log_softmax(s, axis=axis))


def hardmax(s, axis: int = -1) -> np.ndarray:
    """The one-hot vector of ``argmax s`` along ``axis`` (the first maximum on ties); same shape as ``s``.

    It is the zero-temperature limit of ``softmax(s / T)``; it is piecewise constant in ``s``, so its
    gradient is zero wherever it is defined, which is why training uses softmax instead.
    """
    s = _scores("s", s)
    axis = _axis(axis, s.ndim)
    idx = np.expand_dims(np.argmax(s, axis=axis), axis)
    out = np.zeros_like(s)
    np.put_along_axis(out, idx, 1.0, axis=axis)
    return out


def one_hot(idx, C: int) -> np.ndarray:
    """Rows ``e_{idx_i}`` of the C x C identity: integer labels (N,) -> float array (N, C)."""
    if isinstance(C, bool) or not isinstance(C, (int, np.integer)) or C < 1:
        raise ValueError(f"C: expected a positive integer number of classes, got {C!r}")
    idx = np.asarray(idx)
    y = _labels("idx", idx.reshape(-1), idx.size, int(C))
    return np.eye(int(C))[y].reshape(*idx.shape, int(C))


# --------------------------------------------------------------------------- likelihoods and errors
def loglik_and_error(s, y, kind: str = "categorical", sigma: float = 1.0) -> tuple[float, np.ndarray]:
    """The log-likelihood ``J = sum_i log p(y_i | s_i)`` and its gradient ``dJ/ds`` (the "error").

    * ``"gaussian"``: ``y ~ N(s, sigma^2)``; ``s``, ``y`` shape (N,) or (N, k);
      ``J = sum[-(y - s)^2 / (2 sigma^2) - log(sigma sqrt(2 pi))]``, ``dJ/ds = (y - s) / sigma^2``
      (the book's ``y - s`` is the case sigma = 1).
    * ``"bernoulli"``: ``P(y = 1) = sigmoid(s)``; ``s``, ``y`` in {0, 1} shape (N,);
      ``J = sum[y s - log(1 + e^s)]``, ``dJ/ds = y - sigmoid(s)``.
    * ``"categorical"``: ``p = softmax(s)``; ``s`` (N, C), ``y`` labels (N,) or one-hot (N, C);
      ``J = sum[s_y - logsumexp(s)]``, ``dJ/ds = onehot(y) - p``.

    Returns ``(J, dJ_ds)`` with ``dJ_ds`` the shape of ``s``; J is summed over the batch.
    """
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(map(repr, KINDS))}, got {kind!r}")
    s = _scores("s", s)
    if kind == "categorical":
        if s.ndim != 2:
            raise ValueError(f"s: expected scores of shape (N, C) for kind='categorical', got {s.shape}")
        y = np.asarray(y)
        Y = y.astype(np.float64) if y.shape == s.shape else one_hot(_labels("y", y, s.shape[0], s.shape[1]),
                                                                     s.shape[1])
        if Y.shape == s.shape and not (np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(1) == 1)):
            raise ValueError("y: a (N, C) target must be one-hot")
        logp = log_softmax(s, axis=1)
        return float(np.sum(Y * logp)), Y - np.exp(logp)
    y = _scores("y", y)
    if y.shape != s.shape:
        raise ValueError(f"y: expected the shape of s {s.shape}, got {y.shape}")
    if kind == "bernoulli":
        if not np.all((y == 0) | (y == 1)):
            raise ValueError("y: expected labels in {0, 1} for kind='bernoulli'")
        return float(np.sum(y * s - log1pexp(s))), y - sigmoid(s)
    if isinstance(sigma, bool) or not np.isscalar(sigma) or not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma: expected a positive noise standard deviation, got {sigma!r}")
    r = y - s
    J = np.sum(-0.5 * r ** 2 / sigma ** 2 - np.log(sigma * np.sqrt(2 * np.pi)))
    return float(J), r / sigma ** 2


def cross_entropy(s, y_idx, reduction: str = "mean"):
    """``-log softmax(s)_y`` per row of ``s`` (N, C) with labels ``y_idx`` (N,), then averaged ("mean"),
    summed ("sum") or returned per row ("none"), as ``torch.nn.functional.cross_entropy``."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction: expected one of {', '.join(map(repr, REDUCTIONS))}, got {reduction!r}")
    s = _scores("s", s)
    if s.ndim != 2:
        raise ValueError(f"s: expected scores of shape (N, C), got {s.shape}")
    y = _labels("y_idx", y_idx, s.shape[0], s.shape[1])
    nll = -log_softmax(s, axis=1)[np.arange(s.shape[0]), y]
    if reduction == "none":
        return nll
    return float(nll.mean() if reduction == "mean" else nll.sum())
