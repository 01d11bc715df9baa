"""lib.rl.tabular: TD/MC prediction against exact values, TD(lambda) views, Q-learning and SARSA vs value iteration."""
import numpy as np
import pytest

from lib.rl import mdp
from lib.rl import tabular as tb


@pytest.fixture(scope="module")
def walk():
    rw = mdp.random_walk(5)
    return rw, mdp.sample_episodes(rw, np.ones((7, 1)), 600, 300, np.random.default_rng(0))


@pytest.mark.parametrize("lam", [0.0, 0.4, 0.8, 1.0])
@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_offline_backward_view_equals_forward_view(walk, lam, gamma):
    rw, ep = walk
    fwd, hf = tb.lambda_return(ep, 7, lam, 0.1, gamma, v0=0.3, n_runs=3)
    bwd, hb = tb.td_lambda(ep, 7, lam, 0.1, gamma, v0=0.3, n_runs=3, online=False)
    np.testing.assert_allclose(hf, hb, atol=1e-12)


def test_forward_view_with_truncated_episodes():
    """Episodes cut by the horizon bootstrap from the last state in both views."""
    m = mdp.random_mdp(6, 1, gamma=0.9, seed=2, n_terminal=1)
    ep = mdp.sample_episodes(m, np.ones((6, 1)), 40, 7, np.random.default_rng(1))
    assert (ep["valid"][:, -1] & ~ep["terminated"][:, -1]).any()
    a, _ = tb.lambda_return(ep, 6, 0.7, 0.2, 0.9, v0=1.0)
    b, _ = tb.td_lambda(ep, 6, 0.7, 0.2, 0.9, v0=1.0, online=False)
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_special_cases_coincide(walk):
    rw, ep = walk
    V0, _ = tb.td0(ep, 7, 0.1, v0=0.5, n_runs=2)
    np.testing.assert_allclose(tb.n_step_td(ep, 7, 1, 0.1, v0=0.5, n_runs=2)[0], V0, atol=1e-12)
    np.testing.assert_allclose(tb.td_lambda(ep, 7, 0.0, 0.1, v0=0.5, n_runs=2)[0], V0, atol=1e-12)
    Vmc, _ = tb.mc(ep, 7, 0.1, v0=0.5, n_runs=2)
    np.testing.assert_allclose(tb.n_step_td(ep, 7, 300, 0.1, v0=0.5, n_runs=2)[0], Vmc, atol=1e-12)


def test_mc_equals_sequential_reference():
    """Constant-alpha MC by a plain python loop over one episode at a time."""
    m = mdp.random_mdp(5, 1, gamma=0.8, seed=4, n_terminal=1)
    ep = mdp.sample_episodes(m, np.ones((5, 1)), 30, 40, np.random.default_rng(3))
    V = np.zeros(5)
    for i in range(30):
        T = int(ep["valid"][i].sum())
        G, Gs = 0.0, []
        for t in range(T - 1, -1, -1):
            G = ep["rewards"][i, t] + 0.8 * G
            Gs.append(G)
        for t, G in zip(range(T), reversed(Gs)):
            V[ep["states"][i, t]] += 0.3 * (G - V[ep["states"][i, t]])
    np.testing.assert_allclose(tb.mc(ep, 5, 0.3, 0.8)[0][0], V, atol=1e-12)


@pytest.mark.parametrize("method", ["td0", "mc", "td_lambda"])
def test_prediction_converges_to_true_values(method):
    rw = mdp.random_walk(5)
    ep = mdp.sample_episodes(rw, np.ones((7, 1)), 2000, 400, np.random.default_rng(7))
    kw = dict(lam=0.6) if method == "td_lambda" else {}
    V, hist = getattr(tb, method)(ep, 7, alpha=0.02, v0=0.5, **kw)
    assert np.abs(hist[-200:].mean(0)[0, 1:6] - np.arange(1, 6) / 6).max() < 0.05


def test_td_lower_variance_than_mc():
    rw = mdp.random_walk(5)
    ep = mdp.sample_episodes(rw, np.ones((7, 1)), 200 * 50, 400, np.random.default_rng(11))
    true = np.arange(1, 6) / 6
    rms = lambda h: np.sqrt(((h[:, :, 1:6] - true) ** 2).mean(-1)).mean(1)
    td = rms(tb.td0(ep, 7, 0.1, v0=0.5, n_runs=200)[1])
    mcr = rms(tb.mc(ep, 7, 0.1, v0=0.5, n_runs=200)[1])
    assert td[-10:].mean() < mcr[-10:].mean()       # same alpha: TD's error floor is lower on this walk


