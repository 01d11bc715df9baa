"""MCTS against the exact solver: forced wins, no losses to perfect play, invariants, sign-flipping backup."""
import numpy as np
import pytest

from lib.rl import mcts as M
from lib.rl.games import Negamax, TicTacToe, arena, perfect_player, position_suite

G = TicTacToe()
SOLVER = Negamax(G)


def test_puct_text_examples():
    early = M.puct_scores([0, 0], [1, 1], [0.8, 0.2], 1.0)["score"]
    np.testing.assert_allclose(early, [0.8 * np.sqrt(2) / 2, 0.2 * np.sqrt(2) / 2])
    late = M.puct_scores([0.3, 0.6], [50, 20], [0.8, 0.2], 1.0)["score"]
    np.testing.assert_allclose(late, [0.4312, 0.6797], atol=1e-4)
    # crossover: 0.3 + c*0.8*sqrt70/51 = 0.6 + c*0.2*sqrt70/21
    c_star = 0.3 / (np.sqrt(70) * (0.8 / 51 - 0.2 / 21))
    assert abs(c_star - 5.82) < 0.01
    for c, winner in ((c_star - 0.01, 1), (c_star + 0.01, 0)):
        assert np.argmax(M.puct_scores([0.3, 0.6], [50, 20], [0.8, 0.2], c)["score"]) == winner
    fresh = M.puct_scores([0, 0, 0], [0, 0, 0], [0.2, 0.5, 0.3], 1.0)
    assert np.argmax(fresh["score"]) == 1  # a fresh node ranks by prior


def test_backup_flips_sign_per_ply():
    s0 = G.initial_state()
    nodes = [M.Node(G, s0)]
    path = []
    s = s0
    for a in (4, 0, 8):
        path.append((nodes[-1], a))
        s = G.next_state(s, a)
        nodes.append(M.Node(G, s))
    added = M.MCTS.backup(path, 0.7)  # leaf value 0.7 for the mover at the leaf (O)
    assert added == [-0.7, 0.7, -0.7]
    # the root mover (X) is the leaf's opponent: the root edge's W is -0.7
    assert [n.W[a] for n, a in path] == [-0.7, 0.7, -0.7] and all(n.N[a] == 1 for n, a in path)


def test_winning_edge_gets_q_plus_one():
    s = (1, 1, 0, -1, -1, 0, 0, 0, 0)  # X wins at 2
    root = M.MCTS(G, M.UniformEvaluator(), M.MCTSConfig(c_puct=1.0)).run(s, 200)
    assert root.q()[2] == 1.0 and M.best_action(root) == 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_invariants_random_positions(seed):
    rng = np.random.default_rng(seed)
    for d in position_suite(G, "random", 5, rng, SOLVER):
        for ev in (M.RolloutEvaluator(rng), M.UniformEvaluator(), M.OracleEvaluator(SOLVER)):
            n = int(rng.integers(1, 300))
            root = M.MCTS(G, ev, M.MCTSConfig(c_puct=float(rng.uniform(0.5, 3)), dirichlet_alpha=1.0,
                                              seed=seed)).run(d["state"], n)
            M.check_invariants(root, n)
            rows = M.tree_table(G, root, max_depth=4)
            by_id = {r["id"]: r for r in rows}
            for r in rows[1:]:
                kids = [k for k in rows if k["parent"] == r["id"]]
                assert sum(k["N"] for k in kids) <= r["N"] and by_id[r["parent"]]["N"] >= r["N"]


def test_search_policy_is_from_visit_counts():
    root = M.MCTS(G, M.RolloutEvaluator(np.random.default_rng(0)), M.MCTSConfig(c_puct=2.0)).run(G.initial_state(), 300)
    np.testing.assert_allclose(M.search_policy(root, 1.0), root.N / 300)
    pi_half = M.search_policy(root, 0.5)
    np.testing.assert_allclose(pi_half, root.N ** 2 / (root.N ** 2).sum())
    assert M.search_policy(root, 0.0)[np.argmax(root.N)] == 1.0
    # the played move is the most visited one, even where another move has a higher Q
    assert M.best_action(root) == int(np.argmax(root.N))


def test_one_simulation_falls_back_to_prior():
    class Peaked:
        def __call__(self, game, s):
            p = np.full(9, 0.05)
            p[7] = 0.6
            return p, 0.0
    search = M.MCTS(G, Peaked(), M.MCTSConfig(c_puct=1.0))
    root = search.run(G.initial_state(), 0)
    assert M.best_action(root) == 7  # no visits at all: the prior decides
    root = search.run(G.initial_state(), 1)
    assert root.N[7] == 1  # and the first simulation goes to the highest prior


