"""Public checks for the Chapter 10 exercises (``exercises/ch10_svm.ipynb``).

Questions: q1 from the projection gap to the hyperplane, q2 the pieces of the dual (objective, w from alpha,
KKT violations), q3 the corrected dual coordinate ascent, q4 kernels, explicit feature maps and a sigmoid
counterexample, q5 the SMO pair step, q6 closest points of the two convex hulls, q7 population minimisers of
margin losses, q8 capacity (empirical Rademacher complexity, shattering), q9 (companion) the maximum-entropy
distribution on a grid.

Every reference is computed here, independently of the course's topic modules (``lib.svm*``, ``lib.kernels``,
``lib.learning_theory``): closed forms in numpy, ``sklearn.svm.SVC`` / ``LinearSVC``,
``sklearn.metrics.pairwise``, ``scipy.optimize`` (L-BFGS-B, ``minimize_scalar``), ``scipy.stats.norm`` and dense
search. Each check calls the student's functions on fresh copies of its inputs; a wrong answer fails with a
message that says what is off and by how much, and names the mistake when it is a known one (the book's own
slips among them). The underscore helpers are shared with ``tests/hidden/ch10_svm.py``.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from sklearn.metrics.pairwise import polynomial_kernel, rbf_kernel as _sk_rbf, sigmoid_kernel
from sklearn.svm import SVC, LinearSVC

from lib.grading import check
from lib.grading.answers import (answered as _answered, as_array as _array, as_number as _number, close as _close,
                                 items as _tuple, looks_like as _looks_like, near as _near,
                                 unchanged as _unchanged)


def _blobs(rng, n: int, d: int = 2, sep: float = 3.0):
    """Two Gaussian classes (labels +-1, both present) pushed apart along a random unit direction v."""
    v = rng.standard_normal(d)
    v /= np.linalg.norm(v)
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    rng.shuffle(y)
    X = rng.standard_normal((n, d)) + 0.5 * sep * y[:, None] * v
    return X, y, v


def _pushed(rng, n: int, d: int = 2, sep: float = 3.0, gap: float = 1.0):
    """Blobs whose points are pushed out of the slab |<x, v>| < gap/2: separable with a margin."""
    X, y, v = _blobs(rng, n, d, sep)
    push = np.maximum(0.0, gap / 2 - y * (X @ v)) + rng.uniform(0.0, 0.5, n) * (y * (X @ v) < gap / 2)
    return X + (y * push)[:, None] * v, y, v  # random extra push: no ties on the margin


def _separable(rng, n: int, d: int = 2):
    """A separable set and a separating unit direction u (a_- < a_+), retried until it is."""
    while True:
        X, y, v = _blobs(rng, n, d, sep=6.0)
        u = v + 0.2 * rng.standard_normal(d)
        u /= np.linalg.norm(u)
        p = X @ u
        if p[y < 0].max() < p[y > 0].min():
            return X, y, u


def _hard_svc(X, y):
    """Hard-margin linear SVM (libsvm with C = 1e8): (w, b)."""
    m = SVC(kernel="linear", C=1e8, tol=1e-10).fit(X, y)
    return m.coef_[0].copy(), float(m.intercept_[0])


# --------------------------------------------------------------------------- q1: projection gap -> hyperplane
def _gap_reference(X, y, u):
    p = X @ u
    a_pos, a_neg = p[y > 0].min(), p[y < 0].max()
    delta = (a_pos - a_neg) / 2
    return u / delta, -(a_pos + a_neg) / 2 / delta, a_pos - a_neg


def _call_q1(direction_to_hyperplane, X, y, u, name):
    got = _tuple(direction_to_hyperplane(X.copy(), y.copy(), u.copy()), name)
    w = _array(got[0], f"{name}: w", shape=(X.shape[1],))
    return w, _number(got[1], f"{name}: b")


def _check_q1_margins(direction_to_hyperplane, rng, n_sets: int, name: str) -> None:
    for k in range(n_sets):
        n, d = int(rng.integers(8, 40)), int(rng.integers(2, 5))
        X, y, u = _separable(rng, n, d)
        w, b = _call_q1(direction_to_hyperplane, X, y, u, f"{name}, set {k + 1} (n = {n}, d = {d})")
        f = X @ w + b
        want_w, want_b, gap = _gap_reference(X, y, u)
        hint = ""
        if np.allclose(w, u / gap, rtol=1e-6):
            hint = " This looks like w = u / (a_+ - a_-): divide by the half-gap Delta = (a_+ - a_-)/2."
        elif np.allclose(w, want_w, rtol=1e-6) and abs(b + want_b) < 1e-6 * max(1, abs(b)):
            hint = " This looks like b with the wrong sign: b = -(a_+ + a_-)/(2 Delta)."
        assert abs(f[y > 0].min() - 1) < 1e-9 and abs(f[y < 0].max() + 1) < 1e-9, (
            f"{name}, set {k + 1}: the closest positive point should have w.x + b = +1 and the closest negative "
            f"point w.x + b = -1; got {f[y > 0].min():.10g} and {f[y < 0].max():.10g}." + hint)


@check("q1", points=1.5, hint="a_+ = min over y = +1 of <x, u>, a_- = max over y = -1; Delta = (a_+ - a_-)/2, "
                              "w = u / Delta, b = -(a_+ + a_-) / (2 Delta)")
def hyperplane_puts_the_closest_points_at_plus_minus_one(direction_to_hyperplane):
    _check_q1_margins(direction_to_hyperplane, np.random.default_rng(1001), 10, "direction_to_hyperplane")


@check("q1", points=1, hint="||w|| = 1/Delta = 2/(a_+ - a_-), and w points along u")
def norm_of_w_is_two_over_the_gap(direction_to_hyperplane):
    rng = np.random.default_rng(1002)
    for k in range(5):
        X, y, u = _separable(rng, 30, 3)
        w, b = _call_q1(direction_to_hyperplane, X, y, u, "direction_to_hyperplane")
        _, _, gap = _gap_reference(X, y, u)
        _near(float(np.linalg.norm(w)), 2 / gap, 1e-9 * 2 / gap, f"||w|| on set {k + 1} (gap a_+ - a_- = {gap:.4g})",
              {"||w|| = 1/gap (w = u divided by the full gap instead of the half-gap)": 1 / gap})
        cos = float(w @ u / np.linalg.norm(w))
        assert cos > 1 - 1e-12, f"w should point along u; the cosine between them is {cos:.6g}"


@check("q1", points=1.5, hint="along the best direction the construction gives the maximum-margin hyperplane")
def optimal_direction_gives_the_svm(direction_to_hyperplane):
    rng = np.random.default_rng(1003)
    X, y, _ = _pushed(rng, 40, 2)
    w_svc, b_svc = _hard_svc(X, y)
    u = w_svc / np.linalg.norm(w_svc)
    w, b = _call_q1(direction_to_hyperplane, X, y, u, "direction_to_hyperplane with the SVM's direction")
    _close(w, w_svc, 1e-4, "w compared with SVC(kernel='linear', C=1e8).coef_")
    _near(b, b_svc, 1e-4 * max(1.0, abs(b_svc)), "b compared with SVC(kernel='linear', C=1e8).intercept_")


# --------------------------------------------------------------------------- q2: dual pieces
def _dual_case(rng, n: int, C: float = 2.0):
    """Random alpha in [0, C] with some entries exactly 0 or C, labels, an RBF Gram matrix, X and b."""
    X = rng.standard_normal((n, 2))
    y = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    y[:2] = [1.0, -1.0]
    alpha = rng.uniform(0, C, n)
    alpha[rng.random(n) < 0.3] = 0.0
    alpha[rng.random(n) < 0.2] = C
    return X, y, alpha, _sk_rbf(X, X, gamma=0.5), float(rng.normal()), C


def _dual_objective_ref(alpha, y, K):
    c = alpha * y
    return float(alpha.sum() - 0.5 * c @ K @ c)


def _kkt_ref(alpha, b, y, K, C):
    m = y * (K @ (alpha * y) + b)
    below = np.where(alpha < C, np.maximum(0.0, 1 - m), 0.0)  # alpha < C requires y f >= 1
    above = np.where(alpha > 0, np.maximum(0.0, m - 1), 0.0)  # alpha > 0 requires y f <= 1
    box = np.maximum(0.0, np.maximum(-alpha, alpha - C))
    return np.maximum(np.maximum(below, above), box)


@functools.lru_cache(maxsize=None)
def _svc_solution(seed: int = 1020, n: int = 60, C: float = 1.0, gamma: float = 0.7):
    rng = np.random.default_rng(seed)
    X, y, _ = _blobs(rng, n, 2, sep=2.0)
    m = SVC(kernel="rbf", C=C, gamma=gamma, tol=1e-9).fit(X, y)
    alpha = np.zeros(n)
    alpha[m.support_] = np.abs(m.dual_coef_[0])
    return X, y, alpha, float(m.intercept_[0]), _sk_rbf(X, X, gamma=gamma), C


@check("q2", points=1, hint="sum(alpha) - 1/2 (alpha*y)^T K (alpha*y)")
def dual_objective_matches_the_closed_form(dual_objective):
    rng = np.random.default_rng(1021)
    for k in range(5):
        X, y, alpha, K, b, C = _dual_case(rng, int(rng.integers(5, 30)))
        got = _number(dual_objective(alpha.copy(), y.copy(), K.copy()), "dual_objective(alpha, y, K)")
        want = _dual_objective_ref(alpha, y, K)
        _near(got, want, 1e-10 * max(1, abs(want)), f"dual_objective on random case {k + 1}",
              {"the garbled (10.37) without the labels: sum(alpha) - 1/2 alpha^T K alpha":
               float(alpha.sum() - 0.5 * alpha @ K @ alpha),
               "the quadratic term without the factor 1/2": float(alpha.sum() - (alpha * y) @ K @ (alpha * y)),
               "the primal's sign: 1/2 c^T K c - sum(alpha)": -want})


@check("q2", points=1, hint="w = sum_i alpha_i y_i x_i = X.T @ (alpha * y)")
def w_from_alpha_matches_svc(w_from_alpha):
    rng = np.random.default_rng(1022)
    X, y, alpha, K, b, C = _dual_case(rng, 12)
    got = w_from_alpha(alpha.copy(), X.copy(), y.copy())
    _close(got, X.T @ (alpha * y), 1e-12, "w_from_alpha on a random case",
           {"sum_i alpha_i x_i without the labels": X.T @ alpha})
    Xs, ys, _ = _blobs(np.random.default_rng(1023), 30, 3, sep=2.0)
    m = SVC(kernel="linear", C=0.5, tol=1e-9).fit(Xs, ys)
    a = np.zeros(30)
    a[m.support_] = np.abs(m.dual_coef_[0])
    _close(w_from_alpha(a, Xs.copy(), ys.copy()), m.coef_[0], 1e-8, "w_from_alpha on SVC(kernel='linear')'s alpha "
           "(compared with its coef_)")


def _kkt_mistakes(alpha, b, y, K, C) -> dict:
    m = y * (K @ (alpha * y) + b)
    return {"the hard-margin reading, y f >= 1 for every point (ignores that alpha = C allows y f < 1)":
            np.maximum(0.0, 1 - m)}


@check("q2", points=1.5, hint="m_i = y_i f(x_i); alpha_i < C needs m_i >= 1, alpha_i > 0 needs m_i <= 1, and "
                              "0 <= alpha_i <= C; return the violation of each point")
def kkt_violations_match_the_definition(kkt_violations):
    rng = np.random.default_rng(1024)
    for k in range(4):
        X, y, alpha, K, b, C = _dual_case(rng, 15)
        if k == 3:
            alpha[0], alpha[1] = -0.3, C + 0.2  # outside the box
        got = kkt_violations(alpha.copy(), b, y.copy(), K.copy(), C)
        _close(got, _kkt_ref(alpha, b, y, K, C), 1e-10, f"kkt_violations on random case {k + 1} (C = {C})",
               _kkt_mistakes(alpha, b, y, K, C))


@check("q2", points=1, hint="at an SVC solution every violation is small; moving alpha off it makes them large")
def kkt_violations_on_an_svc_solution(kkt_violations):
    X, y, alpha, b, K, C = _svc_solution()
    v = _array(kkt_violations(alpha.copy(), b, y.copy(), K.copy(), C), "kkt_violations at the SVC solution",
               shape=(len(y),))
    assert v.max() < 1e-3, (f"at SVC's solution (tol 1e-9) the largest violation should be < 1e-3, got {v.max():.3g} "
                            f"at point {int(v.argmax())} (alpha = {alpha[v.argmax()]:.4g}, C = {C})")
    rng = np.random.default_rng(1025)
    bad = np.clip(alpha + rng.uniform(-0.3, 0.3, len(alpha)), 0, C)
    v = _array(kkt_violations(bad, b, y.copy(), K.copy(), C), "kkt_violations at a perturbed alpha", shape=(len(y),))
    assert v.max() > 1e-2, f"at a perturbed alpha the largest violation should be > 1e-2, got {v.max():.3g}"


# --------------------------------------------------------------------------- q3: dual coordinate ascent
def _dca_problem(seed: int = 1030, n: int = 40, C: float = 1.0):
    """RBF kernel plus a constant feature (K + 1): the b = 0 dual with a regularised intercept."""
    rng = np.random.default_rng(seed)
    X, y, _ = _blobs(rng, n, 2, sep=1.5)
    return _sk_rbf(X, X, gamma=0.5) + 1.0, y, C


@functools.lru_cache(maxsize=None)
def _box_qp_optimum(seed: int, n: int, C: float) -> float:
    """max sum(a) - 1/2 a^T Q a over 0 <= a <= C, by L-BFGS-B (a lower bound on the true maximum)."""
    K, y, C = _dca_problem(seed, n, C)
    Q = np.outer(y, y) * K
    res = minimize(lambda a: (0.5 * a @ Q @ a - a.sum(), Q @ a - 1), np.zeros(len(y)), jac=True, method="L-BFGS-B",
                   bounds=[(0, C)] * len(y), options=dict(ftol=1e-15, gtol=1e-10, maxiter=3000))
    return float(-res.fun)


def _projected_gradient(alpha, y, K, C):
    g = 1 - y * (K @ (alpha * y))  # gradient of the (maximised) dual
    pg = g.copy()
    pg[alpha <= 0] = np.maximum(g[alpha <= 0], 0)
    pg[alpha >= C] = np.minimum(g[alpha >= C], 0)
    return np.abs(pg)


def _book_dca(K, y, C, n_sweeps):
    """The text's (10.65): alpha_i <- max(0, y_i g_i / Q_ii), with the old alpha_i dropped."""
    alpha = np.zeros(len(y))
    for _ in range(n_sweeps):
        for i in range(len(y)):
            g = 1 - y[i] * (K[i] @ (alpha * y))
            alpha[i] = min(max(0.0, y[i] * g / K[i, i]), C)
    return alpha


