"""Solvers for the SVM dual: dual coordinate ascent (b = 0 form) and SMO (with the bias).

Notation as in :mod:`lib.svm_dual`: Gram matrix ``K``, labels ``y`` in {-1, +1}, ``c = alpha * y``,
``Q = (y y^T) * K``, dual ``D(alpha) = sum alpha - 1/2 alpha^T Q alpha`` (maximised).

**Dual coordinate ascent** (10.4, corrected). Without b there is no equality constraint, only the box
``0 <= alpha_i <= C``. The exact maximiser of D along coordinate i, clipped to the box, is::

    g_i = 1 - y_i f(x_i),   f(x) = sum_j c_j k(x_j, x)         (dD/dalpha_i)
    alpha_i <- clip(alpha_i + g_i / K_ii, 0, C)                 (the text's 10.65 is wrong: erratum 9)

For a linear kernel ``f(x) = <w, x>`` and w is kept up to date in O(p) per step. ``bias=True``
appends a constant feature s (``intercept_scaling``): ``b = s w_{p+1}`` is then *regularised*
(penalty ``b^2 / (2 s^2)``), which is exactly the problem liblinear (``LinearSVC``) solves.

**SMO** (10.7, corrected). With the bias the dual has ``sum alpha_i y_i = 0``, so two variables move
at once along ``alpha_i y_i + alpha_j y_j = const``. With ``G = Q alpha - 1`` (gradient of the
minimisation form) and ``E_k = f(x_k) - y_k``, so that ``E_i - E_j = y_i G_i - y_j G_j``::

    eta = K_ii + K_jj - 2 K_ij   (= ||Phi(x_i) - Phi(x_j)||^2; replaced by tau when <= 0)
    alpha_j <- clip(alpha_j + y_j (E_i - E_j) / eta, L, H)
    alpha_i <- alpha_i + y_i y_j (alpha_j^old - alpha_j^new)

with [L, H] from :func:`box_bounds`. G is updated in O(n) per step. The pair comes from
:func:`select_working_set` (maximal violating pair or libsvm's second-order rule WSS3), and the
solver stops when the maximal KKT violation ``max_{I_up} -y G - min_{I_low} -y G`` drops below tol.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import svm_dual

TAU = 1e-12


# --------------------------------------------------------------------------- input checks
def _labels(y):
    return svm_dual._labels(y)


def _C(C):
    return svm_dual._C(C)


def _gram(K, n):
    K = svm_dual._gram(K, n)
    if not np.all(np.isfinite(K)):
        raise ValueError("K: expected finite entries")
    return K


def _int(name, v, low=1):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {v!r}")
    return int(v)


def _tol(tol):
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating)) or not tol > 0:
        raise ValueError(f"tol: expected a positive number, got {tol!r}")
    return float(tol)


def projected_gradient(alpha, g, C) -> np.ndarray:
    """KKT violation of the box-constrained dual (maximisation, gradient ``g``) per coordinate:
    ``|g_i|`` when free, ``max(g_i, 0)`` at 0, ``max(-g_i, 0)`` at C."""
    alpha, g = np.asarray(alpha, float), np.asarray(g, float)
    pg = np.abs(g)
    pg = np.where(alpha <= 0, np.maximum(g, 0.0), pg)
    return np.where(alpha >= C, np.maximum(-g, 0.0), pg)


# --------------------------------------------------------------------------- dual coordinate ascent
@dataclass
class DCAResult:
    """``alpha`` (n,), sweeps used, and (if recorded) per-sweep ``objective`` and ``violation``."""
    alpha: np.ndarray
    n_sweeps: int
    converged: bool
    history: dict = field(default_factory=dict)


def dual_coordinate_ascent(K, y, C=np.inf, max_sweeps: int = 1000, tol: float = 1e-6, shuffle: bool = True,
                           random_state=None, record: bool = False) -> DCAResult:
    """Coordinate ascent on the b = 0 dual ``max sum alpha - 1/2 c^T K c, 0 <= alpha <= C``.

    Each step is the corrected update ``alpha_i <- clip(alpha_i + g_i / K_ii, 0, C)``; the decision
    values ``f = K c`` are kept up to date in O(n) per step. Stops when the largest projected-gradient
    violation after a sweep is below ``tol``. Pass ``K + s^2`` to get a (regularised) bias ``s^2 sum c``.
    """
    y = _labels(y)
    n = y.size
    K = _gram(K, n)
    C = _C(C)
    max_sweeps, tol = _int("max_sweeps", max_sweeps), _tol(tol)
    d = np.diag(K).copy()
    if np.any(d <= 0):
        raise ValueError("K: expected a positive diagonal (K_ii = ||Phi(x_i)||^2 > 0)")
    rng = np.random.default_rng(random_state)
    alpha, f = np.zeros(n), np.zeros(n)
    hist = dict(objective=[], violation=[])
    order = np.arange(n)
    converged, sweep = False, 0
    for sweep in range(1, max_sweeps + 1):
        if shuffle:
            rng.shuffle(order)
        for i in order:
            g = 1.0 - y[i] * f[i]
            new = min(max(alpha[i] + g / d[i], 0.0), C)
            delta = new - alpha[i]
            if delta != 0.0:
                alpha[i] = new
                f += (delta * y[i]) * K[:, i]
        g = 1.0 - y * f
        viol = float(projected_gradient(alpha, g, C).max())
        if record:
            hist["objective"].append(float(alpha.sum() - 0.5 * (alpha * y) @ f))
            hist["violation"].append(viol)
        if viol < tol:
            converged = True
            break
    return DCAResult(alpha=alpha, n_sweeps=sweep, converged=converged, history=hist)


def textbook_dca_update(alpha_i: float, g_i: float, y_i: float, Q_ii: float, C: float = np.inf) -> float:
    """The text's rule (10.65): ``max(0, y_i g_i / Q_ii)`` (capped at C for the soft margin). Wrong
    (erratum 9): the ``y_i`` is spurious and the old ``alpha_i`` is dropped (``alpha_i`` is unused on
    purpose). Kept only to show that it does not solve the dual."""
    if not Q_ii > 0:
        raise ValueError(f"Q_ii: expected a positive number, got {Q_ii!r}")
    if y_i not in (-1, 1):
        raise ValueError(f"y_i: expected -1 or +1, got {y_i!r}")
    return min(max(0.0, y_i * g_i / Q_ii), C)


def textbook_dca(K, y, C=np.inf, n_sweeps: int = 200) -> np.ndarray:
    """Cyclic coordinate sweeps with :func:`textbook_dca_update` (b = 0); returns alpha. With C = inf the
    iterates typically blow up; with a finite C they stay in the box but settle on a wrong point."""
    y = _labels(y)
    K = _gram(K, y.size)
    C = _C(C)
    alpha, f = np.zeros(y.size), np.zeros(y.size)
    for _ in range(_int("n_sweeps", n_sweeps)):
        for i in range(y.size):
            new = textbook_dca_update(alpha[i], 1.0 - y[i] * f[i], y[i], K[i, i], C)
            f += (new - alpha[i]) * y[i] * K[:, i]
            alpha[i] = new
    return alpha


@dataclass
class LinearDCAResult:
    """``w`` (p,), ``b``, ``alpha`` (n,), sweeps used and per-sweep ``objective``/``violation``."""
    w: np.ndarray
    b: float
    alpha: np.ndarray
    n_sweeps: int
    converged: bool
    history: dict = field(default_factory=dict)


def linear_dca(X, y, C=np.inf, bias: bool = True, intercept_scaling: float = 1.0, max_sweeps: int = 1000,
               tol: float = 1e-6, shrinking: bool = True, random_state=0, record: bool = False) -> LinearDCAResult:
    """Dual coordinate ascent for the linear SVM, keeping ``w = sum alpha_i y_i x_i`` (O(p) per step).

    ``bias=True`` augments each x with ``intercept_scaling`` and returns ``b = intercept_scaling * w_{p+1}``
    (a regularised bias, the problem ``LinearSVC(loss="hinge", dual=True)`` solves). Sweeps visit the
    coordinates in a random order; with ``shrinking`` a sweep skips coordinates stuck at a bound with the
    gradient pushing outwards, and a full sweep confirms convergence (projected gradient < tol).
    """
    y = _labels(y)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] != y.size:
        raise ValueError(f"X: expected shape ({y.size}, p), got {X.shape}")
    C = _C(C)
    max_sweeps, tol = _int("max_sweeps", max_sweeps), _tol(tol)
    s = float(intercept_scaling)
    if bias and not s > 0:
        raise ValueError(f"intercept_scaling: expected a positive number, got {intercept_scaling!r}")
    Xa = np.hstack([X, np.full((X.shape[0], 1), s)]) if bias else X
    n, p = Xa.shape
    qd = (Xa * Xa).sum(1)
    if np.any(qd <= 0):
        raise ValueError("X: every row needs a nonzero norm (Q_ii > 0)")
    Yx = Xa * y[:, None]  # rows y_i x_i
    rng = np.random.default_rng(random_state)
    alpha, w = np.zeros(n), np.zeros(p)
    active = np.arange(n)
    hist = dict(objective=[], violation=[])
    converged, sweep = False, 0
    for sweep in range(1, max_sweeps + 1):
        rng.shuffle(active)
        for i in active:
            g = 1.0 - Yx[i] @ w
            new = min(max(alpha[i] + g / qd[i], 0.0), C)
            if new != alpha[i]:
                w += (new - alpha[i]) * Yx[i]
                alpha[i] = new
        g = 1.0 - Yx @ w
        pg = projected_gradient(alpha, g, C)
        viol = float(pg[active].max())
        if record:
            hist["objective"].append(float(alpha.sum() - 0.5 * w @ w))
            hist["violation"].append(float(pg.max()))
        if viol < tol:
            if len(active) == n or pg.max() < tol:
                converged = True
                break
            active = np.arange(n)  # re-check everything
            continue
        if shrinking:
            stuck = ((alpha <= 0) & (g < -tol)) | ((alpha >= C) & (g > tol))
            active = np.flatnonzero(~stuck) if (~stuck).any() else np.arange(n)
    wb = w[:-1].copy() if bias else w.copy()
    b = float(s * w[-1]) if bias else 0.0
    return LinearDCAResult(w=wb, b=b, alpha=alpha, n_sweeps=sweep, converged=converged, history=hist)


# --------------------------------------------------------------------------- SMO pieces
def box_bounds(alpha_i: float, alpha_j: float, y_i: float, y_j: float, C: float) -> tuple[float, float]:
    """Feasible interval ``[L, H]`` for the new ``alpha_j`` on the line ``alpha_i y_i + alpha_j y_j = const``
    inside the box ``[0, C]^2`` (Lemma 66)."""
    C = _C(C)
    if y_i not in (-1, 1) or y_j not in (-1, 1):
        raise ValueError(f"y_i, y_j: expected labels in {{-1, +1}}, got {y_i!r}, {y_j!r}")
    if y_i != y_j:  # alpha_j - alpha_i is constant
        return max(0.0, alpha_j - alpha_i), min(C, C + alpha_j - alpha_i)
    return max(0.0, alpha_i + alpha_j - C), min(C, alpha_i + alpha_j)  # alpha_i + alpha_j is constant


def smo_pair_update(alpha, G, i: int, j: int, K, y, C, tau: float = TAU) -> tuple[float, float]:
    """The exact minimiser of the dual (minimisation form) over the pair (i, j), all else fixed.

    ``eta = K_ii + K_jj - 2 K_ij`` (``tau`` if ``eta <= tau``); ``alpha_j + y_j (E_i - E_j) / eta`` with
    ``E_i - E_j = y_i G_i - y_j G_j``, clipped to ``[L, H]``; alpha_i follows from the equality constraint.
    Pure: returns ``(new_alpha_i, new_alpha_j)``.
    """
    y = _labels(y)
    n = y.size
    alpha = np.asarray(alpha, float)
    G = np.asarray(G, float)
    if alpha.shape != (n,) or G.shape != (n,):
        raise ValueError(f"alpha, G: expected shape ({n},), got {alpha.shape}, {G.shape}")
    K = np.asarray(K, float)
    if K.shape != (n, n):
        raise ValueError(f"K: expected shape ({n}, {n}), got {K.shape}")
    for name, v in (("i", i), ("j", j)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < n:
            raise ValueError(f"{name}: expected an index in [0, {n}), got {v!r}")
    if i == j:
        raise ValueError("i, j: expected two different indices")
    L, H = box_bounds(alpha[i], alpha[j], y[i], y[j], C)
    eta = K[i, i] + K[j, j] - 2.0 * K[i, j]
    if eta <= tau:
        eta = tau
    aj = alpha[j] + y[j] * (y[i] * G[i] - y[j] * G[j]) / eta
    aj = min(max(aj, L), H)
    ai = alpha[i] + y[i] * y[j] * (alpha[j] - aj)
    # when aj lands on a bound set by alpha_i's own bound, ai is 0 or C up to rounding: snap it there,
    # so that the next working-set selection sees it at the bound (as libsvm does)
    eps = 8 * np.finfo(float).eps * max(1.0, abs(alpha[i]), abs(alpha[j]))
    Cf = float(C)
    ai = 0.0 if ai < eps else (Cf if math.isfinite(Cf) and ai > Cf - eps else ai)
    return float(ai), float(aj)


def _up_low(alpha, y, C):
    up = ((y > 0) & (alpha < C)) | ((y < 0) & (alpha > 0))
    low = ((y > 0) & (alpha > 0)) | ((y < 0) & (alpha < C))
    return up, low


def select_working_set(alpha, G, y, K, C, rule: str = "wss3", tau: float = TAU) -> tuple[int, int, float]:
    """Pick the pair ``(i, j)`` to update and return it with the KKT gap.

    ``I_up = {y=+1, alpha<C} u {y=-1, alpha>0}``, ``I_low = {y=+1, alpha>0} u {y=-1, alpha<C}``;
    gap ``= max_{I_up} -y G - min_{I_low} -y G`` (zero at the optimum). ``i`` maximises ``-y G`` over
    I_up. ``"mvp"``: j minimises ``-y G`` over I_low (maximal violating pair). ``"wss3"`` (libsvm,
    Fan-Chen-Lin 2005): j maximises the guaranteed decrease ``b_it^2 / a_it`` over violating t in I_low,
    with ``b_it = -y_i G_i + y_t G_t > 0`` and ``a_it = K_ii + K_tt - 2 K_it`` (tau if <= 0).
    Returns ``(-1, -1, gap)`` when no violating pair exists.
    """
    if rule not in ("wss3", "mvp"):
        raise ValueError(f"rule: expected 'wss3' or 'mvp', got {rule!r}")
    y = _labels(y)
    alpha, G = np.asarray(alpha, float), np.asarray(G, float)
    C = _C(C)
    up, low = _up_low(alpha, y, C)
    if not up.any() or not low.any():
        return -1, -1, 0.0
    v = -y * G
    i = int(np.flatnonzero(up)[np.argmax(v[up])])
    gap = float(v[i] - v[low].min())
    cand = low & (v < v[i])
    if not cand.any():
        return -1, -1, gap
    if rule == "mvp":
        return i, int(np.flatnonzero(low)[np.argmin(v[low])]), gap
    idx = np.flatnonzero(cand)
    b = v[i] - v[idx]
    a = K[i, i] + np.diag(K)[idx] - 2.0 * K[i, idx]
    a = np.where(a > 0, a, tau)
    return i, int(idx[np.argmax(b * b / a)]), gap


@dataclass
class SMOResult:
    """``alpha`` (n,), bias ``b``, final gradient ``G = Q alpha - 1``, iterations, convergence flag, and
    (if recorded) the per-step history: ``objective`` (dual D), ``gap`` (KKT gap before the step),
    ``pairs`` (i, j) and ``steps`` (dicts with the old/new pair, the bounds and the unclipped optimum)."""
    alpha: np.ndarray
    b: float
    G: np.ndarray
    n_iter: int
    converged: bool
    gap: float
    history: dict = field(default_factory=dict)


def smo(K, y, C, tol: float = 1e-6, max_iter: int = 100_000, rule: str = "wss3", record: bool = False,
        tau: float = TAU) -> SMOResult:
    """Sequential minimal optimisation for ``max sum alpha - 1/2 alpha^T Q alpha``,
    ``0 <= alpha <= C``, ``sum alpha y = 0``, started at alpha = 0 (then ``G = -1``).

    Each iteration picks a pair with :func:`select_working_set`, moves it with the analytic step of
    :func:`smo_pair_update` and updates ``G += Q[:, i] d_i + Q[:, j] d_j`` in O(n). Stops when the KKT
    gap is below ``tol`` (libsvm's criterion, sklearn's ``tol``). The bias is
    :func:`lib.svm_dual.bias_libsvm`.
    """
    y = _labels(y)
    n = y.size
    K = _gram(K, n)
    C = _C(C)
    tol, max_iter = _tol(tol), _int("max_iter", max_iter)
    if rule not in ("wss3", "mvp"):
        raise ValueError(f"rule: expected 'wss3' or 'mvp', got {rule!r}")
    if (y > 0).all() or (y < 0).all():
        raise ValueError("y: expected both classes")
    alpha, G = np.zeros(n), -np.ones(n)
    hist = dict(objective=[], gap=[], pairs=[], steps=[])
    converged, gap, it = False, math.inf, 0
    for it in range(max_iter + 1):
        i, j, gap = select_working_set(alpha, G, y, K, C, rule, tau)
        if gap < tol or i < 0:
            converged = True
            break
        if it == max_iter:
            break
        ai, aj = smo_pair_update(alpha, G, i, j, K, y, C, tau)
        di, dj = ai - alpha[i], aj - alpha[j]
        if record:
            L, H = box_bounds(alpha[i], alpha[j], y[i], y[j], C)
            eta = max(K[i, i] + K[j, j] - 2 * K[i, j], tau)
            raw = alpha[j] + y[j] * (y[i] * G[i] - y[j] * G[j]) / eta
            hist["steps"].append(dict(i=i, j=j, old=(alpha[i], alpha[j]), new=(ai, aj), L=L, H=H,
                                      unclipped_j=raw, eta=eta, yi=y[i], yj=y[j]))
        G += y * (K[:, i] * (y[i] * di) + K[:, j] * (y[j] * dj))
        alpha[i], alpha[j] = ai, aj
        if record:
            hist["objective"].append(float(0.5 * alpha @ (1.0 - G)))
            hist["gap"].append(gap)
            hist["pairs"].append((i, j))
    b = svm_dual.bias_libsvm(alpha, y, G, C)
    return SMOResult(alpha=alpha, b=b, G=G, n_iter=it, converged=converged, gap=gap, history=hist)