@pytest.mark.parametrize("kind, n_sims, evaluator", [
    ("win_in_1", 400, "rollout"), ("must_block", 400, "rollout"), ("fork", 800, "rollout"),
    ("win_in_1", 50, "oracle"), ("must_block", 50, "oracle"), ("fork", 50, "oracle")])
def test_position_suites(kind, n_sims, evaluator):
    rng = np.random.default_rng(5)
    suite = position_suite(G, kind, 12, rng, SOLVER)
    for i, d in enumerate(suite):
        ev = M.RolloutEvaluator(np.random.default_rng(i)) if evaluator == "rollout" else M.OracleEvaluator(SOLVER)
        root = M.MCTS(G, ev, M.MCTSConfig(c_puct=2.0)).run(d["state"], n_sims)
        assert M.best_action(root) in d["optimal"], (kind, G.render(d["state"]))


def test_forced_wins_are_kept():
    rng = np.random.default_rng(11)
    wins = [d for d in position_suite(G, "random", 200, rng, SOLVER) if d["value"] == 1][:25]
    assert len(wins) >= 20
    for i, d in enumerate(wins):
        root = M.MCTS(G, M.RolloutEvaluator(np.random.default_rng(i)), M.MCTSConfig(c_puct=2.0)).run(d["state"], 800)
        a = M.best_action(root)
        assert SOLVER.action_values(d["state"])[a] == 1


@pytest.mark.slow
def test_never_loses_to_perfect_play():
    rng = np.random.default_rng(3)
    player = M.mcts_player(G, M.RolloutEvaluator(np.random.default_rng(0)), n_sims=1600, c_puct=2.0)
    res = arena(G, player, perfect_player(G, rng, SOLVER), 5)
    assert res["loss"] == 0


def test_without_sign_flip_search_plays_for_the_opponent():
    """The book's backup (the same leaf value added to every edge) loses to perfect play."""
    class NoFlip(M.MCTS):
        @staticmethod
        def backup(path, leaf_value):
            for node, a in path:
                node.N[a] += 1
                node.W[a] += -leaf_value if len(path) % 2 else leaf_value  # one sign for the whole path
            return []
    rng = np.random.default_rng(0)
    search = NoFlip(G, M.RolloutEvaluator(np.random.default_rng(0)), M.MCTSConfig(c_puct=2.0))
    res = arena(G, lambda s: M.best_action(search.run(s, 200)), perfect_player(G, rng, SOLVER), 3)
    assert res["loss"] >= 3


def test_progressive_lookahead():
    rng = np.random.default_rng(0)
    s = (1, 1, 0, -1, -1, 0, 0, 0, 0)  # X wins at 2
    assert M.one_step_value_move(G, s, lambda g, t: 0.0) == 2
    stats = M.fixed_depth_lookahead(G, s, depth=2, n_rollouts=20, rng=rng)
    assert stats.best_action() == 2 and stats.mean[list(stats.actions).index(2)] == 1.0
    # an exact value one ply ahead gives the exact action values
    exact = M.fixed_depth_lookahead(G, s, depth=0, n_rollouts=2, rng=rng, value_fn=lambda g, t: SOLVER.value(t))
    np.testing.assert_array_equal(exact.mean, [SOLVER.action_values(s)[int(a)] for a in exact.actions])
    branch = M.branch_stats_lookahead(G, G.initial_state(), depth=3, n_rollouts=50, rng=rng)
    assert sum(n for (st, a), (n, w) in branch.items() if st == G.initial_state()) == 50
    assert any(sum(v != 0 for v in st) == 2 for (st, a) in branch)  # deeper edges get statistics too
    assert M.direct_policy_move(G, s, lambda g, t: np.eye(9)[5]) == 5


def test_bad_input():
    with pytest.raises(ValueError, match="Q, N, P"):
        M.puct_scores([0, 0], [1], [0.5, 0.5], 1.0)
    with pytest.raises(ValueError, match="c"):
        M.puct_scores([0], [1], [1], -1.0)
    with pytest.raises(ValueError, match="c_puct"):
        M.MCTSConfig(c_puct=-1)
    with pytest.raises(ValueError, match="n_sims"):
        M.MCTS(G, M.UniformEvaluator()).run(G.initial_state(), -3)
    with pytest.raises(ValueError, match="state"):
        M.MCTS(G, M.UniformEvaluator()).run((1, 1, 1, -1, -1, 0, 0, 0, 0), 3)
    with pytest.raises(ValueError, match="temperature"):
        M.search_policy(M.MCTS(G, M.UniformEvaluator()).run(G.initial_state(), 2), -1.0)
    with pytest.raises(ValueError, match="depth"):
        M.fixed_depth_lookahead(G, G.initial_state(), -1, 3, np.random.default_rng(0))
