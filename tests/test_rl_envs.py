"""lib.rl.envs: CartPole dynamics, termination, truncation and resets against gymnasium's CartPole-v1."""
import numpy as np
import pytest

from lib.rl import envs


def test_cartpole_step_matches_gymnasium_step_by_step():
    """Random actions from 5 seeds: the float64 state equals gymnasium's internal state, the float32
    observation equals gymnasium's observation, and the termination flags agree."""
    env = envs.make("CartPole-v1")
    rng = np.random.default_rng(11)
    for seed in range(5):
        obs, _ = env.reset(seed=100 + seed)
        s = np.array(env.unwrapped.state, dtype=np.float64)
        assert np.array_equal(s.astype(np.float32), obs)
        for t in range(200):
            a = int(rng.integers(2))
            obs, r, term, trunc, _ = env.step(a)
            s = envs.cartpole_step(s[None], np.array([a]))[0]
            assert np.allclose(s, env.unwrapped.state, rtol=0, atol=1e-12)
            assert np.allclose(s.astype(np.float32), obs, rtol=0, atol=1e-6)
            assert bool(envs.cartpole_terminated(s)) == term
            if term or trunc:
                break
        assert term, "random actions should drop the pole within 200 steps"


def test_cartpole_vec_one_env_equals_gymnasium_with_time_limit():
    """A balancing controller reaches the 500-step limit: truncation at the same step as TimeLimit,
    same initial states (same seed), and the autoreset draws the next episode's start."""
    gym_env = envs.make("CartPole-v1")
    vec = envs.CartPoleVec(1, max_steps=500, seed=7)
    obs_v, _ = vec.reset()
    obs_g, _ = gym_env.reset(seed=7)
    assert np.array_equal(obs_v[0], obs_g)
    for t in range(500):
        s = vec.state[0]
        a = int(s[2] + 0.5 * s[3] + 0.01 * s[0] + 0.05 * s[1] > 0)  # a PD controller that balances
        obs_v, r_v, term_v, trunc_v, info = vec.step(np.array([a]))
        obs_g, r_g, term_g, trunc_g, _ = gym_env.step(a)
        assert (term_v[0], trunc_v[0], float(r_v[0])) == (term_g, trunc_g, r_g)
        assert np.allclose(info["final_obs"][0], obs_g, atol=1e-6)
        if term_g or trunc_g:
            break
    assert trunc_g and not term_g and t == 499
    assert info["episode_lengths"].tolist() == [500] and info["episode_returns"].tolist() == [500.0]
    assert np.all(np.abs(obs_v) <= 0.05) and not np.allclose(obs_v[0], info["final_obs"][0])
    assert vec.steps[0] == 0


def test_cartpole_vec_same_step_autoreset_and_independence():
    vec = envs.CartPoleVec(6, seed=0)
    obs, _ = vec.reset()
    assert obs.shape == (6, 4) and obs.dtype == np.float32
    ended = 0
    for _ in range(60):
        before = vec.state.copy()
        a = np.zeros(6, dtype=np.int64)  # always push left: every episode ends quickly
        obs, r, term, trunc, info = vec.step(a)
        nxt = envs.cartpole_step(before, a)
        assert np.allclose(info["final_obs"], nxt.astype(np.float32))
        assert np.array_equal(term, envs.cartpole_terminated(nxt)) and not trunc.any()
        assert np.allclose(obs[~term], nxt[~term].astype(np.float32))
        assert np.all(np.abs(obs[term]) <= 0.05)
        assert len(info["episode_lengths"]) == term.sum()
        ended += term.sum()
    assert ended >= 6


def test_bad_input():
    with pytest.raises(ValueError, match="S:"):
        envs.cartpole_step(np.zeros((3, 5)), np.zeros(3))
    with pytest.raises(ValueError, match="a:"):
        envs.cartpole_step(np.zeros((3, 4)), np.zeros(2))
    with pytest.raises(ValueError, match="a:"):
        envs.cartpole_step(np.zeros((3, 4)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="num_envs"):
        envs.CartPoleVec(0)
    vec = envs.CartPoleVec(2)
    with pytest.raises(RuntimeError):
        vec.step(np.zeros(2, dtype=int))
    vec.reset()
    with pytest.raises(ValueError, match="actions"):
        vec.step(np.zeros(3, dtype=int))
    with pytest.raises(TypeError, match="env_id"):
        envs.make(3)


def test_make_resolves_version_suffix():
    assert envs.make("MountainCar-v1").spec.id == "MountainCar-v0"  # only -v0 is registered
    assert envs.make("CliffWalking-v1").spec.id == "CliffWalking-v1"
