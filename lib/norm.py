"""RMS normalisation and dropout: two ways a layer can be made robust to what happens to its input.

RMSNorm (Zhang & Sennrich 2019) rescales a vector h (d,) to unit root mean square,

    RMSNorm(h) = gamma * h / r(h),   r(h) = sqrt(mean_i h_i^2 + eps),

so that with eps = 0 the output sqrt(d) h / ||h|| lies on the sphere of radius sqrt(d) and
RMSNorm(alpha h) = sign(alpha) RMSNorm(h). Its Jacobian (gamma = 1) is

    dRMSNorm/dh = (I - h h^T / (d r^2)) / r   =   sqrt(d) / ||h|| (I - u u^T),  u = h / ||h||  (eps = 0).

Dropout multiplies h by a mask m with independent m_i ~ Bernoulli(1 - rho) (rho: the drop rate).
Two conventions give the same network in expectation:

    book (Srivastava et al. 2014):  train m * h,                 test (1 - rho) h
    inverted (torch.nn.Dropout):    train m * h / (1 - rho),     test h

``dropout_ensemble_mc`` averages a network's output over random masks, the ensemble that the test-time
rescaling ("weight scaling") stands in for.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch


def _check_array(name: str, h, min_ndim: int = 1):
    """A float numpy array or a floating torch tensor, with at least ``min_ndim`` dimensions."""
    if isinstance(h, torch.Tensor):
        if not h.is_floating_point():
            raise TypeError(f"{name}: expected a floating-point tensor, got dtype {h.dtype}")
    else:
        arr = np.asarray(h)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            raise TypeError(f"{name}: expected a numeric array or a torch tensor, got dtype {arr.dtype}")
        h = arr.astype(np.float64)
    if h.ndim < min_ndim or h.shape[-1] == 0:
        raise ValueError(f"{name}: expected an array with at least {min_ndim} dimension(s) and a non-empty "
                         f"last axis, got shape {tuple(h.shape)}")
    return h


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not np.isscalar(eps) or not np.isfinite(eps) or eps < 0:
        raise ValueError(f"eps: expected a finite number >= 0, got {eps!r}")
    return float(eps)


def _check_rho(rho) -> float:
    if isinstance(rho, bool) or not np.isscalar(rho) or not 0 <= rho < 1:
        raise ValueError(f"rho: expected a drop rate in [0, 1), got {rho!r}")
    return float(rho)


# --------------------------------------------------------------------------- RMSNorm
def rms_norm(h, eps: float = 0.0, gamma=None, axis: int = -1):
    """gamma * h / sqrt(mean(h^2 along axis) + eps) for a numpy array or torch tensor h (..., d, ...).

    gamma (the learnable gain, broadcast along ``axis``) defaults to 1. With eps = 0 a zero vector has
    no direction, and ``ValueError`` is raised. Equal to ``torch.nn.RMSNorm(d, eps, elementwise_affine=False)``
    for axis = -1.
    """
    h = _check_array("h", h)
    eps = _check_eps(eps)
    if not isinstance(axis, (int, np.integer)) or not -h.ndim <= axis < h.ndim:
        raise ValueError(f"axis: expected an axis of an array with {h.ndim} dimension(s), got {axis!r}")
    if isinstance(h, torch.Tensor):
        ms = h.pow(2).mean(dim=axis, keepdim=True) + eps
        zero = bool((ms == 0).any())
        out = h * torch.rsqrt(ms) if not zero else None
    else:
        ms = np.mean(h ** 2, axis=axis, keepdims=True) + eps
        zero = bool(np.any(ms == 0))
        out = h / np.sqrt(ms) if not zero else None
    if zero:
        raise ValueError("h: a zero vector has no direction; RMSNorm needs eps > 0 for it")
    if gamma is not None:
        shape = [1] * h.ndim
        shape[axis] = h.shape[axis]
        g = gamma if isinstance(gamma, torch.Tensor) else np.asarray(gamma, dtype=float)
        if tuple(g.shape) != (h.shape[axis],):
            raise ValueError(f"gamma: expected shape ({h.shape[axis]},), got {tuple(g.shape)}")
        out = out * g.reshape(shape)
    return out


def rms_norm_jacobian(h, eps: float = 0.0) -> np.ndarray:
    """The Jacobian (d, d) of RMSNorm (gamma = 1) at one vector h (d,):

        J = (I - h h^T / (d r^2)) / r,  r = sqrt(mean h^2 + eps);  with eps = 0, sqrt(d)/||h|| (I - u u^T).

    J is symmetric, J h = eps h / r^3 (0 when eps = 0: moving along h does not change the output), and
    its spectral norm is 1/r, i.e. sqrt(d)/||h|| for eps = 0, which grows without bound as h -> 0.
    """
    h = _check_array("h", h.detach().cpu().numpy() if isinstance(h, torch.Tensor) else h)
    if h.ndim != 1:
        raise ValueError(f"h: expected one vector of shape (d,), got shape {h.shape}")
    eps = _check_eps(eps)
    d = h.shape[0]
    r2 = np.mean(h ** 2) + eps
    if r2 == 0:
        raise ValueError("h: a zero vector has no direction; the Jacobian needs eps > 0 for it")
    r = np.sqrt(r2)
    return (np.eye(d) - np.outer(h, h) / (d * r2)) / r


# --------------------------------------------------------------------------- dropout
def dropout(h, rho: float, rng=None, train: bool = True, inverted: bool = False, mask=None):
    """Dropout of h (numpy array or torch tensor) with drop rate ``rho``. Returns ``(out, mask)``.

    train=True: mask m (the shape of h, 0/1 values) is ``mask`` if given, else drawn with
    P(m_i = 1) = 1 - rho from ``rng`` (a numpy Generator or seed for arrays; a torch Generator or None
    for tensors); out = m * h (book convention) or m * h / (1 - rho) (``inverted=True``, torch's).
    train=False: no mask (returned as None); out = (1 - rho) h (book) or h (inverted).
    Either way E[out during training] equals the test-time output.
    """
    h = _check_array("h", h)
    rho = _check_rho(rho)
    if not train:
        return (h if inverted else (1 - rho) * h), None
    is_torch = isinstance(h, torch.Tensor)
    if mask is None:
        if is_torch:
            if rng is not None and not isinstance(rng, torch.Generator):
                raise TypeError(f"rng: expected a torch.Generator (or None) for a tensor h, got {type(rng).__name__}")
            mask = torch.empty_like(h).bernoulli_(1 - rho, generator=rng)
        else:
            mask = (np.random.default_rng(rng).random(h.shape) >= rho).astype(h.dtype)
    else:
        mask = mask.to(h.dtype) if is_torch else np.asarray(mask, dtype=float)
        if tuple(mask.shape) != tuple(h.shape):
            raise ValueError(f"mask: expected the shape of h {tuple(h.shape)}, got {tuple(mask.shape)}")
        if not bool(((mask == 0) | (mask == 1)).all()):
            raise ValueError("mask: expected only 0s and 1s")
    out = mask * h
    return (out / (1 - rho) if inverted else out), mask


def dropout_ensemble_mc(forward_fn: Callable, x, rho: float, n_masks: int = 10_000, seed: int = 0,
                        inverted: bool = False, chunk: int = 1000) -> dict:
    """The average of a dropout network's output over random masks, and the weight-scaling stand-in.

    ``forward_fn(X, drop)`` runs the network on numpy inputs X whose leading axis indexes masks
    (X has shape (k, *x.shape)) and calls ``drop(h)`` at each dropout site; it returns an array (k, ...).
    The ensemble mean uses fresh independent masks at every site (``drop(h) = m * h``, or
    ``m * h / (1 - rho)`` when inverted); the deterministic prediction uses ``drop(h) = (1 - rho) h``
    (``h`` when inverted). Returns dict(mean, sem (standard error of the mean), scaled, n_masks).
    For a network that is linear after its only dropout site the two agree in expectation exactly.
    """
    if not callable(forward_fn):
        raise TypeError(f"forward_fn: expected a callable forward_fn(X, drop), got {type(forward_fn).__name__}")
    rho = _check_rho(rho)
    x = _check_array("x", x)
    for name, v in (("n_masks", n_masks), ("chunk", chunk)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 2:
            raise ValueError(f"{name}: expected an integer >= 2, got {v!r}")
    rng = np.random.default_rng(seed)

    def drop(h):
        return dropout(h, rho, rng, train=True, inverted=inverted)[0]

    total, total_sq, done = 0.0, 0.0, 0
    while done < n_masks:
        k = min(chunk, n_masks - done)
        out = np.asarray(forward_fn(np.broadcast_to(x, (k, *x.shape)), drop), dtype=float)
        total, total_sq, done = total + out.sum(axis=0), total_sq + (out ** 2).sum(axis=0), done + k
    mean = total / n_masks
    var = np.maximum(total_sq / n_masks - mean ** 2, 0.0) * n_masks / (n_masks - 1)
    scaled = np.asarray(forward_fn(x[None], lambda h: dropout(h, rho, train=False, inverted=inverted)[0]),
                        dtype=float)[0]
    return dict(mean=mean, sem=np.sqrt(var / n_masks), scaled=scaled, n_masks=int(n_masks))
