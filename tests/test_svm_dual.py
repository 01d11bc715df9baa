"""lib.svm_dual against libsvm (sklearn.svm.SVC) solutions."""
import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_moons
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.svm import SVC

from lib import svm_dual as sd


def _moons(n=120, seed=3):
    X, y = make_moons(n, noise=0.3, random_state=seed)
    return X, 2.0 * y - 1


def _fit(K, y, C):
    svc = SVC(kernel="precomputed", C=C, tol=1e-8, shrinking=False).fit(K, y)
    return svc, sd.alpha_from_sklearn(svc, len(y)), float(svc.intercept_[0])


@pytest.mark.parametrize("C, gamma", [(1.0, 1.0), (10.0, 2.0), (0.3, 0.5)])
def test_rbf_soft_margin_matches_libsvm(C, gamma):
    X, y = _moons()
    K = rbf_kernel(X, gamma=gamma)
    svc, a, b = _fit(K, y, C)
    # the dual objective libsvm reports is the minimisation form: obj = -D
    f = K @ (a * y) + b
    assert np.allclose(f, svc.decision_function(K), atol=1e-10)
    gap = sd.duality_gap(a, b, y, K, C)
    assert 0 <= gap < 1e-4 * abs(sd.dual_objective(a, y, K))
    rep = sd.kkt_report(a, b, y, K, C)
    assert rep["ok"] and rep["max_violation"] < 1e-5
    assert rep["n_free"] + rep["n_bound"] == len(svc.support_)
    G = sd.gradient(a, y, K)
    assert abs(sd.bias_libsvm(a, y, G, C) - b) < 1e-6


def test_linear_hard_margin_and_w():
    X, y = make_blobs(60, centers=[[-2, -1], [2, 1.5]], cluster_std=0.8, random_state=5)
    y = 2.0 * y - 1
    svc = SVC(kernel="linear", C=1e8, tol=1e-8).fit(X, y)
    a = sd.alpha_from_sklearn(svc, len(y))
    b = float(svc.intercept_[0])
    K = X @ X.T
    w = sd.w_from_alpha(a, X, y)
    assert np.allclose(w, svc.coef_.ravel(), atol=1e-10)
    rep = sd.kkt_report(a, b, y, K, np.inf)
    assert rep["max_violation"] < 1e-6 and rep["n_bound"] == 0
    # hard margin: P = 1/2 ||w||^2 = D at the optimum, sum alpha = ||w||^2
    assert abs(sd.primal_objective(a, b, y, K, np.inf) - 0.5 * w @ w) < 1e-9
    assert abs(sd.dual_objective(a, y, K) - 0.5 * w @ w) < 1e-6 * (w @ w)
    assert abs(a.sum() - w @ w) < 1e-6 * (w @ w)
    # the bias from free SVs (all SVs are free in the hard margin)
    assert abs(sd.bias_libsvm(a, y, sd.gradient(a, y, K), np.inf) - b) < 1e-6


def test_weak_duality_for_random_feasible_alpha():
    X, y = _moons(80, seed=7)
    K = rbf_kernel(X, gamma=1.0)
    C = 2.0
    _, a_opt, b_opt = _fit(K, y, C)
    p_star = sd.primal_objective(a_opt, b_opt, y, K, C)
    rng = np.random.default_rng(0)
    pos, neg = y > 0, y < 0
    for _ in range(50):
        a = rng.uniform(0, C, size=len(y))
        # rescale one class so that sum alpha y = 0 while staying in the box
        sp, sn = a[pos].sum(), a[neg].sum()
        if sp > sn:
            a[pos] *= sn / sp
        else:
            a[neg] *= sp / sn
        assert abs(a @ y) < 1e-9
        assert sd.dual_objective(a, y, K) <= p_star + 1e-9
        assert sd.duality_gap(a, 0.0, y, K, C) >= 0


def test_perturbed_alpha_violates_kkt():
    X, y = _moons(100, seed=11)
    K = rbf_kernel(X, gamma=1.5)
    C = 5.0
    _, a, b = _fit(K, y, C)
    assert sd.kkt_report(a, b, y, K, C)["ok"]
    rng = np.random.default_rng(1)
    bad = np.clip(a + rng.uniform(0, 0.3, size=a.size) * (a > 0), 0, C)
    rep = sd.kkt_report(bad, b, y, K, C)
    assert not rep["ok"] and rep["max_violation"] > 1e-2
    assert sd.duality_gap(bad, b, y, K, C) > 1e-3 or sd.dual_objective(bad, y, K) < sd.dual_objective(a, y, K)


def test_bias_midpoint_rule_without_free_svs():
    # two points, C tiny: both alphas at C; libsvm falls back to the midpoint rule
    X = np.array([[0.0, 0.0], [0.1, 0.0], [1.0, 0.0], [1.1, 0.0]])
    y = np.array([-1.0, 1.0, -1.0, 1.0])
    K = X @ X.T
    C = 1e-3
    svc, a, b = _fit(K, y, C)
    rep = sd.kkt_report(a, b, y, K, C)
    assert rep["n_free"] == 0
    assert abs(sd.bias_libsvm(a, y, sd.gradient(a, y, K), C) - b) < 1e-9


def test_bad_inputs():
    y = np.array([1.0, -1.0])
    K = np.eye(2)
    with pytest.raises(ValueError, match="y"):
        sd.dual_objective([0.1, 0.1], [1.0, 0.0], K)
    with pytest.raises(ValueError, match="alpha"):
        sd.dual_objective([0.1], y, K)
    with pytest.raises(ValueError, match="K"):
        sd.dual_objective([0.1, 0.1], y, np.eye(3))
    with pytest.raises(ValueError, match="C"):
        sd.primal_objective([0.1, 0.1], 0.0, y, K, -1.0)
    with pytest.raises(ValueError, match="b"):
        sd.primal_objective([0.1, 0.1], float("nan"), y, K, 1.0)
    with pytest.raises(ValueError, match="X"):
        sd.w_from_alpha([0.1, 0.1], np.ones((3, 2)), y)
    with pytest.raises(ValueError, match="G"):
        sd.bias_libsvm([0.1, 0.1], y, np.ones(3), 1.0)
    with pytest.raises(TypeError, match="svc"):
        sd.alpha_from_sklearn(object(), 2)
    assert sd.primal_objective([0.0, 0.0], 0.0, y, K, np.inf) == np.inf
