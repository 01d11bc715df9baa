"""lib.diffusion.discrete: the book's Tables 6.1/6.2, Bayes on random stochastic matrices, the agent
round trip, the grid kernel, bad input."""
import numpy as np
import pytest
from scipy.stats import chisquare

from lib.diffusion import discrete as D

P_BOOK = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.4, 0.5]])
p_BOOK = np.array([0.4, 0.3, 0.3])


def test_book_tables():
    np.testing.assert_allclose(D.marginal(p_BOOK, P_BOOK), [0.33, 0.39, 0.28], atol=1e-15)
    assert D.joint(p_BOOK, P_BOOK)[0, 1] == pytest.approx(0.12)
    B = D.backward_conditional(p_BOOK, P_BOOK)
    np.testing.assert_allclose(B[0], np.array([0.24, 0.06, 0.03]) / 0.33)
    np.testing.assert_allclose(B[0], [0.727, 0.182, 0.091], atol=5e-4)


def test_round_trip_on_random_matrices():
    rng = np.random.default_rng(0)
    for _ in range(50):
        nx, ny = rng.integers(2, 7, size=2)
        p = rng.dirichlet(np.ones(nx))
        P = rng.dirichlet(np.ones(ny), size=nx)
        B = D.backward_conditional(p, P)
        np.testing.assert_allclose(B.sum(1), 1, atol=1e-12)
        np.testing.assert_allclose(D.marginal(p, P) @ B, p, atol=1e-12)
        # Bayes: p(x | y) p~(y) = p(y | x) p(x)
        np.testing.assert_allclose(B.T * D.marginal(p, P), p[:, None] * P, atol=1e-12)


def test_agents_return_as_a_population_not_as_individuals():
    x, y, xb = D.simulate_population(p_BOOK, P_BOOK, 100_000, np.random.default_rng(1))
    for sample, probs in [(x, p_BOOK), (y, D.marginal(p_BOOK, P_BOOK)), (xb, p_BOOK)]:
        counts = np.bincount(sample, minlength=3)
        assert chisquare(counts, probs * counts.sum()).pvalue > 1e-3
    assert 0.3 < np.mean(xb == x) < 0.7
    # the pair (y, x_back) has the joint law p~(y) p(x | y) = p(x) p(y | x)
    pair = np.bincount(3 * y + xb, minlength=9).reshape(3, 3) / 100_000
    np.testing.assert_allclose(pair, D.joint(p_BOOK, P_BOOK).T, atol=0.006)


def test_gaussian_kernel_matrix_round_trip_on_a_grid():
    g = np.linspace(-6, 6, 241)
    p = np.exp(-0.5 * ((g - 1) / 0.5) ** 2) + 0.5 * np.exp(-0.5 * ((g + 2) / 0.3) ** 2)
    p /= p.sum()
    P = D.gaussian_kernel_matrix(g, 0.7)
    np.testing.assert_allclose(P.sum(1), 1)
    B = D.backward_conditional(p, P)
    np.testing.assert_allclose(D.marginal(p, P) @ B, p, atol=1e-12)
    # away from the edges the marginal is the convolution: its variance grows by sigma^2
    pt = D.marginal(p, P)
    var = lambda q: q @ g ** 2 - (q @ g) ** 2  # noqa: E731
    assert var(pt) - var(p) == pytest.approx(0.49, rel=0.01)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="p"):
        D.marginal([0.5, 0.6], np.eye(2))
    with pytest.raises(ValueError, match="P"):
        D.marginal([0.5, 0.5], [[0.5, 0.6], [0.5, 0.5]])
    with pytest.raises(ValueError, match="P"):
        D.marginal([0.5, 0.5], np.eye(3))
    with pytest.raises(ValueError, match="never reached"):
        D.backward_conditional([0.5, 0.5], [[1.0, 0.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="n"):
        D.simulate_population(p_BOOK, P_BOOK, 0)
    with pytest.raises(ValueError, match="sigma"):
        D.gaussian_kernel_matrix(np.linspace(0, 1, 5), 0.0)
