"""Games and the exact solver: counts and values against independent brute force."""

import numpy as np
import pytest

from lib.rl.games import ConnectK, Negamax, TicTacToe, all_states, arena, classify, perfect_player, play_game, \
    position_suite, random_player


def brute_value(s, mover):
    """Plain minimax on a 3x3 list board, written independently of lib (X = 1 maximises)."""
    lines = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]
    for a, b, c in lines:
        if s[a] != 0 and s[a] == s[b] == s[c]:
            return s[a]
    if 0 not in s:
        return 0
    vals = []
    for i in range(9):
        if s[i] == 0:
            t = list(s)
            t[i] = mover
            vals.append(brute_value(t, -mover))
    return max(vals) if mover == 1 else min(vals)


def test_tictactoe_counts_and_value():
    g = TicTacToe()
    states = all_states(g)
    assert len(states) == 5478 and sum(not g.is_terminal(s) for s in states) == 4520
    solver = Negamax(g)
    assert solver.solve_all() == 5478
    assert solver.value(g.initial_state()) == 0.0


def count_games(g, s, memo=None):
    """Complete games from s (memoised on the position: the count depends only on it)."""
    memo = {} if memo is None else memo
    if g.is_terminal(s):
        return 1
    if s not in memo:
        memo[s] = sum(count_games(g, g.next_state(s, int(a)), memo) for a in g.legal_actions(s))
    return memo[s]


def test_number_of_complete_games():
    assert count_games(TicTacToe(), TicTacToe().initial_state()) == 255168


def test_solver_matches_brute_force_minimax():
    g, solver = TicTacToe(), Negamax(TicTacToe())
    rng = np.random.default_rng(0)
    states = all_states(g)
    for i in rng.choice(len(states), 150, replace=False):
        s = states[i]
        if g.is_terminal(s):
            continue
        mover = g.to_play(s)
        assert solver.value(s) == brute_value(list(s), mover) * mover  # negamax = mover's perspective
        for a, v in solver.action_values(s).items():
            t = list(s)
            t[a] = mover
            assert v == brute_value(t, -mover) * mover


def test_depth_aware_wins_fast_and_defends_long():
    g, solver = TicTacToe(), Negamax(TicTacToe())
    s = (1, 1, 0,
         -1, -1, 0,
         0, 0, 0)  # X to move: r1c3 wins now; other moves may win later
    assert solver.best_actions(s, depth_aware=True) == [2]
    assert solver.score(s) == 1 + 4  # win with 4 empty cells left
    assert solver.value(s) == 1.0 and set(solver.best_actions(s)) >= {2}


def test_connectk_small_boards():
    # 3x3 Connect-3 with gravity: brute force by plain recursion agrees with negamax
    g = ConnectK(3, 3, 3)
    solver = Negamax(g)
    fast = Negamax(g, depth_aware=False)

    def plain(s):
        if g.is_terminal(s):
            return g.terminal_value(s)
        return max(-plain(g.next_state(s, int(a))) for a in g.legal_actions(s))

    s0 = g.initial_state()
    assert solver.value(s0) == fast.value(s0) == plain(s0)
    s = g.next_state(g.next_state(s0, 1), 1)
    assert solver.value(s) == plain(s) == fast.value(s)


def test_symmetries_preserve_values():
    g, solver = TicTacToe(), Negamax(TicTacToe())
    s = (1, 0, -1, 0, 1, 0, 0, 0, 0)  # O to move, must block r3c3
    x = g.encode(s).reshape(-1)
    vals = np.array([solver.action_values(s).get(a, np.nan) for a in range(9)])
    for xs, vs in g.symmetries(x, vals):
        own = xs.reshape(3, 9)
        s2 = tuple(int(v) for v in (own[0] - own[1]) * g.to_play(s))
        v2 = np.array([solver.action_values(s2).get(a, np.nan) for a in range(9)])
        np.testing.assert_array_equal(v2, vs)


def test_encode_is_mover_relative():
    g = TicTacToe()
    s = (1, 0, 0, 0, 0, 0, 0, 0, 0)  # O to move
    planes = g.encode(s)
    assert planes.shape == (3, 3, 3) and planes[1, 0, 0] == 1 and planes[0].sum() == 0 and planes[2].sum() == 8
    np.testing.assert_array_equal(g.encode_batch([s])[0], planes.reshape(-1))


def test_position_suites_are_labelled_correctly():
    g, solver = TicTacToe(), Negamax(TicTacToe())
    rng = np.random.default_rng(0)
    for d in position_suite(g, "win_in_1", 20, rng, solver):
        s = d["state"]
        assert any(g.winner(g.next_state(s, a)) == g.to_play(s) for a in d["optimal"])
    for d in position_suite(g, "must_block", 20, rng, solver):
        s, opp = d["state"], -g.to_play(d["state"])
        threats = [a for a in g.legal_actions(s) if g.winner(g.place(s, int(a), opp)) == opp]
        assert threats and set(d["optimal"]) <= set(threats)
    for d in position_suite(g, "fork", 20, rng, solver):
        assert d["value"] == 1 and classify(g, d["state"], solver) == "fork"


def test_players_and_arena():
    g = TicTacToe()
    rng = np.random.default_rng(0)
    perfect = perfect_player(g, rng)
    res = arena(g, perfect, random_player(g, rng), 10)
    assert res["loss"] == 0 and res["win"] >= 12
    z, moves = play_game(g, perfect, perfect)
    assert z == 0 and len(moves) == 9


def test_bad_input():
    g = TicTacToe()
    with pytest.raises(ValueError, match="a:"):
        g.next_state(g.next_state(g.initial_state(), 4), 4)
    with pytest.raises(ValueError, match="s:"):
        g.check_state([1, 1, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="s:"):
        g.terminal_value(g.initial_state())
    with pytest.raises(ValueError, match="k:"):
        ConnectK(3, 3, 4)
    with pytest.raises(ValueError, match="kind"):
        position_suite(g, "trap", 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_games"):
        arena(g, None, None, 0)