def _call_dca(dca, K, y, C, n_sweeps, name):
    return _array(dca(K.copy(), y.copy(), C, n_sweeps), name, shape=(len(y),))


def _dca_hint(alpha, K, y, C, n_sweeps) -> str:
    return _looks_like(alpha, {"the text's update (10.65), alpha_i <- max(0, y_i g_i / Q_ii): it has a spurious y_i "
                                "and drops the old alpha_i; the step is alpha_i <- clip(alpha_i + g_i / K_ii, 0, C)":
                                _book_dca(K, y, C, n_sweeps)})


@check("q3", points=1, hint="after each step clip alpha_i into [0, C]")
def dca_stays_in_the_box(dca):
    K, y, C = _dca_problem()
    alpha = _call_dca(dca, K, y, C, 300, "dca(K + 1, y, C = 1, 300)")
    assert alpha.min() >= -1e-12 and alpha.max() <= C + 1e-12, \
        f"alpha should lie in [0, C = {C}]; got min {alpha.min():.4g}, max {alpha.max():.4g}"


@check("q3", points=1.5, hint="alpha_i <- clip(alpha_i + g_i / K_ii, 0, C) with g_i = 1 - y_i sum_j alpha_j y_j K_ij")
def dca_reaches_the_dual_optimum(dca):
    K, y, C = _dca_problem()
    alpha = _call_dca(dca, K, y, C, 200, "dca(K + 1, y, C = 1, 200)")
    got, best = _dual_objective_ref(alpha, y, K), _box_qp_optimum(1030, 40, C)
    assert got >= best - 1e-6 * max(1, abs(best)), (
        f"the dual objective of your alpha is {got:.10g}; L-BFGS-B reaches {best:.10g}." + _dca_hint(alpha, K, y, C, 200))
    pg = _projected_gradient(np.clip(alpha, 0, C), y, K, C)
    assert pg.max() < 1e-4, (f"the projected-gradient KKT violation should be < 1e-4 after 200 sweeps, got {pg.max():.3g}"
                             + _dca_hint(alpha, K, y, C, 200))


