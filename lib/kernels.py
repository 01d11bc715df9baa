"""Kernels for Chapter 10: linear, polynomial, RBF, sigmoid; Gram matrices; explicit feature maps.

A kernel is an inner product of feature vectors, ``k(x, z) = <Phi(x), Phi(z)>`` (10.71-10.76)::

    linear      k(x, z) = <x, z>
    polynomial  k(x, z) = (gamma <x, z> + coef0)^degree        (the text: gamma = 1, coef0 = 1)
    RBF         k(x, z) = exp(-gamma ||x - z||^2)
    sigmoid     k(x, z) = tanh(kappa <x, z> + c)               NOT positive semi-definite in general

A function is a valid kernel iff every Gram matrix ``K_ij = k(x_i, x_j)`` it builds is symmetric PSD
(:func:`is_psd`). The sigmoid fails this for many (kappa, c); e.g. c < 0 gives ``k(0, 0) = tanh(c) < 0``.

Explicit feature maps: :func:`poly_features` (weighted monomials up to ``degree``) and
:func:`rbf_taylor_features` (the RBF map truncated at total degree ``max_degree``)::

    Phi_a(x) = exp(-gamma ||x||^2) sqrt((2 gamma)^|a| / a!) x^a,     a a multi-index, a! = prod_k a_k!

The kernel functions take numpy arrays ``X (n, p)`` and ``Z (m, p)`` (``Z=None`` means ``Z = X``) and
return ``(n, m)`` float64 arrays; :func:`gram` also has a torch path (any device, float64 by default).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import torch

KERNELS = ("linear", "poly", "rbf", "sigmoid")


# --------------------------------------------------------------------------- input checks
def _pair(X, Z):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X: expected a non-empty 2-D array (n, p), got shape {X.shape}")
    if Z is None:
        return X, X
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 2 or Z.shape[1] != X.shape[1]:
        raise ValueError(f"Z: expected a 2-D array (m, {X.shape[1]}), got shape {Z.shape}")
    return X, Z


def _positive(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not v > 0:
        raise ValueError(f"{name}: expected a positive number, got {v!r}")
    return float(v)


def _degree(d, name="degree"):
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {d!r}")
    return int(d)


def _number(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {v!r}")
    return float(v)


# --------------------------------------------------------------------------- kernels (numpy)
def linear_kernel(X, Z=None) -> np.ndarray:
    """``<x_i, z_j>``, shape (n, m)."""
    X, Z = _pair(X, Z)
    return X @ Z.T


def poly_kernel(X, Z=None, degree: int = 3, gamma: float = 1.0, coef0: float = 1.0) -> np.ndarray:
    """``(gamma <x_i, z_j> + coef0)^degree``, shape (n, m)."""
    X, Z = _pair(X, Z)
    return (_positive("gamma", gamma) * (X @ Z.T) + _number("coef0", coef0)) ** _degree(degree)


def _sqdist(X, Z):
    d2 = (X * X).sum(1)[:, None] + (Z * Z).sum(1)[None, :] - 2.0 * X @ Z.T
    return np.maximum(d2, 0.0)  # rounding can make tiny distances negative


def rbf_kernel(X, Z=None, gamma: float = 1.0) -> np.ndarray:
    """``exp(-gamma ||x_i - z_j||^2)``, shape (n, m); squared distances are clamped at 0."""
    X, Z = _pair(X, Z)
    return np.exp(-_positive("gamma", gamma) * _sqdist(X, Z))


def sigmoid_kernel(X, Z=None, kappa: float = 1.0, c: float = 0.0) -> np.ndarray:
    """``tanh(kappa <x_i, z_j> + c)``, shape (n, m).

    Not a valid (PSD) kernel in general: for c < 0, ``k(0, 0) = tanh(c) < 0`` already, and many other
    (kappa, c) give Gram matrices with negative eigenvalues (erratum 12). Kept for comparison only.
    """
    X, Z = _pair(X, Z)
    return np.tanh(_number("kappa", kappa) * (X @ Z.T) + _number("c", c))


_NUMPY = dict(linear=linear_kernel, poly=poly_kernel, rbf=rbf_kernel, sigmoid=sigmoid_kernel)


# --------------------------------------------------------------------------- kernels (torch)
def _torch_kernel(name, X, Z, **p):
    G = X @ Z.T
    if name == "linear":
        return G
    if name == "poly":
        return (float(p.get("gamma", 1.0)) * G + float(p.get("coef0", 1.0))) ** int(p.get("degree", 3))
    if name == "sigmoid":
        return torch.tanh(float(p.get("kappa", 1.0)) * G + float(p.get("c", 0.0)))
    d2 = (X * X).sum(1)[:, None] + (Z * Z).sum(1)[None, :] - 2.0 * G
    return torch.exp(-float(p.get("gamma", 1.0)) * d2.clamp_min(0.0))


def gram(kernel, X, Z=None, backend: str = "auto", device=None, dtype=torch.float64, **params):
    """The Gram matrix ``K_ij = k(x_i, z_j)``, shape (n, m).

    ``kernel`` is one of ``KERNELS`` or a callable ``k(X, Z, **params) -> (n, m)``. ``backend``:
    ``"numpy"`` returns a numpy array; ``"torch"`` computes on ``device`` (default CPU) in ``dtype``
    (float64 by default) and returns a tensor there; ``"auto"`` uses torch on CUDA when it is available
    and ``n * m > 4e6``, and numpy otherwise (returning numpy either way).
    """
    if backend not in ("auto", "numpy", "torch"):
        raise ValueError(f"backend: expected 'auto', 'numpy' or 'torch', got {backend!r}")
    if callable(kernel):
        if backend == "torch":
            raise ValueError("backend: a callable kernel runs with backend='numpy' or 'auto' only")
        Xn, Zn = _pair(X, Z)
        K = np.asarray(kernel(Xn, Zn, **params), dtype=float)
        if K.shape != (Xn.shape[0], Zn.shape[0]):
            raise ValueError(f"kernel: the callable returned shape {K.shape}, expected {(Xn.shape[0], Zn.shape[0])}")
        return K
    if kernel not in KERNELS:
        raise ValueError(f"kernel: expected one of {KERNELS} or a callable, got {kernel!r}")
    allowed = dict(linear=set(), poly={"degree", "gamma", "coef0"}, rbf={"gamma"}, sigmoid={"kappa", "c"})[kernel]
    extra = set(params) - allowed
    if extra:
        raise ValueError(f"params: {sorted(extra)} are not parameters of the {kernel!r} kernel (allowed: {sorted(allowed)})")
    if backend == "numpy" or (backend == "auto" and not torch.cuda.is_available()):
        return _NUMPY[kernel](X, Z, **params)
    if backend == "auto":
        n = np.shape(X)[0]
        m = n if Z is None else np.shape(Z)[0]
        if n * m <= 4e6:
            return _NUMPY[kernel](X, Z, **params)
        device = device or "cuda"
    Xn, Zn = _pair(X if not torch.is_tensor(X) else X.detach().cpu().numpy(),
                   None if Z is None else (Z if not torch.is_tensor(Z) else Z.detach().cpu().numpy()))
    _NUMPY[kernel](Xn[:1], Zn[:1], **params)  # validates the parameters
    dev = torch.device(device or "cpu")
    tX = torch.as_tensor(Xn, dtype=dtype, device=dev)
    tZ = tX if Z is None else torch.as_tensor(Zn, dtype=dtype, device=dev)
    K = _torch_kernel(kernel, tX, tZ, **params)
    return K.cpu().numpy() if backend == "auto" else K


# --------------------------------------------------------------------------- validity
def is_psd(K, tol: float = 1e-10) -> tuple[bool, float]:
    """``(K is symmetric PSD up to tol, smallest eigenvalue)``; tol is relative to ``max(1, max|K|)``."""
    K = np.asarray(K, dtype=float)
    if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] == 0:
        raise ValueError(f"K: expected a non-empty square matrix, got shape {K.shape}")
    if not tol >= 0:
        raise ValueError(f"tol: expected a non-negative number, got {tol!r}")
    scale = max(1.0, float(np.abs(K).max()))
    sym = np.abs(K - K.T).max() <= tol * scale
    lam = float(np.linalg.eigvalsh((K + K.T) / 2).min())
    return bool(sym and lam >= -tol * scale), lam


# --------------------------------------------------------------------------- explicit features
def multi_indices(p: int, max_degree: int) -> list[tuple[int, ...]]:
    """All multi-indices ``a`` in N^p with ``|a| <= max_degree``, ordered by total degree."""
    return [a for d in range(max_degree + 1) for a in itertools.product(range(d + 1), repeat=p) if sum(a) == d]


def _monomials(X, idx):
    return np.stack([np.prod(X ** np.array(a, dtype=float), axis=1) for a in idx], axis=1)


def poly_features(X, degree: int, coef0: float = 1.0) -> np.ndarray:
    """Explicit features with ``<Phi(x), Phi(z)> = (<x, z> + coef0)^degree`` (gamma = 1).

    By the multinomial theorem, ``Phi_a(x) = sqrt(degree! / (a! (degree-|a|)!) coef0^(degree-|a|)) x^a``
    over multi-indices ``|a| <= degree``. Shape ``(n, C(p + degree, degree))``; needs ``coef0 >= 0``.
    """
    X, _ = _pair(X, None)
    d = _degree(degree)
    c = _number("coef0", coef0)
    if c < 0:
        raise ValueError(f"coef0: expected a non-negative number for real features, got {coef0!r}")
    idx = multi_indices(X.shape[1], d)
    w = np.array([math.factorial(d) / (math.prod(math.factorial(k) for k in a) * math.factorial(d - sum(a)))
                  * c ** (d - sum(a)) for a in idx])
    return _monomials(X, idx) * np.sqrt(w)


def rbf_taylor_features(X, gamma: float, max_degree: int) -> np.ndarray:
    """The RBF feature map truncated at total degree ``max_degree`` (erratum 13's corrected coefficients).

    ``Phi_a(x) = exp(-gamma ||x||^2) sqrt((2 gamma)^|a| / a!) x^a`` for ``|a| <= max_degree``, so that
    ``Phi(x) . Phi(z) -> exp(-gamma ||x - z||^2)`` as ``max_degree`` grows (it is the Taylor series of
    ``exp(2 gamma <x, z>)`` times ``exp(-gamma ||x||^2) exp(-gamma ||z||^2)``).
    """
    X, _ = _pair(X, None)
    g = _positive("gamma", gamma)
    idx = multi_indices(X.shape[1], _degree(max_degree, "max_degree"))
    w = np.array([(2 * g) ** sum(a) / math.prod(math.factorial(k) for k in a) for a in idx])
    return np.exp(-g * (X * X).sum(1))[:, None] * _monomials(X, idx) * np.sqrt(w)
