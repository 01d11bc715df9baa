"""lib.primal_svm: the torch hinge-loss primal against sklearn's SVC / LinearSVC objectives."""
import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.svm import SVC, LinearSVC

from lib import primal_svm as ps


def _moons(n=300, seed=0):
    X, y = make_moons(n, noise=0.25, random_state=seed)
    return X, 2.0 * y - 1.0


def _svc_primal(svc, X, y, C, gamma):
    c = np.zeros(len(y))
    c[svc.support_] = svc.dual_coef_[0]  # alpha_i y_i
    K = rbf_kernel(X, gamma=gamma)
    f = K @ c + svc.intercept_[0]
    return 0.5 * c @ K @ c + C * np.maximum(0, 1 - y * f).sum(), f


def test_rbf_objective_matches_svc():
    X, y = _moons(300, seed=0)
    C, g = 1.0, 1.0
    svc = SVC(C=C, gamma=g, tol=1e-8).fit(X, y)
    ref, f_ref = _svc_primal(svc, X, y, C, g)
    res = ps.fit_hinge_primal(X, y, C, kernel="rbf", gamma=g, epochs=600, lr=0.2)
    assert res["objective"] >= ref * (1 - 1e-9)  # the SVC solution is the optimum
    assert (res["objective"] - ref) / ref < 1e-3
    np.testing.assert_allclose(res["slack"], np.maximum(0, 1 - res["margins"]))
    agree = np.mean(np.sign(res["predict_fn"](X)) == np.sign(f_ref))
    assert agree > 0.98
    c = res["c"]  # the representer coefficients reproduce the training decision values
    K = rbf_kernel(X, gamma=g)
    np.testing.assert_allclose(y * (K @ c + res["b"]), res["margins"], atol=1e-6)


def test_linear_objective_matches_linearsvc():
    X, y = _moons(200, seed=1)
    C = 0.1
    lin = LinearSVC(C=C, loss="hinge", dual=True, tol=1e-10, max_iter=10**6, intercept_scaling=100.0).fit(X, y)
    w, b = lin.coef_[0], lin.intercept_[0]  # large intercept_scaling: bias practically unpenalised
    ref = ps.hinge_objective(w @ w, y * (X @ w + b), C)
    res = ps.fit_hinge_primal(X, y, C, epochs=800, lr=0.05)
    assert abs(res["objective"] - ref) / ref < 1e-3
    np.testing.assert_allclose(res["w"], w, atol=2e-2)
    assert res["history"].shape == (800,) and res["objective"] <= res["history"].min() + 1e-12


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_matches_cpu():
    X, y = _moons(300, seed=0)
    cpu = ps.fit_hinge_primal(X, y, 1.0, kernel="rbf", gamma=1.0, epochs=600, lr=0.2, device="cpu")
    gpu = ps.fit_hinge_primal(X, y, 1.0, kernel="rbf", gamma=1.0, epochs=600, lr=0.2, device="cuda")
    assert abs(gpu["objective"] - cpu["objective"]) / cpu["objective"] < 1e-3


def test_bad_inputs():
    X, y = _moons(20)
    with pytest.raises(ValueError, match="C"):
        ps.fit_hinge_primal(X, y, C=0)
    with pytest.raises(ValueError, match="y"):
        ps.fit_hinge_primal(X, (y + 1) / 2, C=1)
    with pytest.raises(ValueError, match="X"):
        ps.fit_hinge_primal(X[:, 0], y, C=1)
    with pytest.raises(ValueError, match="kernel"):
        ps.fit_hinge_primal(X, y, C=1, kernel="poly")
    with pytest.raises(ValueError, match="gamma"):
        ps.fit_hinge_primal(X, y, C=1, kernel="rbf")
    with pytest.raises(ValueError, match="epochs"):
        ps.fit_hinge_primal(X, y, C=1, epochs=0)
