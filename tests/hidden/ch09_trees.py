"""Hidden checks for the Chapter 9 exercises: other sizes and seeds, edge cases, inputs changed in place.

They reuse the reference helpers of the public checks (``lib/checks/ch09_trees.py``), which compute everything
independently of the course's topic modules.
"""
from __future__ import annotations

import numpy as np

from lib.checks.ch09_trees import (IMPURITIES, _ada_round, _ada_run_case, _ada_run_reference, _array, _call_gh, _call_importance,
                                   _call_l2, _call_round, _check_decrease, _check_split, _close, _fit_stump_tree,
                                   _forest, _friedman, _GH, _l2_reference, _loss_chg, _newton_case, _number,
                                   _oob_importance, _pair, _unchanged, _z_reference)
from lib.grading import check


# --------------------------------------------------------------------------- q1
@check("q1", points=0.5)
def hidden_impurities_edge_cases(gini, entropy, misclassification, impurity_decrease):
    for k in (2, 7):
        u = np.full(k, 1 / k)
        for name, func, want in (("gini", gini, 1 - 1 / k), ("entropy", entropy, np.log2(k)),
                                 ("misclassification", misclassification, 1 - 1 / k)):
            got = _number(func(u.copy()), f"{name} of the uniform distribution on {k} classes")
            assert abs(got - want) <= 1e-12, f"{name}(uniform on {k} classes) should be {want:.6g}, got {got:.6g}"
    rng = np.random.default_rng(1901)
    y = rng.integers(0, 2, 9)
    left = np.zeros(9, dtype=bool)
    left[:4] = True
    copies = dict(y=y.copy(), left=left.copy())
    _check_decrease(impurity_decrease, IMPURITIES["gini"], "gini", y, left, "impurity_decrease on 9 points (gini)")
    impurity_decrease(copies["y"], copies["left"], IMPURITIES["gini"])
    _unchanged(copies, dict(y=y, left=left), "impurity_decrease")
    pure = np.zeros(6, dtype=int)
    got = _number(impurity_decrease(pure, left[:6], IMPURITIES["entropy"]), "impurity_decrease on a pure node")
    assert abs(got) <= 1e-12, f"splitting a pure node gains nothing, got {got:.4g}"


# --------------------------------------------------------------------------- q2
@check("q2", points=1)
def hidden_split_other_cases(best_split_1d):
    rng = np.random.default_rng(1921)
    for n in (2, 3, 200):
        _check_split(best_split_1d, rng.standard_normal(n), rng.standard_normal(n), f"best_split_1d for n = {n}")
    x = np.r_[np.zeros(30), np.ones(2)]
    _check_split(best_split_1d, x, rng.standard_normal(32), "best_split_1d with two distinct values (30 + 2 points)")
    x = rng.standard_normal(50) * 1e3 + 5e3
    _check_split(best_split_1d, x, 1e-3 * rng.standard_normal(50), "best_split_1d on large x and tiny y")
    got = best_split_1d(np.full(5, 2.0), rng.standard_normal(5))
    assert got is None, f"best_split_1d on constant x should return None (no split exists), got {got!r:.60}"
    x, y = rng.standard_normal(20), rng.standard_normal(20)
    copies = dict(x=x.copy(), y=y.copy())
    best_split_1d(copies["x"], copies["y"])
    _unchanged(copies, dict(x=x, y=y), "best_split_1d")


# --------------------------------------------------------------------------- q3
@check("q3", points=1)
def hidden_gain_edge_cases(leaf_weight, split_gain):
    rng = np.random.default_rng(1931)
    g, h, mask = _newton_case(rng, 40)
    for lam, gamma in ((0.0, 0.0), (10.0, 0.3), (1.0, 5.0)):
        got = _number(split_gain(g.copy(), h.copy(), mask.copy(), lam, gamma), f"split_gain(lam={lam}, gamma={gamma})")
        _close(got, _loss_chg(g, h, mask, lam) - gamma, 1e-10, f"split_gain(..., lam={lam}, gamma={gamma})")
    G, H = _GH(g, h)
    for lam in (0.0, 100.0):
        _close(_number(leaf_weight(g.copy(), h.copy(), lam), "leaf_weight"), -G / (H + lam), 1e-10,
               f"leaf_weight(g, h, lam={lam})")
    copies = dict(g=g.copy(), h=h.copy(), mask=mask.copy())
    split_gain(copies["g"], copies["h"], copies["mask"], 1.0, 0.0)
    _unchanged(copies, dict(g=g, h=h, mask=mask), "split_gain")


