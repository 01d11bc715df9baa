"""MPC: the planner on a toy problem with a known optimum, CartPole with the true and a learned model."""
import numpy as np
import pytest

from lib.rl import mpc
from lib.rl.envs import CartPoleVec, cartpole_step


def test_random_shooting_returns_first_action_of_best_plan():
    # 1-D: s' = s + (a - 1) for a in {0, 1, 2}; reward -|s'|; from s = 3 the best plans move left
    model = lambda S, a: S + (a[:, None] - 1.0)
    reward = lambda S, a, S2: -np.abs(S2[:, 0])
    rng = np.random.default_rng(0)
    a0, info = mpc.random_shooting(model, reward, np.array([3.0]), horizon=3, n_samples=200, rng=rng,
                                   n_actions=3, done_fn=None)
    best = info["best"]
    assert a0 == info["actions"][best, 0] == 0 and info["returns"][best] == info["returns"].max()
    assert np.all(info["actions"][best] == 0) and info["returns"][best] == -(2 + 1 + 0)
    G_check = -np.abs(3.0 + np.cumsum(info["actions"] - 1.0, 1)).sum(1)
    np.testing.assert_allclose(info["returns"], G_check)


def test_returns_count_h_terms_stop_at_termination_and_add_terminal_value():
    ones = lambda S, a, S2: np.ones(len(S))
    stay = lambda S, a: S + 0.0
    _, info = mpc.random_shooting(stay, ones, np.zeros(2), 6, 4, np.random.default_rng(0), done_fn=None,
                                  gamma=0.5, terminal_value_fn=lambda S: np.full(len(S), 8.0))
    np.testing.assert_allclose(info["returns"], (1 - 0.5 ** 6) / 0.5 + 0.5 ** 6 * 8)
    count = lambda S, a: S + 1.0
    _, info = mpc.random_shooting(count, ones, np.zeros(1), 6, 4, np.random.default_rng(0),
                                  done_fn=lambda S: S[:, 0] >= 3)     # dies on step 3: rewards 1, 1, 1
    np.testing.assert_array_equal(info["returns"], 3.0)
    assert info["states"].shape == (4, 7, 1)


def test_true_model_rollout_error_is_zero_and_learned_model_is_accurate_one_step():
    rng = np.random.default_rng(0)
    S0 = np.array([CartPoleVec(1, seed=k).reset()[0][0] for k in range(10)], dtype=np.float64)
    A = rng.integers(2, size=(10, 12))
    assert mpc.rollout_error(cartpole_step, S0, A).max() == 0
    S, A1, S2 = mpc.random_transitions(5000, rng)
    f, losses = mpc.fit_dynamics_model(S, A1, S2, steps=400, seed=0)
    St, At, S2t = mpc.random_transitions(1000, np.random.default_rng(1))   # held-out transitions
    rel = np.abs(f(St, At) - S2t).max(0) / np.abs(S2t - St).max(0)
    assert rel.max() < 0.1 and losses[-20:].mean() < losses[:20].mean() / 10


def test_shaped_mpc_balances_cartpole():
    rng = np.random.default_rng(0)
    s0 = CartPoleVec(1, seed=0).reset()[0][0].astype(np.float64)
    ep = mpc.mpc_episode(lambda s: mpc.random_shooting(cartpole_step, mpc.shaped_reward, s, 15, 64, rng), s0,
                         max_steps=300)
    assert ep["ret"] == 300 and len(ep["states"]) == 301


@pytest.mark.slow
def test_shaped_mpc_three_seeds_full_episodes():
    for seed in range(3):
        rng = np.random.default_rng(seed)
        s0 = CartPoleVec(1, seed=seed).reset()[0][0].astype(np.float64)
        ep = mpc.mpc_episode(lambda s: mpc.random_shooting(cartpole_step, mpc.shaped_reward, s, 15, 64, rng), s0)
        assert ep["ret"] == 500


def test_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="horizon"):
        mpc.random_shooting(cartpole_step, mpc.shaped_reward, np.zeros(4), 0, 8, rng)
    with pytest.raises(ValueError, match="n_samples"):
        mpc.random_shooting(cartpole_step, mpc.shaped_reward, np.zeros(4), 5, -1, rng)
    with pytest.raises(ValueError, match="state"):
        mpc.random_shooting(cartpole_step, mpc.shaped_reward, np.zeros((2, 4)), 5, 8, rng)
    with pytest.raises(ValueError, match="S, A, S2"):
        mpc.fit_dynamics_model(np.zeros((5, 4)), np.zeros(4), np.zeros((5, 4)))
