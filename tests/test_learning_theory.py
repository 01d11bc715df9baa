"""lib.learning_theory: shattering facts, Rademacher complexity of norm-bounded linear maps, the bound."""
import math

import numpy as np
import pytest
from scipy.special import comb
from sklearn.svm import SVC

from lib import learning_theory as lt


def test_shattering_facts_in_the_plane():
    rng = np.random.default_rng(3)
    tri = rng.normal(size=(3, 2))
    assert lt.shatters(tri)  # three points in general position
    line = np.array([[0.0, 0.0], [1.0, 1.0], [2.5, 2.5]])
    assert not lt.shatters(line)  # collinear: the middle point cannot be the odd one out
    assert not lt.linearly_separable(line, np.array([1.0, -1.0, 1.0]))
    xor = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    assert not lt.linearly_separable(xor, np.array([1.0, 1.0, -1.0, -1.0]))
    for _ in range(5):  # any 4 points in R^2: VC dimension is 3
        assert not lt.shatters(rng.normal(size=(4, 2)))
    assert lt.vc_dim_linear(2) == 3


def test_vc_dimension_d_plus_one_in_three_d():
    pts = np.vstack([np.zeros(3), np.eye(3)])  # 4 affinely independent points in R^3
    assert lt.shatters(pts) and lt.vc_dim_linear(3) == 4
    assert not lt.shatters(np.random.default_rng(0).normal(size=(5, 3)))


def test_separable_agrees_with_hard_margin_svc():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(7, 2))
    for _ in range(8):
        y = rng.choice((-1.0, 1.0), size=7)
        if abs(y.sum()) == 7:
            continue
        svc = SVC(kernel="linear", C=1e4, tol=1e-6).fit(X, y)
        assert lt.linearly_separable(X, y) == bool((svc.predict(X) == y).all())


def test_rademacher_orthogonal_equals_closed_form():
    X = np.diag([1.0, 2.0, 0.5, 3.0, 1.5])  # orthogonal rows: ||sum sigma_i x_i||^2 = sum ||x_i||^2 always
    est, bound, se = lt.empirical_rademacher_linear(X, B=2.0, n_mc=500, return_se=True)
    closed = 2.0 / 5 * math.sqrt((X ** 2).sum())
    assert est == pytest.approx(closed, rel=1e-12) and bound == pytest.approx(closed, rel=1e-12) and se < 1e-12


def test_rademacher_mc_vs_exact_and_bound():
    X = np.ones((9, 1))  # E|S_9| for a simple random walk, a binomial sum
    exact = sum(comb(9, k) * abs(2 * k - 9) for k in range(10)) / 2 ** 9 / 9
    assert lt.exact_rademacher_linear(X, 1.0) == pytest.approx(exact, rel=1e-12)
    Z = np.random.default_rng(1).normal(size=(14, 3))
    ex = lt.exact_rademacher_linear(Z, 1.5)
    est, bound, se = lt.empirical_rademacher_linear(Z, 1.5, n_mc=4000, seed=2, return_se=True)
    assert abs(est - ex) < 3 * se and ex < bound
    assert lt.empirical_rademacher_linear(Z, 3.0, n_mc=4000, seed=2)[0] == pytest.approx(2 * est, rel=1e-12)


def test_random_label_fit():
    X = np.random.default_rng(0).normal(size=(40, 2))
    accs = lt.random_label_fit(lambda: SVC(C=1e4, gamma=50.0), X, n_trials=4, return_all=True)
    assert accs.shape == (4,) and (accs == 1.0).all()  # a narrow RBF memorises noise
    lin = lt.random_label_fit(lambda: SVC(kernel="linear", C=1.0), X, n_trials=4)
    assert 0.4 < lin < 0.85


def test_bound_forms_and_margin_vc():
    n, d = 1000, 0.05
    assert lt.rademacher_bound(0.1, 0.02, n, d) == pytest.approx(0.1 + 0.04 + math.sqrt(math.log(20) / 2000))
    emp = lt.rademacher_bound(0.1, 0.02, n, d, empirical=True)
    assert emp == pytest.approx(0.14 + 3 * math.sqrt(math.log(40) / 2000))
    assert emp > lt.rademacher_bound(0.1, 0.02, n, d)
    assert lt.vc_margin_bound(1.0, 0.5, 50) == 5 and lt.vc_margin_bound(10.0, 0.1, 3) == 4


def test_bad_inputs():
    with pytest.raises(ValueError, match="X"):
        lt.shatters(np.zeros(3))
    with pytest.raises(ValueError, match="X"):
        lt.shatters(np.zeros((13, 2)))
    with pytest.raises(ValueError, match="y"):
        lt.linearly_separable(np.zeros((3, 2)), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="B"):
        lt.empirical_rademacher_linear(np.ones((3, 2)), B=0)
    with pytest.raises(ValueError, match="n_mc"):
        lt.empirical_rademacher_linear(np.ones((3, 2)), B=1, n_mc=1)
    with pytest.raises(ValueError, match="emp_risk"):
        lt.rademacher_bound(1.5, 0.1, 10, 0.05)
    with pytest.raises(ValueError, match="delta"):
        lt.rademacher_bound(0.1, 0.1, 10, 1.0)
    with pytest.raises(ValueError, match="d"):
        lt.vc_dim_linear(0)
    with pytest.raises(TypeError, match="make_model"):
        lt.random_label_fit(3, np.ones((3, 2)))
