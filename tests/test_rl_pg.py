"""lib.rl.pg: PPO hand table (values and autograd gradients), REINFORCE = exact policy gradient,
natural gradient identity, trust-region steps, bad input."""
import math

import numpy as np
import pytest
import torch

from lib.rl import pg

# (rho, A, L^CLIP, dL/dlogp_new) with eps = 0.2 (spec section 6, E8)
TABLE = [(1.5, 1.0, 1.2, 0.0), (0.5, -1.0, -0.8, 0.0), (1.1, 1.0, 1.1, 1.1),
         (0.7, -1.0, -0.8, 0.0), (1.5, -1.0, -1.5, -1.5), (0.5, 1.0, 0.5, 0.5)]


def test_ppo_hand_table_values_and_gradients():
    rho = torch.tensor([r for r, *_ in TABLE], dtype=torch.float64)
    adv = torch.tensor([a for _, a, *_ in TABLE], dtype=torch.float64)
    logp_old = torch.full_like(rho, math.log(0.5))
    for i, (_, _, value, grad) in enumerate(TABLE):
        logp_new = (logp_old[i] + torch.log(rho[i])).clone().requires_grad_(True)
        loss, info = pg.ppo_clip_loss(logp_new[None], logp_old[i:i + 1], adv[i:i + 1], 0.2)
        assert math.isclose(-loss.item(), value, abs_tol=1e-12)
        loss.backward()
        assert math.isclose(-logp_new.grad.item(), grad, abs_tol=1e-12)
        assert math.isclose(info["ratio"].item(), rho[i].item(), rel_tol=1e-12)


def test_ppo_info_and_mean():
    g = torch.Generator().manual_seed(3)
    logp_old = torch.randn(50, generator=g, dtype=torch.float64)
    logp_new = logp_old + 0.4 * torch.randn(50, generator=g, dtype=torch.float64)
    adv = torch.randn(50, generator=g, dtype=torch.float64)
    loss, info = pg.ppo_clip_loss(logp_new, logp_old, adv, 0.1)
    r = torch.exp(logp_new - logp_old)
    ref = -torch.minimum(r * adv, r.clamp(0.9, 1.1) * adv).mean()
    assert torch.allclose(loss, ref)
    assert math.isclose(info["clip_fraction"], float(((r - 1).abs() > 0.1).double().mean()))
    assert math.isclose(info["approx_kl"], float((r - 1 - torch.log(r)).mean()), rel_tol=1e-12)
    assert info["approx_kl"] > 0


def test_reinforce_surrogate_is_exact_policy_gradient_in_expectation():
    """Sum over all actions weighted by pi: the surrogate's gradient equals grad_theta of sum pi r."""
    theta = torch.tensor([0.3, -0.5, 1.2, 0.0], dtype=torch.float64, requires_grad=True)
    r = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    exact = torch.autograd.grad((torch.softmax(theta, 0) * r).sum(), theta)[0]
    for baseline in (None, 0.7):
        grads = []
        logp = torch.log_softmax(theta, 0)
        for a in range(4):
            loss = pg.reinforce_loss(logp[a:a + 1], r[a:a + 1], baseline=baseline)
            grads.append(torch.autograd.grad(loss, theta, retain_graph=True)[0])
        pi = torch.softmax(theta, 0).detach()
        est = -sum(pi[a] * grads[a] for a in range(4))
        assert torch.allclose(est, exact, atol=1e-12)


def test_reinforce_returns_to_go_and_discount():
    logp = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64, requires_grad=True)
    rewards = torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64)
    g = 0.5
    G = torch.tensor([1 + 0.25 * 2, 0.5 * 2, 2.0], dtype=torch.float64)
    w = torch.tensor([1.0, 0.5, 0.25], dtype=torch.float64)
    loss = pg.reinforce_loss(logp, rewards, gamma=g)
    assert torch.allclose(loss, -(w * G * logp).sum())
    loss2 = pg.reinforce_loss(logp, rewards, gamma=g, discount_weights=False)
    assert torch.allclose(loss2, -(G * logp).sum())
    batch = pg.reinforce_loss(torch.stack([logp, logp]), torch.stack([rewards, rewards]), gamma=g)
    assert torch.allclose(batch, loss)


def test_natural_gradient_identity_and_steps():
    rng = np.random.default_rng(1)
    z, r = rng.normal(size=6), rng.normal(size=6)
    p = np.exp(z - z.max()); p /= p.sum()
    F = pg.softmax_fisher(p)
    g = F @ r  # gradient of sum softmax(z) r with respect to z
    th = torch.tensor(z, requires_grad=True)
    auto = torch.autograd.grad((torch.softmax(th, 0) * torch.tensor(r)).sum(), th)[0].numpy()
    assert np.allclose(g, auto, atol=1e-14)
    assert np.allclose(np.linalg.pinv(F) @ g, r - r.mean(), atol=1e-10)
    delta = 0.01
    d = pg.natural_gradient_step(z, g, delta)
    assert np.allclose(d / np.linalg.norm(d), (r - r.mean()) / np.linalg.norm(r - r.mean()), atol=1e-10)
    assert math.isclose(0.5 * d @ F @ d, delta, rel_tol=1e-10)
    q = np.exp(z + d - (z + d).max()); q /= q.sum()
    assert abs(pg.kl_categorical(p, q) - delta) < 0.2 * delta  # the quadratic model of the KL
    e = pg.euclidean_trust_step(g, 0.04)
    assert math.isclose(np.linalg.norm(e), 0.2, rel_tol=1e-12) and np.allclose(e / 0.2, g / np.linalg.norm(g))


def test_kl_categorical():
    p, q = np.array([0.2, 0.8]), np.array([0.5, 0.5])
    assert math.isclose(pg.kl_categorical(p, q), 0.2 * math.log(0.4) + 0.8 * math.log(1.6))
    assert pg.kl_categorical(p, p) == 0.0
    assert pg.kl_categorical(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == math.inf


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: pg.ppo_clip_loss(torch.zeros(3), torch.zeros(2), torch.zeros(3)), ValueError, "logp_new"),
    (lambda: pg.ppo_clip_loss(torch.zeros(3), torch.zeros(3), torch.zeros(3), 0.0), ValueError, "clip_eps"),
    (lambda: pg.ppo_clip_loss([0.0], torch.zeros(1), torch.zeros(1)), TypeError, "logp_new"),
    (lambda: pg.reinforce_loss(torch.zeros(3), torch.zeros(3), gamma=1.5), ValueError, "gamma"),
    (lambda: pg.reinforce_loss(torch.zeros(3), torch.zeros(2)), ValueError, "logp"),
    (lambda: pg.softmax_fisher([0.5, 0.6]), ValueError, "p"),
    (lambda: pg.euclidean_trust_step([1.0, 2.0], -1.0), ValueError, "eps"),
    (lambda: pg.natural_gradient_step([0.0, 1.0], [1.0], 0.1), ValueError, "grad"),
])
def test_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
