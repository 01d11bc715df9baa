"""The geometry of the hard-margin SVM: projection gaps and the closest points of two convex hulls.

Projection picture (10.1-10.9). For a unit direction ``u`` project every point onto it::

    a_+ = min_{y_i = +1} <x_i, u>,     a_- = max_{y_i = -1} <x_i, u>,     gap(u) = a_+ - a_-

The classes are separable along ``u`` iff ``gap(u) > 0``. With ``abar = (a_+ + a_-)/2`` and
``Delta = (a_+ - a_-)/2`` the hyperplane ``w = u / Delta``, ``b = -abar / Delta`` satisfies
``y_i (w^T x_i + b) >= 1`` with equality for the extreme points, and ``||w|| = 1 / Delta``: the widest gap
is the smallest ``||w||``, so the best direction solves the SVM primal. Its slab width is
``a_+ - a_- = 2 / ||w||``.

Hull picture (10.44-10.54). The dual finds the closest points ``xbar_+`` and ``xbar_-`` of the two convex
hulls; their distance ``D`` is the full slab width ``2 / ||w||`` (not twice it: erratum 7),
``w = 2 (xbar_+ - xbar_-) / D^2`` and the boundary is the perpendicular bisector of the segment.
:func:`hull_closest_points` solves the small QP over two simplices.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.spatial import ConvexHull


# --------------------------------------------------------------------------- input checks
def _points(name: str, X, dim: int | None = None) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{name}: expected a non-empty (n, p) array, got shape {X.shape}")
    if dim is not None and X.shape[1] != dim:
        raise ValueError(f"{name}: expected {dim} columns, got {X.shape[1]}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name}: expected finite values")
    return X


def _labels(y, n: int) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if y.shape != (n,):
        raise ValueError(f"y: expected shape ({n},), got {y.shape}")
    if not np.all(np.isin(y, (-1.0, 1.0))) or not (np.any(y > 0) and np.any(y < 0)):
        raise ValueError("y: expected labels in {-1, +1} with both classes present")
    return y


def _unit(u, p: int) -> np.ndarray:
    u = np.asarray(u, dtype=float)
    if u.shape != (p,):
        raise ValueError(f"u: expected shape ({p},), got {u.shape}")
    norm = np.linalg.norm(u)
    if not norm > 0 or not math.isfinite(norm):
        raise ValueError("u: expected a nonzero finite direction")
    return u / norm


# --------------------------------------------------------------------------- projection picture
def projection_gap(X, y, u) -> tuple[float, float, float]:
    """``(a_+, a_-, gap)`` of (10.1)-(10.4) along ``u`` (normalised inside); ``gap < 0`` means overlap."""
    X = _points("X", X)
    y = _labels(y, X.shape[0])
    s = X @ _unit(u, X.shape[1])
    a_plus, a_minus = float(s[y > 0].min()), float(s[y < 0].max())
    return a_plus, a_minus, a_plus - a_minus


def _gap_at(X, y, theta: float) -> float:
    return projection_gap(X, y, np.array([math.cos(theta), math.sin(theta)]))[2]


def best_direction_2d(X, y, n_angles: int = 3600, refine: bool = True):
    """Sweep the angle of ``u`` over [0, 2 pi) and return ``(u, gap, angles, gaps)``.

    ``angles`` (n_angles,) and ``gaps`` are the sweep; ``u`` and ``gap`` are at its maximum, polished by a
    bounded 1-D search around the best grid angle when ``refine`` (the gap is piecewise smooth in theta).
    """
    X = _points("X", X, dim=2)
    y = _labels(y, X.shape[0])
    if isinstance(n_angles, bool) or not isinstance(n_angles, int) or n_angles < 8:
        raise ValueError(f"n_angles: expected an integer >= 8, got {n_angles!r}")
    angles = np.linspace(0.0, 2 * math.pi, n_angles, endpoint=False)
    U = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    S = X @ U.T                                             # (n, n_angles) projections
    gaps = S[y > 0].min(axis=0) - S[y < 0].max(axis=0)
    k = int(np.argmax(gaps))
    theta, gap = float(angles[k]), float(gaps[k])
    if refine:
        h = 2 * math.pi / n_angles
        res = minimize_scalar(lambda t: -_gap_at(X, y, t), bounds=(theta - h, theta + h), method="bounded",
                              options=dict(xatol=1e-13))
        if -res.fun > gap:
            theta, gap = float(res.x), float(-res.fun)
    return np.array([math.cos(theta), math.sin(theta)]), gap, angles, gaps


def direction_to_hyperplane(u, a_plus: float, a_minus: float) -> tuple[np.ndarray, float]:
    """(10.6)-(10.9): ``w = u / Delta``, ``b = -abar / Delta`` with ``Delta = (a_+ - a_-)/2 > 0``."""
    u = np.asarray(u, dtype=float)
    if u.ndim != 1:
        raise ValueError(f"u: expected a 1-D direction, got shape {u.shape}")
    u = _unit(u, u.size)
    if not (math.isfinite(a_plus) and math.isfinite(a_minus)) or not a_plus > a_minus:
        raise ValueError(f"a_plus, a_minus: expected a_plus > a_minus (a separating direction), "
                         f"got {a_plus!r}, {a_minus!r}")
    delta, abar = (a_plus - a_minus) / 2, (a_plus + a_minus) / 2
    return u / delta, -abar / delta


# --------------------------------------------------------------------------- hull picture
def _polish(P, N, g, h):
    """Solve the equality-constrained least squares on the current support exactly (KKT system)."""
    sp, sn = g > 1e-7, h > 1e-7
    M = np.hstack([P[sp].T, -N[sn].T])                     # (p, |S|)
    k = M.shape[1]
    E = np.zeros((2, k))
    E[0, :sp.sum()], E[1, sp.sum():] = 1.0, 1.0
    A = np.block([[M.T @ M, E.T], [E, np.zeros((2, 2))]])
    rhs = np.concatenate([np.zeros(k), [1.0, 1.0]])
    z = np.linalg.lstsq(A, rhs, rcond=1e-14)[0][:k]
    if np.any(z < -1e-12):
        return g, h
    g2, h2 = np.zeros_like(g), np.zeros_like(h)
    g2[sp], h2[sn] = np.clip(z[:sp.sum()], 0, None), np.clip(z[sp.sum():], 0, None)
    g2, h2 = g2 / g2.sum(), h2 / h2.sum()
    old = np.sum((P.T @ g - N.T @ h) ** 2)
    new = np.sum((P.T @ g2 - N.T @ h2) ** 2)
    return (g2, h2) if new <= old else (g, h)


def hull_closest_points(Xp, Xn, tol: float = 1e-12, max_iter: int = 2000):
    """Closest points of ``conv(Xp)`` and ``conv(Xn)`` (10.52-10.54).

    Solves ``min_{g, h} ||Xp^T g - Xn^T h||^2`` over two probability simplices with SLSQP (analytic
    gradient), then polishes on the support by solving the KKT linear system exactly. In 2-D only the
    hull vertices can carry weight, so the QP runs on them (a much smaller problem).
    Returns ``(xbar_plus, xbar_minus, dist, gamma_plus, gamma_minus)``; ``gamma_*`` are the convex weights.
    """
    P = _points("Xp", Xp)
    N = _points("Xn", Xn, dim=P.shape[1])
    if not tol > 0:
        raise ValueError(f"tol: expected a positive number, got {tol!r}")
    if P.shape[1] == 2:  # interior points never carry weight: solve on the vertices, map the weights back
        vp, vn = hull_vertices(P), hull_vertices(N)
        if len(vp) < P.shape[0] or len(vn) < N.shape[0]:
            xp, xn, dist, gv, hv = _closest(P[vp], N[vn], tol, max_iter)
            g, h = np.zeros(P.shape[0]), np.zeros(N.shape[0])
            g[vp], h[vn] = gv, hv
            return xp, xn, dist, g, h
    return _closest(P, N, tol, max_iter)


def _closest(P, N, tol, max_iter):
    n_p, n_n = P.shape[0], N.shape[0]
    M = np.hstack([P.T, -N.T])                             # z = [g; h] -> M z = xbar_+ - xbar_-

    def fun(z):
        r = M @ z
        return r @ r, 2 * M.T @ r

    cons = [dict(type="eq", fun=lambda z: np.array([z[:n_p].sum() - 1, z[n_p:].sum() - 1]),
                 jac=lambda z: np.vstack([np.r_[np.ones(n_p), np.zeros(n_n)], np.r_[np.zeros(n_p), np.ones(n_n)]]))]
    z0 = np.r_[np.full(n_p, 1 / n_p), np.full(n_n, 1 / n_n)]
    res = minimize(fun, z0, jac=True, method="SLSQP", bounds=[(0, None)] * (n_p + n_n), constraints=cons,
                   options=dict(ftol=tol, maxiter=max_iter))
    z = np.clip(res.x, 0, None)
    g, h = z[:n_p] / z[:n_p].sum(), z[n_p:] / z[n_p:].sum()
    g, h = _polish(P, N, g, h)
    xp, xn = P.T @ g, N.T @ h
    return xp, xn, float(np.linalg.norm(xp - xn)), g, h


def hull_to_svm(xbar_plus, xbar_minus) -> tuple[np.ndarray, float]:
    """The hard-margin SVM from the closest points: ``w = 2 (xbar_+ - xbar_-) / D^2`` and the
    perpendicular bisector ``b = -w^T (xbar_+ + xbar_-) / 2``; then ``2 / ||w|| = D``."""
    xp, xn = np.asarray(xbar_plus, dtype=float), np.asarray(xbar_minus, dtype=float)
    if xp.shape != xn.shape or xp.ndim != 1:
        raise ValueError(f"xbar_plus, xbar_minus: expected two 1-D points of one size, got {xp.shape}, {xn.shape}")
    d = xp - xn
    D2 = float(d @ d)
    if not D2 > 0:
        raise ValueError("xbar_plus, xbar_minus: the hulls touch (D = 0): the classes are not separable")
    w = 2 * d / D2
    return w, float(-w @ (xp + xn) / 2)


def hull_vertices(X) -> np.ndarray:
    """Indices of the vertices of ``conv(X)`` for a 2-D ``X``, counter-clockwise (scipy's ConvexHull).

    Fewer than three points, or collinear points, give the extreme points only (a segment or a point).
    """
    X = _points("X", X, dim=2)
    if X.shape[0] >= 3:
        try:
            return np.asarray(ConvexHull(X).vertices)
        except Exception:  # qhull refuses degenerate (collinear) input
            pass
    d = X - X.mean(axis=0)
    axis = np.linalg.svd(d, full_matrices=False)[2][0] if X.shape[0] > 1 else np.array([1.0, 0.0])
    s = d @ axis
    return np.unique([int(np.argmin(s)), int(np.argmax(s))])
