"""lib.rl.dqn: targets and loss by hand, Polyak identities, replay buffer, fitted Q vs value iteration."""
import copy

import numpy as np
import pytest
import torch

from lib.rl import dqn, envs, mdp, offline


def _linear_net(W, b):
    net = torch.nn.Linear(W.shape[1], W.shape[0]).double()
    with torch.no_grad():
        net.weight.copy_(torch.tensor(W))
        net.bias.copy_(torch.tensor(b))
    return net


@pytest.fixture
def nets_and_batch():
    online = _linear_net(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([0.0, 0.5]))
    target = _linear_net(np.array([[0.5, 1.0], [2.0, 0.0]]), np.array([0.1, 0.0]))
    batch = dict(obs=torch.tensor([[1.0, 1.0], [0.0, 1.0], [2.0, 0.0]], dtype=torch.float64),
                 actions=torch.tensor([0, 1, 1]),
                 rewards=torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64),
                 next_obs=torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64),
                 terminated=torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
    return online, target, batch


def test_targets_and_loss_by_hand(nets_and_batch):
    online, target, batch = nets_and_batch
    # target Q(s') rows: [0.6, 2.0], [1.1, 0.0], [1.6, 2.0]; online Q(s') rows: [1, 0.5], [0, 2.5], [1, 2.5]
    y = dqn.dqn_targets(target, batch, 0.9)
    np.testing.assert_allclose(y.numpy(), [1 + 0.9 * 2.0, -1 + 0.9 * 1.1, 0.5], atol=1e-12)
    y2 = dqn.dqn_targets(target, batch, 0.9, double=True, q_online=online)   # argmax by online: 0, 1, (terminal)
    np.testing.assert_allclose(y2.numpy(), [1 + 0.9 * 0.6, -1 + 0.9 * 0.0, 0.5], atol=1e-12)
    loss, info = dqn.dqn_loss(online, target, batch, 0.9, loss="mse")
    q_sa = np.array([1.0, 2.5, 0.5])               # online Q(s, a) for the three transitions
    assert abs(loss.item() - np.mean((y.numpy() - q_sa) ** 2)) < 1e-12
    huber, _ = dqn.dqn_loss(online, target, batch, 0.9)
    d = np.abs(y.numpy() - q_sa)
    assert abs(huber.item() - np.mean(np.where(d < 1, 0.5 * d ** 2, d - 0.5))) < 1e-12
    huber.backward()
    assert all(p.grad is None for p in target.parameters())          # the target is a constant
    assert all(p.grad is not None for p in online.parameters())


def test_polyak_identities(nets_and_batch):
    online, target, _ = nets_and_batch
    t0 = [p.detach().clone() for p in target.parameters()]
    tau, k = 0.1, 7
    for _ in range(k):
        dqn.polyak_update(target, online, tau)
    for p_t, p0, p in zip(target.parameters(), t0, online.parameters()):
        np.testing.assert_allclose((p_t - p).detach().numpy(), (1 - tau) ** k * (p0 - p).detach().numpy(), atol=1e-12)
    other = copy.deepcopy(target)
    dqn.polyak_update(target, online, 1.0)
    dqn.hard_update(other, online)
    for a, b, c in zip(target.parameters(), other.parameters(), online.parameters()):
        assert torch.equal(a, c) and torch.equal(b, c)


def test_replay_buffer_wraps_and_samples():
    buf = dqn.ReplayBuffer(5, 2)
    for i in range(3):
        obs = np.full((3, 2), i, dtype=np.float32) + np.arange(3)[:, None] * 10
        buf.add_batch(obs, [0, 1, 0], [1.0, 2.0, 3.0], obs + 1, [False, True, False])
    assert len(buf) == 5 and buf.pos == 4
    assert sorted(buf.obs[:, 0].tolist()) == [2, 11, 12, 21, 22]   # the 4 oldest of 9 were overwritten
    b = buf.sample(64, np.random.default_rng(0))
    assert b["obs"].shape == (64, 2) and torch.equal(b["next_obs"], b["obs"] + 1)
    assert set(b["terminated"].tolist()) <= {0.0, 1.0}


def test_linear_schedule():
    assert dqn.linear_schedule(0, 1.0, 0.1, 100) == pytest.approx(1.0)
    assert abs(dqn.linear_schedule(50, 1.0, 0.1, 100) - 0.55) < 1e-12
    assert dqn.linear_schedule(500, 1.0, 0.1, 100) == pytest.approx(0.1)


@pytest.mark.slow
def test_fitted_q_recovers_q_star_on_cliffwalking():
    cw = mdp.TabularMDP.from_gymnasium("CliffWalking-v1", gamma=0.9)
    Qstar, _ = mdp.value_iteration(cw)
    data = offline.collect_uniform(cw, 20_000, np.random.default_rng(0))
    Q, hist = dqn.fitted_q(data, 48, 4, 0.9, 1500, seed=1)
    reachable = ~cw.terminal
    reachable[37:47] = False          # cliff cells: never occupied
    assert np.abs(Q - Qstar)[reachable].max() < 0.05
    assert abs(offline.evaluate_greedy_exact(cw, Q) - Qstar.max(1)[36]) < 1e-9


def test_train_dqn_runs_and_learns_something():
    q, hist = dqn.train_dqn(envs.CartPoleVec(4, seed=0), 3000, learning_starts=400, eps=(1.0, 0.05, 1500), seed=0)
    assert len(hist["losses"]) > 0 and np.all(np.isfinite(hist["losses"]))
    assert len(hist["returns"]) == len(hist["end_steps"]) > 0
    assert np.all(np.diff(hist["end_steps"]) >= 0)
    ret = dqn.evaluate_greedy(q, envs.CartPoleVec(5, seed=9))
    assert ret.shape == (5,) and np.all(ret >= 1)


@pytest.mark.parametrize("call, msg", [
    (lambda: dqn.ReplayBuffer(0, 4), "capacity"),
    (lambda: dqn.ReplayBuffer(4, 2).add_batch(np.zeros((2, 3)), [0, 0], [0, 0], np.zeros((2, 3)), [0, 0]), "obs"),
    (lambda: dqn.ReplayBuffer(4, 2).sample(2, np.random.default_rng()), "empty"),
    (lambda: dqn.polyak_update(torch.nn.Linear(1, 1), torch.nn.Linear(1, 1), 1.5), "tau"),
    (lambda: dqn.linear_schedule(0, 1, 0, 0), "duration"),
    (lambda: dqn.train_dqn(envs.CartPoleVec(1), 10, tau=0.1, target_every=5), "tau, target_every"),
    (lambda: dqn.fitted_q({}, 2, 2, 0.9, 1), "dataset"),
])
def test_bad_input(call, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        call()


def test_bad_loss_and_gamma(nets_and_batch):
    online, target, batch = nets_and_batch
    with pytest.raises(ValueError, match="loss"):
        dqn.dqn_loss(online, target, batch, 0.9, loss="l1")
    with pytest.raises(ValueError, match="gamma"):
        dqn.dqn_targets(target, batch, 1.5)
    with pytest.raises(ValueError, match="q_online"):
        dqn.dqn_targets(target, batch, 0.9, double=True)
