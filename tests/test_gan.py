"""lib.gan: losses vs softplus forms and torch's BCE, D* and JSD vs closed forms and scipy, W1 vs scipy,
the gradient penalty vs a hand-computed linear critic, and a short training run."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.spatial.distance import jensenshannon
from scipy.stats import norm, wasserstein_distance

from lib import gan

torch.set_default_dtype(torch.float32)


@pytest.fixture
def logits():
    g = torch.Generator().manual_seed(3)
    return (3 * torch.randn(50, generator=g, dtype=torch.float64),
            3 * torch.randn(70, generator=g, dtype=torch.float64))


def test_losses_match_bce_with_logits_and_softplus(logits):
    lr, lf = logits
    ref_d = (F.binary_cross_entropy_with_logits(lr, torch.ones_like(lr))
             + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf)))
    torch.testing.assert_close(gan.d_loss_bce(lr, lf), ref_d, rtol=1e-12, atol=1e-12)
    # non-saturating = BCE of fakes against label 1; saturating = -(BCE of fakes against label 0)
    torch.testing.assert_close(gan.g_loss_nonsaturating(lf),
                               F.binary_cross_entropy_with_logits(lf, torch.ones_like(lf)), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gan.g_loss_saturating(lf),
                               -F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf)), rtol=1e-12, atol=1e-12)
    # hand-computed: log(1 + e^l) with probabilities
    d = 1 / (1 + np.exp(-lf.numpy()))
    assert gan.g_loss_saturating(lf).item() == pytest.approx(np.mean(np.log(1 - d)), rel=1e-10)
    assert gan.g_loss_nonsaturating(lf).item() == pytest.approx(-np.mean(np.log(d)), rel=1e-10)
    assert gan.wgan_critic_loss(lr, lf).item() == pytest.approx(lf.mean().item() - lr.mean().item())
    assert gan.wgan_gen_loss(lf).item() == pytest.approx(-lf.mean().item())


def test_losses_stable_at_extreme_logits_and_gradients():
    l = torch.tensor([-50.0, -6.0, 0.0, 6.0, 50.0], dtype=torch.float64, requires_grad=True)
    for fn in (gan.g_loss_saturating, gan.g_loss_nonsaturating):
        v = fn(l)
        (g,) = torch.autograd.grad(v, l)
        assert torch.isfinite(v) and torch.all(torch.isfinite(g))
    # per-sample gradients at l = -6: saturating -sigmoid(l), non-saturating -(1 - sigmoid(l))
    l1 = torch.tensor([-6.0], dtype=torch.float64, requires_grad=True)
    (gs,) = torch.autograd.grad(gan.g_loss_saturating(l1), l1)
    (gn,) = torch.autograd.grad(gan.g_loss_nonsaturating(l1), l1)
    assert gs.item() == pytest.approx(-1 / (1 + math.exp(6)), rel=1e-12)
    assert gn.item() == pytest.approx(-1 / (1 + math.exp(-6)), rel=1e-12)
    assert abs(gs.item()) < 0.003 and abs(gn.item()) > 0.997


def test_optimal_discriminator_and_jsd_closed_forms():
    x = np.linspace(-12, 14, 20001)
    dx = x[1] - x[0]
    p, q = norm.pdf(x, 0, 1), norm.pdf(x, 1.5, 0.7)
    d = gan.optimal_discriminator(p, q)
    np.testing.assert_allclose(d, p / (p + q), rtol=1e-14)
    jsd = gan.js_divergence_grid(p, q, dx)
    assert jsd == pytest.approx(jensenshannon(p, q) ** 2, rel=1e-6)  # scipy returns sqrt(JSD), nats
    assert gan.gan_value_grid(d, p, q, dx) == pytest.approx(2 * jsd - math.log(4), abs=1e-8)
    # any other discriminator does worse
    for other in (np.full_like(p, 0.5), np.clip(d + 0.05, 0, 1 - 1e-12), 1 / (1 + np.exp(-x))):
        assert gan.gan_value_grid(other, p, q, dx) < gan.gan_value_grid(d, p, q, dx)
    assert np.all(gan.optimal_discriminator(p, p) == 0.5) and gan.js_divergence_grid(p, p, dx) == 0.0
    # closed-form Gaussian KL
    kl = math.log(0.7 / 1.0) + (1 + 1.5 ** 2) / (2 * 0.49) - 0.5
    assert gan.kl_grid(p, q, dx) == pytest.approx(kl, rel=1e-6)


def test_disjoint_supports_jsd_log2_kl_inf_w1_shift():
    x = np.linspace(-3, 10, 13001)
    dx = x[1] - x[0]
    p = np.where(np.abs(x) < 0.5, 1.0, 0.0)
    for theta in (2.0, 5.0):
        q = np.where(np.abs(x - theta) < 0.5, 1.0, 0.0)
        assert gan.js_divergence_grid(p, q, dx) == pytest.approx(math.log(2), rel=1e-12)
        assert gan.kl_grid(p, q, dx) == math.inf
        assert gan.w1_grid(p, q, dx) == pytest.approx(theta, rel=1e-3)


def test_w1_grid_matches_scipy():
    x = np.linspace(-8, 9, 3401)
    dx = x[1] - x[0]
    p = 0.3 * norm.pdf(x, -2, 0.5) + 0.7 * norm.pdf(x, 1, 1.2)
    q = norm.pdf(x, 0.4, 0.8)
    ref = wasserstein_distance(x, x, u_weights=p, v_weights=q)
    assert gan.w1_grid(p, q, dx) == pytest.approx(ref, rel=1e-3)


def test_gradient_penalty_linear_critic_by_hand():
    d, n = 3, 40
    g = torch.Generator().manual_seed(0)
    w = torch.tensor([0.6, -1.2, 0.5], dtype=torch.float64)
    critic = lambda x: x @ w  # gradient w everywhere
    xr = torch.randn(n, d, generator=g, dtype=torch.float64)
    xf = torch.randn(n, d, generator=g, dtype=torch.float64)
    gp = gan.gradient_penalty(critic, xr, xf, lam=10.0)
    assert gp.item() == pytest.approx(10.0 * (w.norm().item() - 1) ** 2, rel=1e-12)
    unit = lambda x: x @ (w / w.norm())
    assert gan.gradient_penalty(unit, xr, xf).item() == pytest.approx(0.0, abs=1e-24)


def test_gradient_penalty_evaluated_at_interpolates():
    seen = []
    A = torch.tensor([[2.0, 0.0], [0.0, 0.5]], dtype=torch.float64)

    def critic(x):  # quadratic: grad = 2 A x, so the penalty depends on where it is evaluated
        seen.append(x.detach().clone())
        return ((x @ A) * x).sum(1)

    xr = torch.zeros(500, 2, dtype=torch.float64)
    xf = torch.ones(500, 2, dtype=torch.float64)
    gp = gan.gradient_penalty(critic, xr, xf, lam=2.0, generator=torch.Generator().manual_seed(1))
    xh = seen[0]
    a = xh[:, 0]
    assert torch.allclose(xh[:, 1], a) and 0.0 < a.min() and a.max() < 1.0 and abs(a.mean() - 0.5) < 0.05
    grad = 2 * xh @ A
    assert gp.item() == pytest.approx(2.0 * ((grad.norm(dim=1) - 1) ** 2).mean().item(), rel=1e-12)


def test_gp_linear_critic_bias():
    assert gan.gp_linear_critic_estimate(4.0, 10.0) == pytest.approx(4.8)
    # the maximiser of s*theta - lam (s - 1)^2 over a fine grid of slopes
    s = np.linspace(0, 3, 300001)
    obj = s * 4.0 - 10.0 * (s - 1) ** 2
    assert s[obj.argmax()] * 4.0 == pytest.approx(4.8, abs=1e-4)


def test_critic_estimates_w1_with_upward_bias():
    g = torch.Generator().manual_seed(5)
    xp = torch.randn(2000, 1, generator=g)
    xq = torch.randn(2000, 1, generator=g) + 1.0
    _, est = gan.train_critic_1d(xp, xq, steps=300, lam=10.0, generator=torch.Generator().manual_seed(0))
    ref = wasserstein_distance(xp[:, 0].numpy(), xq[:, 0].numpy())
    assert 0.85 * ref < est < 1.2 * ref


def test_birthday_duplicates_brute_force():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    x[10] = x[3] + 1e-4
    thr = 0.05
    brute = sum(np.linalg.norm(x[i] - x[j]) < thr for i in range(60) for j in range(i + 1, 60))
    assert gan.birthday_duplicates(x, thr) == brute >= 1
    assert gan.birthday_duplicates(np.zeros((20, 2)), 0.01) == 20 * 19 // 2


def test_train_gan_runs_and_snapshots():
    X = torch.randn(500, 2) * 0.1 + torch.tensor([1.0, -1.0])
    torch.manual_seed(0)
    G, D = gan.MLPGenerator(hidden=16), gan.MLPDiscriminator(hidden=16)
    out = gan.train_gan(G, D, X, "ns", steps=300, batch=64, snapshot_every=100, grid_n=10)
    assert [s["step"] for s in out["snapshots"]] == [1, 100, 200, 300]
    s = out["snapshots"][-1]
    assert s["samples"].shape == (512, 2) and s["grid"].shape == (10, 10)
    assert np.all((s["grid"] >= 0) & (s["grid"] <= 1))
    # the generator moved towards the data mean
    assert np.linalg.norm(s["samples"].mean(0) - np.array([1.0, -1.0])) < 0.4
    for kind in ("saturating", "wgan-gp", "wgan-clip"):
        out = gan.train_gan(gan.MLPGenerator(hidden=8), gan.MLPDiscriminator(hidden=8), X, kind, steps=3, batch=16)
        assert len(out["history"]["d_loss"]) == 3 and np.all(np.isfinite(out["history"]["g_loss"]))
    D = gan.MLPDiscriminator(hidden=8)
    gan.clip_weights_(D, 0.01)
    assert all(p.abs().max() <= 0.01 for p in D.parameters())


@pytest.mark.parametrize("call, msg", [
    (lambda: gan.d_loss_bce(np.zeros(3), torch.zeros(3)), "logit_real"),
    (lambda: gan.gradient_penalty(lambda x: x.sum(1), torch.zeros(3, 2), torch.zeros(4, 2)), "x_real"),
    (lambda: gan.gradient_penalty(lambda x: x.sum(1), torch.zeros(3, 2), torch.zeros(3, 2), lam=-1), "lam"),
    (lambda: gan.train_gan(gan.MLPGenerator(), gan.MLPDiscriminator(), torch.zeros(10, 2), "lsgan"), "kind"),
    (lambda: gan.train_gan(gan.MLPGenerator(), gan.MLPDiscriminator(), torch.zeros(10, 2), steps=0), "steps"),
    (lambda: gan.train_gan(gan.MLPGenerator(), gan.MLPDiscriminator(), torch.zeros(10), steps=1), "data"),
    (lambda: gan.optimal_discriminator([1.0, 2.0], [1.0]), "p, q"),
    (lambda: gan.kl_grid([1.0, -1.0], [1.0, 1.0], 0.1), "non-negative"),
    (lambda: gan.js_divergence_grid([1.0], [1.0], 0.0), "dx"),
    (lambda: gan.birthday_duplicates(np.zeros(5), 0.1), "samples"),
    (lambda: gan.birthday_duplicates(np.zeros((5, 2)), 0.0), "threshold"),
    (lambda: gan.clip_weights_(gan.MLPDiscriminator(), 0.0), "c:"),
    (lambda: gan.train_critic_1d(torch.zeros(5, 2), torch.zeros(5, 1)), "x_p"),
])
def test_bad_input(call, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        call()
