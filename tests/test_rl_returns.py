"""lib.rl.returns: GAE hand table, GAE = lambda-returns = definition via n-step returns, limits
lambda = 0 / 1, truncation vs termination, numpy and torch alike, bad input."""
import numpy as np
import pytest
import torch

from lib.rl import returns as R

# Spec section 6, E5: r = [1, 0, 2], V = [0.5, 1.0, 0.5], terminal after the last step, gamma 0.9, lam 0.8
HAND_R, HAND_V, HAND_D = np.array([1.0, 0.0, 2.0]), np.array([0.5, 1.0, 0.5]), np.array([0.0, 0.0, 1.0])
HAND_DELTA = [1.4, -0.55, 1.5]          # r_t + 0.9 V_{t+1} - V_t, and 2 - 0.5 at the terminal step
HAND_GAE = [1.7816, 0.53, 1.5]          # 1.5; -0.55 + 0.72 * 1.5; 1.4 + 0.72 * 0.53
HAND_MC_MINUS_V = [2.12, 0.8, 1.5]      # G = [1 + 0.81 * 2, 0.9 * 2, 2] minus V


def test_gae_hand_table():
    adv, ret = R.gae(HAND_R, HAND_V, HAND_D, last_value=123.0, gamma=0.9, lam=0.8)
    assert np.allclose(adv, HAND_GAE, atol=1e-12) and np.allclose(ret, np.array(HAND_GAE) + HAND_V)
    adv0, _ = R.gae(HAND_R, HAND_V, HAND_D, 123.0, 0.9, 0.0)
    assert np.allclose(adv0, HAND_DELTA, atol=1e-12)
    adv1, _ = R.gae(HAND_R, HAND_V, HAND_D, 123.0, 0.9, 1.0)
    assert np.allclose(adv1, HAND_MC_MINUS_V, atol=1e-12)
    G = R.discounted_returns(HAND_R, HAND_D, 0.9, bootstrap=123.0)
    assert np.allclose(G - HAND_V, HAND_MC_MINUS_V, atol=1e-12)


def _rollout(seed, T=12, N=3):
    rng = np.random.default_rng(seed)
    r, v = rng.normal(size=(T, N)), rng.normal(size=(T, N))
    d = (rng.random((T, N)) < 0.2).astype(float)
    return r, v, d, rng.normal(size=N)


def _lambda_by_definition(r, v, d, gamma, lam, last):
    """(1 - lam) sum_{n=1}^{T-t-1} lam^(n-1) G^(n)_t + lam^(T-t-1) G^(T-t)_t from n-step returns."""
    T = len(r)
    Gn = {n: R.n_step_returns(r, v, d, gamma, n, last) for n in range(1, T + 1)}
    out = np.zeros_like(r)
    for t in range(T):
        out[t] = sum((1 - lam) * lam ** (n - 1) * Gn[n][t] for n in range(1, T - t)) + lam ** (T - t - 1) * Gn[T - t][t]
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gae_returns_equal_lambda_returns_equal_definition(seed):
    r, v, d, last = _rollout(seed)
    gamma, lam = 0.95, 0.7
    adv, ret = R.gae(r, v, d, last, gamma, lam)
    lam_ret = R.lambda_returns(r, v, d, gamma, lam, last)
    assert np.allclose(ret, lam_ret, atol=1e-12)
    assert np.allclose(lam_ret, _lambda_by_definition(r, v, d, gamma, lam, last), atol=1e-12)
    # limits: lam = 1 is Monte Carlo (bootstrapped only at the rollout end), lam = 0 is the TD target
    assert np.allclose(R.lambda_returns(r, v, d, gamma, 1.0, last), R.discounted_returns(r, d, gamma, last))
    assert np.allclose(R.lambda_returns(r, v, d, gamma, 0.0, last), R.n_step_returns(r, v, d, gamma, 1, last))


