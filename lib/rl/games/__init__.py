"""Two-player zero-sum games for Chapter 8's search notebooks.

* :mod:`.boards`: :class:`TicTacToe` and :class:`ConnectK` (immutable tuple states, mover-relative values);
* :mod:`.solver`: :class:`Negamax`, the exact memoised solver (tic-tac-toe: 5,478 positions, value 0);
* :mod:`.players`: random, perfect and custom players, :func:`play_game`, :func:`arena`;
* :mod:`.positions`: :func:`all_states` and labelled position suites (win in 1, must block, fork).
"""
from .boards import ConnectK, TicTacToe
from .players import arena, perfect_player, play_game, random_player
from .positions import all_states, classify, position_suite
from .solver import Negamax

__all__ = ["TicTacToe", "ConnectK", "Negamax", "arena", "perfect_player", "play_game", "random_player",
           "all_states", "classify", "position_suite"]
