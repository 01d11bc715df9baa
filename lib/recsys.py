"""Matrix factorisation for recommendation: ratings ``r_ij ~ a_i^T b_j`` from a few observed entries.

User vectors are the rows of ``A`` (n_users, k), item vectors the rows of ``B`` (n_items, k); the
observed entries are ``mask`` (n_users, n_items, bool). Both fitting methods minimise (book section 2.12,
plus the L2 penalty of Koren, Bell & Volinsky 2009)::

    L(A, B) = 1/2 sum_{(i,j) observed} (r_ij - a_i^T b_j)^2 + lam/2 (||A||_F^2 + ||B||_F^2)

* :func:`als` alternates exact minimisations: with B fixed, each ``a_i`` is a ridge regression,
  ``a_i = (B_i^T B_i + lam I)^{-1} B_i^T r_i`` over the items user i rated, and vice versa.
* :func:`mf_adam` runs full-batch Adam on L (torch, any device).

On a fully observed matrix with ``lam = 0`` the best achievable error is the Eckart-Young value
``sqrt(sum_{i > k} sigma_i^2)`` (:func:`eckart_young_error`). The factors are never unique:
``A B^T = (A R)(B R^{-T})^T`` for any invertible ``R`` (:func:`rotate_factors`), so single coordinates
of ``a_i`` ("0.9 action") carry no meaning without further constraints.
"""
from __future__ import annotations

import numpy as np
import torch


# --------------------------------------------------------------------------- input checks
def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_nonneg(name: str, value) -> float:
    if isinstance(value, bool) or not np.isscalar(value) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a non-negative finite number, got {value!r}")
    return float(value)


def _check_matrix(name: str, M) -> np.ndarray:
    M = np.asarray(M)
    if not np.issubdtype(M.dtype, np.number):
        raise TypeError(f"{name}: expected a numeric array, got dtype {M.dtype}")
    if M.ndim != 2 or min(M.shape) == 0:
        raise ValueError(f"{name}: expected a non-empty 2-D array, got shape {M.shape}")
    return M.astype(np.float64)


def _check_problem(R, mask, k) -> tuple[np.ndarray, np.ndarray, int]:
    R = _check_matrix("R", R)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"mask: expected a boolean array, got dtype {mask.dtype}")
    if mask.shape != R.shape:
        raise ValueError(f"mask: expected shape {R.shape} like R, got {mask.shape}")
    if not np.all(np.isfinite(R[mask])):
        raise ValueError("R: expected finite values at the observed entries")
    k = _check_int("k", k, 1)
    if k > min(R.shape):
        raise ValueError(f"k: expected k <= min(R.shape) = {min(R.shape)}, got {k}")
    return np.where(mask, R, 0.0), mask, k


def objective(R, mask, A, B, lam: float) -> float:
    """``L(A, B)`` above: half the squared error on observed entries plus ``lam/2`` times the squared norms."""
    R, mask, _ = _check_problem(R, mask, 1)
    A, B = _check_matrix("A", A), _check_matrix("B", B)
    if A.shape[0] != R.shape[0] or B.shape[0] != R.shape[1] or A.shape[1] != B.shape[1]:
        raise ValueError(f"A, B: expected shapes ({R.shape[0]}, k) and ({R.shape[1]}, k), got {A.shape}, {B.shape}")
    resid = mask * (R - A @ B.T)
    return float(0.5 * (resid**2).sum() + 0.5 * _check_nonneg("lam", lam) * ((A**2).sum() + (B**2).sum()))


# --------------------------------------------------------------------------- data
def synthetic_ratings(n_users: int = 100, n_items: int = 80, rank: int = 3, frac_observed: float = 0.2,
                      noise: float = 0.1, seed: int = 0):
    """A low-rank rating matrix plus noise, and which entries are observed.

    ``A_true`` (n_users, rank) and ``B_true`` (n_items, rank) have i.i.d. N(0, 1/sqrt(rank)) entries, so
    ``A_true B_true^T`` has unit-variance entries; ``R = A_true B_true^T + noise * N(0, 1)`` holds *every*
    entry (to score predictions on the unobserved ones), and ``mask`` marks a random ``frac_observed``
    of them, with at least ``rank`` observed entries in every row and column.
    Returns ``(R, mask, A_true, B_true)``.
    """
    n_users, n_items = _check_int("n_users", n_users, 1), _check_int("n_items", n_items, 1)
    rank = _check_int("rank", rank, 1)
    if not 0 < frac_observed <= 1:
        raise ValueError(f"frac_observed: expected a number in (0, 1], got {frac_observed!r}")
    noise = _check_nonneg("noise", noise)
    rng = np.random.default_rng(seed)
    A = rng.normal(scale=rank**-0.25, size=(n_users, rank))
    B = rng.normal(scale=rank**-0.25, size=(n_items, rank))
    R = A @ B.T + noise * rng.standard_normal((n_users, n_items))
    mask = rng.random((n_users, n_items)) < frac_observed
    for axis in (1, 0):  # top up rows (then columns) with too few observations
        for i in np.flatnonzero(mask.sum(axis=axis) < min(rank, mask.shape[axis])):
            line = mask[i] if axis == 1 else mask[:, i]
            line[rng.choice(line.size, size=min(rank, line.size), replace=False)] = True
    return R, mask, A, B