def test_n_step_by_brute_force():
    r, v, d, last = _rollout(5, T=9, N=2)
    gamma, n = 0.9, 3
    G = R.n_step_returns(r, v, d, gamma, n, last)
    vv = np.vstack([v, last])
    for t in range(9):
        for i in range(2):
            acc, k = 0.0, 0
            while k < n and t + k < 9:
                acc += gamma ** k * r[t + k, i]
                if d[t + k, i]:
                    break
                k += 1
            else:
                acc += gamma ** k * vv[t + k, i]
            assert np.isclose(G[t, i], acc, atol=1e-12)


def test_truncation_bootstraps_from_final_value_and_restarts():
    """Two episodes in one env: the first is cut by the time limit at step 1, the second terminates at 3."""
    r = np.array([1.0, 1.0, 1.0, 1.0])
    v = np.array([2.0, 3.0, 4.0, 5.0])
    d = np.array([0.0, 0.0, 0.0, 1.0])
    trunc = np.array([0.0, 1.0, 0.0, 0.0])
    final_v = np.array([0.0, 10.0, 0.0, 0.0])      # V(final_obs) at the cut
    g, lam = 0.9, 0.5
    adv, _ = R.gae(r, v, d, last_value=99.0, gamma=g, lam=lam, truncated=trunc, final_values=final_v)
    delta = [1 + g * 3 - 2, 1 + g * 10 - 3, 1 + g * 5 - 4, 1 - 5]
    expect = [delta[0] + g * lam * delta[1], delta[1], delta[2] + g * lam * delta[3], delta[3]]
    assert np.allclose(adv, expect, atol=1e-12)
    # treating the cut as a terminal (the classic bug) gives a different, biased target
    wrong, _ = R.gae(r, v, np.maximum(d, trunc), 99.0, g, lam)
    assert not np.isclose(wrong[1], adv[1])
    # terminated and truncated on the same step: terminated wins
    both, _ = R.gae(r, v, d, 99.0, g, lam, truncated=np.array([0.0, 0.0, 0.0, 1.0]), final_values=final_v + 7)
    plain, _ = R.gae(r, v, d, 99.0, g, lam)
    assert np.allclose(both, plain)


def test_torch_in_torch_out():
    r, v, d, last = _rollout(7)
    adv_np, ret_np = R.gae(r, v, d, last, 0.99, 0.95)
    adv_t, ret_t = R.gae(torch.tensor(r), torch.tensor(v), torch.tensor(d, dtype=torch.bool), torch.tensor(last),
                         0.99, 0.95)
    assert isinstance(adv_t, torch.Tensor) and adv_t.dtype == torch.float64
    assert np.allclose(adv_t.numpy(), adv_np, atol=1e-12) and np.allclose(ret_t.numpy(), ret_np, atol=1e-12)
    G = R.discounted_returns(torch.tensor(r), torch.tensor(d), 0.9)
    assert np.allclose(G.numpy(), R.discounted_returns(r, d, 0.9))


def test_bad_input():
    r = np.ones(4)
    with pytest.raises(ValueError, match="dones"):
        R.discounted_returns(r, np.zeros(3), 0.9)
    with pytest.raises(TypeError, match="values"):
        R.gae(r, torch.ones(4), np.zeros(4), 0.0, 0.9, 0.9)
    with pytest.raises(ValueError, match="gamma"):
        R.gae(r, r, np.zeros(4), 0.0, 1.5, 0.9)
    with pytest.raises(ValueError, match="lam"):
        R.lambda_returns(r, r, np.zeros(4), 0.9, -0.1, 0.0)
    with pytest.raises(ValueError, match="n:"):
        R.n_step_returns(r, r, np.zeros(4), 0.9, 0, 0.0)
    with pytest.raises(ValueError, match="final_values"):
        R.gae(r, r, np.zeros(4), 0.0, 0.9, 0.9, truncated=np.zeros(4))
    with pytest.raises(ValueError, match="last_value"):
        R.gae(np.ones((4, 2)), np.ones((4, 2)), np.zeros((4, 2)), np.zeros(3), 0.9, 0.9)
