"""The SVM dual: objective, primal objective, duality gap, bias and the KKT conditions.

Notation (used throughout Chapter 10): ``K`` is the Gram matrix ``K_ij = k(x_i, x_j)`` (for the linear
kernel ``K = X X^T``), labels ``y`` are in {-1, +1}, ``c = alpha * y`` are the signed dual weights and

    Q = (y y^T) * K                       (elementwise; the text's 10.4 uses Q for K itself: erratum 10)

The soft-margin dual (the hard margin is ``C = inf``), in its maximisation form::

    max_alpha  D(alpha) = sum_i alpha_i - 1/2 c^T K c      s.t.  0 <= alpha_i <= C,  sum_i alpha_i y_i = 0

and the primal value of the classifier ``f(x) = sum_j c_j k(x_j, x) + b`` that alpha defines::

    P(alpha, b) = 1/2 c^T K c + C sum_i max(0, 1 - y_i f(x_i))

Weak duality: ``D(alpha) <= P(alpha', b')`` for every feasible pair; at the optimum the gap is zero.

``G = Q alpha - 1`` is the gradient of the minimisation form ``-D``; libsvm's bias is the mean of
``-y_i G_i`` over the free support vectors (``0 < alpha_i < C``), and without free ones the midpoint of
the interval of biases that the KKT conditions allow (:func:`bias_libsvm`).

All functions take numpy arrays (anything ``np.asarray`` accepts) and work in float64.
"""
from __future__ import annotations

import math

import numpy as np


# --------------------------------------------------------------------------- input checks
def _labels(y) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y: expected a non-empty 1-D array of labels, got shape {y.shape}")
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("y: expected labels in {-1, +1}")
    return y


def _alpha(alpha, n: int) -> np.ndarray:
    a = np.asarray(alpha, dtype=float)
    if a.shape != (n,):
        raise ValueError(f"alpha: expected shape ({n},), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("alpha: expected finite values")
    return a


def _gram(K, n: int) -> np.ndarray:
    K = np.asarray(K, dtype=float)
    if K.shape != (n, n):
        raise ValueError(f"K: expected a ({n}, {n}) Gram matrix, got shape {K.shape}")
    return K


def _C(C) -> float:
    if isinstance(C, bool) or not isinstance(C, (int, float, np.floating, np.integer)) or not C > 0:
        raise ValueError(f"C: expected a positive number (np.inf for the hard margin), got {C!r}")
    return float(C)


def _bias(b) -> float:
    if isinstance(b, bool) or not isinstance(b, (int, float, np.floating, np.integer)) or not math.isfinite(b):
        raise ValueError(f"b: expected a finite number, got {b!r}")
    return float(b)


# --------------------------------------------------------------------------- objectives
def dual_objective(alpha, y, K) -> float:
    """``D(alpha) = sum alpha - 1/2 (alpha*y)^T K (alpha*y)`` (10.38; maximised)."""
    y = _labels(y)
    a = _alpha(alpha, y.size)
    K = _gram(K, y.size)
    c = a * y
    return float(a.sum() - 0.5 * c @ K @ c)


def decision_values(alpha, b, y, K) -> np.ndarray:
    """``f(x_i) = sum_j alpha_j y_j K_ji + b`` on the training points, shape (n,)."""
    y = _labels(y)
    a = _alpha(alpha, y.size)
    return _gram(K, y.size) @ (a * y) + _bias(b)


def primal_objective(alpha, b, y, K, C, feas_tol: float = 1e-6) -> float:
    """``1/2 c^T K c + C sum max(0, 1 - y_i f(x_i))`` with ``c = alpha*y``.

    For ``C = inf`` (hard margin) the hinge part is 0 when every ``y_i f(x_i) >= 1 - feas_tol`` and
    ``+inf`` otherwise (an infeasible classifier).
    """
    y = _labels(y)
    C = _C(C)
    a = _alpha(alpha, y.size)
    K = _gram(K, y.size)
    c = a * y
    hinge = np.maximum(0.0, 1.0 - y * (K @ c + _bias(b)))
    if math.isinf(C):
        penalty = 0.0 if hinge.max() <= feas_tol else math.inf
    else:
        penalty = C * hinge.sum()
    return float(0.5 * c @ K @ c + penalty)


def duality_gap(alpha, b, y, K, C) -> float:
    """``P(alpha, b) - D(alpha) >= 0`` for feasible alpha; zero exactly at the optimum."""
    return primal_objective(alpha, b, y, K, C) - dual_objective(alpha, y, K)


def w_from_alpha(alpha, X, y) -> np.ndarray:
    """Stationarity of the Lagrangian in w (10.32): ``w = sum_i alpha_i y_i x_i = X^T (alpha*y)``, shape (p,)."""
    y = _labels(y)
    a = _alpha(alpha, y.size)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] != y.size:
        raise ValueError(f"X: expected shape ({y.size}, p), got {X.shape}")
    return X.T @ (a * y)


def gradient(alpha, y, K) -> np.ndarray:
    """``G = Q alpha - 1`` with ``Q = (y y^T) * K``: the gradient of the minimisation form ``-D``."""
    y = _labels(y)
    a = _alpha(alpha, y.size)
    return y * (_gram(K, y.size) @ (a * y)) - 1.0


