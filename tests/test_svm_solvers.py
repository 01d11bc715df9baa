"""lib.svm_solvers: DCA vs LinearSVC, the text's update fails, SMO pieces vs brute force, SMO vs SVC."""
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, make_blobs, make_moons
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from lib import kernels, svm_dual, svm_solvers as S


def _random_instance(rng, n=8, C=1.0):
    A = rng.normal(size=(n, 3))
    K = A @ A.T + (0.0 if rng.random() < 0.3 else 0.1) * np.eye(n)  # sometimes singular
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    y[0], y[1] = 1.0, -1.0
    alpha = rng.uniform(0, C, n)
    # make sum alpha y = 0 by scaling the larger class's alphas
    pos, neg = alpha[y > 0].sum(), alpha[y < 0].sum()
    if pos > neg:
        alpha[y > 0] *= neg / pos
    else:
        alpha[y < 0] *= pos / neg
    return K, y, alpha


def test_box_bounds():
    assert S.box_bounds(0.3, 0.5, 1, -1, 1.0) == (0.2, 1.0)
    assert S.box_bounds(0.3, 0.5, 1, 1, 1.0) == (0.0, 0.8)
    assert S.box_bounds(0.9, 0.5, -1, -1, 1.0) == pytest.approx((0.4, 1.0))


def test_pair_update_is_exact_minimiser_on_random_instances():
    rng = np.random.default_rng(0)
    for trial in range(40):
        C = float(rng.choice([0.5, 1.0, 3.0]))
        K, y, alpha = _random_instance(rng, C=C)
        G = svm_dual.gradient(alpha, y, K)
        i, j = rng.choice(len(y), 2, replace=False)
        ai, aj = S.smo_pair_update(alpha, G, int(i), int(j), K, y, C)
        L, H = S.box_bounds(alpha[i], alpha[j], y[i], y[j], C)
        assert -1e-15 <= ai <= C + 1e-15 and L - 1e-15 <= aj <= H + 1e-15
        new = alpha.copy()
        new[i], new[j] = ai, aj
        assert abs(new @ y - alpha @ y) < 1e-12
        # dense search along the feasible segment
        t = np.linspace(L, H, 4001)
        A = np.tile(alpha, (t.size, 1))
        A[:, j], A[:, i] = t, alpha[i] + y[i] * y[j] * (alpha[j] - t)
        Cy = A * y
        best = (A.sum(1) - 0.5 * np.einsum("ti,ij,tj->t", Cy, K, Cy)).max()
        got = svm_dual.dual_objective(new, y, K)
        assert got >= svm_dual.dual_objective(alpha, y, K) - 1e-12
        assert got >= best - 1e-8


def test_pair_update_with_zero_curvature_uses_tau():
    K = np.ones((2, 2))  # eta = 0: the objective is linear along the segment
    y = np.array([1.0, 1.0])
    alpha = np.array([0.2, 0.3])
    G = svm_dual.gradient(alpha, y, K)
    G = G + np.array([0.0, 0.1])  # make the pair violating
    ai, aj = S.smo_pair_update(alpha, G, 0, 1, K, y, 1.0)
    assert (ai, aj) == pytest.approx((0.5, 0.0))


def test_textbook_update_fails_and_corrected_dca_succeeds():
    X, y = make_blobs(60, centers=[[2, 2], [-2, -2]], cluster_std=0.7, random_state=1)
    y = 2.0 * y - 1.0
    K = kernels.linear_kernel(X) + 1.0  # constant feature: a (regularised) bias
    res = S.dual_coordinate_ascent(K, y, np.inf, tol=1e-8, max_sweeps=5000, random_state=0, record=True)
    m = y * (K @ (res.alpha * y))
    assert res.converged and m.min() > 1 - 1e-6
    with np.errstate(all="ignore"):  # hard margin: the text's iterates blow up
        a_text = S.textbook_dca(K, y, n_sweeps=5)
    assert not np.all(np.abs(a_text) < 1e6)
    a_text = S.textbook_dca(K, y, C=1.0, n_sweeps=50)  # soft margin: stuck far from the optimum
    viol = S.projected_gradient(a_text, 1 - y * (K @ (a_text * y)), 1.0).max()
    opt = S.dual_coordinate_ascent(K, y, 1.0, tol=1e-8, max_sweeps=5000)
    assert viol > 1.0 and svm_dual.dual_objective(a_text, y, K) < svm_dual.dual_objective(opt.alpha, y, K) - 1.0
    assert S.textbook_dca_update(0.7, 0.0, 1, 2.0) == 0.0  # drops the old alpha: a zero gradient resets it
    obj = np.array(res.history["objective"])
    assert np.all(np.diff(obj) >= -1e-10)