def test_q_learning_and_sarsa_on_cliffwalking():
    cw = mdp.TabularMDP.from_gymnasium("CliffWalking-v1", gamma=1.0)
    Qq, hq = tb.q_learning(mdp.TabularEnv(cw, seed=0), 500, 0.5, 1.0, 0.1, np.random.default_rng(0))
    Qs, hs = tb.sarsa(mdp.TabularEnv(cw, seed=0), 500, 0.5, 1.0, 0.1, np.random.default_rng(0))
    start = 36
    ev = cw.with_gamma(0.999)          # every greedy policy here terminates; 0.999 keeps the solve regular
    vq = mdp.policy_evaluation(ev, mdp.greedy(Qq))[start]
    vs = mdp.policy_evaluation(ev, mdp.greedy(Qs))[start]
    opt = mdp.value_iteration(ev)[0].max(1)[start]
    assert abs(vq - opt) < 1e-9                     # Q-learning: the optimal cliff-edge path (13 steps)
    assert abs(vs - (-(1 - 0.999 ** 17) / 0.001)) < 1e-9   # SARSA: the safe 17-step path
    assert hs["returns"][-100:].mean() > hq["returns"][-100:].mean()   # but SARSA earns more while exploring


@pytest.mark.slow
def test_q_learning_frozenlake_reaches_optimal_value():
    fl = mdp.TabularMDP.from_gymnasium("FrozenLake-v1", gamma=0.99)
    Q, _ = tb.q_learning(mdp.TabularEnv(fl, seed=1), 20_000, 0.05, 0.99, 0.1, np.random.default_rng(1))
    Qstar, _ = mdp.value_iteration(fl)
    assert abs(mdp.policy_evaluation(fl, mdp.greedy(Q))[0] - Qstar.max(1)[0]) < 0.02


def test_epsilon_greedy_frequencies():
    rng = np.random.default_rng(0)
    picks = np.array([tb.epsilon_greedy([1.0, 3.0, 3.0, 0.0], 0.2, rng) for _ in range(8000)])
    freq = np.bincount(picks, minlength=4) / 8000
    expect = np.array([0.05, 0.45, 0.45, 0.05])
    assert np.all(np.abs(freq - expect) < 4 * np.sqrt(expect * (1 - expect) / 8000))


@pytest.mark.parametrize("call, msg", [
    (lambda ep: tb.td0(ep, 7, 0.0), "alpha"),
    (lambda ep: tb.td0(ep, 7, 0.1, gamma=1.5), "gamma"),
    (lambda ep: tb.td0(ep, 7, 0.1, n_runs=7), "n_runs"),
    (lambda ep: tb.td0({"states": 1}, 7, 0.1), "episodes"),
    (lambda ep: tb.n_step_td(ep, 7, 0, 0.1), "n"),
    (lambda ep: tb.td_lambda(ep, 7, 1.5, 0.1), "lam"),
    (lambda ep: tb.td_lambda(ep, 7, 0.5, 0.1, trace="dutch"), "trace"),
    (lambda ep: tb.q_learning(mdp.TabularEnv(mdp.chain(4)), 2, 0.1, 0.9, 2.0, np.random.default_rng()), "epsilon"),
    (lambda ep: tb.sarsa(mdp.TabularEnv(mdp.chain(4)), 2, 0.1, 0.9, 0.1, 0), "rng"),
])
def test_bad_input(walk, call, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        call(walk[1])


@pytest.mark.slow
def test_sarsa_frozenlake_close_to_optimal():
    """SARSA evaluates its epsilon-greedy behaviour, so its greedy policy may be slightly more cautious than optimal."""
    fl = mdp.TabularMDP.from_gymnasium("FrozenLake-v1", gamma=0.99)
    Q, _ = tb.sarsa(mdp.TabularEnv(fl, seed=2), 20_000, 0.05, 0.99, 0.1, np.random.default_rng(2))
    v = mdp.policy_evaluation(fl, mdp.greedy(Q))[0]
    v_star = mdp.value_iteration(fl)[0].max(1)[0]
    assert v <= v_star + 1e-12 and v_star - v < 0.02