# --------------------------------------------------------------------------- fitting
def _ridge_rows(R: np.ndarray, mask: np.ndarray, F: np.ndarray, lam: float) -> np.ndarray:
    """For every row i: argmin_x 1/2 sum_{j in mask_i} (R_ij - x^T F_j)^2 + lam/2 ||x||^2 (batched solves)."""
    k = F.shape[1]
    G = np.einsum("ij,jk,jl->ikl", mask.astype(float), F, F) + lam * np.eye(k)
    rhs = (R * mask) @ F
    return np.linalg.solve(G, rhs[..., None])[..., 0]


def als(R, mask, k: int, lam: float = 0.1, iters: int = 50, seed: int = 0):
    """Alternating least squares. Returns ``(A (n_users, k), B (n_items, k), history)`` with
    ``history["objective"]`` (iters + 1,) the value of L before the first and after every sweep."""
    R, mask, k = _check_problem(R, mask, k)
    lam, iters = _check_nonneg("lam", lam), _check_int("iters", iters, 1)
    rng = np.random.default_rng(seed)
    A = rng.normal(scale=k**-0.5, size=(R.shape[0], k))
    B = rng.normal(scale=k**-0.5, size=(R.shape[1], k))
    hist = [objective(R, mask, A, B, lam)]
    for _ in range(iters):
        A = _ridge_rows(R, mask, B, lam)
        B = _ridge_rows(R.T, mask.T, A, lam)
        hist.append(objective(R, mask, A, B, lam))
    return A, B, {"objective": np.array(hist)}


def mf_adam(R, mask, k: int, lam: float = 0.1, steps: int = 500, lr: float = 0.05, seed: int = 0,
            device=None, dtype=torch.float32):
    """Full-batch Adam on L (torch). Returns ``(A, B, history)`` as numpy, ``history["objective"]`` (steps,)."""
    R, mask, k = _check_problem(R, mask, k)
    lam, steps = _check_nonneg("lam", lam), _check_int("steps", steps, 1)
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr: expected a positive finite number, got {lr!r}")
    device = torch.device(device or "cpu")
    g = torch.Generator().manual_seed(seed)
    A = (torch.randn(R.shape[0], k, generator=g, dtype=dtype) * k**-0.5).to(device).requires_grad_()
    B = (torch.randn(R.shape[1], k, generator=g, dtype=dtype) * k**-0.5).to(device).requires_grad_()
    Rt = torch.as_tensor(R, dtype=dtype, device=device)
    Mt = torch.as_tensor(mask, dtype=dtype, device=device)
    opt = torch.optim.Adam([A, B], lr=lr)
    hist = np.empty(steps)
    for t in range(steps):
        loss = 0.5 * ((Mt * (Rt - A @ B.T)) ** 2).sum() + 0.5 * lam * ((A**2).sum() + (B**2).sum())
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist[t] = loss.item()
    return A.detach().cpu().double().numpy(), B.detach().cpu().double().numpy(), {"objective": hist}


# --------------------------------------------------------------------------- references and symmetries
def eckart_young_error(R, k: int) -> float:
    """``min_{rank(X) <= k} ||R - X||_F = sqrt(sum_{i > k} sigma_i^2)`` for a fully known R."""
    R = _check_matrix("R", R)
    k = _check_int("k", k, 0)
    sig = np.linalg.svd(R, compute_uv=False)
    return float(np.sqrt(np.sum(sig[k:] ** 2)))


def rotate_factors(A, B, R):
    """``(A R, B R^{-T})``: new factors with exactly the same predictions ``A B^T``. R (k, k) invertible."""
    A, B, R = _check_matrix("A", A), _check_matrix("B", B), _check_matrix("R", R)
    k = A.shape[1]
    if B.shape[1] != k or R.shape != (k, k):
        raise ValueError(f"R: expected a ({k}, {k}) matrix and B with {k} columns, got R {R.shape}, B {B.shape}")
    if np.linalg.cond(R) > 1e12:
        raise ValueError("R: expected an invertible matrix, got a (numerically) singular one")
    return A @ R, B @ np.linalg.inv(R).T
