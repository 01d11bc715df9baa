"""Public checks for the Chapter 8 exercises (``exercises/ch08_rl.ipynb``).

Questions: q1 policy evaluation and value iteration, q2 the PUCT score and the negamax backup, q3 a full
Monte Carlo tree search with random rollouts, q4 AlphaZero's training targets and loss, q5 generalised advantage
estimation with terminations and time limits, q6 the DQN loss and the Polyak target update (and the two together
as fitted Q-iteration), q7 the REINFORCE gradient of a tabular softmax policy, q8 PPO's clipped loss, q9 (bonus)
random-shooting model predictive control on toy models with known best plans.

Every reference is computed here, independently of the course's ``lib.rl`` modules: an exact MDP solver (linear
solves and policy iteration), FrozenLake's transition table read from gymnasium, a tic-tac-toe rule set and its
negamax solver, GAE by its definition as a sum of discounted TD errors, the exact policy gradient by
``torch.autograd`` of the closed-form objective, the PPO objective by cases, and plan tables whose best first action
is known. Each check calls the student's functions on fresh copies of its inputs; a wrong answer fails with a
message that says what is off and by how much, and names the mistake when it is a known one (the chapter's own
slips among them). The underscore helpers are shared with ``tests/hidden/ch08_rl.py``.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import torch

from lib.grading import check
from lib.grading.answers import (answered as _answered, as_array as _array, as_number as _number, close as _close,
                                 items as _tuple, looks_like as _looks_like, near as _near,
                                 unchanged as _unchanged)


def _tensor(value, name: str) -> torch.Tensor:
    _answered(value, name)
    assert isinstance(value, torch.Tensor), f"{name}: expected a torch tensor, got {type(value).__name__} {value!r:.60}"
    return value


# --------------------------------------------------------------------------- q1: exact dynamic programming
def _random_mdp(rng, n_states: int, n_actions: int, n_terminal: int = 1, gamma: float = 0.9):
    """T[S, A, S] (rows of terminal states zero), R[S, A] (zero at terminal states), gamma."""
    T = rng.random((n_states, n_actions, n_states)) ** 3
    T /= T.sum(-1, keepdims=True)
    R = rng.normal(size=(n_states, n_actions))
    terminal = np.zeros(n_states, dtype=bool)
    terminal[rng.choice(n_states, n_terminal, replace=False)] = True
    T[terminal], R[terminal] = 0.0, 0.0
    return T, R, gamma


def _random_policy(rng, n_states: int, n_actions: int):
    pi = rng.random((n_states, n_actions)) ** 2
    return pi / pi.sum(1, keepdims=True)


def _evaluate(T, R, pi, gamma):
    """v_pi = (I - gamma P_pi)^-1 r_pi by a linear solve."""
    P = np.einsum("sa,sat->st", pi, T)
    return np.linalg.solve(np.eye(len(R)) - gamma * P, (pi * R).sum(1))


def _optimal_q(T, R, gamma):
    """Q* by policy iteration (exact: it stops when the greedy policy repeats)."""
    S, A = R.shape
    greedy = np.zeros(S, dtype=int)
    for _ in range(1000):
        v = _evaluate(T, R, np.eye(A)[greedy], gamma)
        Q = R + gamma * T @ v
        new = Q.argmax(1)
        if np.array_equal(new, greedy) or np.all(Q[np.arange(S), greedy] >= Q.max(1) - 1e-13):
            return Q
        greedy = new
    raise RuntimeError("policy iteration did not settle")


@functools.lru_cache(maxsize=None)
def _frozen_lake(gamma: float = 0.99):
    """FrozenLake-v1 4x4 (slippery) read from gymnasium's env.unwrapped.P; terminal rows zeroed."""
    import gymnasium as gym
    env = gym.make("FrozenLake-v1")
    P, desc = env.unwrapped.P, env.unwrapped.desc.ravel()
    S, A = len(P), len(P[0])
    T, R = np.zeros((S, A, S)), np.zeros((S, A))
    terminal = np.array([c in b"GH" for c in desc])
    for s in range(S):
        if terminal[s]:
            continue
        for a in range(A):
            for p, s2, r, _ in P[s][a]:
                T[s, a, s2] += p
                R[s, a] += p * r
    env.close()
    return T, R, gamma


def _call_pe(policy_evaluation, T, R, pi, gamma, name):
    return _array(policy_evaluation(T.copy(), R.copy(), pi.copy(), gamma), name, shape=(len(R),))


def _call_vi(value_iteration, T, R, gamma, tol, name):
    return _array(value_iteration(T.copy(), R.copy(), gamma, tol), name, shape=R.shape)


def _pe_mistakes(T, R, pi, gamma) -> dict:
    P = np.einsum("sa,sat->st", pi, T)
    r = (pi * R).sum(1)
    return {"(I - gamma P_pi^T)^-1 r_pi: P_pi transposed": np.linalg.solve(np.eye(len(R)) - gamma * P.T, r),
            "the discount applied to the reward too, gamma (r + gamma P v)": np.linalg.solve(
                np.eye(len(R)) - gamma * P, gamma * r),
            "r_pi + gamma P_pi r_pi: one backup from v = r instead of the fixed point": r + gamma * P @ r}


def _vi_mistakes(T, R, gamma) -> dict:
    S, A = R.shape
    return {"the discount applied to the reward too, gamma (R + T max Q)": gamma * _optimal_q(T, R, gamma),
            "a mean over actions instead of the max (the uniform policy's Q)": R + gamma * T @ _evaluate(
                T, R, np.full((S, A), 1 / A), gamma)}


def _check_q1_random(policy_evaluation, value_iteration, rng, n_mdps: int, label: str) -> None:
    for k in range(n_mdps):
        S, A = int(rng.integers(3, 12)), int(rng.integers(2, 5))
        T, R, gamma = _random_mdp(rng, S, A, n_terminal=int(rng.integers(1, 3)), gamma=float(rng.uniform(0.5, 0.97)))
        pi = _random_policy(rng, S, A)
        v = _call_pe(policy_evaluation, T, R, pi, gamma, f"policy_evaluation ({label} MDP {k + 1})")
        _close(v, _evaluate(T, R, pi, gamma), 1e-8, f"policy_evaluation on {label} MDP {k + 1} (S = {S}, A = {A}, "
               f"gamma = {gamma:.3f})", _pe_mistakes(T, R, pi, gamma))
        Q = _call_vi(value_iteration, T, R, gamma, 1e-12, f"value_iteration ({label} MDP {k + 1})")
        _close(Q, _optimal_q(T, R, gamma), 1e-8, f"value_iteration on {label} MDP {k + 1} (S = {S}, A = {A}, "
               f"gamma = {gamma:.3f}) compared with Q* from policy iteration", _vi_mistakes(T, R, gamma))


@check("q1", points=1.5, hint="v = solve(I - gamma P_pi, r_pi) with P_pi[s, s'] = sum_a pi(a|s) T[s, a, s'] and "
                              "r_pi[s] = sum_a pi(a|s) R[s, a]; Q <- R + gamma T @ Q.max(1) until the change is < tol")
def dynamic_programming_on_random_mdps(policy_evaluation, value_iteration):
    _check_q1_random(policy_evaluation, value_iteration, np.random.default_rng(8101), 10, "random")


