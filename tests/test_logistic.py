"""lib.logistic against scipy, numpy, torch.autograd and scikit-learn."""
import numpy as np
import pytest
import scipy.special
import torch
import torch.nn.functional as F
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from lib import logistic as lg
from lib.data import galton_families, make_separable

EXTREME = np.array([-np.inf, -1e4, -746.0, -745.0, -710.0, -40.0, -1.0, -1e-300, -0.0, 0.0, 1e-300,
                    1e-8, 1.0, 36.0, 40.0, 710.0, 746.0, 1e4, np.inf])


def noisy_problem(seed):
    """A classification problem with flipped labels (so an MLE exists), plus an intercept column."""
    X, y = make_classification(n_samples=300, n_features=5, n_informative=3, n_redundant=0,
                               flip_y=0.15, class_sep=1.0, random_state=seed)
    return np.column_stack([np.ones(len(y)), X]), y


def sklearn_fit(X, y):
    """sklearn's unpenalised fit, with the intercept handled by sklearn (X without its ones column)."""
    m = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X[:, 1:], y)
    return np.concatenate([m.intercept_, m.coef_[0]])


def torch_loglik(beta, X, y):
    s = torch.as_tensor(X) @ beta
    yt = torch.as_tensor(y, dtype=torch.float64)
    return (yt * F.logsigmoid(s) + (1 - yt) * F.logsigmoid(-s)).sum()


# --------------------------------------------------------------------------- link functions
def test_sigmoid_matches_scipy_expit_at_extreme_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow, no 0/0
        ours = lg.sigmoid(EXTREME)
    # atol: scipy flushes results below 1e-300 (subnormals such as e^-745) to zero; we keep them
    np.testing.assert_allclose(ours, scipy.special.expit(EXTREME), rtol=1e-15, atol=1e-300)
    assert np.all((ours >= 0) & (ours <= 1))


def test_log1pexp_matches_logaddexp_and_torch_softplus():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        ours = lg.log1pexp(EXTREME)
    np.testing.assert_allclose(ours, np.logaddexp(0.0, EXTREME), rtol=1e-15, atol=0)
    finite = EXTREME[np.isfinite(EXTREME)]
    ref = F.softplus(torch.tensor(finite)).numpy()  # returns x itself above 20: exact here (inputs 36+)
    np.testing.assert_allclose(lg.log1pexp(finite), ref, rtol=1e-14, atol=1e-300)


def test_sigmoid_symmetry_and_logit_inverse():
    s = np.random.default_rng(3).normal(scale=10, size=1000)
    np.testing.assert_allclose(lg.sigmoid(s) + lg.sigmoid(-s), 1.0, rtol=0, atol=1e-15)
    moderate = s[np.abs(s) < 10]  # beyond, 1 - sigmoid(s) itself has lost the digits logit needs
    np.testing.assert_allclose(lg.logit(lg.sigmoid(moderate)), moderate, rtol=0, atol=1e-10)
    np.testing.assert_allclose(lg.logit([0.0, 0.5, 1.0]), [-np.inf, 0.0, np.inf])
    np.testing.assert_allclose(lg.logit(0.8), scipy.special.logit(0.8), rtol=1e-15)
    assert np.isscalar(lg.sigmoid(0.3)) and np.isscalar(lg.log1pexp(-2.0))


# --------------------------------------------------------------------------- likelihood and derivatives
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loglik_gradient_hessian_match_torch_autograd(seed):
    X, y = noisy_problem(seed)
    beta_np = np.random.default_rng(seed).normal(size=X.shape[1])
    beta = torch.tensor(beta_np, requires_grad=True)
    J = torch_loglik(beta, X, y)
    J.backward()
    np.testing.assert_allclose(lg.loglik(beta_np, X, y), J.item(), rtol=1e-12)
    np.testing.assert_allclose(lg.grad_loglik(beta_np, X, y), beta.grad.numpy(), rtol=1e-10, atol=1e-10)
    H = torch.autograd.functional.hessian(lambda b: torch_loglik(b, X, y), torch.tensor(beta_np))
    np.testing.assert_allclose(lg.hessian_loglik(beta_np, X), H.numpy(), rtol=1e-10, atol=1e-10)
    assert np.linalg.eigvalsh(lg.hessian_loglik(beta_np, X)).max() <= 1e-12  # concave


