"""lib.gmm: densities against scipy, scores against autograd, posterior means against Monte Carlo and Tweedie,
the flow velocity against the score relation and at t = 1, sampling moments, toy shapes, bad input."""
import math

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from lib import gmm as G

F64 = torch.float64


def _random_mixture(seed, K=3, d=2):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(K, d, d, generator=g, dtype=F64) * 0.6
    covs = A @ A.transpose(1, 2) + 0.2 * torch.eye(d, dtype=F64)
    w = torch.rand(K, generator=g, dtype=F64) + 0.1
    return G.GaussianMixture(w, 2 * torch.randn(K, d, generator=g, dtype=F64), covs)


def _scipy_logpdf(x, w, means, covs):
    comps = [np.log(wk) + multivariate_normal(m, c).logpdf(x) for wk, m, c in zip(w, means, covs)]
    return np.logaddexp.reduce(np.stack(comps), axis=0)


@pytest.mark.parametrize("seed,d", [(0, 2), (1, 3), (2, 1)])
def test_log_prob_matches_scipy(seed, d):
    m = _random_mixture(seed, K=4, d=d)
    x = torch.randn(50, d, dtype=F64, generator=torch.Generator().manual_seed(10)) * 3
    want = _scipy_logpdf(x.numpy(), m.weights.numpy(), m.means.numpy(), m.covs.numpy())
    np.testing.assert_allclose(m.log_prob(x).numpy(), want, rtol=1e-10, atol=1e-10)


def test_isotropic_covs_expand_to_matrices_and_weights_normalise():
    m = G.GaussianMixture([1.0, 3.0], [[0.0, 0.0], [1.0, 1.0]], [0.5, 2.0])
    assert m.covs.shape == (2, 2, 2)
    np.testing.assert_allclose(m.covs[1].numpy(), 2.0 * np.eye(2))
    np.testing.assert_allclose(m.weights.numpy(), [0.25, 0.75])


@pytest.mark.parametrize("a,b", [(1.0, 0.0), (0.8, 0.6), (0.3, 1.5), (0.0, 1.0)])
def test_noised_score_matches_autograd(a, b):
    m = _random_mixture(3)
    x = torch.randn(40, 2, dtype=F64, generator=torch.Generator().manual_seed(4)) * 2
    xg = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(m.noised(a, b).log_prob(xg).sum(), xg)
    torch.testing.assert_close(m.score_t(x, a, b), grad, rtol=1e-10, atol=1e-10)


def test_noised_law_matches_the_moments_of_a_x_plus_b_eps():
    m = _random_mixture(5)
    gen = torch.Generator().manual_seed(6)
    x0, _ = m.sample(200_000, generator=gen)
    xt = 0.7 * x0 + 0.9 * torch.randn(x0.shape, dtype=F64, generator=gen)
    mn = m.noised(0.7, 0.9)
    mean = (mn.weights[:, None] * mn.means).sum(0)
    second = (mn.weights[:, None, None] * (mn.covs + mn.means[:, :, None] * mn.means[:, None, :])).sum(0)
    cov = second - mean[:, None] * mean[None, :]
    torch.testing.assert_close(xt.mean(0), mean, atol=0.02, rtol=0)
    torch.testing.assert_close(torch.cov(xt.T), cov, atol=0.05, rtol=0)


