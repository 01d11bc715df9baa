"""Densities in motion (6.11, 6.15): 1-D Fokker-Planck and continuity solvers, and Brownian roughness.

The SDE ``dx = f(x, t) dt + g(x, t) dw`` moves its density by the Fokker-Planck equation, and a deterministic
flow ``dx/dt = v(x, t)`` by the continuity equation::

    d p / dt = - d/dx (f p) + 1/2 d^2/dx^2 (g^2 p)                (Fokker-Planck)
    d p / dt = - d/dx (v p)                                       (continuity)

They agree when ``v = f - 1/2 g^2 d/dx log p`` (g independent of x): the probability-flow velocity
(the book's 6.15.4 has the sign of the second term wrong).

Both solvers are conservative finite-volume schemes on a uniform grid of cell centres ``x``: the density
changes by the difference of the fluxes through the two faces of each cell, with upwinding for the
transport term, a central difference for the diffusive flux and no flux through the outer faces, so the
total mass is conserved exactly. Time steps are explicit and limited by ``cfl``:
``dt <= cfl * min(dx / max|f|, dx^2 / max g^2)``. First-order accurate: refine the grid to check.
"""
from __future__ import annotations

import numpy as np


def _grid(p0, x):
    x, p0 = np.asarray(x, dtype=np.float64), np.asarray(p0, dtype=np.float64)
    if x.ndim != 1 or x.size < 3:
        raise ValueError("x: expected a 1-D grid of at least 3 cell centres")
    dx = np.diff(x)
    if not np.allclose(dx, dx[0], rtol=1e-9, atol=0) or dx[0] <= 0:
        raise ValueError("x: expected a uniform increasing grid")
    if p0.shape != x.shape or not np.all(np.isfinite(p0)) or (p0 < 0).any():
        raise ValueError(f"p0: expected non-negative finite values of shape {x.shape}")
    return p0, x, float(dx[0])


def _times(t_grid):
    t = np.asarray(t_grid, dtype=np.float64)
    if t.ndim != 1 or t.size < 1 or np.any(np.diff(t) <= 0):
        raise ValueError("t_grid: expected an increasing 1-D array of times")
    return t


def _flux_rhs(p, faces, x, dx, t, drift, diff2):
    """-(F_{i+1/2} - F_{i-1/2}) / dx with zero flux at the two outer faces; also returns the speed limits."""
    f = np.broadcast_to(np.asarray(drift(faces, t), dtype=np.float64), faces.shape)
    F = np.where(f > 0, f * p[:-1], f * p[1:])                      # upwind transport
    g2_max = 0.0
    if diff2 is not None:
        g2 = np.broadcast_to(np.asarray(diff2(x, t), dtype=np.float64), x.shape)
        F = F - 0.5 * (g2[1:] * p[1:] - g2[:-1] * p[:-1]) / dx       # diffusive flux of 1/2 d(g^2 p)/dx
        g2_max = float(g2.max())
    F = np.concatenate([[0.0], F, [0.0]])
    return -(F[1:] - F[:-1]) / dx, float(np.abs(f).max()), g2_max


def _solve(p0, x, drift, diff2, t_grid, cfl):
    p, x, dx = _grid(p0, x)
    t_grid = _times(t_grid)
    if not 0 < cfl <= 0.5:
        raise ValueError(f"cfl: expected a number in (0, 0.5], got {cfl!r}")
    faces = 0.5 * (x[1:] + x[:-1])
    out, t = [p.copy()], float(t_grid[0])
    for t_next in t_grid[1:]:
        while t < t_next - 1e-15:
            rhs, f_max, g2_max = _flux_rhs(p, faces, x, dx, t, drift, diff2)
            limit = min(dx / f_max if f_max > 0 else np.inf, dx * dx / g2_max if g2_max > 0 else np.inf)
            dt = min(cfl * limit, t_next - t)
            p = p + dt * rhs
            t += dt
        out.append(p.copy())
    return np.stack(out)


def fp_solve_1d(p0, x, drift, diff2, t_grid, cfl: float = 0.4) -> np.ndarray:
    """Fokker-Planck from p0 at t_grid[0]; ``drift(x, t)`` = f, ``diff2(x, t)`` = g^2 (arrays or numbers).

    Returns the densities at every time of ``t_grid``, shape (len(t_grid), len(x)).
    """
    return _solve(p0, x, drift, diff2, t_grid, cfl)


def continuity_solve_1d(p0, x, velocity, t_grid, cfl: float = 0.4) -> np.ndarray:
    """Continuity equation from p0 at t_grid[0] with ``velocity(x, t)``; shape (len(t_grid), len(x))."""
    return _solve(p0, x, velocity, None, t_grid, cfl)


def brownian_variation(path):
    """Quadratic and total variation of sampled paths (steps + 1, ...) along axis 0.

    For Brownian motion sigma w on [0, t] the quadratic variation tends to sigma^2 t as the step shrinks,
    while the total variation grows like dt^{-1/2}: the paths have no velocity.
    """
    path = np.asarray(path, dtype=np.float64)
    if path.ndim < 1 or path.shape[0] < 2:
        raise ValueError("path: expected at least two time points along axis 0")
    inc = np.diff(path, axis=0)
    return (inc ** 2).sum(0), np.abs(inc).sum(0)
