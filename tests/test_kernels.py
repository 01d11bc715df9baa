"""lib.kernels: kernels vs sklearn.metrics.pairwise, PSD checks, explicit feature maps, the torch path."""
import numpy as np
import pytest
import torch
from sklearn.metrics import pairwise

from lib import kernels


@pytest.fixture
def XZ():
    rng = np.random.default_rng(7)
    return rng.normal(size=(40, 3)), rng.normal(size=(25, 3))


def test_kernels_match_sklearn(XZ):
    X, Z = XZ
    np.testing.assert_allclose(kernels.linear_kernel(X, Z), pairwise.linear_kernel(X, Z), atol=1e-12)
    np.testing.assert_allclose(kernels.rbf_kernel(X, Z, gamma=0.7), pairwise.rbf_kernel(X, Z, gamma=0.7), atol=1e-12)
    np.testing.assert_allclose(kernels.poly_kernel(X, Z, degree=3, gamma=0.5, coef0=2.0),
                               pairwise.polynomial_kernel(X, Z, degree=3, gamma=0.5, coef0=2.0), atol=1e-10, rtol=1e-12)
    np.testing.assert_allclose(kernels.sigmoid_kernel(X, Z, kappa=0.3, c=-0.2),
                               pairwise.sigmoid_kernel(X, Z, gamma=0.3, coef0=-0.2), atol=1e-12)
    np.testing.assert_allclose(kernels.rbf_kernel(X), kernels.rbf_kernel(X, X), atol=0)
    assert kernels.rbf_kernel(X + 1e4).max() <= 1.0  # squared distances are clamped at 0


def test_gram_dispatch_and_torch_equals_numpy(XZ):
    X, Z = XZ
    for name, p in [("linear", {}), ("poly", dict(degree=2, coef0=1.0)), ("rbf", dict(gamma=0.3)),
                    ("sigmoid", dict(kappa=0.2, c=0.1))]:
        Kn = kernels.gram(name, X, Z, backend="numpy", **p)
        Kt = kernels.gram(name, X, Z, backend="torch", device="cpu", **p)
        assert isinstance(Kt, torch.Tensor) and Kt.dtype == torch.float64
        np.testing.assert_allclose(Kt.numpy(), Kn, atol=1e-12)
        np.testing.assert_allclose(kernels.gram(name, X, Z, **p), Kn, atol=1e-12)
    K = kernels.gram(lambda A, B: A @ B.T, X)
    np.testing.assert_allclose(K, X @ X.T)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gram_cuda():
    X = np.random.default_rng(0).normal(size=(5000, 4))
    Kt = kernels.gram("rbf", X, backend="torch", device="cuda", gamma=0.5)
    np.testing.assert_allclose(Kt.cpu().numpy(), kernels.rbf_kernel(X, gamma=0.5), atol=1e-10)


def test_psd_and_sigmoid_counterexample(XZ):
    X, _ = XZ
    for K in (kernels.rbf_kernel(X, gamma=2.0), kernels.poly_kernel(X, degree=3), kernels.linear_kernel(X)):
        ok, lam = kernels.is_psd(K)
        assert ok and lam > -1e-8
    ok, lam = kernels.is_psd(kernels.sigmoid_kernel(np.zeros((1, 3)), c=-0.5))
    assert not ok and lam == pytest.approx(np.tanh(-0.5))
    ok, lam = kernels.is_psd(kernels.sigmoid_kernel(X, kappa=2.0, c=1.0))
    assert not ok and lam < -1e-3
    assert not kernels.is_psd(np.array([[1.0, 2.0], [0.0, 1.0]]))[0]  # not symmetric


def test_poly_features_reproduce_kernel(XZ):
    X, Z = XZ
    for d, c in [(1, 1.0), (2, 1.0), (3, 0.5), (2, 0.0)]:
        P, R = kernels.poly_features(X, d, c), kernels.poly_features(Z, d, c)
        np.testing.assert_allclose(P @ R.T, kernels.poly_kernel(X, Z, degree=d, coef0=c), atol=1e-10, rtol=1e-12)
    assert kernels.poly_features(X, 2).shape == (40, 10)  # C(3 + 2, 2)


def test_rbf_taylor_features_converge():
    rng = np.random.default_rng(3)
    X, Z = rng.uniform(-1, 1, (30, 2)), rng.uniform(-1, 1, (20, 2))
    K = kernels.rbf_kernel(X, Z, gamma=0.7)
    errs = [np.abs(kernels.rbf_taylor_features(X, 0.7, m) @ kernels.rbf_taylor_features(Z, 0.7, m).T - K).max()
            for m in (2, 4, 8, 12, 22)]
    assert all(a > b for a, b in zip(errs, errs[1:]))
    assert errs[-2] < 1e-6 and errs[-1] < 1e-12
    # the degree-2 coefficients: x1^2 gets sqrt((2g)^2/2!) = sqrt(2) g, the cross term x1 x2 gets 2g
    x = np.array([[0.3, -0.4]])
    phi = kernels.rbf_taylor_features(x, 0.7, 2)[0] / np.exp(-0.7 * 0.25)
    idx = kernels.multi_indices(2, 2)
    assert phi[idx.index((2, 0))] == pytest.approx(np.sqrt(2) * 0.7 * 0.09)
    assert phi[idx.index((1, 1))] == pytest.approx(2 * 0.7 * 0.3 * -0.4)


def test_bad_inputs(XZ):
    X, Z = XZ
    with pytest.raises(ValueError, match="gamma"):
        kernels.rbf_kernel(X, gamma=-1)
    with pytest.raises(ValueError, match="Z"):
        kernels.rbf_kernel(X, Z[:, :2])
    with pytest.raises(ValueError, match="X"):
        kernels.linear_kernel(np.ones(3))
    with pytest.raises(ValueError, match="degree"):
        kernels.poly_kernel(X, degree=1.5)
    with pytest.raises(ValueError, match="kernel"):
        kernels.gram("laplace", X)
    with pytest.raises(ValueError, match="backend"):
        kernels.gram("rbf", X, backend="jax")
    with pytest.raises(ValueError, match="params"):
        kernels.gram("rbf", X, degree=2)
    with pytest.raises(ValueError, match="coef0"):
        kernels.poly_features(X, 2, coef0=-1.0)
    with pytest.raises(ValueError, match="K"):
        kernels.is_psd(np.ones((2, 3)))
