"""lib.rl.mdp against gymnasium's exact models, linear algebra and autograd."""
import numpy as np
import pytest
import torch

from lib.rl import mdp
from lib.rl.envs import make


def _gym_tables(env_id):
    u = make(env_id).unwrapped
    S, A = u.observation_space.n, u.action_space.n
    T, R, done = np.zeros((S, A, S)), np.zeros((S, A, S)), np.zeros((S, A, S), dtype=bool)
    for s in range(S):
        for a in range(A):
            for p, s2, r, d in u.P[s][a]:
                T[s, a, s2] += p
                R[s, a, s2], done[s, a, s2] = r, d
    return T, R, done, np.asarray(u.initial_state_distrib)


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "CliffWalking-v1"])
def test_tables_match_gymnasium(env_id):
    m = mdp.TabularMDP.from_gymnasium(env_id)
    T, R, done, mu0 = _gym_tables(env_id)
    live = ~m.terminal
    np.testing.assert_allclose(m.T[live], T[live], atol=1e-15)
    np.testing.assert_allclose(m.r[live], np.einsum("sat,sat->sa", T, R)[live], atol=1e-12)
    np.testing.assert_allclose(m.mu0, mu0)
    # an episode ends exactly where gymnasium says done
    np.testing.assert_array_equal(((T > 0) & m.terminal[None, None, :])[live], ((T > 0) & done)[live])


def test_gridworld_reproduces_frozenlake_and_cliffwalking():
    fl = mdp.TabularMDP.from_gymnasium("FrozenLake-v1")
    g = mdp.gridworld(fl.layout, slip=2 / 3, step_reward=0.0, goal_reward=1.0)
    np.testing.assert_allclose(g.T, fl.T, atol=1e-15)
    np.testing.assert_allclose(g.r, fl.r, atol=1e-15)
    cw = mdp.TabularMDP.from_gymnasium("CliffWalking-v1", gamma=1.0)
    g = mdp.gridworld(["." * 12] * 3 + ["S" + "C" * 10 + "G"], gamma=1.0)
    Qg, _ = mdp.value_iteration(g)
    Qc, _ = mdp.value_iteration(cw)
    assert Qg.max(1)[36] == Qc.max(1)[36] == -13.0


@pytest.mark.parametrize("env_id, gamma, v0", [("FrozenLake-v1", 0.99, 0.5420), ("CliffWalking-v1", 0.9, -(1 - 0.9 ** 13) / 0.1),
                                               ("CliffWalking-v1", 1.0, -13.0)])
def test_value_iteration_known_values_and_linear_solve(env_id, gamma, v0):
    m = mdp.TabularMDP.from_gymnasium(env_id, gamma=gamma)
    Q, info = mdp.value_iteration(m)
    start = int(np.argmax(m.mu0))
    assert abs(Q.max(1)[start] - v0) < 1e-4
    v_greedy = mdp.policy_evaluation(m, mdp.greedy(Q))   # linear solve of the greedy policy's Bellman equation
    np.testing.assert_allclose(v_greedy, Q.max(1), atol=1e-8)
    pi, v_pi, n = mdp.policy_iteration(m)
    np.testing.assert_allclose(v_pi, Q.max(1), atol=1e-8)
    assert n < info["iterations"]
    np.testing.assert_allclose(mdp.bellman_optimality(m, Q), Q, atol=1e-9)


def test_frozenlake_undiscounted_value():
    m = mdp.TabularMDP.from_gymnasium("FrozenLake-v1", gamma=1.0)
    pi, v, _ = mdp.policy_iteration(m)
    assert abs(v[0] - 0.8235) < 1e-4


@pytest.mark.parametrize("seed", range(5))
def test_random_mdp_dp_agrees(seed):
    m = mdp.random_mdp(8, 3, gamma=0.9, seed=seed, n_terminal=2)
    Q, info = mdp.value_iteration(m, tol=1e-12, history=True)
    pi, v, _ = mdp.policy_iteration(m)
    np.testing.assert_allclose(v, Q.max(1), atol=1e-9)
    # contraction: sup-norm error shrinks at least by gamma per sweep
    err = np.abs(info["Q"] - Q).max((1, 2))
    assert np.all(err[1:] <= m.gamma * err[:-1] + 1e-12)
    # brute force: every deterministic policy is no better than the optimal one
    rng = np.random.default_rng(seed)
    for _ in range(30):
        det = np.eye(3)[rng.integers(0, 3, 8)]
        assert np.all(mdp.policy_evaluation(m, det) <= v + 1e-9)


def test_contraction_random_pairs():
    rng = np.random.default_rng(0)
    for i in range(100):
        m = mdp.random_mdp(6, 3, gamma=float(rng.uniform(0.1, 0.99)), seed=i)
        Q1, Q2 = rng.normal(size=(2, 6, 3)) * 5
        lhs = np.abs(mdp.bellman_optimality(m, Q1) - mdp.bellman_optimality(m, Q2)).max()
        assert lhs <= m.gamma * np.abs(Q1 - Q2).max() + 1e-12


def test_policy_evaluation_is_fixed_point_and_matches_monte_carlo():
    m = mdp.random_mdp(5, 2, gamma=0.8, seed=3, n_terminal=1)
    pi = mdp.softmax_policy(np.random.default_rng(1).normal(size=(5, 2)))
    v = mdp.policy_evaluation(m, pi)
    np.testing.assert_allclose(mdp.bellman_expectation(m, pi, v), v, atol=1e-12)
    m0 = mdp.TabularMDP(m.T, m.R, m.gamma, np.eye(5)[0], m.terminal)
    ep = mdp.sample_episodes(m0, pi, 20_000, 80, np.random.default_rng(2))
    G = (ep["rewards"] * m.gamma ** np.arange(ep["rewards"].shape[1])).sum(1)
    assert abs(G.mean() - v[0]) < 4 * G.std() / np.sqrt(len(G))


