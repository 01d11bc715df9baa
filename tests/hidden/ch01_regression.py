"""Hidden checks for the Chapter 1 exercises (grading only; a failure shows as "hidden check failed").

They use data the notebook never shows, edge cases (p = 1, rank-deficient designs, extreme scores,
non-quadratic objectives) and verify that the student's functions leave their inputs unchanged.
References come from numpy, scipy, scikit-learn and torch, through the helpers of the public checks.
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge
from scipy.special import expit

from lib.checks.ch01_regression import (_answered, _check_heavy_ball_path, _check_logistic_fit, _close, _design,
                                        _double_well, _gap, _hinge_compare, _nearest_interpolant, _number,
                                        _ridge_solution, _torch_logistic_gradient, _torch_ls_gradient, _vector)
from lib.grading import check


def _unchanged(copies: dict, originals: dict, func: str) -> None:
    for name, arr in copies.items():
        assert np.array_equal(arr, originals[name]), f"{func} changed its input `{name}` in place; work on a copy"


# --------------------------------------------------------------------------- q1
@check("q1", points=1)
def random_data_five_seeds(slope_through_origin, standardized_slope):
    for seed in range(5):
        rng = np.random.default_rng(1000 + seed)
        n = int(rng.integers(5, 300))
        x = rng.normal(rng.uniform(-50, 50), rng.uniform(0.1, 10), n)
        y = rng.uniform(-2, 2) * x + rng.normal(rng.uniform(-50, 50), rng.uniform(0.1, 10), n)
        xc, yc = x.copy(), y.copy()
        got = _number(slope_through_origin(xc, yc), "slope_through_origin")
        want = x @ y / (x @ x)
        assert abs(got - want) <= 1e-12 * abs(want), f"slope_through_origin: expected {want:.10g}, got {got:.10g}"
        _unchanged({"x": xc, "y": yc}, {"x": x, "y": y}, "slope_through_origin")
        got = _number(standardized_slope(xc, yc), "standardized_slope")
        want = np.corrcoef(x, y)[0, 1]
        assert abs(got - want) <= 1e-12, f"standardized_slope: expected {want:.10g}, got {got:.10g}"
        _unchanged({"x": xc, "y": yc}, {"x": x, "y": y}, "standardized_slope")


# --------------------------------------------------------------------------- q2
@check("q2", points=1)
def hidden_gradient_and_descent(ls_gradient, gd_step):
    rng = np.random.default_rng(2002)
    X, y, beta = rng.standard_normal((40, 6)) + 3.0, rng.standard_normal(40) * 5, rng.standard_normal(6)
    Xc, yc, bc = X.copy(), y.copy(), beta.copy()
    _close(ls_gradient(bc, Xc, yc), _torch_ls_gradient(beta, X, y), 1e-10, "ls_gradient on hidden data")
    _unchanged({"beta": bc, "X": Xc, "y": yc}, {"beta": beta, "X": X, "y": y}, "ls_gradient")
    _close(gd_step(bc, Xc, yc, 1e-3), beta + 1e-3 * X.T @ (y - X @ beta), 1e-12, "gd_step on hidden data")
    _unchanged({"beta": bc, "X": Xc, "y": yc}, {"beta": beta, "X": X, "y": y}, "gd_step")
    X = _design(rng, 60, 5, 1.0, 8.0)  # kappa(X^T X) = 64
    y = rng.standard_normal(60)
    b = np.ones(5)
    with np.errstate(all="ignore"):
        for _ in range(5000):
            b = np.asarray(gd_step(b, X, y, 1 / 64), dtype=float)
    _close(b, np.linalg.lstsq(X, y)[0], 1e-8, "5000 GD steps from ones on a hidden problem")


# --------------------------------------------------------------------------- q3
@check("q3", points=1)
def hidden_ridge_without_intercept_and_stationarity(fit_least_squares):
    rng = np.random.default_rng(3003)
    X = rng.standard_normal((25, 5)) + 2.0
    y = X @ rng.standard_normal(5) + rng.standard_normal(25)
    Xc, yc = X.copy(), y.copy()
    sk = Ridge(alpha=2 * 0.7, fit_intercept=False).fit(X, y)
    _close(fit_least_squares(Xc, yc, ridge=0.7), sk.coef_, 1e-9, "fit_least_squares(X, y, ridge=0.7) without intercept")
    _unchanged({"X": Xc, "y": yc}, {"X": X, "y": y}, "fit_least_squares")
    beta = _vector(fit_least_squares(Xc, yc, ridge=0.0, fit_intercept=True), (6,), "fit_least_squares(X, y, fit_intercept=True)")
    A = np.column_stack([np.ones(25), X])
    resid = A.T @ (y - A @ beta)  # the normal equations
    assert np.abs(resid).max() <= 1e-8 * np.abs(A.T @ y).max(), f"normal equations violated: max |X^T e| = {np.abs(resid).max():.3g}"
    _unchanged({"X": Xc, "y": yc}, {"X": X, "y": y}, "fit_least_squares")
    x1 = X[:, :1]  # a single column, big offset: penalising the intercept would show
    _close(fit_least_squares(x1.copy(), y + 50, ridge=5.0, fit_intercept=True), _ridge_solution(x1, y + 50, 5.0, True),
           1e-9, "fit_least_squares on one column with ridge=5 and an intercept")


# --------------------------------------------------------------------------- q4
@check("q4", points=1)
def hidden_hinge_designs(hinge_features):
    x = np.random.default_rng(4004).uniform(-3.0, 5.0, 40)  # unsorted, partly outside [xmin, xmax]
    xc = x.copy()
    _hinge_compare(hinge_features(xc, 6, -1.0, 2.0), x, 6, -1.0, 2.0, "hinge_features with data outside [xmin, xmax]")
    _unchanged({"x": xc}, {"x": x}, "hinge_features")
    _hinge_compare(hinge_features(xc, 1, 0.0, 3.0), x, 1, 0.0, 3.0, "hinge_features with p=1")
    k = np.arange(-4, 9)  # integer input
    _hinge_compare(hinge_features(k.copy(), 5), k.astype(float), 5, -4.0, 8.0, "hinge_features on integers")


# --------------------------------------------------------------------------- q5
@check("q5", points=1)
def hidden_min_norm_rank_deficient(min_norm_interpolant):
    rng = np.random.default_rng(5005)
    Phi = rng.standard_normal((10, 30))
    Phi = np.column_stack([Phi, Phi[:, :4]])       # repeated columns
    Phi = np.vstack([Phi, Phi[:2]])                 # repeated rows: rank 10 < n = 12
    y = rng.standard_normal(12)                     # the repeats get other targets: no exact interpolant
    Pc, yc = Phi.copy(), y.copy()
    _close(min_norm_interpolant(Pc, yc), np.linalg.pinv(Phi) @ y, 1e-9,
           "min_norm_interpolant on a rank-deficient Phi (compared with pinv(Phi) @ y)")
    _unchanged({"Phi": Pc, "y": yc}, {"Phi": Phi, "y": y}, "min_norm_interpolant")


@check("q5", points=0.5)
def hidden_gd_from_keeps_beta0(gd_from):
    rng = np.random.default_rng(5006)
    Phi, y, beta0 = _design(rng, 8, 25, 1.0, 4.0), rng.standard_normal(8), rng.standard_normal(25) * 3
    b0, Pc, yc = beta0.copy(), Phi.copy(), y.copy()
    _close(gd_from(b0, Pc, yc, 1 / 16, 800), _nearest_interpolant(beta0, Phi, y), 1e-6, "gd_from on a hidden problem")
    _unchanged({"beta0": b0, "Phi": Pc, "y": yc}, {"beta0": beta0, "Phi": Phi, "y": y}, "gd_from")


# --------------------------------------------------------------------------- q6
@check("q6", points=1)
def hidden_logistic_extremes_and_fit(logistic_grad, fit_logistic):
    rng = np.random.default_rng(6006)
    X = rng.standard_normal((80, 2))
    y = (rng.random(80) < expit(X @ [1.0, -2.0] + 0.5)).astype(float)
    beta = np.array([400.0, -300.0])  # scores in the hundreds: exp(s) overflows
    Xc, yc, bc = X.copy(), y.copy(), beta.copy()
    with np.errstate(all="ignore"):
        got = logistic_grad(bc, Xc, yc)
    _close(got, _torch_logistic_gradient(beta, X, y), 1e-10, "logistic_grad with very large scores")
    _unchanged({"beta": bc, "X": Xc, "y": yc}, {"beta": beta, "X": X, "y": y}, "logistic_grad")
    X3 = np.column_stack([X, rng.standard_normal(80) * 10 + 5])
    _check_logistic_fit(fit_logistic, X3, y, "fit_logistic on hidden data with 3 features")
    X3c, yc = X3.copy(), y.copy()
    _answered(fit_logistic(X3c, yc), "fit_logistic")
    _unchanged({"X": X3c, "y": yc}, {"X": X3, "y": y}, "fit_logistic")


# --------------------------------------------------------------------------- q7
@check("q7", points=1)
def hidden_heavy_ball_nonquadratic(heavy_ball):
    rng = np.random.default_rng(7007)
    A, c = rng.standard_normal((6, 5)), rng.standard_normal(6)
    grad = lambda x: A.T @ expit(A @ x - c) + 0.1 * x  # gradient of sum softplus(Ax - c) + 0.05 |x|^2
    x0 = rng.standard_normal(5) * 2
    _check_heavy_ball_path(heavy_ball, grad, x0, 0.3, 0.9, 150, "heavy_ball on a non-quadratic function")
    xc = x0.copy()
    heavy_ball(grad, xc, 0.3, 0.9, 5)
    _unchanged({"x0": xc}, {"x0": x0}, "heavy_ball")
    one = lambda x: 2 * (x - 3.0)  # one dimension
    _check_heavy_ball_path(heavy_ball, one, np.array([0.0]), 0.1, 0.5, 30, "heavy_ball in one dimension")


# --------------------------------------------------------------------------- q8
@check("q8", points=0.5)
def hidden_chord_gap_edge_cases(chord_gap):
    cases = [(np.abs, -2.0, 3.0, 0.4), (np.exp, -1.0, 2.0, 0.0), (np.exp, -1.0, 2.0, 1.0), (np.cosh, 1.5, 1.5, 0.3),
             (_double_well, -1.2, 0.4, 0.75), (np.sin, 0.0, 3.0, 0.5), (np.exp, 4.0, -3.0, 0.2)]
    for f, a, b, r in cases:
        want = _gap(f, a, b, r)
        got = _number(chord_gap(f, a, b, r), f"chord_gap({f.__name__}, {a}, {b}, {r})")
        assert abs(got - want) <= 1e-12 * max(1.0, abs(f(a)) + abs(f(b))), (
            f"chord_gap({f.__name__}, a={a}, b={b}, r={r}): expected {want:.6g}, got {got:.6g} (off by {got - want:+.2e})")
