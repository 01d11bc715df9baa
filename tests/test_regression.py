"""lib.regression against independent references: numpy, scipy, scikit-learn, torch and closed forms."""
import numpy as np
import pytest
import scipy.linalg
import scipy.stats
import torch
from sklearn.linear_model import Lasso, LinearRegression, Ridge

from lib import regression as R
from lib.data import galton_families, galton_sons, pearson_lee_father_son

SEEDS = [0, 1, 2]


def problem(seed, n=30, p=5, noise=0.5):
    """A random regression problem with a non-zero intercept and correlated columns."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) @ rng.standard_normal((p, p)) + rng.standard_normal(p)
    y = 1.5 + X @ rng.standard_normal(p) + noise * rng.standard_normal(n)
    return X, y


def well_conditioned_wide(seed, n=15, p=40):
    """A wide (p > n) design with singular values in [1, 3]: gradient descent converges in a few hundred steps."""
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((n, n)))[0]
    V = np.linalg.qr(rng.standard_normal((p, n)))[0]
    X = U @ np.diag(rng.uniform(1.0, 3.0, n)) @ V.T
    return X, rng.standard_normal(n)


# --------------------------------------------------------------------------- one predictor
@pytest.mark.parametrize("seed", SEEDS)
def test_fit_through_origin_matches_one_column_lstsq(seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(3, 1, 40), rng.normal(1, 2, 40)
    ref = np.linalg.lstsq(x[:, None], y, rcond=None)[0][0]
    assert R.fit_through_origin(x, y) == pytest.approx(ref, rel=1e-12)


def test_galton_slope_through_origin_is_about_one():
    father, son = galton_sons()
    beta = R.fit_through_origin(father, son)
    assert beta == pytest.approx(np.sum(father * son) / np.sum(father**2), rel=1e-14)
    assert beta == pytest.approx(1.0008, abs=5e-5)  # no regression effect without centring


@pytest.mark.parametrize("ddof", [0, 1])
def test_standardize_matches_scipy_zscore(ddof):
    rng = np.random.default_rng(3)
    x = rng.normal(5, 2, 50)
    z, mean, sd = R.standardize(x, ddof=ddof)
    np.testing.assert_allclose(z, scipy.stats.zscore(x, ddof=ddof), atol=1e-13)
    assert mean == pytest.approx(np.mean(x)) and sd == pytest.approx(np.std(x, ddof=ddof))
    Z, means, sds = R.standardize(np.column_stack([x, x**2]), ddof=ddof)
    np.testing.assert_allclose(Z[:, 1], scipy.stats.zscore(x**2, ddof=ddof), atol=1e-13)
    assert means.shape == sds.shape == (2,)


@pytest.mark.parametrize("seed", SEEDS)
def test_correlation_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(60)
    y = 0.4 * x + rng.standard_normal(60)
    w = rng.integers(1, 6, 60).astype(float)
    assert R.correlation(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-13)
    c = np.cov(x, y, aweights=w)
    assert R.correlation(x, y, w) == pytest.approx(c[0, 1] / np.sqrt(c[0, 0] * c[1, 1]), abs=1e-13)
    # frequency weights: the same as repeating each pair w_i times
    xr, yr = np.repeat(x, w.astype(int)), np.repeat(y, w.astype(int))
    assert R.correlation(x, y, w) == pytest.approx(np.corrcoef(xr, yr)[0, 1], abs=1e-13)


def test_standardized_slope_is_correlation_on_galton():
    father, son = galton_sons()
    r = np.corrcoef(father, son)[0, 1]
    slope = R.fit_through_origin(R.standardize(father)[0], R.standardize(son)[0])
    assert slope == pytest.approx(r, abs=1e-13) and R.correlation(father, son) == pytest.approx(r, abs=1e-13)
    assert r == pytest.approx(0.392, abs=5e-4)


def test_pearson_lee_weighted_correlation():
    father, son, freq = pearson_lee_father_son()
    assert freq.sum() == 1078
    c = np.cov(father, son, aweights=freq)
    r = R.correlation(father, son, freq)
    assert r == pytest.approx(c[0, 1] / np.sqrt(c[0, 0] * c[1, 1]), abs=1e-13)
    assert r == pytest.approx(0.514, abs=5e-4)


# --------------------------------------------------------------------------- least squares
@pytest.mark.parametrize("seed", SEEDS)
def test_least_squares_matches_numpy_scipy_sklearn(seed):
    X, y = problem(seed)
    beta = R.fit_least_squares(X, y)
    np.testing.assert_allclose(beta, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(beta, scipy.linalg.lstsq(X, y)[0], rtol=1e-10, atol=1e-10)
    beta1 = R.fit_least_squares(X, y, fit_intercept=True)
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(beta1, np.r_[ref.intercept_, ref.coef_], rtol=1e-9, atol=1e-9)
    assert np.abs(R.normal_equations_residual(np.column_stack([np.ones(len(y)), X]), y, beta1)).max() < 1e-8


@pytest.mark.parametrize("seed", SEEDS)
def test_rank_deficient_least_squares_is_min_norm(seed):
    X, y = problem(seed)
    Xd = np.column_stack([X, X[:, 0]])  # a duplicated column: X^T X is singular
    assert np.linalg.matrix_rank(Xd.T @ Xd) == X.shape[1]
    beta = R.fit_least_squares(Xd, y)
    np.testing.assert_allclose(beta, np.linalg.pinv(Xd) @ y, atol=1e-10)
    assert beta[0] == pytest.approx(beta[-1], abs=1e-10)  # the weight is shared equally
    np.testing.assert_allclose(Xd @ beta, X @ np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("lam", [0.01, 1.0, 30.0])
def test_ridge_matches_sklearn_alpha_two_lambda(seed, lam):
    X, y = problem(seed)
    beta = R.fit_least_squares(X, y, ridge=lam, fit_intercept=True)
    ref = Ridge(alpha=2 * lam, solver="svd").fit(X, y)
    np.testing.assert_allclose(beta, np.r_[ref.intercept_, ref.coef_], rtol=1e-9, atol=1e-9)
    beta0 = R.fit_least_squares(X, y, ridge=lam)
    ref0 = Ridge(alpha=2 * lam, fit_intercept=False, solver="svd").fit(X, y)
    np.testing.assert_allclose(beta0, ref0.coef_, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_ridge_penalized_intercept_and_wide_design(seed):
    X, y = problem(seed, n=12, p=30)
    lam = 0.7
    A = np.column_stack([np.ones(len(y)), X])
    beta = R.fit_least_squares(X, y, ridge=lam, fit_intercept=True, penalize_intercept=True)
    np.testing.assert_allclose(beta, np.linalg.solve(A.T @ A + 2 * lam * np.eye(A.shape[1]), A.T @ y), atol=1e-9)
    beta_free = R.fit_least_squares(X, y, ridge=lam, fit_intercept=True)
    ref = Ridge(alpha=2 * lam, solver="svd").fit(X, y)
    np.testing.assert_allclose(beta_free, np.r_[ref.intercept_, ref.coef_], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_weighted_least_squares_matches_sklearn_sample_weight(seed):
    X, y = problem(seed)
    w = np.random.default_rng(seed + 100).uniform(0.1, 3.0, len(y))
    beta = R.fit_least_squares(X, y, fit_intercept=True, weights=w)
    ref = LinearRegression().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(beta, np.r_[ref.intercept_, ref.coef_], rtol=1e-9, atol=1e-9)
    beta_r = R.fit_least_squares(X, y, ridge=2.0, fit_intercept=True, weights=w)
    ref_r = Ridge(alpha=4.0, solver="svd").fit(X, y, sample_weight=w)
    np.testing.assert_allclose(beta_r, np.r_[ref_r.intercept_, ref_r.coef_], rtol=1e-9, atol=1e-9)
    # integer weights are the same as repeated rows
    k = np.random.default_rng(seed + 200).integers(1, 4, len(y))
    np.testing.assert_allclose(R.fit_least_squares(X, y, weights=k),
                               np.linalg.lstsq(np.repeat(X, k, axis=0), np.repeat(y, k), rcond=None)[0], atol=1e-10)


def test_normal_equations_residual_is_minus_autograd_gradient():
    X, y = problem(4)
    beta = np.random.default_rng(5).standard_normal(X.shape[1])
    b = torch.tensor(beta, requires_grad=True)
    loss = 0.5 * ((torch.tensor(y) - torch.tensor(X) @ b) ** 2).sum()
    loss.backward()
    np.testing.assert_allclose(R.normal_equations_residual(X, y, beta), -b.grad.numpy(), rtol=1e-12, atol=1e-10)


def test_galton_multiple_regression_matches_sklearn():
    df = galton_families()
    X, y = df[["father", "mother", "male"]].to_numpy(float), df["childHeight"].to_numpy(float)
    beta = R.fit_least_squares(X, y, fit_intercept=True)
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(beta, np.r_[ref.intercept_, ref.coef_], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(beta, [16.5212, 0.3928, 0.3176, 5.2150], atol=1e-4)  # the spec's numbers
    A = np.column_stack([np.ones(len(y)), X])
    assert np.abs(R.normal_equations_residual(A, y, beta)).max() < 1e-7


@pytest.mark.parametrize("shape", [(20, 4), (6, 10)])
def test_hat_matrix_is_the_projection(shape):
    rng = np.random.default_rng(sum(shape))
    X = rng.standard_normal(shape)
    H = R.hat_matrix(X)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    np.testing.assert_allclose(H @ H, H, atol=1e-12)
    assert np.trace(H) == pytest.approx(np.linalg.matrix_rank(X))
    y = rng.standard_normal(shape[0])
    np.testing.assert_allclose(H @ y, X @ np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-10)
    Xd = np.column_stack([X, X[:, :1] - X[:, 1:2]])  # rank deficient: same column space, same H
    np.testing.assert_allclose(R.hat_matrix(Xd), H, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_min_norm_solution_matches_pinv_and_lstsq(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((8, 3)) @ rng.standard_normal((3, 12))  # rank 3, wide
    y = rng.standard_normal(8)
    beta = R.min_norm_solution(X, y)
    np.testing.assert_allclose(beta, np.linalg.pinv(X) @ y, atol=1e-10)
    np.testing.assert_allclose(beta, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-10)
    null = scipy.linalg.null_space(X)  # adding a null-space vector keeps the fit and grows the norm
    delta = null @ rng.standard_normal(null.shape[1])
    np.testing.assert_allclose(X @ (beta + delta), X @ beta, atol=1e-10)
    assert np.linalg.norm(beta + delta) ** 2 == pytest.approx(np.linalg.norm(beta) ** 2 + np.linalg.norm(delta) ** 2)
    # a looser cutoff drops the small singular directions, like pinv with the same rcond
    np.testing.assert_allclose(R.min_norm_solution(X, y, rcond=0.5), np.linalg.pinv(X, rcond=0.5) @ y, atol=1e-10)


# --------------------------------------------------------------------------- lasso
def lasso_kkt_violation(X, y, beta, lam):
    """Largest violation of the lasso optimality conditions with an unpenalised intercept beta[0]."""
    e = y - beta[0] - X @ beta[1:]
    g = X.T @ e
    on = beta[1:] != 0
    return max(abs(e.sum()), np.max(np.abs(g[on] - lam * np.sign(beta[1:][on])), initial=0.0),
               np.max(np.abs(g[~on]) - lam, initial=-np.inf))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("lam", [0.5, 5.0, 40.0])
def test_lasso_matches_sklearn_and_kkt(seed, lam):
    X, y = problem(seed, n=40, p=8)
    beta = R.lasso_cd(X, y, lam)
    n = len(y)
    ref = Lasso(alpha=lam / n, tol=1e-14, max_iter=1_000_000).fit(X, y)
    np.testing.assert_allclose(beta, np.r_[ref.intercept_, ref.coef_], atol=1e-7)
    assert lasso_kkt_violation(X, y, beta, lam) < 1e-7
    beta0 = R.lasso_cd(X, y, lam, fit_intercept=False)
    ref0 = Lasso(alpha=lam / n, fit_intercept=False, tol=1e-14, max_iter=1_000_000).fit(X, y)
    np.testing.assert_allclose(beta0, ref0.coef_, atol=1e-7)


def test_lasso_limits():
    X, y = problem(7, n=40, p=6)
    np.testing.assert_allclose(R.lasso_cd(X, y, 0.0, tol=1e-12), R.fit_least_squares(X, y, fit_intercept=True),
                               atol=1e-9)
    lam_max = np.abs((X - X.mean(0)).T @ (y - y.mean())).max()  # smallest lam giving beta = 0
    assert np.all(R.lasso_cd(X, y, 1.001 * lam_max)[1:] == 0)
    assert np.any(R.lasso_cd(X, y, 0.99 * lam_max)[1:] != 0)
    with pytest.warns(RuntimeWarning, match="not converged"):
        R.lasso_cd(X, y, 0.1, max_iter=2)


# --------------------------------------------------------------------------- gradient descent
def explicit_gd(X, y, eta, steps, beta0):
    beta = beta0.copy()
    for _ in range(steps):
        beta = beta - eta * (-(X.T @ (y - X @ beta)))  # step against the gradient -X^T e
    return beta


@pytest.mark.parametrize("seed", SEEDS)
def test_gd_iterates_match_closed_form(seed):
    X, y = problem(seed, n=25, p=6)
    rng = np.random.default_rng(seed + 10)
    limit = R.gd_stability_limit(X)
    assert limit == pytest.approx(2 / np.linalg.eigvalsh(X.T @ X).max(), rel=1e-12)
    eta = 0.9 * limit
    for beta0 in (np.zeros(6), rng.standard_normal(6)):
        for t in (0, 1, 7, 150):
            ref = explicit_gd(X, y, eta, t, beta0)
            np.testing.assert_allclose(R.gd_least_squares(X, y, eta, t, beta0)[0], ref, rtol=1e-10, atol=1e-10)
            np.testing.assert_allclose(R.gd_closed_form(X, y, eta, t, beta0), ref, rtol=1e-8, atol=1e-8)


def test_gd_path_records_every_rth_iterate():
    X, y = problem(8, n=10, p=3)
    eta = 0.5 * R.gd_stability_limit(X)
    beta, path = R.gd_least_squares(X, y, eta, 10, record_every=4)
    assert path.shape == (3, 3)
    for row, t in zip(path, (0, 4, 8)):
        np.testing.assert_allclose(row, explicit_gd(X, y, eta, t, np.zeros(3)), atol=1e-12)
    np.testing.assert_allclose(beta, explicit_gd(X, y, eta, 10, np.zeros(3)), atol=1e-12)
    assert R.gd_least_squares(X, y, eta, 10)[1].shape == (0, 3)


@pytest.mark.parametrize("seed", SEEDS)
def test_gd_limit_is_min_norm_plus_null_part_of_start(seed):
    X, y = well_conditioned_wide(seed)
    beta0 = np.random.default_rng(seed + 20).standard_normal(X.shape[1])
    P = np.linalg.pinv(X) @ X  # projection onto the row space
    target = np.linalg.pinv(X) @ y + (np.eye(X.shape[1]) - P) @ beta0
    eta = 1.0 / np.linalg.norm(X, 2) ** 2
    beta, _ = R.gd_least_squares(X, y, eta, 600, beta0)
    np.testing.assert_allclose(beta, target, atol=1e-9)
    np.testing.assert_allclose(R.gd_closed_form(X, y, eta, 10**6, beta0), target, atol=1e-12)
    np.testing.assert_allclose(R.gd_least_squares(X, y, eta, 600)[0], np.linalg.pinv(X) @ y, atol=1e-9)


def test_gd_diverges_just_above_the_stability_limit():
    X, y = problem(9, n=20, p=4)
    limit = R.gd_stability_limit(X)
    below = R.gd_least_squares(X, y, 0.99 * limit, 3000)[0]
    np.testing.assert_allclose(below, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-6)
    above = R.gd_least_squares(X, y, 1.01 * limit, 3000)[0]
    assert np.linalg.norm(above) > 1e6 * np.linalg.norm(below)


# --------------------------------------------------------------------------- bad input
X_OK, Y_OK = problem(0, n=6, p=2)


@pytest.mark.parametrize("call, error, message", [
    (lambda: R.fit_least_squares(X_OK[:, 0], Y_OK), ValueError, r"X: expected a 2-D array of shape \(n, p\)"),
    (lambda: R.fit_least_squares(X_OK, Y_OK[:5]), ValueError, r"y: expected shape \(6,\)"),
    (lambda: R.fit_least_squares(X_OK, Y_OK, ridge=-1.0), ValueError, "ridge: expected a finite number >= 0"),
    (lambda: R.fit_least_squares(X_OK, Y_OK, ridge="big"), TypeError, "ridge: expected a real number"),
    (lambda: R.fit_least_squares(X_OK, Y_OK, weights=-np.ones(6)), ValueError, "weights: expected non-negative"),
    (lambda: R.fit_least_squares(np.where(X_OK > 0, np.nan, X_OK), Y_OK), ValueError, "X: contains NaN"),
    (lambda: R.fit_least_squares(X_OK.astype(str), Y_OK), TypeError, "X: expected a real numeric array"),
    (lambda: R.fit_through_origin(np.zeros(6), Y_OK), ValueError, "x: all zeros"),
    (lambda: R.standardize(np.ones(6)), ValueError, "standard deviation 0"),
    (lambda: R.standardize(np.zeros((2, 2, 2))), ValueError, "x: expected a 1-D array"),
    (lambda: R.correlation(Y_OK, Y_OK, w=np.ones(5)), ValueError, r"weights: expected shape \(6,\)"),
    (lambda: R.correlation(Y_OK, np.ones(6)), ValueError, "constant variable"),
    (lambda: R.normal_equations_residual(X_OK, Y_OK, np.ones(3)), ValueError, r"beta: expected shape \(2,\)"),
    (lambda: R.min_norm_solution(X_OK, Y_OK, rcond=-0.1), ValueError, "rcond: expected a finite number >= 0"),
    (lambda: R.lasso_cd(X_OK, Y_OK, lam=np.inf), ValueError, "lam: expected a finite number"),
    (lambda: R.lasso_cd(X_OK, Y_OK, lam=1.0, max_iter=2.5), TypeError, "max_iter: expected a non-negative integer"),
    (lambda: R.gd_least_squares(X_OK, Y_OK, eta=0.0, steps=3), ValueError, "eta: expected a finite number > 0"),
    (lambda: R.gd_least_squares(X_OK, Y_OK, eta=0.1, steps=-1), ValueError, "steps: expected a non-negative integer"),
    (lambda: R.gd_least_squares(X_OK, Y_OK, eta=0.1, steps=3.0), TypeError, "steps: expected a non-negative integer"),
    (lambda: R.gd_least_squares(X_OK, Y_OK, 0.1, 3, beta0=np.ones(5)), ValueError, r"beta0: expected shape \(2,\)"),
    (lambda: R.gd_closed_form(X_OK, Y_OK, eta=0.1, t=True), TypeError, "t: expected a non-negative integer"),
    (lambda: R.gd_stability_limit(np.zeros((3, 2))), ValueError, "X: all zeros"),
])
def test_bad_inputs_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