@check("q3", points=1.5, hint="with a constant feature of 1 appended (K = X X^T + 1), w = X^T (alpha y) and "
                              "b = sum(alpha y): the problem liblinear solves")
def dca_matches_linearsvc(dca):
    rng = np.random.default_rng(1031)
    X, y, _ = _blobs(rng, 40, 3, sep=1.5)
    C = 0.5
    K = X @ X.T + 1.0
    alpha = _call_dca(dca, K, y, C, 300, "dca(X X^T + 1, y, C = 0.5, 300)")
    m = LinearSVC(loss="hinge", dual=True, C=C, tol=1e-10, max_iter=10**6, intercept_scaling=1.0).fit(X, y)
    hint = _dca_hint(alpha, K, y, C, 300)
    _close(X.T @ (alpha * y), m.coef_[0], 1e-5, "w = X^T (alpha y) compared with LinearSVC(loss='hinge').coef_"
           + (f" ({hint.strip()})" if hint else ""))
    _near(float(alpha @ y), float(m.intercept_[0]), 1e-5 * max(1, abs(m.intercept_[0])),
          "b = sum(alpha y) compared with LinearSVC(loss='hinge').intercept_")


# --------------------------------------------------------------------------- q4: kernels
def _truncated_rbf(X, Z, gamma, D):
    """e^{-g|x|^2 - g|z|^2} sum_{k <= D} (2 g <x, z>)^k / k!: the inner product of the degree-<=D feature map."""
    s = 2 * gamma * X @ Z.T
    total = sum(s ** k / math.factorial(k) for k in range(D + 1))
    return np.exp(-gamma * (X ** 2).sum(1))[:, None] * total * np.exp(-gamma * (Z ** 2).sum(1))[None, :]


