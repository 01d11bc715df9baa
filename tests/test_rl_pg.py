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


# --------------------------------------------------------------------------- Chapter 8: actor-critic and training loops
from lib.rl import envs, returns  # noqa: E402


def test_a2c_loss_by_hand():
    logits = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]], dtype=torch.float64, requires_grad=True)
    d = torch.distributions.Categorical(logits=logits)
    actions = torch.tensor([1, 0])
    adv = torch.tensor([2.0, -1.0], dtype=torch.float64)
    values = torch.tensor([1.0, 0.5], dtype=torch.float64, requires_grad=True)
    rets = torch.tensor([3.0, 0.0], dtype=torch.float64)
    loss, info = pg.a2c_loss(d, actions, adv, values, rets, vf_coef=0.5, ent_coef=0.1)
    # log pi = [log 1/2, log 3/4]; policy loss = -(2 log 0.5 - log 0.75) / 2
    pl = -(2 * math.log(0.5) - math.log(0.75)) / 2
    vl = 0.5 * ((1 - 3) ** 2 + 0.5 ** 2) / 2
    ent = (math.log(2) - (0.75 * math.log(0.75) + 0.25 * math.log(0.25))) / 2
    assert math.isclose(loss.item(), pl + 0.5 * vl - 0.1 * ent, rel_tol=1e-12)
    assert math.isclose(info["policy_loss"], pl) and math.isclose(info["value_loss"], vl)
    assert math.isclose(info["entropy"], ent)
    loss.backward()
    # semi-gradient critic: d loss / d V = vf_coef * (V - G) / B, targets are constants
    assert torch.allclose(values.grad, 0.5 * (values.detach() - rets) / 2)


def test_clipped_value_loss_by_hand():
    v_old = torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64)
    v_new = torch.tensor([2.0, 1.1, 0.0], dtype=torch.float64)
    G = torch.tensor([3.0, 0.0, 0.0], dtype=torch.float64)
    # clipped values with eps 0.5: [1.5, 1.1, 0.5]; per-sample max of squared errors: [max(1, 2.25),
    # max(1.21, 1.21), max(0, 0.25)]
    ref = 0.5 * (2.25 + 1.21 + 0.25) / 3
    assert math.isclose(pg.clipped_value_loss(v_new, v_old, G, 0.5).item(), ref, rel_tol=1e-12)
    assert math.isclose(pg.clipped_value_loss(v_new, v_old, G, 1e9).item(),
                        0.5 * ((v_new - G) ** 2).mean().item(), rel_tol=1e-12)


def test_actor_critic_shapes_and_initial_policy():
    torch.manual_seed(0)
    m = pg.ActorCritic(4, 3, hidden=16)
    obs = torch.randn(5, 4)
    logits, v = m(obs)
    assert logits.shape == (5, 3) and v.shape == (5,)
    assert torch.allclose(m.dist(obs).probs, torch.full((5, 3), 1 / 3), atol=0.02)  # gain 0.01: near uniform
    assert torch.allclose(m.value(obs), v)


def test_collect_rollout_buffer_and_truncation():
    """The buffer holds what the policy did: stored log-probs and values equal the model's on the stored
    observations; rewards and flags equal a replay of the same actions through cartpole_step; the
    truncation step (max_steps 7) carries V(final_obs) and GAE bootstraps from it."""
    torch.manual_seed(1)
    m = pg.ActorCritic(4, 2, hidden=8)
    env = envs.CartPoleVec(3, max_steps=7, seed=2)
    obs, _ = env.reset()
    buf, hist = pg.RolloutBuffer(10, 3, 4), pg.History()
    state0 = env.state.copy()
    nxt = pg.collect_rollout(m, env, obs, buf, hist, step0=0)
    with torch.no_grad():
        assert torch.allclose(buf.logp, m.dist(buf.obs).log_prob(buf.actions), atol=1e-6)
        assert torch.allclose(buf.values, m.value(buf.obs), atol=1e-6)
    s, steps = state0, np.zeros(3, dtype=int)
    for t in range(10):
        assert np.allclose(buf.obs[t].numpy(), s.astype(np.float32))
        s1 = envs.cartpole_step(s, buf.actions[t].numpy())
        steps += 1
        term, trunc = envs.cartpole_terminated(s1), steps >= 7
        assert np.array_equal(buf.terminated[t].numpy() == 1, term)
        assert np.array_equal(buf.truncated[t].numpy() == 1, trunc)
        if trunc.any():
            with torch.no_grad():
                ref = m.value(torch.tensor(s1[trunc], dtype=torch.float32))
            assert torch.allclose(buf.final_values[t, torch.tensor(trunc)], ref, atol=1e-6)
        assert torch.all(buf.final_values[t, torch.tensor(~trunc)] == 0)
        done = term | trunc
        steps[done] = 0
        s = s1.copy()
        if t < 9:  # the autoreset start states, as the buffer recorded them
            s[done] = buf.obs[t + 1].numpy()[done]
    assert buf.truncated[6].all() and len(hist.episode_returns) >= 3 and hist.episode_steps[0] == 21
    adv, ret = buf.advantages(m.value(torch.as_tensor(nxt)).detach(), 0.9, 0.8)
    ref_adv, _ = returns.gae(buf.rewards.numpy().astype(float), buf.values.numpy().astype(float),
                             buf.terminated.numpy().astype(float), m.value(torch.as_tensor(nxt)).detach().numpy(),
                             0.9, 0.8, truncated=buf.truncated.numpy().astype(float),
                             final_values=buf.final_values.numpy().astype(float))
    assert np.allclose(adv.numpy(), ref_adv, atol=1e-5)
    assert torch.allclose(ret, adv + buf.values, atol=1e-5)