def test_sample_label_frequencies_and_component_moments():
    m = G.ring_gmm(weights=[0.51] + [0.07] * 7)
    x, lab = m.sample(100_000, generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(lab, minlength=8).to(F64) / lab.numel()
    assert torch.abs(freq - m.weights).max() < 0.006
    sel = x[lab == 0]
    torch.testing.assert_close(sel.mean(0), m.means[0], atol=0.005, rtol=0)
    assert abs(float(sel.std(0).mean()) - 0.1) < 0.003


@pytest.mark.parametrize("a,b", [(0.9, 0.45), (0.5, 0.87)])
def test_posterior_mean_is_tweedie_and_matches_monte_carlo(a, b):
    m = _random_mixture(7)
    x = torch.randn(30, 2, dtype=F64, generator=torch.Generator().manual_seed(8))
    post = m.posterior_mean_x0(x, a, b)
    torch.testing.assert_close(post, (x + b * b * m.score_t(x, a, b)) / a, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(m.posterior_mean_eps(x, a, b), -b * m.score_t(x, a, b), rtol=1e-10, atol=1e-10)
    # Monte Carlo by importance weighting: x0 ~ p, weight N(x_t; a x0, b^2 I)
    x0, _ = m.sample(400_000, generator=torch.Generator().manual_seed(9))
    for i in range(3):
        logw = -((x[i] - a * x0) ** 2).sum(1) / (2 * b * b)
        w = torch.softmax(logw, 0)
        ess = 1 / (w ** 2).sum()
        mc = (w[:, None] * x0).sum(0)
        se = torch.sqrt((w[:, None] * (x0 - mc) ** 2).sum(0) / ess)
        assert torch.all(torch.abs(mc - post[i]) < 5 * se + 1e-3), (i, mc, post[i], se)


def test_per_point_levels_agree_with_scalar_calls():
    m = _random_mixture(11)
    gen = torch.Generator().manual_seed(12)
    x = torch.randn(25, 2, dtype=F64, generator=gen)
    a = torch.rand(25, dtype=F64, generator=gen)
    b = torch.sqrt(1 - a ** 2)
    rows = [m.score_t(x[i:i + 1], float(a[i]), float(b[i]))[0] for i in range(25)]
    torch.testing.assert_close(m.score_t(x, a, b), torch.stack(rows), rtol=1e-12, atol=1e-12)
    rows = [m.posterior_mean_x0(x[i:i + 1], float(a[i]), float(b[i]))[0] for i in range(25)]
    torch.testing.assert_close(m.posterior_mean_x0(x, a, b), torch.stack(rows), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("t", [0.1, 0.5, 0.9])
def test_flow_velocity_matches_the_corrected_score_relation(t):
    m = _random_mixture(13)
    x = torch.randn(30, 2, dtype=F64, generator=torch.Generator().manual_seed(14)) * 1.5
    v = m.flow_velocity(x, t)
    s = m.score_t(x, 1 - t, t)
    torch.testing.assert_close(v, (x + t * s) / (1 - t), rtol=1e-9, atol=1e-9)
    # the book's v = x + (t + 1) s is not it
    assert torch.abs(v - (x + (t + 1) * s)).max() > 0.1


def test_flow_velocity_is_regular_at_the_ends():
    m = _random_mixture(15)
    x = torch.randn(20, 2, dtype=F64, generator=torch.Generator().manual_seed(16))
    # at t = 1, x_t = x_1 is independent of x_0: v = E[x0] - x
    mean = (m.weights[:, None] * m.means).sum(0)
    torch.testing.assert_close(m.flow_velocity(x, 1.0), mean - x, rtol=1e-12, atol=1e-12)
    near = m.flow_velocity(x, 1 - 1e-7)
    assert torch.isfinite(near).all() and torch.abs(near - (mean - x)).max() < 1e-5
    # at t = 0, x_t = x_0: v = x - E[x1] = x
    torch.testing.assert_close(m.flow_velocity(x, 0.0), x, rtol=1e-12, atol=1e-12)


def test_flow_velocity_matches_monte_carlo():
    m = _random_mixture(17)
    t = 0.6
    x0, _ = m.sample(400_000, generator=torch.Generator().manual_seed(18))
    x1 = torch.randn(x0.shape, dtype=F64, generator=torch.Generator().manual_seed(19))
    xt = (1 - t) * x0 + t * x1
    target = x0 - x1
    pts = torch.tensor([[0.3, -0.2], [1.0, 0.5]], dtype=F64)
    v = m.flow_velocity(pts, t)
    for i in range(2):
        near = (xt - pts[i]).norm(dim=1) < 0.05
        mc = target[near].mean(0)
        se = target[near].std(0) / math.sqrt(int(near.sum()))
        # the kernel window adds a small bias; 5 standard errors plus 0.05 covers it
        assert torch.all(torch.abs(mc - v[i]) < 5 * se + 0.05), (mc, v[i])


def test_responsibilities_and_component():
    m = G.ring_gmm()
    r = m.responsibilities(m.means)
    torch.testing.assert_close(r.sum(1), torch.ones(8, dtype=F64))
    assert torch.all(r.argmax(1) == torch.arange(8))
    c = m.component(3)
    assert c.n_components == 1
    torch.testing.assert_close(c.score(m.means[3:4]), torch.zeros(1, 2, dtype=F64))


def test_density_grid_integrates_to_one_and_is_oriented():
    m = G.GaussianMixture([1.0], [[1.0, -0.5]], [0.09])
    n = 201
    grid = m.density_grid((-3, 3), (-3, 3), n=n)
    h = 6 / (n - 1)
    assert abs(grid.sum() * h * h - 1) < 1e-3
    i, j = np.unravel_index(grid.argmax(), grid.shape)
    xs = np.linspace(-3, 3, n)
    assert abs(xs[j] - 1.0) < h and abs(xs[i] + 0.5) < h          # row index is y, column index is x
    noised = m.density_grid((-6, 6), (-6, 6), n=n, a=0.5, b=1.0)
    assert abs(noised.sum() * (2 * h) ** 2 - 1) < 1e-3 and noised.max() < grid.max()


def test_float32_input_returns_float32_and_numpy_input_works():
    m = G.ring_gmm()
    x = torch.randn(5, 2)
    out = m.score_t(x, 0.5, 0.5)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.double(), m.score_t(x.double(), 0.5, 0.5), rtol=1e-6, atol=1e-6)
    assert m.log_prob(x.numpy()).dtype == F64


def test_toy_shapes_match_their_raw_samplers():
    from lib.sample_metrics import energy_distance
    gen = torch.Generator().manual_seed(20)
    for mix, raw in [(G.moons_gmm(), G.two_moons(1500, noise=0.08, generator=gen)),
                     (G.spiral_gmm(), G.spiral(1500, noise=0.06, generator=gen))]:
        x, _ = mix.sample(1500, generator=gen)
        far, _ = G.ring_gmm(radius=4.0).sample(1500, generator=gen)
        ed = energy_distance(x, raw)
        assert ed < 0.02 and energy_distance(far, raw) > 10 * ed, ed


def test_ring_geometry():
    m = G.ring_gmm(K=6, radius=3.0, std=0.2)
    torch.testing.assert_close(m.means.norm(dim=1), torch.full((6,), 3.0, dtype=F64))
    torch.testing.assert_close(m.covs[0], 0.04 * torch.eye(2, dtype=F64))


def test_bad_input_raises():
    with pytest.raises(ValueError, match="weights"):
        G.GaussianMixture([1.0, -1.0], [[0.0], [1.0]], [1.0, 1.0])
    with pytest.raises(ValueError, match="covs"):
        G.GaussianMixture([1.0], [[0.0, 0.0]], [[[1.0, 2.0], [2.0, 1.0]]])
    with pytest.raises(ValueError, match="means"):
        G.GaussianMixture([1.0], [0.0, 0.0], [1.0])
    with pytest.raises(TypeError, match="x"):
        G.ring_gmm().score("abc")
    with pytest.raises(ValueError, match="x"):
        G.ring_gmm().score(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="a"):
        G.ring_gmm().score_t(torch.zeros(3, 2), torch.ones(4), 0.5)
    with pytest.raises(ValueError, match="t"):
        G.ring_gmm().flow_velocity(torch.zeros(3, 2), 1.5)
    with pytest.raises(ValueError, match="n"):
        G.ring_gmm().sample(0)
    with pytest.raises(ValueError, match="k"):
        G.ring_gmm().component(8)