def _book_rbf_features(X, gamma, D):
    """The text's (10.95) coefficients sqrt(2 g^|a| / a!) (right only for |a| <= 1)."""
    cols = []
    for k in range(D + 1):
        for a1 in range(k + 1):
            a2 = k - a1
            coef = math.sqrt((2 * gamma ** k if k >= 2 else (2 * gamma) ** k) / (math.factorial(a1) * math.factorial(a2)))
            cols.append(coef * X[:, 0] ** a1 * X[:, 1] ** a2)
    return np.exp(-gamma * (X ** 2).sum(1))[:, None] * np.array(cols).T


@check("q4", points=1, hint="exp(-gamma ||x - z||^2), with ||x - z||^2 = |x|^2 + |z|^2 - 2 x.z")
def rbf_kernel_matches_sklearn(rbf_kernel):
    rng = np.random.default_rng(1040)
    for n, m, d, g in [(7, 5, 3, 0.7), (12, 12, 1, 2.0), (4, 9, 6, 0.05)]:
        X, Z = rng.standard_normal((n, d)), rng.standard_normal((m, d))
        _close(rbf_kernel(X.copy(), Z.copy(), g), _sk_rbf(X, Z, gamma=g), 1e-12,
               f"rbf_kernel(X, Z, gamma={g}) with X {X.shape}, Z {Z.shape} (sklearn.metrics.pairwise.rbf_kernel)",
               {"exp(-||x - z||^2 / (2 gamma))": np.exp(-((X[:, None] - Z[None]) ** 2).sum(-1) / (2 * g))})


@check("q4", points=1, hint="(1 + x.z)^degree")
def poly_kernel_matches_sklearn(poly_kernel):
    rng = np.random.default_rng(1041)
    for n, m, d, deg in [(6, 4, 3, 3), (5, 5, 2, 2), (3, 8, 4, 5)]:
        X, Z = rng.standard_normal((n, d)), rng.standard_normal((m, d))
        _close(poly_kernel(X.copy(), Z.copy(), deg), polynomial_kernel(X, Z, degree=deg, gamma=1, coef0=1), 1e-12,
               f"poly_kernel(X, Z, degree={deg}) (sklearn polynomial_kernel with gamma=1, coef0=1)",
               {"(x.z)^degree without the 1": (X @ Z.T) ** deg})


@check("q4", points=1, hint="(1 + x.z)^2 = 1 + 2 sum x_i z_i + sum x_i^2 z_i^2 + 2 sum_{i<j} x_i x_j z_i z_j")
def poly2_features_reproduce_the_kernel(poly2_features):
    rng = np.random.default_rng(1042)
    for d in (1, 2, 4):
        X = rng.standard_normal((6, d))
        F = _array(poly2_features(X.copy()), f"poly2_features(X) for d = {d}")
        want_cols = (d + 1) * (d + 2) // 2
        assert F.ndim == 2 and F.shape == (6, want_cols), \
            f"poly2_features(X) for X of shape {X.shape}: expected shape (6, {want_cols}), got {F.shape}"
        _close(F @ F.T, (1 + X @ X.T) ** 2, 1e-12, f"Phi(X) Phi(X)^T for d = {d}, compared with (1 + X X^T)^2")


@check("q4", points=1.5, hint="Phi_a(x) = exp(-gamma |x|^2) sqrt((2 gamma)^|a| / (a_1! a_2!)) x_1^a_1 x_2^a_2 over "
                              "all a with |a| <= max_degree")
def rbf_taylor_features(rbf_taylor_features):
    rng = np.random.default_rng(1043)
    X = rng.uniform(-1, 1, (8, 2))
    g = 0.7
    for D in (2, 4, 20):
        F = _array(rbf_taylor_features(X.copy(), g, D), f"rbf_taylor_features(X, {g}, {D})")
        want_cols = (D + 1) * (D + 2) // 2
        assert F.shape == (8, want_cols), f"rbf_taylor_features(X, {g}, {D}): expected shape (8, {want_cols}), got {F.shape}"
        _close(F @ F.T, _truncated_rbf(X, X, g, D), 1e-12,
               f"Phi(X) Phi(X)^T at max_degree {D} (the kernel's Taylor series to degree {D})",
               {"the text's (10.95) coefficient sqrt(2 gamma^2 / 2!) for x_1^2; it is sqrt((2 gamma)^2 / 2!)":
                (lambda B: B @ B.T)(_book_rbf_features(X, g, D))})
    _close(F @ F.T, _sk_rbf(X, X, gamma=g), 1e-10, "Phi(X) Phi(X)^T at max_degree 20 compared with the RBF kernel")