def test_history_curve():
    h = pg.History(episode_steps=[10, 20, 30], episode_returns=[1.0, 2.0, 6.0])
    assert np.allclose(h.curve([5, 10, 25, 40], k=2), [np.nan, 1.0, 1.5, 4.0], equal_nan=True)
    assert h.final_return(2) == 4.0


@pytest.mark.slow
@pytest.mark.parametrize("train", [pg.train_reinforce, pg.train_a2c, pg.train_ppo])
def test_training_loops_learn_something(train):
    """10k CartPole steps: every method beats the random policy's return (about 22) clearly."""
    _, hist = train(total_steps=10_000, seed=3)
    assert sum(hist.episode_returns) <= 10_000 + 500 * 8
    assert hist.episode_steps == sorted(hist.episode_steps) and hist.episode_steps[-1] <= 10_000 + 500 * 8
    assert np.mean(hist.episode_returns[:10]) < 40 < hist.final_return(10)
    if train is pg.train_ppo:  # the last batch's ratios after its epochs: positive, not all 1
        ratio = hist.last_batch["ratio"]
        assert ratio.shape == hist.last_batch["advantages"].shape == (8 * 128,)
        assert np.all(ratio > 0) and np.abs(ratio - 1).max() > 1e-3


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: pg.ActorCritic(0, 2), ValueError, "obs_dim"),
    (lambda: pg.RolloutBuffer(4, 0, 4), ValueError, "n_envs"),
    (lambda: pg.clipped_value_loss(torch.zeros(2), torch.zeros(2), torch.zeros(2), 0), ValueError, "clip_eps"),
    (lambda: pg.clipped_value_loss(torch.zeros(2), torch.zeros(3), torch.zeros(2), 0.2), ValueError, "v_old"),
    (lambda: pg.a2c_loss(torch.zeros(2), torch.zeros(2), torch.zeros(2), torch.zeros(2), torch.zeros(2)),
     TypeError, "dist"),
    (lambda: pg.a2c_loss(torch.distributions.Categorical(logits=torch.zeros(3, 2)), torch.zeros(3),
                         torch.zeros(2), torch.zeros(3), torch.zeros(3)), ValueError, "advantages"),
    (lambda: pg.train_ppo(total_steps=0), ValueError, "total_steps"),
    (lambda: pg.train_a2c(n_steps=-1), ValueError, "n_steps"),
])
def test_bad_input_ch08(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_actor_critic_and_rollouts_on_gpu():
    """Same weights on both devices: equal outputs and losses; a short PPO run and a rollout work on CUDA."""
    torch.manual_seed(0)
    cpu = pg.ActorCritic(4, 2)
    gpu = pg.ActorCritic(4, 2, device="cuda")
    gpu.load_state_dict(cpu.state_dict())
    obs = torch.randn(64, 4)
    (l_c, v_c), (l_g, v_g) = cpu(obs), gpu(obs.cuda())
    assert torch.allclose(l_c, l_g.cpu(), atol=1e-5) and torch.allclose(v_c, v_g.cpu(), atol=1e-5)
    a = torch.randint(2, (64,))
    adv, ret = torch.randn(64), torch.randn(64)
    loss_c, _ = pg.a2c_loss(cpu.dist(obs), a, adv, v_c, ret)
    loss_g, _ = pg.a2c_loss(gpu.dist(obs.cuda()), a.cuda(), adv.cuda(), v_g, ret.cuda())
    assert abs(loss_c.item() - loss_g.item()) < 1e-5
    env = envs.CartPoleVec(4, max_steps=20, seed=0)
    obs_np, _ = env.reset()
    buf = pg.RolloutBuffer(32, 4, 4, device="cuda")
    pg.collect_rollout(gpu, env, obs_np, buf, pg.History(), 0)
    assert buf.obs.is_cuda and buf.truncated.sum() > 0
    adv_g, _ = buf.advantages(torch.zeros(4, device="cuda"), 0.99, 0.95)
    assert adv_g.is_cuda and torch.isfinite(adv_g).all()
    for train in (pg.train_reinforce, pg.train_a2c, pg.train_ppo):
        model, hist = train(total_steps=3_000, seed=0, device="cuda")
        assert next(model.parameters()).is_cuda and len(hist.episode_returns) > 0
