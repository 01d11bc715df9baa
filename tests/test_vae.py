"""lib.vae against torch.distributions, closed-form linear-Gaussian quantities and sklearn's PCA."""
import math

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from torch import nn

from lib import linear_gaussian as lg
from lib import vae as V

D64 = torch.float64


def test_kl_diag_std_normal_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(50, 4, generator=g, dtype=D64), torch.randn(50, 4, generator=g, dtype=D64)
    N = torch.distributions.Normal
    ref = torch.distributions.kl_divergence(N(mu, torch.exp(0.5 * logvar)), N(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(V.kl_diag_std_normal(mu, logvar), ref, rtol=1e-12, atol=1e-12)
    assert torch.all(V.kl_diag_std_normal(mu, logvar) > 0)
    assert float(V.kl_diag_std_normal(torch.zeros(3), torch.zeros(3))) == 0.0


def test_reparameterize_moments_and_gradient():
    mu = torch.tensor([0.5, -1.0], dtype=D64, requires_grad=True)
    logvar = torch.tensor([0.2, -0.7], dtype=D64, requires_grad=True)
    n = 200_000
    z = V.reparameterize(mu.expand(n, 2), logvar.expand(n, 2), torch.Generator().manual_seed(1))
    torch.testing.assert_close(z.mean(0), mu.detach(), atol=0.01, rtol=0)
    torch.testing.assert_close(z.var(0), torch.exp(logvar.detach()), rtol=0.01, atol=0)
    (z ** 2).mean(0).sum().backward()          # d/dmu E z^2 = 2 mu, d/dlogvar = sigma^2
    torch.testing.assert_close(mu.grad, 2 * mu.detach(), rtol=0.03, atol=0.01)
    torch.testing.assert_close(logvar.grad, torch.exp(logvar.detach()), rtol=0.03, atol=0)


def test_pathwise_and_score_function_unbiased_with_different_variance():
    mu, logvar = torch.tensor([0.8, -0.3], dtype=D64), torch.tensor([0.0, -1.0], dtype=D64)
    f = lambda z: (z ** 2).sum(-1)
    n = 100_000
    pw = V.pathwise_grad(f, mu, logvar, n, torch.Generator().manual_seed(2))
    sf = V.score_function_grad(f, mu, logvar, n, torch.Generator().manual_seed(3))
    for est in (pw, sf):                       # within 4 standard errors of the true 2 mu
        se = est.std(0) / math.sqrt(n)
        assert torch.all((est.mean(0) - 2 * mu).abs() < 4 * se)
    assert torch.all(sf.var(0) > 3 * pw.var(0))
    # pathwise variance in closed form: Var(2 (mu + sigma eps)) = 4 sigma^2
    torch.testing.assert_close(pw.var(0), 4 * torch.exp(logvar), rtol=0.02, atol=0)


def _linear_vae(seed=0, d=4, k=2):
    """A VAE with linear encoder and decoder and fixed decoder variance: a PPCA model with exact log p."""
    torch.manual_seed(seed)
    enc, dec = V.GaussianEncoder(d, 8, k), V.GaussianDecoder(k, 8, d)
    enc.net, dec.net = nn.Linear(d, 2 * k), nn.Linear(k, d)
    vae = V.VAE(enc, dec).double()
    with torch.no_grad():
        dec.logvar.fill_(math.log(0.4))
        enc.net.bias[k:] -= 1.0
    model = lg.LinearGaussianModel(dec.net.weight.detach(), dec.net.bias.detach(), 0.4)
    return vae, model


def test_elbo_and_iwae_ordering_against_exact_log_likelihood():
    vae, model = _linear_vae()
    x = model.sample(200, generator=torch.Generator().manual_seed(4))
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        mu, logvar = vae.encode(x)
        exact_elbo = model.elbo(x, mu, torch.diag_embed(torch.exp(logvar)))
        mc = vae.elbo(x, n_samples=4000, generator=g)
        assert float(mc["elbo"].mean()) == pytest.approx(float(exact_elbo.mean()), abs=0.03)
        torch.testing.assert_close(mc["elbo"], exact_elbo, rtol=0.03, atol=0)
        torch.testing.assert_close(mc["kl"], V.kl_diag_std_normal(mu, logvar))
        bounds = [float(vae.iwae(x.repeat(200 // K + 1, 1), K, generator=g).mean()) for K in (1, 10, 100, 2000)]
    logp = float(model.log_prob(x).mean())
    assert bounds[0] == pytest.approx(float(exact_elbo.mean()), abs=0.1)
    assert bounds[0] < bounds[1] < bounds[2] < bounds[3] <= logp + 1e-3
    assert logp - bounds[3] < 0.5 * (logp - bounds[0])


def test_elbo_equals_log_likelihood_at_exact_diagonal_posterior():
    # with orthogonal decoder columns the exact posterior is diagonal, so a diagonal q can be exact
    d, k, s2 = 4, 2, 0.4
    W = torch.tensor([[1.5, 0.0], [0.0, 0.8], [0.0, 0.0], [0.0, 0.0]], dtype=D64)
    model = lg.LinearGaussianModel(W, torch.zeros(d, dtype=D64), s2)
    vae, _ = _linear_vae()
    post_cov = model.posterior(torch.zeros(d, dtype=D64))[1]
    B = post_cov @ W.T / s2
    with torch.no_grad():
        vae.decoder.net.weight.copy_(W)
        vae.decoder.net.bias.zero_()
        vae.encoder.net.weight.copy_(torch.cat([B, torch.zeros(k, d, dtype=D64)]))
        vae.encoder.net.bias.copy_(torch.cat([torch.zeros(k, dtype=D64), torch.log(torch.diagonal(post_cov))]))
        x = model.sample(100, generator=torch.Generator().manual_seed(6))
        mc = vae.elbo(x, n_samples=20_000, generator=torch.Generator().manual_seed(7))
        iw = vae.iwae(x, 50, generator=torch.Generator().manual_seed(8))
    logp = model.log_prob(x)
    torch.testing.assert_close(mc["elbo"], logp, atol=0.03, rtol=0)
    torch.testing.assert_close(iw, logp, atol=1e-10, rtol=0)  # exact posterior: every weight equals p(x)


def test_interpolate_linear_and_slerp():
    torch.manual_seed(0)
    vae = V.VAE(V.GaussianEncoder(6, 16, 3), V.BernoulliDecoder(3, 16, 6))
    xa, xb = torch.rand(6), torch.rand(6)
    z, xs = vae.interpolate(xa, xb, n=5)
    with torch.no_grad():
        za, zb = vae.encode(xa[None])[0][0], vae.encode(xb[None])[0][0]
        torch.testing.assert_close(xs, vae.decode(z))
    torch.testing.assert_close(z[0], za)
    torch.testing.assert_close(z[-1], zb)
    torch.testing.assert_close(z[2], 0.5 * (za + zb))
    t = torch.linspace(0, 1, 7)[:, None]
    a, b = torch.tensor([2.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 2.0])
    s = V.slerp(a, b, t)
    torch.testing.assert_close(s.norm(dim=1), torch.full((7,), 2.0))
    torch.testing.assert_close(s[0], a)
    torch.testing.assert_close(s[-1], b)
    zs, _ = vae.interpolate(xa, xb, n=5, mode="slerp")
    torch.testing.assert_close(zs[[0, -1]], z[[0, -1]])


@pytest.mark.slow
def test_linear_vae_reaches_ppca_and_sklearn_pca():
    g = torch.Generator().manual_seed(9)
    true = lg.LinearGaussianModel(torch.randn(5, 2, generator=g, dtype=D64) * torch.tensor([2.0, 1.0], dtype=D64),
                                  torch.randn(5, generator=g, dtype=D64), 0.3)
    X = true.sample(1500, generator=g)
    mle = lg.ppca_mle(X, 2)
    torch.manual_seed(1)
    lv = V.LinearGaussianVAE(5, 2)
    hist = V.train_vae(lv, X, steps=2000, batch=128, lr=1e-2, generator=torch.Generator().manual_seed(10))
    m = lv.to_model()
    gap = float(mle.log_prob(X).mean() - m.log_prob(X).mean())
    assert 0 <= gap < 0.03
    qm, qS = lv.q_params(X)
    assert float(m.elbo(X, qm, qS).mean()) <= float(m.log_prob(X).mean())
    assert float(m.noise_var) == pytest.approx(float(mle.noise_var), rel=0.08)
    pca = PCA(n_components=2).fit(X.numpy())
    assert lg.principal_cosines(m.W, torch.tensor(pca.components_.T)).min() > 0.999
    assert np.mean(hist["elbo"][-100:]) > np.mean(hist["elbo"][:100])


def test_train_vae_on_digits_improves_elbo_and_beta_lowers_kl():
    from lib.data import digits_tensors
    X, _ = digits_tensors(as_images=False)
    X = X[:600]
    res = {}
    for beta in (1.0, 8.0):
        torch.manual_seed(0)
        vae = V.VAE(V.GaussianEncoder(64, 64, 2), V.BernoulliDecoder(2, 64, 64))
        hist = V.train_vae(vae, X, steps=400, batch=64, lr=3e-3, beta_schedule=beta,
                           generator=torch.Generator().manual_seed(0))
        res[beta] = hist
    h = res[1.0]
    assert np.mean(h["elbo"][-50:]) > np.mean(h["elbo"][:50]) + 5
    assert np.mean(res[8.0]["kl"][-50:]) < 0.5 * np.mean(h["kl"][-50:])


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: V.kl_diag_std_normal(torch.zeros(2), torch.zeros(3)), ValueError, "logvar"),
    (lambda: V.reparameterize(np.zeros(2), torch.zeros(2)), TypeError, "mu"),
    (lambda: V.GaussianEncoder(0, 4, 2), ValueError, "in_dim"),
    (lambda: V.VAE(V.GaussianEncoder(4, 4, 2), nn.Linear(2, 4)), TypeError, "decoder"),
    (lambda: V.VAE(V.GaussianEncoder(4, 4, 2), V.BernoulliDecoder(2, 4, 4)).interpolate(
        torch.zeros(4), torch.ones(4), mode="cubic"), ValueError, "mode"),
    (lambda: V.train_vae(V.LinearGaussianVAE(3, 1), torch.zeros(5, 3), steps=0), ValueError, "steps"),
    (lambda: V.train_vae(V.LinearGaussianVAE(3, 1), np.zeros((5, 3))), TypeError, "X"),
])
def test_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_corrected_elbo_sign_is_a_bound_and_the_books_is_not():
    """Correction 7.I.1: ELBO = rec - KL (= rec + 1/2 sum(1 + logvar - mu^2 - e^logvar)); rec + KL exceeds log p."""
    vae, model = _linear_vae(seed=3)
    x = model.sample(300, generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        out = vae.elbo(x, n_samples=2000, generator=torch.Generator().manual_seed(12))
        mu, logvar = vae.encode(x)
    half_sum = 0.5 * (1 + logvar - mu ** 2 - torch.exp(logvar)).sum(-1)
    torch.testing.assert_close(out["elbo"], out["rec"] + half_sum)
    logp = model.log_prob(x)
    assert float((out["rec"] + half_sum).mean()) < float(logp.mean())
    assert float((out["rec"] - half_sum).mean()) > float(logp.mean())        # the book's sign breaks the bound