@check("q4", points=1, hint="a negative c makes K(x, x) = tanh(kappa |x|^2 + c) negative for x = 0")
def sigmoid_counterexample_is_not_psd(sigmoid_counterexample):
    X, kappa, c = _tuple(sigmoid_counterexample(), "sigmoid_counterexample()", 3)
    X = _array(X, "X from sigmoid_counterexample()")
    assert X.ndim == 2 and len(X) >= 1, f"X should be a 2-D array (points as rows), got shape {X.shape}"
    kappa, c = _number(kappa, "kappa"), _number(c, "c")
    G = np.tanh(kappa * X @ X.T + c)
    _close(sigmoid_kernel(X, X, gamma=kappa, coef0=c), G, 1e-12, "the sigmoid Gram matrix")
    lam = float(np.linalg.eigvalsh(G).min())
    assert lam < -1e-6, f"the Gram matrix tanh(kappa X X^T + c) should have a negative eigenvalue (< -1e-6); its smallest is {lam:.3g}"


# --------------------------------------------------------------------------- q5: the SMO pair step
def _smo_instance(rng, n: int = 6, psd: bool = True, duplicate: bool = False):
    A = rng.standard_normal((n, n if psd else 2))
    K = A @ A.T if psd else rng.standard_normal((n, n))
    K = (K + K.T) / 2 if not psd else K
    if duplicate:  # x_1 = x_0 in feature space: eta = 0
        K[1], K[:, 1] = K[0], K[0]
        K[1, 1] = K[0, 0]
    y = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    y[:2] = rng.choice([-1.0, 1.0], 2)
    if (y > 0).all() or (y < 0).all():
        y[-1] = -y[-1]
    C = float(rng.choice([0.5, 1.0, 3.0]))
    alpha = rng.uniform(0, C, n)
    alpha[rng.random(n) < 0.2] = 0.0
    sp, sn = alpha[y > 0].sum(), alpha[y < 0].sum()
    if sp > sn:
        alpha[y > 0] *= sn / sp
    else:
        alpha[y < 0] *= sp / max(sn, 1e-300)
    Q = np.outer(y, y) * K
    return alpha, Q @ alpha - 1, K, y, C, Q


def _pair_bounds(ai, aj, yi, yj, C):
    if yi != yj:
        return max(0.0, aj - ai), min(C, C + aj - ai)
    return max(0.0, ai + aj - C), min(C, ai + aj)


def _objective(alpha, Q):
    return 0.5 * alpha @ Q @ alpha - alpha.sum()


def _smo_book(alpha, G, i, j, K, y, C, tau=1e-12, diff=True, curvature=True):
    """Theorem 65 as printed (g_i - g_j over K_ii + K_jj - 2 y_i y_j K_ij, then clipped), or one slip of the two."""
    eta = K[i, i] + K[j, j] - 2 * (y[i] * y[j] if curvature else 1.0) * K[i, j]
    eta = eta if eta > 0 else tau
    aj = alpha[j] + y[j] * ((G[i] - G[j]) if diff else (y[i] * G[i] - y[j] * G[j])) / eta
    L, H = _pair_bounds(alpha[i], alpha[j], y[i], y[j], C)
    aj = min(max(aj, L), H)
    return alpha[i] + y[i] * y[j] * (alpha[j] - aj), aj


_BOOK_SMO = ("the printed Theorem 65 ({}); the step is y_j (y_i G_i - y_j G_j) / eta with eta = K_ii + K_jj - 2 K_ij")


def _smo_mistakes(alpha, G, i, j, K, y, C) -> dict:
    return {_BOOK_SMO.format("g_i - g_j over K_ii + K_jj - 2 y_i y_j K_ij"): np.array(_smo_book(alpha, G, i, j, K, y, C)),
            _BOOK_SMO.format("g_i - g_j instead of y_i G_i - y_j G_j"):
            np.array(_smo_book(alpha, G, i, j, K, y, C, curvature=False)),
            _BOOK_SMO.format("curvature K_ii + K_jj - 2 y_i y_j K_ij"):
            np.array(_smo_book(alpha, G, i, j, K, y, C, diff=False))}


def _call_smo(smo_pair_update, alpha, G, i, j, K, y, C, name):
    got = _tuple(smo_pair_update(alpha.copy(), G.copy(), i, j, K.copy(), y.copy(), C), name)
    return _number(got[0], f"{name}: new alpha_i"), _number(got[1], f"{name}: new alpha_j")


def _check_smo_instances(smo_pair_update, rng, count: int, name: str, psd=True, duplicate=False, exact=True) -> None:
    for k in range(count):
        alpha, G, K, y, C, Q = _smo_instance(rng, int(rng.integers(3, 8)), psd=psd, duplicate=duplicate)
        i, j = (0, 1) if duplicate else tuple(int(t) for t in rng.choice(len(y), 2, replace=False))
        ai, aj = _call_smo(smo_pair_update, alpha, G, i, j, K, y, C, f"{name}, instance {k + 1} (i = {i}, j = {j})")
        where = f"{name}, instance {k + 1} (i = {i}, j = {j}, y_i = {y[i]:+.0f}, y_j = {y[j]:+.0f}, C = {C})"
        named = _looks_like(np.array([ai, aj]), _smo_mistakes(alpha, G, i, j, K, y, C))
        assert -1e-12 <= ai <= C + 1e-12 and -1e-12 <= aj <= C + 1e-12, \
            f"{where}: the new pair ({ai:.6g}, {aj:.6g}) leaves the box [0, C]." + named
        new = alpha.copy()
        new[i], new[j] = ai, aj
        drift = abs(new @ y - alpha @ y)
        assert drift <= 1e-12 * max(1, C), f"{where}: sum(alpha y) changed by {drift:.2e}; the pair step must keep it." + named
        f_old, f_new = _objective(alpha, Q), _objective(new, Q)
        assert f_new <= f_old + 1e-10 * max(1, abs(f_old)), \
            f"{where}: the objective 1/2 a^T Q a - sum(a) went up from {f_old:.10g} to {f_new:.10g}." + named
        if exact:  # dense search over the feasible segment
            L, H = _pair_bounds(alpha[i], alpha[j], y[i], y[j], C)
            t = np.linspace(L, H, 4001)
            A = np.repeat(alpha[None], len(t), 0)
            A[:, j] = t
            A[:, i] = alpha[i] + y[i] * y[j] * (alpha[j] - t)
            best = float((0.5 * np.einsum("ki,ij,kj->k", A, Q, A) - A.sum(1)).min())
            assert f_new <= best + 1e-8 * max(1, abs(best)), (
                f"{where}: your step reaches objective {f_new:.10g}, but a dense search over [L, H] = [{L:.4g}, {H:.4g}] "
                f"finds {best:.10g}." + named)