@check("q1", points=1, hint="iterate until max |Q_new - Q_old| < tol; T has zero rows at terminal states")
def value_iteration_is_a_fixed_point(value_iteration):
    T, R, gamma = _random_mdp(np.random.default_rng(8102), 8, 3, n_terminal=2, gamma=0.95)
    Q = _call_vi(value_iteration, T, R, gamma, 1e-11, "value_iteration(T, R, 0.95, 1e-11)")
    resid = float(np.abs(R + gamma * T @ Q.max(1) - Q).max())
    assert resid < 1e-8, (f"the Bellman optimality residual ||TQ - Q||_inf is {resid:.2e}; expected < 1e-8 with "
                          f"tol = 1e-11." + _looks_like(Q, _vi_mistakes(T, R, gamma)))
    v_greedy = _evaluate(T, R, np.eye(3)[Q.argmax(1)], gamma)
    gap = float(np.abs(v_greedy - Q.max(1)).max())
    assert gap < 1e-7, f"the greedy policy of your Q is worth {gap:.2e} less than max_a Q somewhere: not optimal"


@check("q1", points=1.5, hint="FrozenLake: the goal and the holes are terminal (their rows of T are zero)")
def frozen_lake_optimal_value(policy_evaluation, value_iteration):
    T, R, gamma = _frozen_lake(0.99)
    Q = _call_vi(value_iteration, T, R, gamma, 1e-12, "value_iteration on FrozenLake-v1 (gamma = 0.99)")
    want = _optimal_q(T, R, gamma)
    _near(float(Q[0].max()), float(want[0].max()), 1e-8, "V*(start) on slippery FrozenLake-v1 with gamma = 0.99 "
          "(0.5420)", {"the value with gamma on the reward too": 0.99 * float(want[0].max())})
    uniform = np.full((16, 4), 0.25)
    v = _call_pe(policy_evaluation, T, R, uniform, gamma, "policy_evaluation of the uniform policy on FrozenLake")
    _close(v, _evaluate(T, R, uniform, gamma), 1e-8, "policy_evaluation of the uniform policy on FrozenLake")


# --------------------------------------------------------------------------- q2: PUCT and the negamax backup
def _puct_ref(Q, N, P, c):
    return Q + c * P * math.sqrt(max(float(N.sum()), 1.0)) / (1.0 + N)


def _puct_mistakes(Q, N, P, c) -> dict:
    return {"sqrt(N(s, a)) of the child instead of the parent's total sum_b N(s, b)": Q + c * P * np.sqrt(N) / (1 + N),
            "U without the 1 + in the denominator": Q + c * P * math.sqrt(max(N.sum(), 1)) / np.maximum(N, 1e-300),
            "sqrt(sum N) with no guard: at a fresh node every score is 0": Q + c * P * math.sqrt(N.sum()) / (1 + N),
            "the exploration term subtracted": Q - c * P * math.sqrt(max(N.sum(), 1)) / (1 + N)}


def _call_puct(puct_scores, Q, N, P, c, name):
    return _array(puct_scores(np.array(Q, float), np.array(N, float), np.array(P, float), c), name,
                  shape=(len(Q),))


@check("q2", points=1.5, hint="U(s, a) = c P(a|s) sqrt(sum_b N(s, b)) / (1 + N(s, a)); score = Q + U")
def puct_reproduces_the_two_action_example(puct_scores):
    cases = [("early in the search (Q = 0, N = 1 each, P = 0.8 / 0.2, c = 1)", [0, 0], [1, 1], 1.0, [0.566, 0.141]),
             ("late in the search (Q = 0.3 / 0.6, N = 50 / 20, c = 1)", [0.3, 0.6], [50, 20], 1.0, [0.431, 0.680])]
    for label, Q, N, c, rounded in cases:
        Q, N, P = np.array(Q, float), np.array(N, float), np.array([0.8, 0.2])
        got = _call_puct(puct_scores, Q, N, P, c, f"puct_scores {label}")
        _close(got, _puct_ref(Q, N, P, c), 1e-9, f"puct_scores {label}, rounded {rounded}",
               _puct_mistakes(Q, N, P, c))
    Q, N, P = np.array([0.3, 0.6]), np.array([50.0, 20.0]), np.array([0.8, 0.2])
    for c, best in ((5.6, 1), (6.0, 0)):
        got = _call_puct(puct_scores, Q, N, P, c, f"puct_scores late, c = {c}")
        which = "first" if best == 0 else "second"
        assert int(np.argmax(got)) == best, (f"late in the search with c = {c} the {which} action should score higher "
                                             f"(the crossover is at c = 5.82); got {got}")


@check("q2", points=1, hint="at a fresh node (all N = 0) use sqrt(max(sum N, 1)) so the scores rank by the prior")
def puct_at_a_fresh_node_ranks_by_prior(puct_scores):
    P = np.array([0.1, 0.5, 0.15, 0.25])
    got = _call_puct(puct_scores, np.zeros(4), np.zeros(4), P, 1.5, "puct_scores at a fresh node (N = 0, Q = 0)")
    _close(got, 1.5 * P, 1e-12, "puct_scores at a fresh node, c = 1.5 (expected c P: sqrt(max(0, 1)) = 1)",
           _puct_mistakes(np.zeros(4), np.zeros(4), P, 1.5))
    rng = np.random.default_rng(8121)
    for k in range(20):
        A = int(rng.integers(2, 8))
        Q, N = rng.uniform(-1, 1, A), rng.integers(0, 30, A).astype(float)
        P, c = rng.dirichlet(np.ones(A)), float(rng.uniform(0.5, 4))
        _close(_call_puct(puct_scores, Q, N, P, c, "puct_scores"), _puct_ref(Q, N, P, c), 1e-10,
               f"puct_scores on random case {k + 1} (A = {A}, c = {c:.3f})", _puct_mistakes(Q, N, P, c))


def _stats(rng, A: int) -> dict:
    N = rng.integers(1, 20, A).astype(float)
    return {"N": N, "W": rng.uniform(-1, 1, A) * N}


def _backup_ref(path, value):
    """Walk up from the leaf: the edge into the leaf belongs to the leaf mover's opponent, so it gets -value."""
    for stats, a in reversed(path):
        value = -value
        stats["N"][a] += 1
        stats["W"][a] += value


def _run_backup(backup, path, value):
    answer = backup(path, value)
    assert answer is None or answer is Ellipsis or isinstance(answer, (list, tuple, dict)), \
        f"backup should update the statistics in place (it may return None); it returned {answer!r:.60}"
    for stats, _ in path:
        _answered(stats["N"], "stats['N'] after backup")


def _check_backup_path(backup, rng, depth: int, value: float, label: str) -> None:
    nodes = [_stats(rng, 4) for _ in range(depth)]
    actions = [int(a) for a in rng.integers(0, 4, depth)]
    mine = [({"N": s["N"].copy(), "W": s["W"].copy()}, a) for s, a in zip(nodes, actions)]
    want = [({"N": s["N"].copy(), "W": s["W"].copy()}, a) for s, a in zip(nodes, actions)]
    _backup_ref(want, value)
    _run_backup(backup, mine, value)
    for d, ((got, a), (ref, _), old) in enumerate(zip(mine, want, nodes)):
        dN = _array(got["N"], f"N of edge {d}") - old["N"]
        dW = _array(got["W"], f"W of edge {d}") - old["W"]
        sign = "+" if (depth - d) % 2 == 0 else "-"
        assert np.allclose(dN, ref["N"] - old["N"]), (f"{label}: edge {d} (from the root) should get N + 1 on action "
                                                      f"{a} and nothing else; N changed by {dN}")
        expect = ref["W"] - old["W"]
        hint = ""
        if np.allclose(dW, -expect) or (d == depth - 1 and np.allclose(dW, np.where(expect != 0, value, 0))):
            hint = (" This looks like the same value added on every edge (no sign flip per ply, the chapter's backup "
                    "(8.61)): in a two-player game the value changes sign at every ply.")
        assert np.allclose(dW, expect, atol=1e-12), (
            f"{label}: edge {d} (from the root, {depth - d} ply above the leaf) should get W += {sign}v, with v = "
            f"{value} the leaf value for the leaf's mover; W changed by {dW}." + hint)


