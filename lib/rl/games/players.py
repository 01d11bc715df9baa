"""Players and matches. A player is a function ``state -> action``; outcomes are from X's perspective.

``play_game(game, x_player, o_player)`` returns ``(z, moves)`` with ``z = +1`` when X (the first
player) wins, ``-1`` when O wins, ``0`` for a draw. ``arena`` plays both colours and reports the
results of player A.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .solver import Negamax

Player = Callable[[tuple], int]


def random_player(game, rng: np.random.Generator) -> Player:
    """Uniformly random legal moves."""
    return lambda s: int(rng.choice(game.legal_actions(s)))


def perfect_player(game, rng: np.random.Generator, solver: Negamax | None = None,
                   depth_aware: bool = True) -> Player:
    """A random move among the optimal ones; ``depth_aware`` wins fastest and loses slowest."""
    solver = solver or Negamax(game)
    return lambda s: int(rng.choice(solver.best_actions(s, depth_aware=depth_aware)))


def play_game(game, x_player: Player, o_player: Player, start: tuple | None = None) -> tuple[int, list[int]]:
    """Play to the end from ``start`` (default: the empty board); returns (outcome for X, moves)."""
    s = game.initial_state() if start is None else start
    moves = []
    while not game.is_terminal(s):
        a = (x_player if game.to_play(s) == 1 else o_player)(s)
        moves.append(int(a))
        s = game.next_state(s, int(a))
    return game.winner(s), moves


def arena(game, player_a: Player, player_b: Player, n_games: int) -> dict[str, int]:
    """``n_games`` with A as X and ``n_games`` with A as O; counts of A's wins, draws and losses."""
    if isinstance(n_games, bool) or not isinstance(n_games, (int, np.integer)) or n_games < 1:
        raise ValueError(f"n_games: expected a positive integer, got {n_games!r}")
    res = {"win": 0, "draw": 0, "loss": 0}
    for colour in (1, -1):
        for _ in range(n_games):
            z, _ = play_game(game, player_a, player_b) if colour == 1 else play_game(game, player_b, player_a)
            z *= colour
            res["win" if z > 0 else "loss" if z < 0 else "draw"] += 1
    return res
