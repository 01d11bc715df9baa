"""lib.linear_gaussian against scipy, sklearn, torch.distributions and Gaussian conditioning."""
import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from sklearn.decomposition import PCA, FactorAnalysis

from lib import linear_gaussian as lg

D64 = torch.float64


def _model(d=5, k=2, seed=0, fa=False):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(d, k, generator=g, dtype=D64)
    b = torch.randn(d, generator=g, dtype=D64)
    nv = 0.2 + torch.rand(d, generator=g, dtype=D64) if fa else torch.tensor(0.3, dtype=D64)
    return lg.LinearGaussianModel(W, b, nv)


@pytest.mark.parametrize("fa", [False, True])
def test_log_prob_and_posterior_match_gaussian_conditioning(fa):
    m = _model(fa=fa)
    x = m.sample(50, generator=torch.Generator().manual_seed(1))
    ref = multivariate_normal(m.b.numpy(), m.cov().numpy()).logpdf(x.numpy())
    np.testing.assert_allclose(m.log_prob(x).numpy(), ref, rtol=1e-12, atol=1e-10)
    # condition the joint Gaussian of (z, x) on x
    Cxx, Czx = m.cov(), m.W.T
    mean_ref = (x - m.b) @ torch.linalg.solve(Cxx, Czx.T)
    cov_ref = torch.eye(m.k, dtype=D64) - Czx @ torch.linalg.solve(Cxx, Czx.T)
    pm, pS = m.posterior(x)
    torch.testing.assert_close(pm, mean_ref, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(pS, cov_ref, rtol=1e-10, atol=1e-10)


def test_kl_gauss_matches_torch_distributions():
    g = torch.Generator().manual_seed(2)
    A1, A2 = torch.randn(4, 3, 3, generator=g, dtype=D64), torch.randn(4, 3, 3, generator=g, dtype=D64)
    S1, S2 = A1 @ A1.mT + 0.1 * torch.eye(3, dtype=D64), A2 @ A2.mT + 0.1 * torch.eye(3, dtype=D64)
    m1, m2 = torch.randn(4, 3, generator=g, dtype=D64), torch.randn(4, 3, generator=g, dtype=D64)
    MVN = torch.distributions.MultivariateNormal
    ref = torch.distributions.kl_divergence(MVN(m1, S1), MVN(m2, S2))
    torch.testing.assert_close(lg.kl_gauss(m1, S1, m2, S2), ref, rtol=1e-10, atol=1e-10)
    assert float(lg.kl_gauss(m1[0], S1[0], m1[0], S1[0])) == pytest.approx(0.0, abs=1e-12)
    torch.testing.assert_close(lg.gauss_entropy(S1), MVN(m1, S1).entropy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fa", [False, True])
def test_elbo_bound_equality_and_two_forms(fa):
    m = _model(fa=fa, seed=3)
    g = torch.Generator().manual_seed(4)
    x = m.sample(20, generator=g)
    logp = m.log_prob(x)
    pm, pS = m.posterior(x)
    torch.testing.assert_close(m.elbo(x, pm, pS), logp, rtol=0, atol=1e-9)
    for _ in range(20):
        A = torch.randn(m.k, m.k, generator=g, dtype=D64)
        S = A @ A.T + 0.05 * torch.eye(m.k, dtype=D64)
        qm = pm + torch.randn(pm.shape, generator=g, dtype=D64)
        e2, e1 = m.elbo(x, qm, S), m.elbo_form1(x, qm, S)
        torch.testing.assert_close(e1, e2, rtol=0, atol=1e-9)
        assert torch.all(e2 < logp)
    # diagonal q is strictly worse than the exact (correlated) posterior when pS is not diagonal
    assert torch.all(m.elbo(x, pm, torch.diag(torch.diagonal(pS))) < logp - 1e-6)


def test_elbo_matches_monte_carlo_reparametrised():
    m = _model(seed=5)
    x = m.sample(1, generator=torch.Generator().manual_seed(6))
    qm, qS = torch.tensor([[0.3, -0.2]], dtype=D64), torch.tensor([[0.5, 0.1], [0.1, 0.3]], dtype=D64)
    eps = torch.randn(200_000, 2, generator=torch.Generator().manual_seed(7), dtype=D64)
    z = qm + eps @ torch.linalg.cholesky(qS).T
    rec = lg.gauss_log_prob(x - z @ m.W.T, m.b, torch.diag(m.psi))          # log N(x; Wz + b, Psi), per z
    kl = lg.kl_gauss(qm[0], qS, torch.zeros(2, dtype=D64), torch.eye(2, dtype=D64))
    mc = rec.mean() - kl
    assert float(mc) == pytest.approx(float(m.elbo(x, qm, qS)), rel=5e-3)


def test_theorem_35_gaps():
    data, model = _model(seed=8, fa=True), _model(seed=9)
    g = torch.Generator().manual_seed(10)
    A, c = torch.randn(2, 5, generator=g, dtype=D64), torch.randn(2, generator=g, dtype=D64)
    S = torch.tensor([[0.4, 0.05], [0.05, 0.2]], dtype=D64)
    gaps = model.gaps(data, A, c, S)
    assert gaps["total"] == pytest.approx(gaps["model"] + gaps["inference"], rel=1e-10)
    assert gaps["model"] > 0 and gaps["inference"] > 0
    # total = -H(p_data) - E_x ELBO(x), by Monte Carlo over x
    x = data.sample(100_000, generator=g)
    elbo = model.elbo(x, x @ A.T + c, S).mean()
    assert -float(lg.gauss_entropy(data.cov())) - float(elbo) == pytest.approx(gaps["total"], rel=2e-2)
    # the exact posterior as q and the data's own model leave no gap at all
    pS = model.posterior(model.b)[1]
    B = pS @ model.W.T / model.psi
    g2 = model.gaps(model, B, -B @ model.b, pS)
    assert max(abs(v) for v in g2.values()) < 1e-10


def test_ppca_mle_matches_sklearn_pca_and_is_a_maximum():
    X = _model(d=6, k=2, seed=11).sample(800, generator=torch.Generator().manual_seed(12)).numpy()
    m = lg.ppca_mle(X, 2)
    pca = PCA(n_components=2).fit(X)           # sklearn normalises the covariance by n - 1
    n = X.shape[0]
    assert float(m.noise_var) * n / (n - 1) == pytest.approx(pca.noise_variance_, rel=1e-10)
    np.testing.assert_allclose(m.cov().numpy() * n / (n - 1), pca.get_covariance(), atol=1e-10)
    ll = float(m.log_prob(X).mean())
    for seed in range(5):  # any perturbation of (W, sigma^2) lowers the likelihood
        g = torch.Generator().manual_seed(seed)
        W2 = m.W + 0.05 * torch.randn(m.W.shape, generator=g, dtype=D64)
        assert float(lg.LinearGaussianModel(W2, m.b, m.noise_var * 1.02).log_prob(X).mean()) < ll


def test_em_ppca_monotone_and_converges_to_closed_form():
    X = _model(d=5, k=2, seed=13).sample(500, generator=torch.Generator().manual_seed(14))
    target = lg.ppca_mle(X, 2)
    m = lg.LinearGaussianModel(torch.randn(5, 2, generator=torch.Generator().manual_seed(0), dtype=D64),
                               torch.zeros(5, dtype=D64), 1.0)
    lls = []
    for _ in range(300):
        m = lg.em_step_ppca(m, X)
        lls.append(float(m.log_prob(X).mean()))
    assert np.all(np.diff(lls) > -1e-10)
    assert lls[-1] == pytest.approx(float(target.log_prob(X).mean()), abs=1e-6)
    assert float(m.noise_var) == pytest.approx(float(target.noise_var), rel=1e-3)
    assert lg.principal_cosines(m.W, target.W).min() > 0.9999


def test_em_fa_monotone_and_matches_sklearn():
    X = _model(d=6, k=2, seed=15, fa=True).sample(1000, generator=torch.Generator().manual_seed(16))
    m = lg.LinearGaussianModel(torch.randn(6, 2, generator=torch.Generator().manual_seed(1), dtype=D64),
                               torch.zeros(6, dtype=D64), torch.ones(6, dtype=D64))
    lls = []
    for _ in range(400):
        m = lg.em_step_fa(m, X)
        lls.append(float(m.log_prob(X).mean()))
    assert np.all(np.diff(lls) > -1e-10)
    fa = FactorAnalysis(n_components=2, tol=1e-10, max_iter=10_000, random_state=0).fit(X.numpy())
    assert lls[-1] == pytest.approx(fa.score(X.numpy()), abs=1e-4)
    np.testing.assert_allclose(m.psi.numpy(), fa.noise_variance_, rtol=2e-2)


@pytest.mark.parametrize("call, msg", [
    (lambda: lg.LinearGaussianModel(np.ones((3, 1)), np.zeros(2), 1.0), "b"),
    (lambda: lg.LinearGaussianModel(np.ones((3, 1)), np.zeros(3), -1.0), "noise_var"),
    (lambda: lg.LinearGaussianModel(np.ones((3, 1)), np.zeros(3), np.ones(2)), "noise_var"),
    (lambda: lg.ppca_mle(np.ones((10, 3)), 3), "k"),
    (lambda: _model().log_prob(np.zeros((2, 4))), "x"),
    (lambda: _model().sample(0), "n"),
    (lambda: lg.kl_gauss(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)), "S1"),
])
def test_bad_input(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()


def test_bad_types():
    with pytest.raises(TypeError, match="W"):
        lg.LinearGaussianModel("W", np.zeros(3), 1.0)
    with pytest.raises(TypeError, match="model"):
        lg.em_step_ppca(_model(fa=True), np.zeros((5, 5)))
