"""Exact negamax solver with memoisation, for games small enough to enumerate.

For a non-terminal state ``s`` with children ``s_a = next_state(s, a)`` the negamax recursion is::

    V(s) = max_a  -V(s_a),          V(terminal) = terminal_value(terminal)  (mover's perspective)

Besides the game value in {-1, 0, +1} the solver keeps a *depth-aware score*: a win is worth
``1 + e`` and a loss ``-(1 + e)``, where ``e`` is the number of empty cells left when the game ends.
Maximising the score wins as fast as possible and, when lost, loses as late as possible: the
"perfect defender" that makes an opponent prove its win. ``sign(score) == value`` always.

With ``depth_aware=False`` the solver stores values only and stops scanning a state's moves at the
first winning one (a win cut-off): the same exact values, several times faster on Connect-K.
"""
from __future__ import annotations

import numpy as np


class Negamax:
    """``Negamax(game)``: ``value(s)``, ``score(s)``, ``action_values(s)``, ``best_actions(s)``.

    The memo is filled lazily; ``solve_all()`` fills it from the initial state and returns its size
    (5,478 for tic-tac-toe: every reachable position, terminal ones included).
    """

    def __init__(self, game, depth_aware: bool = True):
        self.game, self.depth_aware = game, bool(depth_aware)
        self.memo: dict[tuple, int] = {}

    def score(self, s: tuple) -> int:
        """Depth-aware negamax score of ``s`` for the player to move (see the module docstring)."""
        m = self.memo.get(s)
        if m is not None:
            return m
        g = self.game
        if g.is_terminal(s):
            empties = s.count(0)
            m = int(round(g.terminal_value(s))) * (1 + empties)
        elif self.depth_aware:
            m = max(-self.score(g.next_state(s, int(a))) for a in g.legal_actions(s))
        else:
            m = -1
            for a in g.legal_actions(s):
                m = max(m, -self.score(g.next_state(s, int(a))))
                if m == 1:
                    break
        self.memo[s] = m
        return m

    def value(self, s: tuple) -> float:
        """Game value of ``s`` for the player to move: +1 win, 0 draw, -1 loss under perfect play."""
        return float(np.sign(self.score(s)))

    def action_values(self, s: tuple) -> dict[int, float]:
        """``{a: -value(next_state(s, a))}`` over the legal moves."""
        return {int(a): -self.value(self.game.next_state(s, int(a))) for a in self.game.legal_actions(s)}

    def action_scores(self, s: tuple) -> dict[int, int]:
        """``{a: -score(next_state(s, a))}`` (depth-aware solvers only)."""
        if not self.depth_aware:
            raise ValueError("depth_aware: this solver was built with depth_aware=False; it has no scores")
        return {int(a): -self.score(self.game.next_state(s, int(a))) for a in self.game.legal_actions(s)}

    def best_actions(self, s: tuple, depth_aware: bool = False) -> list[int]:
        """The optimal moves: all moves keeping the game value, or (``depth_aware``) the best-scoring ones."""
        if self.game.is_terminal(s):
            raise ValueError("s: expected a non-terminal state")
        vals = self.action_scores(s) if depth_aware else self.action_values(s)
        best = max(vals.values())
        return [a for a, v in vals.items() if v == best]

    def solve_all(self) -> int:
        self.score(self.game.initial_state())
        return len(self.memo)