# --------------------------------------------------------------------------- bias
def bias_libsvm(alpha, y, G, C, eps: float = 1e-12) -> float:
    """libsvm's bias from the gradient ``G = Q alpha - 1``.

    With free support vectors (``eps < alpha_i < C - eps``) each satisfies ``y_i f(x_i) = 1``, i.e.
    ``b = -y_i G_i``; their mean is returned. Otherwise the KKT conditions only bound b: points at 0 and
    points at C give lower and upper limits, and the midpoint of ``[lower, upper]`` is returned.
    """
    y = _labels(y)
    a = _alpha(alpha, y.size)
    G = np.asarray(G, dtype=float)
    if G.shape != y.shape:
        raise ValueError(f"G: expected shape {y.shape}, got {G.shape}")
    C = _C(C)
    yG = y * G
    at_zero = a <= eps
    at_C = a >= C - eps if math.isfinite(C) else np.zeros_like(at_zero)
    free = ~at_zero & ~at_C
    if free.any():
        return float(-yG[free].mean())
    # r = -b must satisfy: r <= yG_i for (alpha_i = 0, y_i = +1) or (alpha_i = C, y_i = -1), and
    # r >= yG_i for (alpha_i = 0, y_i = -1) or (alpha_i = C, y_i = +1)   (libsvm's calculate_rho)
    upper_set = (at_zero & (y > 0)) | (at_C & (y < 0))
    lower_set = (at_zero & (y < 0)) | (at_C & (y > 0))
    ub = yG[upper_set].min() if upper_set.any() else math.inf
    lb = yG[lower_set].max() if lower_set.any() else -math.inf
    if not (math.isfinite(ub) and math.isfinite(lb)):
        raise ValueError("alpha: the bias is undetermined (one side of the KKT interval is empty)")
    return float(-(ub + lb) / 2)


# --------------------------------------------------------------------------- KKT
def kkt_report(alpha, b, y, K, C, tol: float = 1e-3, eps: float = 1e-8) -> dict:
    """Residuals of the KKT conditions of the soft-margin SVM (hard margin: ``C = inf``).

    With margins ``m_i = y_i f(x_i)`` and slacks ``xi_i = max(0, 1 - m_i)``:

    * dual feasibility: ``0 <= alpha_i <= C`` (``box``) and ``sum alpha_i y_i = 0`` (``sum_alpha_y``,
      the b-part of stationarity; the w-part ``w = sum alpha y x`` holds by construction here);
    * primal feasibility: ``m_i >= 1 - xi_i``, and for the hard margin ``xi = 0``, i.e. ``m_i >= 1``;
    * complementary slackness: ``alpha_i (m_i - 1 + xi_i) = 0`` and ``(C - alpha_i) xi_i = 0``.

    Per point type (``eps`` decides "at a bound"): ``alpha = 0`` needs ``m >= 1``, free needs ``m = 1``,
    ``alpha = C`` needs ``m <= 1``. Returns ``dict(max_violation, ok (max_violation <= tol), n_nonsv,
    n_free, n_bound, type_violation, margin_of_free, comp_slack_resid, primal_infeasibility, box,
    sum_alpha_y, feasibility (max of box and sum_alpha_y), margins, sv_type (0 = non-SV, 1 = free, 2 = at C))``.
    """
    y = _labels(y)
    a = _alpha(alpha, y.size)
    K = _gram(K, y.size)
    C = _C(C)
    if not tol > 0:
        raise ValueError(f"tol: expected a positive number, got {tol!r}")
    m = y * (K @ (a * y) + _bias(b))
    xi = np.maximum(0.0, 1.0 - m)
    scale = max(1.0, C) if math.isfinite(C) else max(1.0, float(a.max()))
    at_zero = a <= eps * scale
    at_C = (a >= C - eps * scale) if math.isfinite(C) else np.zeros_like(at_zero)
    free = ~at_zero & ~at_C
    viol = np.where(at_zero, np.maximum(0.0, 1.0 - m),
                    np.where(free, np.abs(m - 1.0), np.maximum(0.0, m - 1.0)))
    box = float(max(0.0, -a.min(), (a.max() - C) if math.isfinite(C) else 0.0))
    sum_ay = float(abs(a @ y))
    if math.isfinite(C):
        comp = np.maximum(a * np.abs(m - 1.0 + xi), (C - a) * xi)
        primal_inf = 0.0
    else:
        comp = a * np.abs(m - 1.0)
        primal_inf = float(xi.max())
    sv_type = np.where(at_zero, 0, np.where(free, 1, 2))
    max_violation = float(max(viol.max(), box, sum_ay, primal_inf))
    return dict(max_violation=max_violation, ok=max_violation <= tol,
                n_nonsv=int(at_zero.sum()), n_free=int(free.sum()), n_bound=int(at_C.sum()),
                type_violation=float(viol.max()),
                margin_of_free=float(np.abs(m[free] - 1.0).max()) if free.any() else 0.0,
                comp_slack_resid=float(comp.max()), primal_infeasibility=primal_inf,
                box=box, sum_alpha_y=sum_ay, feasibility=max(box, sum_ay), margins=m, sv_type=sv_type)


def alpha_from_sklearn(svc, n: int) -> np.ndarray:
    """The full alpha vector (length n) of a fitted ``sklearn.svm.SVC`` with labels {-1, +1}.

    ``svc.dual_coef_`` stores ``alpha_i y_i`` for the support vectors ``svc.support_``.
    """
    if not hasattr(svc, "dual_coef_") or not hasattr(svc, "support_"):
        raise TypeError("svc: expected a fitted sklearn.svm.SVC")
    if list(getattr(svc, "classes_", [])) != [-1, 1]:
        raise ValueError(f"svc: expected classes [-1, 1], got {list(getattr(svc, 'classes_', []))}")
    a = np.zeros(int(n))
    a[svc.support_] = np.abs(svc.dual_coef_.ravel())
    return a
