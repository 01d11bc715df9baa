"""The population picture of 6.1: a forward conditional, the marginal it produces, and the way back.

With a distribution ``p`` over states x (shape (n_x,)) and a row-stochastic matrix ``P[x, y] = p(y | x)``::

    joint        p(x, y)   = p(x) P[x, y]                                   (chain rule)
    marginal     p~(y)     = sum_x p(x) P[x, y]          = p @ P            (marginalisation)
    backward     B[y, x]   = p(x | y) = p(x) P[x, y] / p~(y)                (Bayes)
    round trip   sum_y p~(y) B[y, x] = p(x)                                 (the one-step "time machine")

Going forward and then back restores the population as a whole, although individuals need not return to
where they started. :func:`gaussian_kernel_matrix` turns the continuous step y = x + N(0, sigma^2) on a grid
into such a matrix (6.1.2).
"""
from __future__ import annotations

import numpy as np


def _dist(p, name="p", tol=1e-9) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1 or not np.all(np.isfinite(p)) or (p < 0).any() or abs(p.sum() - 1) > tol:
        raise ValueError(f"{name}: expected a 1-D probability vector (non-negative, summing to 1)")
    return p


def _stochastic(P, n_x, name="P", tol=1e-9) -> np.ndarray:
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] != n_x:
        raise ValueError(f"{name}: expected a matrix with {n_x} rows, got shape {P.shape}")
    if not np.all(np.isfinite(P)) or (P < 0).any() or np.abs(P.sum(1) - 1).max() > tol:
        raise ValueError(f"{name}: expected non-negative rows that sum to 1 (P[x, y] = p(y | x))")
    return P


def joint(p, P) -> np.ndarray:
    """p(x, y) = p(x) P[x, y], shape (n_x, n_y)."""
    p = _dist(p)
    return p[:, None] * _stochastic(P, p.size)


def marginal(p, P) -> np.ndarray:
    """p~(y) = sum_x p(x) P[x, y], shape (n_y,)."""
    return joint(p, P).sum(0)


def backward_conditional(p, P) -> np.ndarray:
    """B[y, x] = p(x | y), shape (n_y, n_x); each row sums to 1. States y that nobody reaches are an error."""
    J = joint(p, P)
    pt = J.sum(0)
    if (pt <= 0).any():
        raise ValueError(f"P: states {np.flatnonzero(pt <= 0).tolist()} are never reached, so p(x | y) is undefined")
    return (J / pt).T


def _draw(rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One categorical draw per row of probabilities (inverse CDF)."""
    u = rng.random(rows.shape[0])
    return np.minimum((np.cumsum(rows, 1) < u[:, None]).sum(1), rows.shape[1] - 1)


def simulate_population(p, P, n: int, rng: np.random.Generator | None = None):
    """n agents: x ~ p, y ~ p(y | x), then x_back ~ p(x | y). Returns three integer arrays (n,)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    rng = np.random.default_rng() if rng is None else rng
    p, B = _dist(p), backward_conditional(p, P)
    x = rng.choice(p.size, size=int(n), p=p)
    y = _draw(np.asarray(P, dtype=np.float64)[x], rng)
    return x, y, _draw(B[y], rng)


def gaussian_kernel_matrix(grid, sigma: float) -> np.ndarray:
    """P[i, j] = p(y = grid[j] | x = grid[i]) for y = x + N(0, sigma^2), normalised over the grid's rows."""
    g = np.asarray(grid, dtype=np.float64)
    if g.ndim != 1 or g.size < 2 or not np.all(np.diff(g) > 0):
        raise ValueError("grid: expected an increasing 1-D array of at least 2 points")
    if not sigma > 0:
        raise ValueError(f"sigma: expected a positive number, got {sigma!r}")
    K = np.exp(-0.5 * ((g[None, :] - g[:, None]) / sigma) ** 2)
    return K / K.sum(1, keepdims=True)