@check("q2", points=1.5, hint="the edge into the leaf gets W -= v (its mover is the leaf mover's opponent); the sign "
                              "flips at every ply above it, and every edge on the path gets N += 1")
def backup_flips_the_sign_every_ply(backup):
    rng = np.random.default_rng(8122)
    _check_backup_path(backup, rng, 3, 0.37, "a 3-ply path with leaf value v = 0.37")
    _check_backup_path(backup, rng, 1, -0.8, "a 1-ply path with leaf value v = -0.8")
    _check_backup_path(backup, rng, 4, 1.0, "a 4-ply path with leaf value v = 1")


@check("q2", points=1, hint="after X plays the winning move the leaf is terminal and worth -1 to O, who moves there")
def backup_makes_a_winning_edge_worth_plus_one(backup):
    game = _TicTacToe()
    s = (1, 1, 0, -1, -1, 0, 0, 0, 0)  # X to move; cell 2 wins
    leaf = game.next_state(s, 2)
    v = game.terminal_value(leaf)
    root = {"N": np.zeros(9), "W": np.zeros(9)}
    _run_backup(backup, [(root, 2)], v)
    q = float(root["W"][2] / max(root["N"][2], 1e-300))
    assert root["N"][2] == 1 and abs(q - 1.0) < 1e-12, (
        f"X to move on X X . / O O . / . . . plays cell 2 and wins; the leaf's value for O (to move there) is {v}. "
        f"After the backup the root edge should have N = 1 and Q = W / N = +1 (a win for X, who moves at the root); "
        f"got N = {root['N'][2]:g}, Q = {q:g}.")


# --------------------------------------------------------------------------- q3: full MCTS on tic-tac-toe
class _TicTacToe:
    """Tic-tac-toe rules written for the checks. States are tuples of 9 cells in {+1 (X), -1 (O), 0}; X moves
    first; ``terminal_value`` is from the view of the player to move at the terminal state (-1 or 0)."""

    action_size = 9
    LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))

    def __init__(self):
        self._winner = {}

    def initial_state(self):
        return (0,) * 9

    def to_play(self, s):
        return 1 if s.count(1) == s.count(-1) else -1

    def winner(self, s):
        if s not in self._winner:
            w = None
            for i, j, k in self.LINES:
                if s[i] != 0 and s[i] == s[j] == s[k]:
                    w = s[i]
                    break
            self._winner[s] = w if w is not None else (0 if 0 not in s else None)
        return self._winner[s]

    def is_terminal(self, s):
        return self.winner(s) is not None

    def terminal_value(self, s):
        w = self.winner(s)
        return 0.0 if w == 0 else float(w * self.to_play(s))

    def legal_actions(self, s):
        if self.is_terminal(s):
            return np.zeros(0, dtype=np.int64)
        return np.array([i for i in range(9) if s[i] == 0], dtype=np.int64)

    def next_state(self, s, a):
        a = int(a)
        if s[a] != 0 or self.is_terminal(s):
            raise ValueError(f"a: move {a} is not legal in {s}")
        t = list(s)
        t[a] = self.to_play(s)
        return tuple(t)


@functools.lru_cache(maxsize=None)
def _negamax(s) -> float:
    """Exact value of tic-tac-toe position ``s`` for the player to move (+1 win, 0 draw, -1 loss)."""
    game = _GAME
    if game.is_terminal(s):
        return game.terminal_value(s)
    return max(-_negamax(game.next_state(s, a)) for a in game.legal_actions(s))


def _best_moves(s) -> set:
    vals = {int(a): -_negamax(_GAME.next_state(s, a)) for a in _GAME.legal_actions(s)}
    top = max(vals.values())
    return {a for a, v in vals.items() if v == top}


_GAME = _TicTacToe()


def _board(s) -> str:
    return " / ".join("".join({1: "X", -1: "O", 0: "."}[s[3 * r + c]] for c in range(3)) for r in range(3))


def _call_mcts(run_mcts, s, n_sims, c, seed, name):
    got = _tuple(run_mcts(_TicTacToe(), s, n_sims, c, np.random.default_rng(seed)), name, 3)
    action = _array(got[0], f"{name}: the action", dtype=float)
    assert action.size == 1 and float(action) == int(action), \
        f"{name}: the action should be one integer, got {got[0]!r}"
    N = _array(got[1], f"{name}: N (root visit counts)", shape=(9,))
    Q = _array(got[2], f"{name}: Q (root action values)", shape=(9,))
    return int(action), N, Q


# win in 1 (the mover completes a line), must block (the opponent threatens one), a fork and an empty board
_WIN_IN_1 = [(1, 1, 0, -1, -1, 0, 0, 0, 0), (1, -1, 0, 1, -1, 0, 0, 0, 0), (-1, 1, 1, 0, -1, 1, 0, 0, 0),
             (1, 0, -1, 0, 1, -1, 0, 0, 0)]
_MUST_BLOCK = [(1, 0, -1, 0, -1, 1, 0, 0, 0), (-1, -1, 0, 1, 0, 0, 0, 0, 1), (0, 0, 0, 1, 1, 0, -1, 0, 0),
               (-1, 0, 1, 0, 1, 0, 0, 0, 0)]  # in each, blocking is the only move that does not lose


def _check_invariants(run_mcts, s, n_sims, seed, label):
    a, N, Q = _call_mcts(run_mcts, s, n_sims, 2.0, seed, f"run_mcts({label}, n_sims = {n_sims}, c = 2)")
    legal = set(int(x) for x in _GAME.legal_actions(s))
    assert N.min() >= 0 and abs(N.sum() - n_sims) < 1e-9, (
        f"{label}: every simulation passes through exactly one root edge, so the root visit counts should sum to "
        f"n_sims = {n_sims}; they sum to {N.sum():g}")
    illegal = [i for i in range(9) if i not in legal and (N[i] != 0 or Q[i] != 0)]
    assert not illegal, f"{label}: occupied cells {illegal} should have N = 0 and Q = 0"
    assert np.abs(Q).max() <= 1 + 1e-12, f"{label}: values are in [-1, 1], but max |Q| = {np.abs(Q).max():.4g}"
    assert a in legal and N[a] == N.max(), (
        f"{label}: the move played should be the most visited root action (the search policy is the visit counts, "
        f"not the PUCT score or the prior); you returned {a} with N = {N[a]:g}, the maximum is {N.max():g}")
    return a, N, Q


@check("q3", points=1, hint="expand the root first; every simulation adds 1 to one root edge; play argmax N")
def mcts_keeps_its_invariants(run_mcts):
    a, N, Q = _check_invariants(run_mcts, _GAME.initial_state(), 400, 8131, "the empty board")
    mean = float((N * Q).sum() / N.sum())
    assert mean > 0, (f"from the empty board X's root values should average above 0 (X, who moves first, wins random "
                      f"games about twice as often as O, and the search only improves on that); your visit-weighted "
                      f"mean of Q is {mean:.3f}. Is the rollout's result taken from the wrong player's view?")
    _check_invariants(run_mcts, (1, -1, 0, 0, 1, 0, 0, 0, -1), 150, 8132, "X . / ...")


@check("q3", points=1.5, hint="a rollout's result is from the view of the player to move at the leaf; the backup "
                              "flips its sign at every ply")