def test_linear_dca_matches_linearsvc():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = 2.0 * y - 1.0
    res = S.linear_dca(X, y, C=0.5, tol=1e-8, max_sweeps=3000)
    ref = LinearSVC(loss="hinge", dual=True, C=0.5, tol=1e-10, max_iter=10**6).fit(X, y)
    assert res.converged
    np.testing.assert_allclose(res.w, ref.coef_[0], atol=1e-6)
    assert abs(res.b - ref.intercept_[0]) < 1e-6
    Xa = np.hstack([X, np.ones((len(y), 1))])
    gap = svm_dual.duality_gap(res.alpha, 0.0, y, Xa @ Xa.T, 0.5)
    assert 0 <= gap < 1e-5


@pytest.mark.parametrize("rule", ["wss3", "mvp"])
def test_smo_matches_svc(rule):
    X, y = make_moons(200, noise=0.3, random_state=3)
    y = 2.0 * y - 1.0
    K = kernels.rbf_kernel(X, gamma=1.5)
    res = S.smo(K, y, 2.0, tol=1e-6, rule=rule, record=True)
    ref = SVC(kernel="rbf", C=2.0, gamma=1.5, tol=1e-6, shrinking=False).fit(X, y)
    a = svm_dual.alpha_from_sklearn(ref, len(y))
    assert res.converged and res.gap < 1e-6
    np.testing.assert_allclose(res.alpha, a, atol=1e-3)
    assert abs(res.b - ref.intercept_[0]) < 1e-4
    assert abs(svm_dual.dual_objective(res.alpha, y, K) - svm_dual.dual_objective(a, y, K)) < 1e-8 * svm_dual.dual_objective(a, y, K)
    np.testing.assert_allclose(res.G, svm_dual.gradient(res.alpha, y, K), atol=1e-9)
    obj = np.array(res.history["objective"])
    assert np.all(np.diff(obj) >= -1e-12) and len(res.history["steps"]) == res.n_iter
    assert abs(res.alpha @ y) < 1e-10


def test_select_working_set_gap_and_stop():
    y = np.array([1.0, -1.0])
    K = np.eye(2)
    i, j, gap = S.select_working_set(np.zeros(2), -np.ones(2), y, K, 1.0)
    assert (i, j) == (0, 1) and gap == pytest.approx(2.0)
    res = S.smo(K, y, 10.0)
    assert res.alpha == pytest.approx([1.0, 1.0]) and res.b == pytest.approx(0.0)  # closed form


def test_bad_inputs():
    K, y = np.eye(3), np.array([1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="C"):
        S.smo(K, y, 0.0)
    with pytest.raises(ValueError, match="rule"):
        S.smo(K, y, 1.0, rule="random")
    with pytest.raises(ValueError, match="y"):
        S.smo(K, np.ones(3), 1.0)
    with pytest.raises(ValueError, match="K"):
        S.dual_coordinate_ascent(np.eye(2), y)
    with pytest.raises(ValueError, match="i, j"):
        S.smo_pair_update(np.zeros(3), -np.ones(3), 1, 1, K, y, 1.0)
    with pytest.raises(ValueError, match="tol"):
        S.linear_dca(np.ones((3, 2)), y, tol=0)
    with pytest.raises(ValueError, match="Q_ii"):
        S.textbook_dca_update(0.0, 1.0, 1, 0.0)
