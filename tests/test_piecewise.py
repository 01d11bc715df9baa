"""lib.piecewise: hinge features, ridge/lasso/min-norm fits, and the cubic-spline limit.

References: numpy (lstsq, pinv), scikit-learn (LinearRegression, Ridge, Lasso) and
scipy.interpolate.CubicSpline. Data are drawn from seeded generators that the code under test does not use.
"""
import numpy as np
import pytest
from scipy.interpolate import CubicSpline
from sklearn.linear_model import Lasso, LinearRegression, Ridge

from lib.piecewise import fit_piecewise_linear, hinge_features, hinge_knots, spline_limit


def data(n=25, seed=11, noise=0.2):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2.0, 3.0, n))
    return x, np.cos(1.7 * x) + 0.3 * x + noise * rng.standard_normal(n)


# --------------------------------------------------------------------------- knots and features
def test_knots_are_equally_spaced_inside_the_interval():
    c = hinge_knots(7, -1.0, 3.0)
    delta = 4.0 / 8
    assert c.shape == (7,)
    np.testing.assert_allclose(np.diff(c), delta)
    np.testing.assert_allclose([c[0] - (-1.0), 3.0 - c[-1]], [delta, delta])
    assert hinge_knots(0, 0.0, 1.0).shape == (0,)


def test_hinge_features_shape_and_structure():
    x, _ = data()
    knots = hinge_knots(9, x.min(), x.max())
    Phi = hinge_features(x, knots)
    assert Phi.shape == (x.size, 10) and Phi.dtype == np.float64
    np.testing.assert_array_equal(Phi[:, 0], 1.0)
    np.testing.assert_array_equal(hinge_features(x, knots, intercept=False), Phi[:, 1:])
    for j, c in enumerate(knots, start=1):
        left, right = x <= c, x > c
        assert np.all(Phi[left, j] == 0.0)  # switched off left of its knot
        np.testing.assert_allclose(Phi[right, j], x[right] - c)  # slope one right of it
        assert np.all(np.diff(Phi[np.argsort(x), j]) >= 0)  # non-decreasing in x


def test_fitted_line_changes_slope_by_beta_j_at_knot_j_and_is_flat_before_the_first():
    x, y = data()
    fit = fit_piecewise_linear(x, y, 6)
    c, b = fit.knots, fit.beta
    eps = 1e-6
    for j in range(6):
        slope_left = (fit.predict([c[j]]) - fit.predict([c[j] - eps]))[0] / eps
        slope_right = (fit.predict([c[j] + eps]) - fit.predict([c[j]]))[0] / eps
        assert slope_right - slope_left == pytest.approx(b[j + 1], abs=1e-5)
    left = np.linspace(x.min() - 1.0, c[0], 20)
    np.testing.assert_allclose(fit.predict(left), b[0], atol=1e-12)


# --------------------------------------------------------------------------- fits against references
def test_unpenalised_fit_matches_sklearn_linear_regression_when_underparameterised():
    x, y = data(n=40)
    fit = fit_piecewise_linear(x, y, 8)
    H = hinge_features(x, fit.knots, intercept=False)
    ref = LinearRegression().fit(H, y)
    np.testing.assert_allclose(fit.beta, np.r_[ref.intercept_, ref.coef_], atol=1e-9)


def test_overparameterised_fit_is_the_minimum_norm_interpolant():
    x, y = data(n=15)
    fit = fit_piecewise_linear(x, y, 300)
    Phi = hinge_features(x, fit.knots)
    assert np.linalg.matrix_rank(Phi) == x.size  # every pair of points is split by a knot
    np.testing.assert_allclose(fit.beta, np.linalg.pinv(Phi) @ y, atol=1e-8)
    np.testing.assert_allclose(fit.predict(x), y, atol=1e-9)  # interpolates
    # every other interpolant is the min-norm one plus a null-space vector, and is longer
    _, _, Vt = np.linalg.svd(Phi)
    null = Vt[np.linalg.matrix_rank(Phi):]
    rng = np.random.default_rng(5)
    for _ in range(5):
        other = fit.beta + null.T @ rng.standard_normal(null.shape[0])
        np.testing.assert_allclose(Phi @ other, y, atol=1e-9)
        assert np.linalg.norm(other) > np.linalg.norm(fit.beta)


