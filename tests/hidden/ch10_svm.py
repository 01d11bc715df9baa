"""Hidden checks for the Chapter 10 exercises (grading only; a failure shows as "hidden check failed").

They use cases the notebook never shows (one and five dimensions, a hard margin with C = inf, a sigmoid-free
kernel with negative curvature for SMO, three-dimensional hulls, extreme probabilities, shattering in R^1 and
R^3) and verify that the student's functions leave their inputs unchanged. References come from sklearn, scipy
and closed forms, through the helpers of the public checks.
"""
from __future__ import annotations

import numpy as np

from lib.checks.ch10_svm import (_array, _call_hull, _call_pop, _call_shatters, _check_q1_margins, _check_rademacher,
                                 _check_smo_instances, _close, _dual_case, _dual_objective_ref, _hull_case, _kkt_ref,
                                 _near, _numeric_minimizer, _pushed, _unchanged)
from lib.grading import check
from sklearn.metrics.pairwise import polynomial_kernel, rbf_kernel as _sk_rbf


# --------------------------------------------------------------------------- q1
@check("q1", points=1)
def hidden_other_dimensions_and_no_mutation(direction_to_hyperplane):
    _check_q1_margins(direction_to_hyperplane, np.random.default_rng(2001), 6, "direction_to_hyperplane (hidden)")
    X = np.array([[0.0], [1.0], [3.0], [4.5]])
    y = np.array([-1.0, -1.0, 1.0, 1.0])
    u = np.array([1.0])
    copies = dict(X=X.copy(), y=y.copy(), u=u.copy())
    w, b = direction_to_hyperplane(copies["X"], copies["y"], copies["u"])
    _close(w, [1.0], 1e-12, "w for the 1-D set {0, 1 | 3, 4.5} (gap 2: w = 1)")
    _near(float(np.asarray(b, dtype=float).reshape(())), -2.0, 1e-12, "b for the 1-D set {0, 1 | 3, 4.5}")
    _unchanged(copies, dict(X=X, y=y, u=u), "direction_to_hyperplane")


# --------------------------------------------------------------------------- q2
@check("q2", points=1)
def hidden_hard_margin_and_no_mutation(dual_objective, w_from_alpha, kkt_violations):
    rng = np.random.default_rng(2021)
    X, y, alpha, K, b, _ = _dual_case(rng, 9, C=5.0)
    _close(kkt_violations(alpha.copy(), b, y.copy(), K.copy(), np.inf), _kkt_ref(alpha, b, y, K, np.inf), 1e-10,
           "kkt_violations with C = inf (hard margin)")
    originals = dict(alpha=alpha, y=y, K=K, X=X)
    copies = {k: v.copy() for k, v in originals.items()}
    _near(float(dual_objective(copies["alpha"], copies["y"], copies["K"])), _dual_objective_ref(alpha, y, K), 1e-10,
          "dual_objective (hidden case)")
    w_from_alpha(copies["alpha"], copies["X"], copies["y"])
    kkt_violations(copies["alpha"], b, copies["y"], copies["K"], 5.0)
    _unchanged(copies, originals, "the q2 functions")


# --------------------------------------------------------------------------- q3
@check("q3", points=1)
def hidden_hard_margin_dca(dca):
    X, y, _ = _pushed(np.random.default_rng(2031), 30, 2)
    K = X @ X.T + 1.0
    originals = dict(K=K, y=y)
    copies = {k: v.copy() for k, v in originals.items()}
    alpha = _array(dca(copies["K"], copies["y"], np.inf, 400), "dca(K, y, C = inf, 400)", shape=(30,))
    _unchanged(copies, originals, "dca")
    assert alpha.min() >= -1e-12, f"dca with C = inf: alpha must stay >= 0, got min {alpha.min():.3g}"
    m = y * (K @ (alpha * y))
    assert m.min() >= 1 - 1e-4, f"dca with C = inf on separable data: min y f should reach 1, got {m.min():.6g}"


# --------------------------------------------------------------------------- q4
@check("q4", points=1)
def hidden_kernels_other_shapes(rbf_kernel, poly_kernel, poly2_features, rbf_taylor_features):
    rng = np.random.default_rng(2041)
    X = rng.standard_normal((5, 7))
    originals = dict(X=X)
    copies = dict(X=X.copy())
    _close(rbf_kernel(copies["X"], copies["X"], 3.0), _sk_rbf(X, X, gamma=3.0), 1e-12, "rbf_kernel(X, X, 3) in 7-D")
    _close(poly_kernel(copies["X"], copies["X"][:2], 1), polynomial_kernel(X, X[:2], degree=1, gamma=1, coef0=1),
           1e-12, "poly_kernel with degree 1")
    F = _array(poly2_features(copies["X"]), "poly2_features in 7-D")
    _close(F @ F.T, (1 + X @ X.T) ** 2, 1e-12, "poly2_features in 7-D")
    _unchanged(copies, originals, "the q4 functions")
    Z = rng.uniform(-0.5, 0.5, (4, 2))
    F = _array(rbf_taylor_features(Z, 2.0, 0), "rbf_taylor_features(X, 2, 0)")
    _close(F @ F.T, np.outer(np.exp(-2 * (Z ** 2).sum(1)), np.exp(-2 * (Z ** 2).sum(1))), 1e-12,
           "rbf_taylor_features with max_degree 0 (only a = (0, 0))")