def mcts_wins_in_one_and_blocks(run_mcts):
    for kind, positions in (("win in 1", _WIN_IN_1), ("must block", _MUST_BLOCK)):
        for s in positions:
            for seed in range(3):
                a, N, Q = _check_invariants(run_mcts, s, 400, 8133 + seed, f"{kind} position {_board(s)}")
                best = _best_moves(s)
                assert a in best, (f"{kind}: in {_board(s)} ({'X' if _GAME.to_play(s) == 1 else 'O'} to move) the "
                                   f"search played {a}; the optimal moves are {sorted(best)} (seed {seed}, 400 sims, "
                                   f"c = 2). Root N = {N.astype(int).tolist()}. A search that plays for the opponent "
                                   f"usually has a missing sign flip.")
                if kind == "win in 1":
                    win = [b for b in best if _GAME.winner(_GAME.next_state(s, b)) is not None][0]
                    assert abs(Q[win] - 1) < 1e-12, (f"win in 1 on {_board(s)}: the winning move {win} ends the game, "
                                                     f"so every visit returns +1 for the mover and Q should be exactly "
                                                     f"+1; got {Q[win]:.4g}")


# forced wins that are not immediate: the only winning move sets up a double threat (a fork) or forces one
_FORCED_WINS = [(1, -1, 0, 0, -1, 0, 0, 1, 0), (0, -1, 0, 0, 0, 1, 1, -1, 0), (1, -1, 1, 0, 0, 0, 0, -1, 0),
                (-1, 0, 1, 1, 0, 0, 0, 0, -1)]


@check("q3", points=1.5, hint="with random rollouts, c = 2 and 400 simulations the search finds these forced wins")
def mcts_finds_forced_wins(run_mcts):
    for s in _FORCED_WINS:
        for seed in range(2):
            a, N, Q = _check_invariants(run_mcts, s, 400, 8137 + seed, f"forced-win position {_board(s)}")
            best = _best_moves(s)
            assert a in best, (f"in {_board(s)} ({'X' if _GAME.to_play(s) == 1 else 'O'} to move) only "
                               f"{sorted(best)} keeps the forced win; the search played {a} (seed {seed}, 400 sims, "
                               f"c = 2). Root N = {N.astype(int).tolist()}, Q = {np.round(Q, 2).tolist()}.")


# --------------------------------------------------------------------------- q4: AlphaZero targets and loss
def _targets_ref(visits, players, winner, temperature):
    visits = np.asarray(visits, float)
    if temperature == 0:
        pi = np.eye(visits.shape[1])[visits.argmax(1)]
    else:
        w = visits ** (1.0 / temperature)
        pi = w / w.sum(1, keepdims=True)
    return pi, float(winner) * np.asarray(players, float)


_RECORD = dict(visits=np.array([[10.0, 30, 60, 0], [0, 5, 5, 90], [40, 20, 0, 40.5], [1, 0, 0, 0]]),
               players=np.array([1.0, -1, 1, -1]))


def _call_targets(make_targets, visits, players, winner, temperature, name):
    got = _tuple(make_targets(visits.copy(), players.copy(), winner, temperature), name)
    return _array(got[0], f"{name}: pi", shape=visits.shape), _array(got[1], f"{name}: z", shape=players.shape)


@check("q4", points=1.5, hint="pi(a) = N(a)^(1/tau) / sum_b N(b)^(1/tau), one-hot on argmax N for tau = 0; "
                              "z_t = winner * player_t (the outcome from the view of the player who moved at t)")
def targets_from_visit_counts_and_outcome(make_targets):
    visits, players = _RECORD["visits"], _RECORD["players"]
    for tau in (1.0, 0.5, 2.0, 0.0):
        for winner in (1, -1, 0):
            pi, z = _call_targets(make_targets, visits, players, winner, tau,
                                  f"make_targets(visits, players, winner = {winner}, temperature = {tau})")
            want_pi, want_z = _targets_ref(visits, players, winner, tau)
            wrong_tau = (visits ** tau) / (visits ** tau).sum(1, keepdims=True) if tau > 0 else want_pi
            _close(pi, want_pi, 1e-10, f"pi at temperature {tau}",
                   {"N^tau instead of N^(1/tau)": wrong_tau} if tau not in (1.0, 0.0) else {})
            _close(z, want_z, 1e-12, f"z with winner {winner} and movers {players.astype(int).tolist()}",
                   {"the outcome from X's view on every move (z = winner): each state's target must be from its "
                    "mover's view": np.full(4, float(winner)),
                    "the outcome from the opposite view (z = -winner * player)": -want_z} if winner else {})


def _az_ref(logits, value, pi, z, mask):
    logits = logits.masked_fill(~mask, -torch.inf)
    logp = torch.log_softmax(logits, -1).masked_fill(~mask, 0.0)
    return ((z - value) ** 2).mean() - (pi * logp).sum(-1).mean()