@pytest.mark.parametrize("lam", [0.01, 0.5, 20.0])
def test_ridge_matches_sklearn_with_alpha_twice_lambda(lam):
    x, y = data(n=30)
    fit = fit_piecewise_linear(x, y, 50, penalty="ridge", lam=lam)
    ref = Ridge(alpha=2 * lam, solver="svd").fit(hinge_features(x, fit.knots, intercept=False), y)
    np.testing.assert_allclose(fit.beta, np.r_[ref.intercept_, ref.coef_], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("lam", [1.0, 2.5])
def test_lasso_matches_sklearn_and_selects_few_knots(lam):
    x, y = data(n=40)
    fit = fit_piecewise_linear(x, y, 30, penalty="lasso", lam=lam)
    H = hinge_features(x, fit.knots, intercept=False)
    ref = Lasso(alpha=lam / x.size, tol=1e-14, max_iter=1_000_000).fit(H, y)
    np.testing.assert_allclose(fit.beta, np.r_[ref.intercept_, ref.coef_], atol=2e-6)
    np.testing.assert_array_equal(fit.active_knots, fit.knots[ref.coef_ != 0])
    assert 0 < fit.active_knots.size < 30 / 2
    # KKT: |H_j . e| <= lam everywhere, with equality (and the sign of beta_j) on the support
    e = y - fit.predict(x)
    corr = (H - H.mean(axis=0)).T @ e
    assert np.all(np.abs(corr) <= lam * (1 + 1e-6))
    on = fit.beta[1:] != 0
    np.testing.assert_allclose(corr[on], lam * np.sign(fit.beta[1:][on]), rtol=1e-5)


def test_intercept_is_not_penalised():
    x, y = data(n=30)
    shifted = fit_piecewise_linear(x, y + 100.0, 20, penalty="ridge", lam=5.0)
    fit = fit_piecewise_linear(x, y, 20, penalty="ridge", lam=5.0)
    np.testing.assert_allclose(shifted.beta[1:], fit.beta[1:], atol=1e-9)
    assert shifted.beta[0] - fit.beta[0] == pytest.approx(100.0)


# --------------------------------------------------------------------------- the p -> infinity limit
def test_min_norm_interpolant_tends_to_the_clamped_left_natural_right_cubic_spline():
    x, y = data(n=10, seed=3)
    grid = np.linspace(x.min(), x.max(), 1501)
    reference = CubicSpline(x, y, bc_type=((1, 0.0), (2, 0.0)))(grid)
    natural = CubicSpline(x, y, bc_type="natural")(grid)
    err = {p: np.abs(fit_piecewise_linear(x, y, p).predict(grid) - reference).max() for p in (250, 1000, 4000)}
    assert err[250] > err[1000] > err[4000]
    assert err[4000] < 2e-3 * np.ptp(y)
    assert err[1000] / err[4000] > 2.5  # about O(1/p)
    # the boundary conditions matter: the natural spline is a visibly different function
    assert np.abs(natural - reference).max() > 10 * err[4000]
    np.testing.assert_allclose(spline_limit(x[::-1], y[::-1])(grid), reference, atol=1e-12)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, exc, match", [
    (lambda: hinge_knots(-1, 0, 1), ValueError, "p:"),
    (lambda: hinge_knots(2.5, 0, 1), TypeError, "p:"),
    (lambda: hinge_knots(True, 0, 1), TypeError, "p:"),
    (lambda: hinge_knots(3, 1.0, 1.0), ValueError, "xmax:"),
    (lambda: hinge_knots(3, 0.0, np.nan), ValueError, "xmax:"),
    (lambda: hinge_features(np.ones((3, 2)), [0.5]), ValueError, "x:"),
    (lambda: hinge_features(["a", "b"], [0.5]), TypeError, "x:"),
    (lambda: hinge_features([0.0, np.inf], [0.5]), ValueError, "x:"),
    (lambda: hinge_features([0.0, 1.0], [[0.5]]), ValueError, "knots:"),
    (lambda: fit_piecewise_linear([0, 1, 2], [1, 2], 2), ValueError, "y:"),
    (lambda: fit_piecewise_linear([0, 1, 2], [1, 2, 3], 2, penalty="l2"), ValueError, "penalty:"),
    (lambda: fit_piecewise_linear([0, 1, 2], [1, 2, 3], 2, penalty="ridge", lam=-1.0), ValueError, "lam:"),
    (lambda: fit_piecewise_linear([0, 1, 2], [1, 2, 3], 2, lam=0.1), ValueError, "lam:"),
    (lambda: fit_piecewise_linear([0, 1, 2], [1, 2, 3], 2, penalty="lasso", lam="big"), TypeError, "lam:"),
    (lambda: spline_limit([0.0, 1.0, 1.0], [1.0, 2.0, 3.0]), ValueError, "x:"),
    (lambda: spline_limit([0.0], [1.0]), ValueError, "x:"),
])
def test_bad_input_is_rejected_with_a_message_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