# --------------------------------------------------------------------------- q4
@check("q4", points=1)
def hidden_derivatives_extremes(grad_hess, working_response):
    f = np.array([-700.0, -50.0, 0.0, 50.0, 700.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    with np.errstate(all="ignore"):
        g, h = _call_gh(grad_hess, "logistic", y, f, "grad_hess('logistic', y, f) at |f| up to 700")
    p = 1 / (1 + np.exp(-np.clip(f, -700, 700)))
    _close(g, p - y, 1e-12, "the logistic g at |f| up to 700")
    assert np.all(h <= 0.25) and np.all(h >= 0), f"the logistic h at |f| up to 700 is {h}"
    f = np.linspace(-40, 40, 9)
    y = np.tile([0.0, 1.0], 5)[:9]
    _close(_array(working_response(y.copy(), f.copy()), "working_response", f.shape), _z_reference(y, f), 1e-10,
           "working_response at |f| <= 40")
    g, h = _call_gh(grad_hess, "squared", np.array([2.0]), np.array([-1.0]), "grad_hess('squared') on one point")
    assert abs(g[0] + 3) < 1e-12 and abs(h[0] - 1) < 1e-12, f"squared loss at y = 2, f = -1: expected (-3, 1), got {g, h}"


# --------------------------------------------------------------------------- q5
@check("q5", points=1)
def hidden_l2_boost_other_settings(l2_boost):
    X, y = _friedman(90, 1951)
    fit_tree = _fit_stump_tree(1)
    got = _call_l2(l2_boost, X, y, 0, 0.5, fit_tree, "l2_boost with n_rounds = 0")
    _close(got, np.full((1, len(y)), y.mean()), 1e-12, "l2_boost with n_rounds = 0 (just the mean)")
    got = _call_l2(l2_boost, X, y, 30, 0.1, fit_tree, "l2_boost(X, y, 30, 0.1) with stumps")
    _close(got, _l2_reference(X, y, 30, 0.1, fit_tree), 1e-10, "l2_boost(X, y, 30, 0.1) with stumps")
    copies = dict(X=X.copy(), y=y.copy())
    l2_boost(copies["X"], copies["y"], 3, 0.5, fit_tree)
    _unchanged(copies, dict(X=X, y=y), "l2_boost")


# --------------------------------------------------------------------------- q6
@check("q6", points=1)
def hidden_adaboost_other_cases(adaboost_round, adaboost_run):
    rng = np.random.default_rng(1961)
    y = rng.choice([-1.0, 1.0], 7)
    h = y.copy()
    h[0] *= -1
    w = np.full(7, 3.0)  # unnormalised weights
    eps, alpha, w_new = _call_round(adaboost_round, w, y, h, "adaboost_round with unnormalised weights")
    e, a, want = _ada_round(w, y, h)
    _close(np.r_[eps, alpha], np.r_[e, a], 1e-12, "adaboost_round with weights 3, 3, ... (eps, alpha)")
    _close(w_new, want, 1e-12, "adaboost_round with unnormalised weights: w_new")
    copies = dict(w=w.copy(), y=y.copy(), h=h.copy())
    adaboost_round(copies["w"], copies["y"], copies["h"])
    _unchanged(copies, dict(w=w, y=y, h=h), "adaboost_round")
    yy, H = _ada_run_case(1962, 50)
    got = _pair(adaboost_run(yy.copy(), H.copy(), 8), "adaboost_run(y, H, 8)")
    f_ref, eps_ref = _ada_run_reference(yy, H, 8)
    _close(_array(got[0], "adaboost_run f", yy.shape), f_ref, 1e-10, "adaboost_run(y, H, 8) on other data: f")


# --------------------------------------------------------------------------- q7
@check("q7", points=1)
def hidden_irls_other_data(irls_logistic):
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(1971)
    X = rng.standard_normal((150, 5))
    y = (rng.random(150) < 1 / (1 + np.exp(-(X @ rng.standard_normal(5) - 0.5)))).astype(float)
    m = LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-12, max_iter=100_000).fit(X, y)
    got = _array(irls_logistic(X.copy(), y.copy(), 40), "irls_logistic on 150 x 5 synthetic data", (6,))
    _close(got, np.r_[m.intercept_, m.coef_[0]], 1e-6, "irls_logistic on 150 x 5 synthetic data")
    copies = dict(X=X.copy(), y=y.copy())
    irls_logistic(copies["X"], copies["y"], 2)
    _unchanged(copies, dict(X=X, y=y), "irls_logistic")


# --------------------------------------------------------------------------- q8
@check("q8", points=1)
def hidden_importance_other_forest(oob_permutation_importance):
    from sklearn.datasets import make_regression
    X, y = make_regression(n_samples=120, n_features=4, n_informative=2, noise=5.0, random_state=1981)
    forest = _forest(X, y, 12, 1981, min_samples_leaf=1)
    got = _call_importance(oob_permutation_importance, forest, X, y, 3, "oob_permutation_importance (12 trees)")
    _close(got, _oob_importance(forest, X, y, np.random.default_rng(3)), 1e-10,
           "oob_permutation_importance on other data (12 trees, same rng)")
    copies = dict(X=X.copy(), y=y.copy())
    oob_permutation_importance(forest, copies["X"], copies["y"], np.random.default_rng(0))
    _unchanged(copies, dict(X=X, y=y), "oob_permutation_importance")