@check("q5", points=1, hint="L, H: y_i != y_j: [max(0, a_j - a_i), min(C, C + a_j - a_i)]; y_i = y_j: "
                            "[max(0, a_i + a_j - C), min(C, a_i + a_j)]; a_i_new = a_i + y_i y_j (a_j - a_j_new)")
def smo_step_is_feasible(smo_pair_update):
    _check_smo_instances(smo_pair_update, np.random.default_rng(1050), 200, "smo_pair_update", exact=False)


@check("q5", points=2, hint="a_j_new = a_j + y_j (y_i G_i - y_j G_j) / eta with eta = K_ii + K_jj - 2 K_ij, then clip")
def smo_step_is_the_restricted_minimum(smo_pair_update):
    _check_smo_instances(smo_pair_update, np.random.default_rng(1051), 200, "smo_pair_update")


@check("q5", points=1, hint="if eta <= 0 use eta = tau (1e-12): the step then runs to the bound in the descent direction")
def smo_step_handles_zero_curvature(smo_pair_update):
    rng = np.random.default_rng(1052)
    _check_smo_instances(smo_pair_update, rng, 20, "smo_pair_update with x_i = x_j (eta = 0)", duplicate=True)


# --------------------------------------------------------------------------- q6: closest points of the hulls
def _hull_case(seed: int, n: int = 30, d: int = 2):
    """Two separable clouds (n points each) and the hard-margin SVC's (w, b)."""
    X, y, _ = _pushed(np.random.default_rng(seed), 2 * n, d)
    w, b = _hard_svc(X, y)
    return X[y > 0], X[y < 0], w, b


@functools.lru_cache(maxsize=None)
def _hull_case_cached(seed: int):
    return _hull_case(seed)


def _simplex(lam, n, name):
    lam = _array(lam, name, shape=(n,))
    assert lam.min() >= -1e-9, f"{name}: convex weights must be >= 0; the smallest is {lam.min():.3g}"
    assert abs(lam.sum() - 1) <= 1e-9, f"{name}: convex weights must sum to 1; they sum to {lam.sum():.12g}"
    return lam


def _call_hull(hull_closest_points, Xp, Xn, name):
    lp, ln = _tuple(hull_closest_points(Xp.copy(), Xn.copy()), name)
    return _simplex(lp, len(Xp), f"{name}: lam_pos"), _simplex(ln, len(Xn), f"{name}: lam_neg")


@check("q6", points=1, hint="return two weight vectors, each >= 0 and summing to 1")
def hull_weights_are_convex(hull_closest_points):
    Xp, Xn, w, b = _hull_case_cached(1060)
    _call_hull(hull_closest_points, Xp, Xn, "hull_closest_points(Xp, Xn)")


@check("q6", points=1.5, hint="minimise ||Xp^T lam_pos - Xn^T lam_neg||^2 over the two simplices; D = 2/||w||")
def hull_distance_is_two_over_norm_w(hull_closest_points):
    Xp, Xn, w, b = _hull_case_cached(1060)
    lp, ln = _call_hull(hull_closest_points, Xp, Xn, "hull_closest_points(Xp, Xn)")
    D = float(np.linalg.norm(lp @ Xp - ln @ Xn))
    want = 2 / np.linalg.norm(w)
    _near(D, want, 1e-5 * want, "the distance between your closest points, compared with 2/||w|| of the hard-margin SVC",
          {"a point-to-boundary margin 1/||w||: the hull distance is the full slab width 2/||w||": want / 2})


@check("q6", points=1, hint="the SVM boundary is the perpendicular bisector of the segment between the closest points")
def svc_boundary_bisects_the_segment(hull_closest_points):
    Xp, Xn, w, b = _hull_case_cached(1060)
    lp, ln = _call_hull(hull_closest_points, Xp, Xn, "hull_closest_points(Xp, Xn)")
    p, q = lp @ Xp, ln @ Xn
    seg = p - q
    cos = float(seg @ w / (np.linalg.norm(seg) * np.linalg.norm(w)))
    assert cos >= 1 - 1e-6, f"the segment p - q should be parallel to the SVC's w; the cosine is {cos:.8f}"
    mid = float((w @ (p + q) / 2 + b) / np.linalg.norm(w))
    assert abs(mid) <= 1e-5 * np.linalg.norm(seg), \
        f"the SVC boundary should pass through the midpoint (p + q)/2; its signed distance from it is {mid:.3g}"


def _svm_from_hull_ref(p, q):
    s = p - q
    w = 2 * s / (s @ s)
    return w, float(-w @ (p + q) / 2)


@check("q6", points=1.5, hint="w = 2 (p - q) / ||p - q||^2 (so that 2/||w|| = ||p - q||), b = -w.(p + q)/2")
def svm_from_hull_matches_svc(svm_from_hull):
    rng = np.random.default_rng(1061)
    p, q = rng.standard_normal(3), rng.standard_normal(3)
    w_ref, b_ref = _svm_from_hull_ref(p, q)
    got = _tuple(svm_from_hull(p.copy(), q.copy()), "svm_from_hull(p, q)")
    D = np.linalg.norm(p - q)
    _close(got[0], w_ref, 1e-10, "w from svm_from_hull(p, q)",
           {"'margin = twice the hull distance' (1/||w|| = 2D); the hull distance D is 2/||w||":
            (p - q) / (2 * D ** 2), "1/||w|| = D (D is the full slab width 2/||w||)": (p - q) / D ** 2})
    _near(_number(got[1], "b from svm_from_hull(p, q)"), b_ref, 1e-10 * max(1, abs(b_ref)), "b from svm_from_hull(p, q)")
    Xp, Xn, w, b = _hull_case_cached(1060)
    m = SVC(kernel="linear", C=1e8, tol=1e-12).fit(np.vstack([Xp, Xn]), np.r_[np.ones(len(Xp)), -np.ones(len(Xn))])
    a = np.zeros(len(Xp) + len(Xn))
    a[m.support_] = np.abs(m.dual_coef_[0])  # normalised per class, the dual variables are the hull weights
    pp, qq = a[:len(Xp)] @ Xp / a[:len(Xp)].sum(), a[len(Xp):] @ Xn / a[len(Xp):].sum()
    got = _tuple(svm_from_hull(pp, qq), "svm_from_hull(p, q)")
    _close(got[0], w, 1e-5, "w from svm_from_hull at the closest points, compared with the hard-margin SVC's coef_")


