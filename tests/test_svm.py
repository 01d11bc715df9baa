"""lib.svm.KernelSVM vs sklearn.svm.SVC (spec V10.1, V10.2, V10.5)."""
import numpy as np
import pytest
from sklearn.datasets import make_circles, make_moons
from sklearn.svm import SVC

from lib import kernels, svm_dual
from lib.svm import KernelSVM


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(300, noise=0.25, random_state=0)
    Xt, _ = make_moons(500, noise=0.25, random_state=1)
    return X, 2.0 * y - 1.0, Xt


@pytest.mark.parametrize("C, gamma", [(1, 1), (10, 2), (0.1, 0.5)])
def test_rbf_matches_svc(moons, C, gamma):
    X, y, Xt = moons
    m = KernelSVM(C=C, kernel="rbf", gamma=gamma, tol=1e-6).fit(X, y)
    ref = SVC(kernel="rbf", C=C, gamma=gamma, tol=1e-6, shrinking=False).fit(X, y)
    assert np.abs(m.decision_function(Xt) - ref.decision_function(Xt)).max() <= 1e-4
    assert abs(m.intercept_[0] - ref.intercept_[0]) <= 1e-4
    K = kernels.rbf_kernel(X, gamma=gamma)
    d_ref = svm_dual.dual_objective(svm_dual.alpha_from_sklearn(ref, len(y)), y, K)
    assert abs(m.dual_objective_ - d_ref) <= 1e-8 * abs(d_ref)
    assert set(m.support_) == set(ref.support_)
    assert np.array_equal(m.predict(Xt), ref.predict(Xt))
    # KKT (V10.5) and duality gap
    rep = svm_dual.kkt_report(m.alpha_, m.intercept_[0], y, K, C)
    assert rep["max_violation"] <= 1e-3 and rep["sum_alpha_y"] <= 1e-10
    gap = svm_dual.duality_gap(m.alpha_, m.intercept_[0], y, K, C)
    assert 0 <= gap <= 1e-4 * abs(m.dual_objective_)
    # attributes
    assert np.allclose(m.dual_coef_[0], (m.alpha_ * y)[m.support_])
    assert np.array_equal(np.flatnonzero(m.sv_type_ > 0), m.support_)
    assert m.rkhs_norm_ == pytest.approx(np.sqrt((m.alpha_ * y) @ K @ (m.alpha_ * y)))


def _dense_dual_coef(support, coef, n):
    out = np.zeros(n)
    out[support] = coef
    return out


@pytest.mark.parametrize("C, gamma", [(1, 1), (10, 2)])
def test_rbf_dual_coefficients_match_svc(moons, C, gamma):
    """With a positive-definite Gram matrix the multipliers are unique, so they must agree one by one."""
    X, y, _ = moons
    m = KernelSVM(C=C, kernel="rbf", gamma=gamma, tol=1e-6).fit(X, y)
    ref = SVC(kernel="rbf", C=C, gamma=gamma, tol=1e-6, shrinking=False).fit(X, y)
    ours = _dense_dual_coef(m.support_, m.dual_coef_[0], len(y))
    theirs = _dense_dual_coef(ref.support_, ref.dual_coef_[0], len(y))
    assert np.abs(ours - theirs).max() <= 1e-3 * max(1.0, C)


def test_linear_soft_margin_matches_svc():
    """Overlapping classes, linear kernel: w, b, decision function and dual objective (the multipliers
    themselves need not be unique when the Gram matrix is singular)."""
    rng = np.random.default_rng(7)
    X = np.vstack([rng.normal(0.8, 1.0, (80, 3)), rng.normal(-0.8, 1.0, (80, 3))])
    y = np.r_[np.ones(80), -np.ones(80)]
    Xt = rng.normal(0.0, 1.5, (200, 3))
    m = KernelSVM(C=0.5, kernel="linear", tol=1e-6).fit(X, y)
    ref = SVC(kernel="linear", C=0.5, tol=1e-6, shrinking=False).fit(X, y)
    assert np.abs(m.decision_function(Xt) - ref.decision_function(Xt)).max() <= 1e-4
    np.testing.assert_allclose(m.coef_.ravel(), ref.coef_.ravel(), atol=1e-4)
    K = kernels.linear_kernel(X)
    d_ref = svm_dual.dual_objective(svm_dual.alpha_from_sklearn(ref, len(y)), y, K)
    assert abs(m.dual_objective_ - d_ref) <= 1e-8 * abs(d_ref)
    ours = _dense_dual_coef(m.support_, m.dual_coef_[0], len(y))
    theirs = _dense_dual_coef(ref.support_, ref.dual_coef_[0], len(y))
    assert np.abs(X.T @ ours - X.T @ theirs).max() <= 1e-4  # the same w from both sets of multipliers


def test_precomputed_polynomial_matches_svc():
    X, y = make_circles(200, factor=0.4, noise=0.1, random_state=2)
    y = 2.0 * y - 1.0
    Xt, _ = make_circles(100, factor=0.4, noise=0.1, random_state=5)
    K = kernels.poly_kernel(X, degree=3, gamma=1.0, coef0=1.0)
    Kt = kernels.poly_kernel(Xt, X, degree=3, gamma=1.0, coef0=1.0)
    m = KernelSVM(C=1.0, kernel="precomputed").fit(K, y)
    ref = SVC(kernel="precomputed", C=1.0, tol=1e-6, shrinking=False).fit(K, y)
    assert np.abs(m.decision_function(Kt) - ref.decision_function(Kt)).max() <= 1e-4
    m2 = KernelSVM(C=1.0, kernel="poly", degree=3, gamma=1.0, coef0=1.0).fit(X, y)
    np.testing.assert_allclose(m2.decision_function(Xt), m.decision_function(Kt), atol=1e-9)


def test_linear_margin_width_and_dca_solver():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(2, 0.5, (30, 2)), rng.normal(-2, 0.5, (30, 2))])
    y = np.r_[np.ones(30), -np.ones(30)]
    m = KernelSVM(C=1e6, kernel="linear").fit(X, y)
    ref = SVC(kernel="linear", C=1e6, tol=1e-8).fit(X, y)
    assert m.margin_width_ == pytest.approx(2 / np.linalg.norm(ref.coef_), rel=1e-4)
    d = KernelSVM(C=1.0, kernel="rbf", gamma=0.5, solver="dca", tol=1e-8).fit(X, y)
    assert (d.predict(X) == y).all() and d.alpha_.max() <= 1.0


def test_bad_inputs(moons):
    X, y, _ = moons
    with pytest.raises(ValueError, match="kernel"):
        KernelSVM(kernel="laplace")
    with pytest.raises(ValueError, match="solver"):
        KernelSVM(solver="qp")
    with pytest.raises(ValueError, match="C"):
        KernelSVM(C=-1)
    with pytest.raises(ValueError, match="fit"):
        KernelSVM().decision_function(X)
    with pytest.raises(ValueError, match="X"):
        KernelSVM(kernel="precomputed").fit(X, y)
    with pytest.raises(ValueError, match="y"):
        KernelSVM().fit(X, y + 1)