# --------------------------------------------------------------------------- q5
@check("q5", points=1)
def hidden_negative_curvature_and_no_mutation(smo_pair_update):
    rng = np.random.default_rng(2051)
    _check_smo_instances(smo_pair_update, rng, 40, "smo_pair_update with an indefinite K (eta may be < 0)", psd=False,
                         exact=False)
    from lib.checks.ch10_svm import _smo_instance
    alpha, G, K, y, C, _ = _smo_instance(rng, 5)
    originals = dict(alpha=alpha, G=G, K=K, y=y)
    copies = {k: v.copy() for k, v in originals.items()}
    smo_pair_update(copies["alpha"], copies["G"], 0, 3, copies["K"], copies["y"], C)
    _unchanged(copies, originals, "smo_pair_update")


# --------------------------------------------------------------------------- q6
@check("q6", points=1)
def hidden_hulls_in_three_dimensions(hull_closest_points):
    Xp, Xn, w, b = _hull_case(2061, n=15, d=3)
    originals = dict(Xp=Xp, Xn=Xn)
    copies = {k: v.copy() for k, v in originals.items()}
    lp, ln = _call_hull(hull_closest_points, copies["Xp"], copies["Xn"], "hull_closest_points in 3-D")
    _unchanged(copies, originals, "hull_closest_points")
    D = float(np.linalg.norm(lp @ Xp - ln @ Xn))
    _near(D, 2 / np.linalg.norm(w), 1e-5 * D, "the hull distance in 3-D compared with 2/||w|| of the hard-margin SVC")


# --------------------------------------------------------------------------- q7
@check("q7", points=1)
def hidden_extreme_probabilities(population_minimizer):
    for eta in (0.01, 0.03, 0.97, 0.99):
        for loss in ("logistic", "exponential"):
            _near(_call_pop(population_minimizer, loss, eta), _numeric_minimizer(loss, eta), 1e-6,
                  f"population_minimizer({loss!r}, {eta})")
        _near(_call_pop(population_minimizer, "hinge", eta), 1.0 if eta > 0.5 else -1.0, 1e-9,
              f"population_minimizer('hinge', {eta})")


# --------------------------------------------------------------------------- q8
@check("q8", points=1)
def hidden_other_dimensions(empirical_rademacher_linear, shatters):
    _check_rademacher(empirical_rademacher_linear, 2081, 20, 5, 0.5, 3000,
                      "empirical_rademacher_linear(X, B=0.5, n_mc=3000, rng) (hidden case)")
    assert _call_shatters(shatters, np.array([[0.0], [1.0]]), "shatters(2 points on a line)") is True, \
        "2 distinct points in R^1 are shattered by thresholds"
    assert _call_shatters(shatters, np.array([[0.0], [1.0], [2.0]]), "shatters(3 points on a line)") is False, \
        "3 points in R^1 are never shattered"
    X = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert _call_shatters(shatters, X, "shatters(4 affinely independent points in R^3)") is True, \
        "4 affinely independent points in R^3 are shattered by planes (VC dimension d + 1 = 4)"
    copies = dict(X=X.copy())
    shatters(copies["X"])
    _unchanged(copies, dict(X=X), "shatters")


# --------------------------------------------------------------------------- q9
@check("q9", points=1)
def hidden_maxent_asymmetric_grid(maxent_on_grid):
    from lib.checks.ch10_svm import _check_maxent_moments
    grid = np.linspace(-3.0, 10.0, 801)
    copies = dict(grid=grid.copy())
    p = _check_maxent_moments(maxent_on_grid, grid, 2.0, 0.5, "maxent_on_grid(linspace(-3, 10, 801), 2, 0.5)")
    logp = np.log(np.maximum(p, 1e-300))
    resid = float(np.abs(np.polyval(np.polyfit(grid, logp, 2), grid) - logp).max())
    assert resid < 1e-6, f"log p should be a quadratic in x; the best quadratic misses by {resid:.3g}"
    maxent_on_grid(copies["grid"], 2.0, 0.5)
    _unchanged(copies, dict(grid=grid), "maxent_on_grid")