def _az_case(seed: int, B: int = 5, A: int = 6):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, A, generator=g, dtype=torch.float64) * 2
    value = torch.tanh(torch.randn(B, generator=g, dtype=torch.float64))
    mask = torch.rand(B, A, generator=g) < 0.6
    mask[:, 0] = True
    pi = torch.rand(B, A, generator=g, dtype=torch.float64) * mask
    pi = pi / pi.sum(-1, keepdim=True)
    z = torch.tensor([1.0, -1.0, 0.0, 1.0, -1.0] * (B // 5 + 1), dtype=torch.float64)[:B]
    return logits, value, pi, z, mask


def _az_mistakes(logits, value, pi, z, mask) -> dict:
    ce = -(pi * torch.log_softmax(logits, -1)).sum(-1).mean()
    mse = ((z - value) ** 2).mean()
    right = _az_ref(logits, value, pi, z, mask)
    return {"a softmax over all moves, illegal ones included": float(mse + ce),
            "the cross-entropy with the wrong sign, (z - v)^2 + pi^T log p": float(2 * mse - right),
            "a summed, not averaged, loss": float(right * len(z)),
            "the value term alone": float(mse)}


def _call_az(az_loss, logits, value, pi, z, mask, name, grad=False):
    lg, vl = logits.clone().requires_grad_(grad), value.clone().requires_grad_(grad)
    loss = _tensor(az_loss(lg, vl, pi.clone(), z.clone(), mask.clone()), name)
    assert loss.numel() == 1, f"{name}: expected a scalar loss, got shape {tuple(loss.shape)}"
    _number(loss.detach(), name)
    return loss, lg, vl


@check("q4", points=1.5, hint="mean over the batch of (z - v)^2 - sum_a pi(a) log p(a), with p the softmax over the "
                              "legal moves only (illegal logits set to -inf, and 0 * log 0 taken as 0)")
def az_loss_matches_the_definition(az_loss):
    for seed in (8141, 8142):
        case = _az_case(seed)
        loss, *_ = _call_az(az_loss, *case, f"az_loss on a random batch (seed {seed})")
        _near(float(loss), float(_az_ref(*case)), 1e-10, f"az_loss on a random batch of 5 with 6 moves (seed {seed})",
              _az_mistakes(*case))
    logits, value, pi, z, mask = _az_case(8143)
    logits = logits.masked_fill(~mask, 50.0)  # huge illegal logits: they must not count
    loss, *_ = _call_az(az_loss, logits, value, pi, z, mask, "az_loss with large logits on illegal moves")
    _near(float(loss), float(_az_ref(logits, value, pi, z, mask)), 1e-10, "az_loss with logits of 50 on illegal moves",
          _az_mistakes(logits, value, pi, z, mask))


@check("q4", points=1, hint="the gradient must reach both heads and vanish on illegal moves")
def az_loss_gradients(az_loss):
    logits, value, pi, z, mask = _az_case(8144)
    loss, lg, vl = _call_az(az_loss, logits, value, pi, z, mask, "az_loss", grad=True)
    assert loss.requires_grad, "az_loss: the loss carries no gradient (was it detached or built from numpy?)"
    loss.backward()
    assert lg.grad is not None and vl.grad is not None, "az_loss: the gradient should reach both logits and value"
    g_l, g_v = lg.grad.detach(), vl.grad.detach()
    assert torch.isfinite(g_l).all() and torch.isfinite(g_v).all(), "az_loss: nan or inf in the gradient (0 * log 0?)"
    assert float(g_l[~mask].abs().max()) == 0.0, "az_loss: illegal moves should get zero gradient"
    _close(g_v.numpy(), (-2 * (z - value) / len(z)).numpy(), 1e-10, "d loss / d value (= -2 (z - v) / B)")


# --------------------------------------------------------------------------- q5: GAE
def _gae_ref(rewards, values, terminated, last_value, gamma, lam, truncated=None, final_values=None):
    """A_t = sum_k (gamma lam)^k delta_{t+k} within the episode, by the definition (a double loop)."""
    r, v = np.asarray(rewards, float), np.asarray(values, float)
    T = len(r)
    term = np.asarray(terminated, bool)
    trunc = np.zeros_like(term) if truncated is None else np.asarray(truncated, bool)
    fin = np.zeros_like(v) if final_values is None else np.asarray(final_values, float)
    nxt = np.concatenate([v[1:], np.asarray(last_value, float)[None]], 0)
    nxt = np.where(trunc, fin, nxt)
    delta = r + gamma * np.where(term, 0.0, nxt) - v
    ends = term | trunc
    adv = np.zeros_like(v)
    for t in range(T):
        alive = np.ones(v.shape[1:], bool)
        for k in range(t, T):
            adv[t] = adv[t] + alive * (gamma * lam) ** (k - t) * delta[k]
            alive = alive & ~ends[k]
    return adv, adv + v


def _gae_mistakes(rewards, values, terminated, last_value, gamma, lam, truncated=None, final_values=None) -> dict:
    no_end = _gae_ref(rewards, values, np.zeros_like(terminated), last_value, gamma, lam)[0]
    trunc_as_term = _gae_ref(rewards, values, np.asarray(terminated, bool) | (
        np.zeros_like(terminated) if truncated is None else np.asarray(truncated, bool)), last_value, gamma, lam)[0]
    mistakes = {"bootstrapping through the terminal state (no (1 - done) anywhere)": no_end,
                "lambda without gamma in the recursion, A_t = delta_t + lam A_{t+1}":
                    _gae_ref(rewards, values, terminated, last_value, gamma, lam / gamma, truncated, final_values)[0]}
    if truncated is not None and np.any(truncated):
        mistakes["the time limit treated as a termination (no bootstrap from final_values)"] = trunc_as_term
    return mistakes


def _call_gae(gae, rewards, values, terminated, last_value, gamma, lam, name, truncated=None, final_values=None):
    args = [rewards.copy(), values.copy(), terminated.copy(), np.array(last_value, float).copy(), gamma, lam]
    kw = {} if truncated is None else dict(truncated=truncated.copy(), final_values=final_values.copy())
    got = _tuple(gae(*args, **kw), name)
    return (_array(got[0], f"{name}: advantages", shape=np.shape(values)),
            _array(got[1], f"{name}: returns", shape=np.shape(values)))


@check("q5", points=1.5, hint="delta_t = r_t + gamma (1 - d_t) V(s_{t+1}) - V(s_t); A_t = delta_t + gamma lam "
                              "(1 - d_t) A_{t+1}; returns = A + V")
def gae_hand_case(gae):
    r, v, d = np.array([1.0, 0, 2]), np.array([0.5, 1.0, 0.5]), np.array([False, False, True])
    A, G = _call_gae(gae, r, v, d, 0.7, 0.9, 0.8,
                     "gae(r=[1,0,2], V=[0.5,1,0.5], terminal at step 3, gamma=0.9, lam=0.8)")
    _close(A, [1.7816, 0.53, 1.5], 1e-10, "advantages of the hand case (expected [1.7816, 0.53, 1.5])",
           _gae_mistakes(r, v, d, 0.7, 0.9, 0.8))
    _close(G, [2.2816, 1.53, 2.0], 1e-10, "returns = A + V of the hand case")
    A1, _ = _call_gae(gae, r, v, d, 0.7, 0.9, 1.0, "gae with lam = 1")
    _close(A1, [2.12, 0.8, 1.5], 1e-10, "lam = 1 gives the Monte Carlo advantage G_t - V(s_t) = [2.12, 0.8, 1.5]")
    A0, _ = _call_gae(gae, r, v, d, 0.7, 0.9, 0.0, "gae with lam = 0")
    _close(A0, [1.4, -0.55, 1.5], 1e-10, "lam = 0 gives the TD errors delta = [1.4, -0.55, 1.5]")


def _gae_rollout(rng, T: int, n_envs: int | None, p_end: float = 0.15):
    shape = (T,) if n_envs is None else (T, n_envs)
    r, v = rng.normal(size=shape), rng.normal(size=shape)
    term = rng.random(shape) < p_end
    trunc = (rng.random(shape) < p_end) & ~term
    fin = np.where(trunc, rng.normal(size=shape), 0.0)
    last = rng.normal(size=shape[1:])
    return r, v, term, trunc, fin, last


@check("q5", points=1.5, hint="at a time limit (truncated) bootstrap from final_values[t] = V(final observation) but "
                              "do not carry A_{t+1} across: the next step belongs to a new episode")
def gae_with_terminations_and_time_limits(gae):
    rng = np.random.default_rng(8151)
    for k, n_envs in enumerate((None, None, 3)):
        r, v, term, trunc, fin, last = _gae_rollout(rng, 40, n_envs)
        gamma, lam = 0.97, 0.9
        A, G = _call_gae(gae, r, v, term, last, gamma, lam, f"gae on random rollout {k + 1}", trunc, fin)
        want, _ = _gae_ref(r, v, term, last, gamma, lam, trunc, fin)
        _close(A, want, 1e-10, f"advantages on random rollout {k + 1} of length 40 "
               f"{'(one env)' if n_envs is None else f'with {n_envs} envs, shape (40, {n_envs})'}, gamma = {gamma}, "
               f"lam = {lam}, with terminations and time limits",
               _gae_mistakes(r, v, term, last, gamma, lam, trunc, fin))
        _close(G, want + v, 1e-10, f"returns on random rollout {k + 1}")


# --------------------------------------------------------------------------- q6: DQN loss and Polyak averaging
def _linear_q(weight, bias) -> torch.nn.Linear:
    net = torch.nn.Linear(weight.shape[1], weight.shape[0]).double()
    with torch.no_grad():
        net.weight.copy_(torch.as_tensor(weight, dtype=torch.float64))
        net.bias.copy_(torch.as_tensor(bias, dtype=torch.float64))
    return net


def _dqn_case(seed: int = 8161, B: int = 3, d: int = 2, A: int = 3):
    g = torch.Generator().manual_seed(seed)
    online, target = [_linear_q(torch.randn(A, d, generator=g, dtype=torch.float64),
                                torch.randn(A, generator=g, dtype=torch.float64)) for _ in range(2)]
    batch = dict(obs=torch.randn(B, d, generator=g, dtype=torch.float64), actions=torch.arange(B) % A,
                 rewards=torch.randn(B, generator=g, dtype=torch.float64),
                 next_obs=torch.randn(B, d, generator=g, dtype=torch.float64),
                 terminated=(torch.arange(B) == 1).double())
    return online, target, batch


def _dqn_ref(online, target, batch, gamma, mistake=""):
    q = online(batch["obs"]).gather(1, batch["actions"][:, None])[:, 0]
    nxt = (online if mistake == "online target" else target)(batch["next_obs"]).max(1).values
    mask = 1.0 if mistake == "no mask" else 1.0 - batch["terminated"]
    y = batch["rewards"] + gamma * mask * nxt
    if mistake != "online target":
        y = y.detach()
    return ((q - y) ** 2).mean()


def _batch_copy(batch):
    return {k: v.clone() for k, v in batch.items()}


def _nets_copy(*nets):
    import copy
    return [copy.deepcopy(n) for n in nets]


@check("q6", points=1.5, hint="y = r + gamma (1 - terminated) max_a' Q_target(s', a'), computed without gradient; "
                              "loss = mean (Q(s, a) - y)^2")
def dqn_loss_matches_the_definition(dqn_loss):
    online, target, batch = _dqn_case()
    gamma = 0.9
    with torch.no_grad():
        want = float(_dqn_ref(online, target, batch, gamma))
        mistakes = {"the target from the online network":
                        float(_dqn_ref(online, target, batch, gamma, "online target")),
                    "bootstrapping through the terminal transition (no 1 - terminated)":
                        float(_dqn_ref(online, target, batch, gamma, "no mask"))}
    on, ta = _nets_copy(online, target)
    loss = _tensor(dqn_loss(on, ta, _batch_copy(batch), gamma), "dqn_loss(q_online, q_target, batch, 0.9)")
    assert loss.numel() == 1, f"dqn_loss: expected a scalar, got shape {tuple(loss.shape)}"
    _near(_number(loss.detach(), "dqn_loss"), want, 1e-10, "dqn_loss on a 3-transition batch (the second terminal)",
          mistakes)


@check("q6", points=1, hint="compute the target under torch.no_grad() (or .detach() it): only q_online learns")
def dqn_loss_gradient_reaches_only_the_online_net(dqn_loss):
    online, target, batch = _dqn_case(8162, B=6)
    on, ta = _nets_copy(online, target)
    loss = _tensor(dqn_loss(on, ta, _batch_copy(batch), 0.95), "dqn_loss")
    assert loss.requires_grad, "dqn_loss: the loss carries no gradient for q_online"
    loss.backward()
    leaked = [n for n, p in ta.named_parameters() if p.grad is not None and float(p.grad.abs().max()) > 0]
    assert not leaked, (f"dqn_loss: the target network's parameters {leaked} received gradients; the target "
                        f"r + gamma max Q_target(s', .) must be a constant (semi-gradient)")
    ref_on = _nets_copy(online)[0]
    _dqn_ref(ref_on, target, batch, 0.95).backward()
    for (n, p), (_, p_ref) in zip(on.named_parameters(), ref_on.named_parameters()):
        assert p.grad is not None, f"dqn_loss: q_online.{n} got no gradient"
        _close(p.grad.numpy(), p_ref.grad.numpy(), 1e-9, f"the gradient of dqn_loss for q_online.{n}")


def _params(net):
    return [p.detach().clone() for p in net.parameters()]


@check("q6", points=1.5, hint="for each parameter pair: target <- (1 - tau) target + tau online, in place "
                              "(p_target.data.mul_(1 - tau).add_(tau * p_online.data), or torch.lerp_)")
def polyak_update_averages_in_place(polyak_update):
    online, target, _ = _dqn_case(8163)
    t0, o0 = _params(target), _params(online)
    ids = [id(p) for p in target.parameters()]
    polyak_update(target, online, 0.1)
    for p, a, b in zip(target.parameters(), t0, o0):
        _close(p.detach().numpy(), (0.9 * a + 0.1 * b).numpy(), 1e-12, "target after one update with tau = 0.1",
               {"tau and 1 - tau swapped (the target moves 90% of the way)": (0.1 * a + 0.9 * b).numpy(),
                "no change: the update was assigned to a local name, not written into the parameters": a.numpy()})
    assert [id(p) for p in target.parameters()] == ids, "polyak_update should change the target's parameters in place"
    for p, b in zip(online.parameters(), o0):
        assert torch.equal(p.detach(), b), "polyak_update must not change the online network"
    for _ in range(9):
        polyak_update(target, online, 0.1)
    for p, a, b in zip(target.parameters(), t0, o0):
        _close(p.detach().numpy(), (b + 0.9 ** 10 * (a - b)).numpy(), 1e-10,
               "target after 10 updates with tau = 0.1 (expected online + 0.9^10 (target_0 - online))")
    polyak_update(target, online, 1.0)
    for p, b in zip(target.parameters(), o0):
        _close(p.detach().numpy(), b.numpy(), 1e-14, "tau = 1 should copy the online network (DQN's hard update)")


def _corridor(n: int = 6, gamma: float = 0.9):
    """Deterministic corridor: actions 0 left / 1 right, reward -1 per step, the right end is terminal (T rows 0)."""
    T, R = np.zeros((n, 2, n)), -np.ones((n, 2))
    for s in range(n - 1):
        T[s, 0, max(s - 1, 0)] = 1.0
        T[s, 1, s + 1] = 1.0
    R[n - 1] = 0.0
    return T, R, gamma


@check("q6", points=1, hint="the loss and the Polyak update together are fitted Q-iteration: with a one-hot table "
                            "for Q they should reach Q*")
def dqn_pieces_learn_the_optimal_q(dqn_loss, polyak_update):
    T, R, gamma = _corridor()
    S, A = R.shape
    want = _optimal_q(T, R, gamma)
    s, a = np.divmod(np.arange(S * A), A)
    nxt = T[s, a].argmax(1)
    batch = dict(obs=torch.eye(S, dtype=torch.float64)[s], actions=torch.as_tensor(a),
                 rewards=torch.as_tensor(R[s, a]), next_obs=torch.eye(S, dtype=torch.float64)[nxt],
                 terminated=torch.as_tensor((T[s, a].sum(1) == 0) | (nxt == S - 1), dtype=torch.float64))
    online = torch.nn.Linear(S, A, bias=False).double()
    torch.nn.init.zeros_(online.weight)
    target = _nets_copy(online)[0]
    opt = torch.optim.SGD(online.parameters(), lr=S * A / 4)  # each entry moves half way to its target
    for _ in range(150):
        loss = _tensor(dqn_loss(online, target, _batch_copy(batch), gamma), "dqn_loss in the training loop")
        opt.zero_grad()
        loss.backward()
        opt.step()
        polyak_update(target, online, 0.2)
    got = online.weight.detach().numpy().T[: S - 1]
    err = float(np.abs(got - want[: S - 1]).max())
    assert err < 1e-4, (f"150 steps of SGD on dqn_loss with polyak_update(tau = 0.2) on a 6-state corridor (reward -1 "
                        f"per step, gamma = 0.9) should reach Q* to 1e-4 on the non-terminal states; the largest error "
                        f"is {err:.3g}")


# --------------------------------------------------------------------------- q7: REINFORCE for a tabular softmax policy
def _pg_mdp(seed: int = 8171, S: int = 4, A: int = 3, p_end: float = 0.25):
    """T[S, A, S] with rows summing to 1 - p_end (the rest ends the episode), R[S, A], mu0, gamma."""
    rng = np.random.default_rng(seed)
    T = rng.random((S, A, S)) ** 2
    T *= (1 - p_end) / T.sum(-1, keepdims=True)
    return T, rng.normal(size=(S, A)), np.eye(S)[0], 0.9


def _softmax(logits):
    z = np.exp(logits - logits.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def _exact_gradient(T, R, mu0, gamma, logits):
    """dJ/dlogits for J = mu0^T (I - gamma P_pi)^-1 r_pi, by torch.autograd in float64."""
    th = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    pi = torch.softmax(th, -1)
    Tt, Rt = torch.tensor(T), torch.tensor(R)
    P = torch.einsum("sa,sat->st", pi, Tt)
    v = torch.linalg.solve(torch.eye(len(R), dtype=torch.float64) - gamma * P, (pi * Rt).sum(1))
    (torch.tensor(mu0) @ v).backward()
    return th.grad.numpy(), v.detach().numpy()


def _reinforce_ref(states, actions, rewards, lengths, logits, gamma, baseline=None, mistake=""):
    """Per-episode estimates sum_t gamma^t (G_t - b(s_t)) grad log pi(a_t | s_t): (E, S, A)."""
    E, H = states.shape
    S, A = logits.shape
    pi = _softmax(logits)
    out = np.zeros((E, S, A))
    for e in range(E):
        G = 0.0
        for t in reversed(range(lengths[e])):
            G = rewards[e, t] + gamma * G
            s, a = states[e, t], actions[e, t]
            ret = G
            if mistake == "total return":
                ret = sum(gamma ** k * rewards[e, k] for k in range(lengths[e]))
            w = (1.0 if mistake == "no gamma^t" else gamma ** t) * (ret - (0.0 if baseline is None else baseline[s]))
            grad = -pi[s].copy()
            grad[a] += 1
            out[e, s] += (-w if mistake == "sign" else w) * grad
    return out


def _hand_episodes():
    states = np.array([[0, 1, 2, 0, 0], [3, 3, 0, 0, 0], [1, 0, 2, 1, 3]])
    actions = np.array([[2, 0, 1, 0, 0], [1, 1, 0, 0, 0], [0, 2, 2, 1, 0]])
    rewards = np.array([[1.0, -0.5, 2.0, 0, 0], [0.3, 1.0, 0, 0, 0], [-1.0, 0.5, 0.25, 2.0, -0.7]])
    return states, actions, rewards, np.array([3, 2, 5])


def _call_reinforce(reinforce_gradient, states, actions, rewards, lengths, logits, gamma, baseline, name):
    got = reinforce_gradient(states.copy(), actions.copy(), rewards.copy(), lengths.copy(), logits.copy(), gamma,
                             None if baseline is None else baseline.copy())
    return _array(got, name, shape=(len(states),) + logits.shape)


def _reinforce_mistakes(*args, baseline=None) -> dict:
    return {"no gamma^t factor (the chapter's estimator, (8.81): biased for the discounted objective)":
                _reinforce_ref(*args, baseline=baseline, mistake="no gamma^t"),
            "the whole episode's return G_0 on every step": _reinforce_ref(*args, baseline=baseline,
                                                                           mistake="total return"),
            "the wrong sign (grad log pi = pi - e_a)": _reinforce_ref(*args, baseline=baseline, mistake="sign")}


@check("q7", points=1.5, hint="for each step t < length: gamma^t (G_t - b(s_t)) (e_{a_t} - pi(.|s_t)) added to row "
                              "s_t, with G_t = sum_k gamma^k r_{t+k}")
def reinforce_on_hand_episodes(reinforce_gradient):
    states, actions, rewards, lengths = _hand_episodes()
    logits = np.random.default_rng(8172).normal(size=(4, 3))
    for baseline in (None, np.array([0.5, -0.2, 1.0, 0.1])):
        args = (states, actions, rewards, lengths, logits, 0.9)
        got = _call_reinforce(reinforce_gradient, *args, baseline, "reinforce_gradient on three hand episodes"
                              + (" with a baseline" if baseline is not None else ""))
        _close(got, _reinforce_ref(*args, baseline=baseline), 1e-10,
               "per-episode gradients of three hand episodes (gamma = 0.9" +
               (", baseline [0.5, -0.2, 1, 0.1])" if baseline is not None else ")"),
               _reinforce_mistakes(*args, baseline=baseline))


def _episode_lengths(T, R, mu0, logits, n, horizon, rng):
    """Vectorised episodes: states, actions, rewards (n, horizon) padded with zeros after the end, and lengths."""
    S, A = R.shape
    pi = _softmax(logits)
    states, actions = np.zeros((n, horizon), int), np.zeros((n, horizon), int)
    rewards, lengths = np.zeros((n, horizon)), np.zeros(n, int)
    alive = np.ones(n, bool)
    s = rng.choice(S, n, p=mu0)
    cont = np.concatenate([T, (1 - T.sum(-1))[..., None]], -1)
    for t in range(horizon):
        a = (rng.random(n)[:, None] > np.cumsum(pi[s], 1)).sum(1).clip(0, A - 1)
        states[:, t], actions[:, t] = np.where(alive, s, 0), np.where(alive, a, 0)
        rewards[:, t] = np.where(alive, R[s, a], 0.0)
        lengths += alive
        nxt = (rng.random(n)[:, None] > np.cumsum(cont[s, a], 1)).sum(1).clip(0, S)
        alive = alive & (nxt < S)
        s = np.where(nxt < S, nxt, 0)
    return states, actions, rewards, lengths, alive


@functools.lru_cache(maxsize=None)
def _pg_episodes(seed: int, n: int = 4000):
    T, R, mu0, gamma = _pg_mdp()
    logits = np.random.default_rng(seed).normal(size=R.shape)
    states, actions, rewards, lengths, alive = _episode_lengths(T, R, mu0, logits, n, 80,
                                                                np.random.default_rng(seed + 1))
    assert not alive.any(), "an episode outlived the horizon"
    return (T, R, mu0, gamma, logits), (states, actions, rewards, lengths)


def _z_scores(est, exact):
    mean = est.mean(0)
    se = est.std(0, ddof=1) / math.sqrt(len(est))
    return (mean - exact) / np.maximum(se, 1e-12)


def _check_unbiased(reinforce_gradient, seed: int, label: str, with_baseline: bool) -> None:
    (T, R, mu0, gamma, logits), (states, actions, rewards, lengths) = _pg_episodes(seed)
    exact, v = _exact_gradient(T, R, mu0, gamma, logits)
    est = _call_reinforce(reinforce_gradient, states, actions, rewards, lengths, logits, gamma, None,
                          f"reinforce_gradient on 4,000 episodes ({label})")
    z = _z_scores(est, exact)
    worst = np.unravel_index(np.abs(z).argmax(), z.shape)
    assert np.abs(z).max() < 4, (
        f"{label}: the mean of your 4,000 per-episode gradients should be within 4 standard errors of the exact "
        f"gradient of J (torch.autograd of mu0^T (I - gamma P_pi)^-1 r_pi) in every entry; entry "
        f"{list(map(int, worst))} "
        f"is {z[worst]:.1f} standard errors off (mean {est.mean(0)[worst]:.4f}, exact {exact[worst]:.4f}). A missing "
        f"gamma^t factor (the chapter's (8.81)) gives this kind of bias.")
    if with_baseline:
        est_b = _call_reinforce(reinforce_gradient, states, actions, rewards, lengths, logits, gamma, v,
                                f"reinforce_gradient with the baseline V^pi ({label})")
        zb = _z_scores(est_b, exact)
        assert np.abs(zb).max() < 4, (f"{label}: with the baseline b = V^pi the mean should still be the exact "
                                      f"gradient; the worst entry is {np.abs(zb).max():.1f} standard errors off")
        var, var_b = est.var(0).sum(), est_b.var(0).sum()
        assert var_b < var, (f"{label}: the baseline V^pi should reduce the total variance of the estimate; got "
                             f"{var_b:.4g} with it and {var:.4g} without")


@check("q7", points=1.5, hint="with the gamma^t factor and discounted G_t the estimator is unbiased for the discounted "
                              "objective")
def reinforce_is_unbiased_and_the_baseline_helps(reinforce_gradient):
    _check_unbiased(reinforce_gradient, 8173, "a 4-state MDP, gamma = 0.9", with_baseline=True)


# --------------------------------------------------------------------------- q8: PPO's clipped loss
# (A, r, objective, d objective / d r) with eps = 0.2
_PPO_TABLE = [(1.0, 0.5, 0.5, 1.0), (1.0, 1.0, 1.0, 1.0), (1.0, 1.5, 1.2, 0.0),
              (-1.0, 0.5, -0.8, 0.0), (-1.0, 1.0, -1.0, -1.0), (-1.0, 1.5, -1.5, -1.0)]


def _ppo_ref(logp_new, logp_old, adv, eps):
    r = torch.exp(logp_new - logp_old)
    obj = torch.minimum(r * adv, torch.clamp(r, 1 - eps, 1 + eps) * adv)
    return -obj.mean(), float(((r - 1).abs() > eps).double().mean())


def _ppo_mistakes(logp_new, logp_old, adv, eps) -> dict:
    r = torch.exp(logp_new - logp_old)
    loss, _ = _ppo_ref(logp_new, logp_old, adv, eps)
    return {"max instead of min (an optimistic, not pessimistic, bound)":
                float(-torch.maximum(r * adv, torch.clamp(r, 1 - eps, 1 + eps) * adv).mean()),
            "the advantage clipped instead of the ratio": float(-torch.minimum(r * adv, r * adv.clamp(
                1 - eps, 1 + eps)).mean()),
            "the objective itself (maximised), not the loss (minimised)": float(-loss),
            "the unclipped importance-weighted loss": float(-(r * adv).mean())}


def _call_ppo(ppo_clip_loss, logp_new, logp_old, adv, eps, name):
    got = _tuple(ppo_clip_loss(logp_new, logp_old.clone(), adv.clone(), eps), name)
    loss = _tensor(got[0], f"{name}: loss")
    assert loss.numel() == 1, f"{name}: expected a scalar loss, got shape {tuple(loss.shape)}"
    _number(loss.detach(), f"{name}: loss")
    return loss, _number(got[1], f"{name}: clip fraction")


@check("q8", points=2, hint="loss = -mean(min(r A, clip(r, 1 - eps, 1 + eps) A)) with r = exp(logp_new - logp_old)")
def ppo_hand_table(ppo_clip_loss):
    for A, r, obj, slope in _PPO_TABLE:
        logp_old = torch.tensor([-1.2], dtype=torch.float64)
        logp_new = (logp_old + math.log(r)).clone().requires_grad_(True)
        adv = torch.tensor([A], dtype=torch.float64)
        name = f"ppo_clip_loss for one sample with A = {A:+g}, r = {r}, eps = 0.2"
        loss, frac = _call_ppo(ppo_clip_loss, logp_new, logp_old, adv, 0.2, name)
        _near(float(loss.detach()), -obj, 1e-10, f"{name} (the objective is {obj}, the loss its negative)",
              _ppo_mistakes(logp_new.detach(), logp_old, adv, 0.2))
        assert loss.requires_grad, f"{name}: the loss carries no gradient for logp_new"
        loss.backward()
        g = float(logp_new.grad)
        _near(g, -slope * r, 1e-10, f"{name}: d loss / d logp_new (= -r d objective / d r, with d objective / d r = "
              f"{slope:g})")
        _near(frac, float(abs(r - 1) > 0.2), 1e-6, f"{name}: clip fraction")


@check("q8", points=1, hint="at r = 1 the clipped loss has the gradient of the vanilla policy-gradient loss "
                            "-mean(A log pi); the clip fraction is the share of samples with |r - 1| > eps")
def ppo_on_a_batch(ppo_clip_loss):
    g = torch.Generator().manual_seed(8181)
    adv = torch.randn(64, generator=g, dtype=torch.float64)
    logp_old = -torch.rand(64, generator=g, dtype=torch.float64) * 3
    lp = logp_old.clone().requires_grad_(True)
    loss, frac = _call_ppo(ppo_clip_loss, lp, logp_old, adv, 0.2, "ppo_clip_loss at r = 1 (logp_new = logp_old)")
    loss.backward()
    _close(lp.grad.numpy(), (-adv / 64).numpy(), 1e-10, "d loss / d logp_new at r = 1 (expected -A / batch size)")
    _near(frac, 0.0, 1e-6, "clip fraction at r = 1")
    logp_new = logp_old + 0.4 * torch.randn(64, generator=g, dtype=torch.float64)
    for eps in (0.1, 0.3):
        loss, frac = _call_ppo(ppo_clip_loss, logp_new.clone(), logp_old, adv, eps, f"ppo_clip_loss on a batch of 64, "
                               f"eps = {eps}")
        want, want_frac = _ppo_ref(logp_new, logp_old, adv, eps)
        _near(float(loss.detach()), float(want), 1e-10, f"ppo_clip_loss on a random batch of 64 (eps = {eps})",
              _ppo_mistakes(logp_new, logp_old, adv, eps))
        _near(frac, want_frac, 1e-6, f"clip fraction on the batch (eps = {eps})")


# --------------------------------------------------------------------------- q9: random-shooting MPC
def _line_model(S, a):
    """x' = x + (a - 1): actions 0, 1, 2 move left, stay, right; S has shape (N, 1)."""
    return S + (np.asarray(a)[:, None] - 1.0)


def _line_reward(S, a, S2):
    return -S2[:, 0] ** 2


def _code_model(S, a):
    """The state records the actions so far (in base 3, offset by 1), so a reward can depend on the whole plan."""
    return S * 3 + np.asarray(a)[:, None] + 1


def _code_reward_table(table):
    def reward(S, a, S2):
        return np.array([table.get(int(c), 0.0) for c in S2[:, 0]])
    return reward


def _call_shooting(random_shooting, model, reward, state, horizon, n_samples, n_actions, seed, name):
    got = _array(random_shooting(model, reward, np.array(state, float), horizon, n_samples, n_actions,
                                 np.random.default_rng(seed)), name)
    assert got.size == 1 and float(got) == int(got), f"{name}: expected one integer action, got {got!r}"
    return int(got)


@check("q9", points=1.5, hint="sample (n_samples, horizon) random actions, roll every sequence out through the model "
                              "in one batch, sum the rewards, and return the first action of the best sequence")
def shooting_steers_the_point_to_zero(random_shooting):
    for x0, want in ((2.5, 0), (-1.7, 2), (0.2, 1)):
        for seed in range(3):
            a = _call_shooting(random_shooting, _line_model, _line_reward, [x0], 3, 300, 3, 8191 + seed,
                               f"random_shooting from x = {x0} (reward -x'^2, horizon 3, 300 samples)")
            assert a == want, (f"from x = {x0}, with x' = x + (a - 1) and reward -x'^2 over 3 steps, every best plan "
                               f"starts with action {want}; you returned {a} (seed {seed}). Are the rewards summed "
                               f"over "
                               f"the horizon and the best (largest) total taken?")


@check("q9", points=1.5, hint="return the first action of the single best sequence, not the first action with the "
                              "best average return")
def shooting_plays_the_best_sequence(random_shooting):
    # plans of 2 actions out of 2: (0, 0) is worth 10, (0, 1) -10, (1, 0) and (1, 1) 1 each
    table = {3 * 1 + 1: 10.0, 3 * 1 + 2: -10.0, 3 * 2 + 1: 1.0, 3 * 2 + 2: 1.0}
    for seed in range(3):
        a = _call_shooting(random_shooting, _code_model, _code_reward_table(table), [0.0], 2, 200, 2, 8194 + seed,
                           "random_shooting on a two-step plan table")
        assert a == 0, (f"the best plan (0, 0) is worth 10, so the first action is 0; you returned {a} (seed {seed}). "
                        f"Action 1 has the better average (1 against 0): this looks like averaging over plans instead "
                        f"of taking the best one.")
    # a first step that costs 1 but leads to the only plan worth 10: (0, 0) totals 9, every other plan 0 or -1
    table = {1: -1.0, 2: 0.0, 3 * 1 + 1: 10.0}
    for seed in range(3):
        a = _call_shooting(random_shooting, _code_model, _code_reward_table(table), [0.0], 2, 200, 2, 8197 + seed,
                           "random_shooting on a plan table with a costly first step")
        assert a == 0, (f"action 0 costs 1 now but leads to a reward of 10 (total 9); you returned {a} (seed {seed}). "
                        f"The whole horizon counts, not only the first reward.")
