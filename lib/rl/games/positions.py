"""Exact position suites for tests and demonstrations, labelled by the negamax solver.

* ``all_states(game)``: every position reachable from the initial state (breadth first);
* ``position_suite(game, kind, n, rng)``: non-terminal positions of one kind, each with the set of
  optimal moves (the moves that keep the solver's value):

  - ``"win_in_1"``: the mover can complete a line now;
  - ``"must_block"``: the opponent threatens to complete a line, the mover cannot win at once, and
    every move but the block(s) loses;
  - ``"fork"``: the mover wins by force but not at once (a move creates two threats or more);
  - ``"random"``: any non-terminal position.
"""
from __future__ import annotations

import numpy as np

from .solver import Negamax

KINDS = ("win_in_1", "must_block", "fork", "random")


def all_states(game) -> list[tuple]:
    seen, frontier = {game.initial_state()}, [game.initial_state()]
    while frontier:
        nxt = []
        for s in frontier:
            for a in game.legal_actions(s):
                t = game.next_state(s, int(a))
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    return sorted(seen, key=lambda s: (sum(v != 0 for v in s), s))


def _wins_now(game, s) -> list[int]:
    return [int(a) for a in game.legal_actions(s) if game.winner(game.next_state(s, int(a))) not in (None, 0)]


def _threats(game, s) -> list[int]:
    """Moves where the opponent would complete a line if it could play there now."""
    opp = -game.to_play(s)
    return [int(a) for a in game.legal_actions(s) if game.winner(game.place(s, int(a), opp)) == opp]


def classify(game, s, solver: Negamax) -> str | None:
    """The kind of a non-terminal position (first match in KINDS order minus "random"), or None."""
    if game.is_terminal(s):
        raise ValueError("s: expected a non-terminal state")
    if _wins_now(game, s):
        return "win_in_1"
    vals = solver.action_values(s)
    if _threats(game, s) and min(vals.values()) < 0 and any(v >= 0 for v in vals.values()):
        return "must_block"
    if solver.value(s) == 1:
        return "fork"
    return None


def position_suite(game, kind: str, n: int, rng: np.random.Generator,
                   solver: Negamax | None = None) -> list[dict]:
    """``n`` distinct positions of ``kind`` (fewer if fewer exist), each ``dict(state, optimal, value)``."""
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    solver = solver or Negamax(game)
    pool = [s for s in all_states(game) if not game.is_terminal(s)]
    if kind != "random":
        pool = [s for s in pool if classify(game, s, solver) == kind]
    idx = rng.permutation(len(pool))[:n]
    return [dict(state=pool[i], optimal=solver.best_actions(pool[i]), value=solver.value(pool[i])) for i in idx]
