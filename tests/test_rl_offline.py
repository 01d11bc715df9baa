"""lib.rl.offline: datasets, coverage, and naive fitted Q vs CQL on a narrow CliffWalking dataset."""
import numpy as np
import pytest

from lib.rl import dqn, mdp, offline


@pytest.fixture(scope="module")
def cliff():
    cw = mdp.TabularMDP.from_gymnasium("CliffWalking-v1", gamma=0.9)
    rows, cols = np.divmod(np.arange(48), 12)
    safe = np.where((rows >= 2) & (cols < 11), 0, np.where(cols < 11, 1, 2))   # up, right along the top, down
    behaviour = 0.95 * np.eye(4)[safe] + 0.05 / 4
    data = offline.collect_dataset(cw, behaviour, 50, 200, np.random.default_rng(0))
    return cw, safe, data


def test_dataset_and_coverage(cliff):
    cw, safe, data = cliff
    n = len(data["states"])
    assert all(len(v) == n for v in data.values())
    np.testing.assert_array_equal(data["terminated"], cw.terminal[data["next_states"]])
    assert data["terminated"].sum() == 50                       # every episode reaches the goal
    N = offline.coverage(data, 48, 4)
    assert N.sum() == n and (N > 0).sum() < 0.4 * 48 * 4        # narrow coverage
    # transitions are consistent with the model
    assert np.all(cw.T[data["states"], data["actions"], data["next_states"]] > 0)


def test_exact_greedy_evaluation(cliff):
    cw, safe, _ = cliff
    assert abs(offline.evaluate_greedy_exact(cw, np.eye(4)[safe]) + (1 - 0.9 ** 15) / 0.1) < 1e-9   # 15 steps
    Qstar, _ = mdp.value_iteration(cw)
    assert abs(offline.evaluate_greedy_exact(cw, Qstar) + (1 - 0.9 ** 13) / 0.1) < 1e-9


@pytest.mark.slow
def test_naive_fitted_q_overestimates_and_cql_fixes_it(cliff):
    cw, safe, data = cliff
    Qstar, _ = mdp.value_iteration(cw)
    v_star = Qstar.max(1)[36]
    Q0, _ = dqn.fitted_q(data, 48, 4, 0.9, 1500, seed=0)
    assert Q0.max(1)[36] > v_star + 1.0                          # claims more than is possible
    assert offline.evaluate_greedy_exact(cw, Q0) < v_star - 1.0  # and its greedy policy is bad
    Qc, _ = dqn.fitted_q(data, 48, 4, 0.9, 1500, cql_alpha=0.5, seed=0)
    assert offline.evaluate_greedy_exact(cw, Qc) > -8.0          # the safe route (-7.94, 15 steps)


def test_uniform_data_covers_everything():
    cw = mdp.TabularMDP.from_gymnasium("CliffWalking-v1", gamma=0.9)
    d = offline.collect_uniform(cw, 5000, np.random.default_rng(0))
    assert (offline.coverage(d, 48, 4)[~cw.terminal] > 0).all()
    with pytest.raises(TypeError, match="rng"):
        offline.collect_uniform(cw, 10, 0)