def test_loglik_is_stable_for_huge_scores():
    X = np.array([[1.0], [-1.0]])
    y = np.array([1, 0])
    assert lg.loglik([1e4], X, y) == 0.0          # both points correct with enormous margin
    assert lg.loglik([-1e4], X, y) == -2e4        # both wrong: -2 * 1e4, not -inf
    np.testing.assert_allclose(lg.predict_proba([1e4], X), [1.0, 0.0])


# --------------------------------------------------------------------------- fits
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_newton_matches_sklearn(seed):
    X, y = noisy_problem(seed)
    beta = lg.fit_logistic_newton(X, y)
    ref = sklearn_fit(X, y)
    np.testing.assert_allclose(beta, ref, rtol=0, atol=1e-4)
    np.testing.assert_allclose(lg.loglik(beta, X, y), lg.loglik(ref, X, y), rtol=0, atol=1e-6)
    assert np.abs(lg.grad_loglik(beta, X, y)).max() < 1e-8  # a stationary point of a concave function


def test_gradient_ascent_reaches_newton_and_is_monotone():
    X, y = noisy_problem(4)
    eta = 1.0 / np.linalg.eigvalsh(X.T @ X).max()  # well below 8 / lambda_max
    beta, path = lg.fit_logistic_gd(X, y, eta=eta, steps=3000)
    assert path.shape == (3001, X.shape[1]) and np.all(path[0] == 0) and np.all(path[-1] == beta)
    J = np.array([lg.loglik(b, X, y) for b in path[::100]])
    assert np.all(np.diff(J) >= -1e-12)
    np.testing.assert_allclose(beta, sklearn_fit(X, y), atol=1e-4)


def test_galton_gender_from_height_against_sklearn():
    df = galton_families()
    x, y = df["childHeight"].to_numpy(), df["male"].to_numpy()
    X = np.column_stack([np.ones_like(x), x])
    beta = lg.fit_logistic_newton(X, y)
    np.testing.assert_allclose(beta, sklearn_fit(X, y), rtol=1e-5)
    accuracy = np.mean((lg.predict_proba(beta, X) > 0.5) == y)
    m = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x[:, None], y)
    assert accuracy == m.score(x[:, None], y)


def test_separable_data_raise_and_gd_norm_grows():
    X2, y = make_separable(40, seed=5)
    X = np.column_stack([np.ones(len(y)), X2])
    with pytest.raises(lg.SeparableDataError, match="separable"):
        lg.fit_logistic_newton(X, y)
    _, path = lg.fit_logistic_gd(X, y, eta=0.1, steps=2000)
    norms = np.linalg.norm(path, axis=1)
    assert np.all(np.diff(norms[1:]) > 0) and norms[-1] > norms[100] + 3
    assert lg.loglik(path[-1], X, y) > lg.loglik(path[100], X, y)


# --------------------------------------------------------------------------- bad inputs
def test_bad_inputs_raise_clear_errors():
    X, y = noisy_problem(0)
    b = np.zeros(X.shape[1])
    with pytest.raises(ValueError, match=r"X: expected a 2-D array"):
        lg.loglik(b, X[:, 0], y)
    with pytest.raises(ValueError, match=r"y: expected labels in \{0, 1\}"):
        lg.grad_loglik(b, X, y * 2)
    with pytest.raises(ValueError, match=r"y: expected shape \(300,\)"):
        lg.fit_logistic_newton(X, y[:-1])
    with pytest.raises(ValueError, match=r"beta: expected shape \(6,\)"):
        lg.predict_proba(b[:-1], X)
    with pytest.raises(ValueError, match="X: expected finite"):
        lg.hessian_loglik(b, np.where(X > 2, np.nan, X))
    with pytest.raises(TypeError, match="X: expected a numeric array"):
        lg.loglik(b, np.array([["a"] * 6]), [1])
    with pytest.raises(ValueError, match="eta: expected a positive"):
        lg.fit_logistic_gd(X, y, eta=-0.1, steps=10)
    with pytest.raises(ValueError, match="steps: expected a non-negative integer"):
        lg.fit_logistic_gd(X, y, eta=0.1, steps=2.5)
    with pytest.raises(ValueError, match="p: expected probabilities"):
        lg.logit(1.5)
    with pytest.raises(RuntimeError, match="max_iter"):
        lg.fit_logistic_newton(X, y, max_iter=1)