def test_random_walk_and_visitation():
    rw = mdp.random_walk(5)
    np.testing.assert_allclose(mdp.policy_evaluation(rw, np.ones((7, 1)))[1:6], np.arange(1, 6) / 6, atol=1e-12)
    m = mdp.random_mdp(6, 2, gamma=0.7, seed=4)   # no terminal states: total mass 1 / (1 - gamma)
    d = mdp.discounted_visitation(m, np.full((6, 2), 0.5))
    assert abs(d.sum() - 1 / 0.3) < 1e-10 and np.all(d > 0)


@pytest.mark.parametrize("seed", range(4))
def test_policy_gradient_theorem_equals_autograd(seed):
    m = mdp.random_mdp(4, 3, gamma=0.9, seed=seed, n_terminal=1 if seed % 2 else 0)
    theta = np.random.default_rng(seed).normal(size=(4, 3))
    g_auto = mdp.exact_policy_gradient(m, theta)
    np.testing.assert_allclose(g_auto, mdp.pg_theorem_gradient(m, theta), atol=1e-10)
    # and autograd agrees with finite differences of J
    J = lambda th: float(mdp.exact_objective(m, torch.tensor(th)))
    i, j, h = 1, 2, 1e-6
    e = np.zeros_like(theta)
    e[i, j] = h
    assert abs((J(theta + e) - J(theta - e)) / (2 * h) - g_auto[i, j]) < 1e-7


def test_reinforce_unbiased_only_with_discount_weights():
    m = mdp.random_mdp(4, 2, gamma=0.8, seed=7, n_terminal=1)
    theta = np.random.default_rng(0).normal(size=(4, 2))
    exact = mdp.exact_policy_gradient(m, theta)
    ep = mdp.sample_episodes(m, mdp.softmax_policy(theta), 20_000, 60, np.random.default_rng(5))
    mean, se = mdp.reinforce_gradient_tabular(m, theta, ep)
    z = (mean - exact) / np.maximum(se, 1e-12)
    assert np.abs(z[~m.terminal]).max() < 4.5
    mean_b, se_b = mdp.reinforce_gradient_tabular(m, theta, ep, discount_weights=False)
    assert np.abs((mean_b - exact) / np.maximum(se_b, 1e-12)).max() > 8
    v = mdp.policy_evaluation(m, mdp.softmax_policy(theta))
    mean_v, se_v = mdp.reinforce_gradient_tabular(m, theta, ep, baseline=v)
    assert np.abs((mean_v - exact) / np.maximum(se_v, 1e-12))[~m.terminal].max() < 4.5
    assert se_v.sum() < se.sum()


def test_shaping_keeps_optimal_policy():
    c = mdp.chain(8, gamma=0.9)
    phi = np.linspace(0, 1, 8)
    cs = mdp.shaped(c, phi)
    Q, _ = mdp.value_iteration(c)
    Qs, _ = mdp.value_iteration(cs)
    phi0 = np.where(c.terminal, 0, phi)
    np.testing.assert_allclose(Qs, np.where(c.terminal[:, None], 0, Q - phi0[:, None]), atol=1e-9)
    assert np.array_equal(mdp.greedy(Q)[~c.terminal], mdp.greedy(Qs)[~c.terminal])


def test_tabular_env_transition_frequencies():
    m = mdp.TabularMDP.from_gymnasium("FrozenLake-v1")
    env = mdp.TabularEnv(m, seed=0)
    counts = np.zeros(16)
    for _ in range(6000):
        env.state = 6
        s2, r, term, trunc, _ = env.step(1)
        counts[s2] += 1
    p = m.T[6, 1]
    se = np.sqrt(p * (1 - p) / 6000)
    assert np.all(np.abs(counts / 6000 - p) < 4 * se + 1e-12)
    env = mdp.TabularEnv(m, max_steps=3, seed=1)
    s, _ = env.reset()
    flags = [env.step(3)[2:4] for _ in range(3)]     # pushing up from the start never terminates
    assert flags[-1] == (False, True)


@pytest.mark.parametrize("call, msg", [
    (lambda: mdp.TabularMDP(np.ones((2, 2)), np.zeros((2, 2)), 0.9, [1, 0], [False, False]), "T"),
    (lambda: mdp.TabularMDP(np.full((2, 1, 2), 0.5), np.zeros((2, 1)), 1.5, [1, 0], [False, False]), "gamma"),
    (lambda: mdp.TabularMDP(np.full((2, 1, 2), 0.5), np.zeros((3, 1)), 0.5, [1, 0], [False, False]), "R"),
    (lambda: mdp.TabularMDP(np.full((2, 1, 2), 0.5), np.zeros((2, 1)), 0.5, [0.5, 0.2], [False, False]), "mu0"),
    (lambda: mdp.gridworld(["SF", "FF"]), "layout"),
    (lambda: mdp.gridworld(["SG"], slip=2.0), "slip"),
    (lambda: mdp.random_walk(4), "n"),
    (lambda: mdp.policy_evaluation(mdp.random_walk(), np.ones((7, 2))), "pi"),
    (lambda: mdp.bellman_optimality(mdp.random_walk(), np.ones((3, 1))), "Q"),
    (lambda: mdp.exact_objective(mdp.random_walk(), np.ones((7, 1))), "logits"),
])
def test_bad_input(call, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        call()


def test_gamma_one_improper_policy_raises():
    c = mdp.chain(4, gamma=1.0)
    with pytest.raises(ValueError, match="singular"):
        mdp.policy_evaluation(c, np.eye(2)[[0, 0, 0, 0]])   # always left: never terminates