# --------------------------------------------------------------------------- q7: population minimisers
ETAS = (0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9)
_LOSSES = {"hinge": lambda z: np.maximum(0.0, 1 - z), "logistic": lambda z: np.logaddexp(0.0, -z),
           "exponential": lambda z: np.exp(-z)}


def _risk(loss, eta, f):
    return eta * _LOSSES[loss](f) + (1 - eta) * _LOSSES[loss](-f)


def _numeric_minimizer(loss, eta):
    return minimize_scalar(lambda f: float(_risk(loss, eta, f)), bounds=(-10, 10), method="bounded",
                           options=dict(xatol=1e-12)).x


def _call_pop(population_minimizer, loss, eta):
    return _number(population_minimizer(loss, eta), f"population_minimizer({loss!r}, {eta})")


@check("q7", points=1, hint="minimise eta log(1 + e^-f) + (1 - eta) log(1 + e^f): f* = log(eta / (1 - eta))")
def logistic_minimizer(population_minimizer):
    for eta in ETAS:
        got = _call_pop(population_minimizer, "logistic", eta)
        lo = math.log(eta / (1 - eta))
        _near(got, _numeric_minimizer("logistic", eta), 1e-6, f"population_minimizer('logistic', {eta})",
              {"half the log-odds (that is the exponential loss)": lo / 2, "the probability eta itself": eta,
               "2 eta - 1": 2 * eta - 1})


@check("q7", points=1, hint="minimise eta e^-f + (1 - eta) e^f: f* = 1/2 log(eta / (1 - eta))")
def exponential_minimizer(population_minimizer):
    for eta in ETAS:
        got = _call_pop(population_minimizer, "exponential", eta)
        lo = math.log(eta / (1 - eta))
        _near(got, _numeric_minimizer("exponential", eta), 1e-6, f"population_minimizer('exponential', {eta})",
              {"the full log-odds (that is the logistic loss)": lo, "2 eta - 1": 2 * eta - 1})


@check("q7", points=1.5, hint="on [-1, 1] the hinge risk is 1 + f (1 - 2 eta): linear, so the minimiser is an end point")
def hinge_minimizer(population_minimizer):
    for eta in ETAS:
        got = _call_pop(population_minimizer, "hinge", eta)
        want = 1.0 if eta > 0.5 else -1.0
        _near(got, want, 1e-9, f"population_minimizer('hinge', {eta}) (its risk is {float(_risk('hinge', eta, got)):.6g}, "
              f"the minimum {float(_risk('hinge', eta, want)):.6g})",
              {"2 eta - 1: the hinge risk is linear on [-1, 1], so its minimiser is sign(2 eta - 1)": 2 * eta - 1,
               "the log-odds (that is the logistic loss)": math.log(eta / (1 - eta))})
    mid = _call_pop(population_minimizer, "hinge", 0.5)
    assert -1 - 1e-12 <= mid <= 1 + 1e-12, f"at eta = 0.5 every f in [-1, 1] minimises the hinge risk; got {mid:.6g}"


@check("q7", points=0.5, hint="Fisher consistency: the minimiser has the sign of 2 eta - 1")
def minimizers_are_fisher_consistent(population_minimizer):
    for loss in ("hinge", "logistic", "exponential"):
        for eta in (0.05, 0.45, 0.55, 0.95):
            got = _call_pop(population_minimizer, loss, eta)
            assert np.sign(got) == np.sign(2 * eta - 1), \
                f"population_minimizer({loss!r}, {eta}) = {got:.6g} should have the sign of 2 eta - 1 = {2 * eta - 1:+.2f}"


# --------------------------------------------------------------------------- q8: capacity
@functools.lru_cache(maxsize=None)
def _rademacher_reference(seed: int, n: int, d: int, B: float, n_ref: int = 100_000):
    """(X, high-n Monte Carlo mean of (B/n)||sum sigma_i x_i||, its standard deviation, the bound)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 2.0, d) + 0.5  # not centred: 0/1 signs would show
    ref_rng = np.random.default_rng(seed + 7)
    vals = []
    for _ in range(n_ref // 10_000):
        S = ref_rng.choice([-1.0, 1.0], size=(10_000, n))
        vals.append(B / n * np.linalg.norm(S @ X, axis=1))
    vals = np.concatenate(vals)
    return X, float(vals.mean()), float(vals.std()), B / n * math.sqrt(float((X ** 2).sum()))


def _check_rademacher(empirical_rademacher_linear, seed, n, d, B, n_mc, name):
    X, ref, sd, bound = _rademacher_reference(seed, n, d, B)
    got = _number(empirical_rademacher_linear(X.copy(), B, n_mc, np.random.default_rng(seed + 1)), name)
    se = sd / math.sqrt(n_mc)
    assert abs(got - ref) <= 3 * se, (
        f"{name}: got {got:.6g}; a 100000-draw reference gives {ref:.6g}, and with n_mc = {n_mc} the estimate should be "
        f"within 3 standard errors ({3 * se:.2g})." + _looks_like(got, {
            "the bound (B/n) sqrt(sum ||x_i||^2), not the Monte Carlo estimate": bound,
            "a missing factor B": ref / B, "a missing 1/n": ref * n}))
    assert got < bound, f"{name}: {got:.6g} should lie below the bound (B/n) sqrt(sum ||x_i||^2) = {bound:.6g}"


@check("q8", points=2, hint="mean over n_mc draws of sigma in {-1, +1}^n of (B/n) ||sum_i sigma_i x_i||")
def rademacher_estimate(empirical_rademacher_linear):
    _check_rademacher(empirical_rademacher_linear, 1080, 50, 3, 2.0, 2000,
                      "empirical_rademacher_linear(X, B=2, n_mc=2000, rng)")


def _shatter_sets():
    tri = np.array([[0.0, 0.0], [1.0, 0.0], [0.3, 1.0]])
    line = np.array([[0.0, 0.0], [1.0, 1.0], [2.5, 2.5]])
    square = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    inside = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [0.8, 0.8]])
    return tri, line, square, inside


def _call_shatters(shatters, X, name):
    got = _answered(shatters(X.copy()), name)
    assert isinstance(got, (bool, np.bool_)), f"{name}: expected True or False, got {type(got).__name__} {got!r:.40}"
    return bool(got)


@check("q8", points=1.5, hint="try all 2^n labelings; each must be linearly separable WITH a bias (LP feasibility)")
def shatters_small_sets(shatters):
    tri, line, square, inside = _shatter_sets()
    assert _call_shatters(shatters, tri, "shatters(3 points of a triangle)") is True, \
        "3 points in general position in R^2 are shattered by lines (with a bias); shatters returned False"
    assert _call_shatters(shatters, line, "shatters(3 collinear points)") is False, \
        "3 collinear points are not shattered: the middle one cannot be labelled against the two ends"
    assert _call_shatters(shatters, square, "shatters(4 corners of a square)") is False, \
        "no 4 points in R^2 are shattered (the XOR labelling of a square); shatters returned True"
    assert _call_shatters(shatters, inside, "shatters(a triangle and a point inside)") is False, \
        "no 4 points in R^2 are shattered (label the inner point against the three corners); shatters returned True"


@check("q8", points=1, hint="the VC definition needs SOME set of h points to be shattered, not every set")
def vc_estimate_uses_there_exists(vc_estimate):
    tri, line, square, inside = _shatter_sets()
    got = _number(vc_estimate([line, tri, square, inside, np.array([[0.0, 0.0], [1.0, 2.0]])]),
                  "vc_estimate([3 collinear, triangle, square, 4 with one inside, 2 points])")
    assert got == 3, (f"vc_estimate should return 3 (the triangle is shattered, no 4-point set is), got {got:g}."
                      + (" This looks like requiring every candidate set of a size to be shattered; the definition "
                         "asks for one." if got == 2 else ""))


# --------------------------------------------------------------------------- q9 (companion): maximum entropy
def _maxent_grid():
    return np.linspace(-8.0, 8.0, 2001), 0.5, 1.3 ** 2


def _call_maxent(maxent_on_grid, grid, mu, var, name):
    p = _array(maxent_on_grid(grid.copy(), mu, var), name, shape=grid.shape)
    assert p.min() >= -1e-15, f"{name}: probabilities must be >= 0; the smallest is {p.min():.3g}"
    return p


def _check_maxent_moments(maxent_on_grid, grid, mu, var, name) -> np.ndarray:
    p = _call_maxent(maxent_on_grid, grid, mu, var, name)
    sigma = math.sqrt(var)
    _near(float(p.sum()), 1.0, 1e-8, f"{name}: sum(p)")
    _near(float(p @ grid), mu, 1e-8, f"{name}: the mean sum(p x)")
    got_var = float(p @ (grid - mu) ** 2)
    _near(got_var, var, 1e-8 * max(1.0, var), f"{name}: the variance sum(p (x - mu)^2)",
          {"the variance constraint set to sigma instead of sigma^2 (a slip of the Lagrange companion)": sigma})
    return p


@check("q9", points=1, hint="p_k proportional to exp(l1 x_k + l2 (x_k - mu)^2); Newton on (l1, l2): gradient E_p[phi] - c, "
                            "Hessian Cov_p[phi]")
def maxent_moments_hold(maxent_on_grid):
    grid, mu, var = _maxent_grid()
    _check_maxent_moments(maxent_on_grid, grid, mu, var, "maxent_on_grid(linspace(-8, 8, 2001), 0.5, 1.69)")


@check("q9", points=1, hint="the stationarity condition makes log p a quadratic in x")
def maxent_is_an_exponential_family(maxent_on_grid):
    grid, mu, var = _maxent_grid()
    p = _call_maxent(maxent_on_grid, grid, mu, var, "maxent_on_grid(linspace(-8, 8, 2001), 0.5, 1.69)")
    assert p.min() > 0, "the maximum-entropy distribution is positive at every grid point (log p is a quadratic)"
    logp = np.log(p)
    coef = np.polyfit(grid, logp, 2)
    resid = float(np.abs(np.polyval(coef, grid) - logp).max())
    assert resid < 1e-6, f"log p should be a quadratic in x (stationarity of the Lagrangian); the best quadratic misses by {resid:.3g}"
    assert coef[0] < 0, f"the x^2 coefficient of log p should be negative (a Gaussian shape), got {coef[0]:.4g}"


@check("q9", points=1, hint="with these moments the maximum-entropy distribution is the (discretised) Gaussian")
def maxent_is_the_gaussian(maxent_on_grid):
    from scipy.stats import norm
    grid, mu, var = _maxent_grid()
    p = _call_maxent(maxent_on_grid, grid, mu, var, "maxent_on_grid(linspace(-8, 8, 2001), 0.5, 1.69)")
    q = norm.pdf(grid, mu, math.sqrt(var))
    q /= q.sum()
    tv = 0.5 * float(np.abs(p - q).sum())
    assert tv < 1e-3, f"the total-variation distance to the discretised N(0.5, 1.3^2) should be < 1e-3, got {tv:.3g}"
