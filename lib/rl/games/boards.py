"""Two-player, zero-sum, perfect-information board games: tic-tac-toe and Connect-K.

A state is an immutable tuple of ``rows * cols`` cells in row-major order, each ``+1`` (the first
player, X), ``-1`` (the second player, O) or ``0`` (empty). Whose turn it is follows from the counts:
X moves when both have placed the same number of stones. States are hashable, so solvers and search
trees can key dictionaries on them.

**Value convention (negamax).** Every value is from the perspective of the player *to move* at the
state: ``terminal_value(s)`` is ``-1`` when the previous mover has just completed a line (the player
to move has lost) and ``0`` for a full board without a line. A move's value for the mover at ``s`` is
therefore minus the value of the state it leads to.

The planes fed to a network are mover-relative, ``encode(s) -> (3, rows, cols)``: own stones,
opponent stones, empty cells, so one network plays both sides.
"""
from __future__ import annotations

import numpy as np


def _lines(rows: int, cols: int, k: int) -> np.ndarray:
    """All winning lines (n_lines, k) as flat cell indices: horizontal, vertical, both diagonals."""
    out = []
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                cells = [(r + i * dr, c + i * dc) for i in range(k)]
                if all(0 <= rr < rows and 0 <= cc < cols for rr, cc in cells):
                    out.append([rr * cols + cc for rr, cc in cells])
    return np.array(out, dtype=np.int64)


class BoardGame:
    """Shared machinery; subclasses set ``rows, cols, k`` and define which cells a move may take.

    ``action_size`` actions are numbered 0..action_size-1. Winner and legality results are memoised
    per state (tic-tac-toe has 5,478 reachable states, so the caches stay small).
    """

    rows: int
    cols: int
    k: int
    name: str

    def __init__(self):
        self.lines = _lines(self.rows, self.cols, self.k)
        self.board_shape = (self.rows, self.cols)
        self._status: dict[tuple, int | None] = {}
        self._masks: dict[tuple, np.ndarray] = {}

    # --- rules ---------------------------------------------------------------------------------
    def initial_state(self) -> tuple:
        return (0,) * (self.rows * self.cols)

    def to_play(self, s: tuple) -> int:
        """+1 when X (the first player) moves, -1 when O moves."""
        return 1 if s.count(0) % 2 == len(s) % 2 else -1

    def winner(self, s: tuple) -> int | None:
        """+1 or -1 for a completed line, 0 for a full board without one, None while the game goes on."""
        w = self._status.get(s, "?")
        if w != "?":
            return w
        sums = np.asarray(s)[self.lines].sum(1)
        w = 1 if (sums == self.k).any() else -1 if (sums == -self.k).any() else (0 if 0 not in s else None)
        self._status[s] = w
        return w

    def is_terminal(self, s: tuple) -> bool:
        return self.winner(s) is not None

    def terminal_value(self, s: tuple) -> float:
        """Value of a finished game for the player to move at ``s``: -1 (opponent completed a line) or 0."""
        w = self.winner(s)
        if w is None:
            raise ValueError("s: expected a terminal state")
        return 0.0 if w == 0 else float(w * self.to_play(s))

    def legal_mask(self, s: tuple) -> np.ndarray:
        """(A,) bool, read-only and memoised (search creates a node per visit of a new state)."""
        mask = self._masks.get(s)
        if mask is None:
            mask = np.zeros(self.action_size, dtype=bool)
            if not self.is_terminal(s):
                mask[self.legal_actions(s)] = True
            mask.flags.writeable = False
            self._masks[s] = mask
        return mask

    def check_state(self, s) -> tuple:
        """Validate a state given by the user (tuple/list/array of +-1/0 with legal stone counts)."""
        s = tuple(int(v) for v in np.asarray(s).ravel())
        if len(s) != self.rows * self.cols or any(v not in (-1, 0, 1) for v in s):
            raise ValueError(f"s: expected {self.rows * self.cols} cells in {{-1, 0, 1}}, got {s}")
        nx, no = s.count(1), s.count(-1)
        if nx - no not in (0, 1):
            raise ValueError(f"s: X must have as many stones as O or one more (X={nx}, O={no})")
        return s

    # --- network input --------------------------------------------------------------------------
    def encode(self, s: tuple) -> np.ndarray:
        """Mover-relative planes (3, rows, cols) float32: own stones, opponent stones, empty."""
        b = np.asarray(s, dtype=np.float32).reshape(self.board_shape) * self.to_play(s)
        return np.stack([b == 1, b == -1, b == 0]).astype(np.float32)

    def encode_batch(self, states) -> np.ndarray:
        """(B, 3 * rows * cols) float32, the flattened planes of ``encode`` for a list of states."""
        S = np.asarray(states, dtype=np.float32)
        mover = np.where((S != 0).sum(1) % 2 == 0, 1.0, -1.0)[:, None]
        b = S * mover
        return np.concatenate([b == 1, b == -1, b == 0], axis=1).astype(np.float32)

    # --- display ----------------------------------------------------------------------------------
    def render(self, s: tuple) -> str:
        sym = {1: "X", -1: "O", 0: "."}
        return "\n".join("".join(sym[s[r * self.cols + c]] for c in range(self.cols)) for r in range(self.rows))

    def __repr__(self):
        return f"{type(self).__name__}()"


class TicTacToe(BoardGame):
    """3 x 3, three in a row wins; action ``a`` places a stone on cell ``a`` (row-major)."""

    rows, cols, k, name = 3, 3, 3, "tic-tac-toe"
    action_size = 9
    # the 8 symmetries of the square as permutations of the cells: new[i] = old[perm[i]]
    _grid = np.arange(9).reshape(3, 3)
    SYMMETRIES = np.array([np.rot90(g, r).ravel() for g in (_grid, _grid.T) for r in range(4)])

    def legal_actions(self, s: tuple) -> np.ndarray:
        if self.is_terminal(s):
            return np.zeros(0, dtype=np.int64)
        return np.array([i for i, v in enumerate(s) if v == 0], dtype=np.int64)

    def place(self, s: tuple, a: int, player: int) -> tuple:
        """``s`` with a stone of ``player`` on cell ``a`` (no turn check: used to look for threats)."""
        t = list(s)
        t[a] = player
        return tuple(t)

    def next_state(self, s: tuple, a: int) -> tuple:
        if not (0 <= a < 9) or s[a] != 0 or self.is_terminal(s):
            raise ValueError(f"a: move {a} is not legal in this state")
        return self.place(s, a, self.to_play(s))

    def symmetries(self, x: np.ndarray, pi: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """The 8 rotations/reflections of flattened planes ``x`` (27,) and move arrays ``pi`` (..., 9)."""
        planes = x.reshape(3, 9)
        return [(planes[:, p].reshape(-1), pi[..., p]) for p in self.SYMMETRIES]

    def action_label(self, a: int) -> str:
        return f"r{a // 3 + 1}c{a % 3 + 1}"


class ConnectK(BoardGame):
    """Gravity game on ``rows x cols``: action ``c`` drops a stone into column ``c``; ``k`` in a row wins.

    ``ConnectK(4, 5, 3)`` is a first-player win, ``ConnectK(4, 4, 4)`` a draw (both solved exactly by
    :class:`lib.rl.games.solver.Negamax` in about a second); ``ConnectK(6, 7, 4)`` is Connect Four.
    """

    def __init__(self, rows: int = 4, cols: int = 5, k: int = 3):
        for name, v in (("rows", rows), ("cols", cols), ("k", k)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 2:
                raise ValueError(f"{name}: expected an integer >= 2, got {v!r}")
        if k > max(rows, cols):
            raise ValueError(f"k: a line of {k} does not fit on a {rows}x{cols} board")
        self.rows, self.cols, self.k = int(rows), int(cols), int(k)
        self.name = f"Connect-{k} {rows}x{cols}"
        self.action_size = self.cols
        super().__init__()

    def legal_actions(self, s: tuple) -> np.ndarray:
        if self.is_terminal(s):
            return np.zeros(0, dtype=np.int64)
        return np.array([c for c in range(self.cols) if s[c] == 0], dtype=np.int64)

    def place(self, s: tuple, a: int, player: int) -> tuple:
        """``s`` with a stone of ``player`` dropped into column ``a`` (no turn check)."""
        r = max(r for r in range(self.rows) if s[r * self.cols + a] == 0)
        t = list(s)
        t[r * self.cols + a] = player
        return tuple(t)

    def next_state(self, s: tuple, a: int) -> tuple:
        if not (0 <= a < self.cols) or s[a] != 0 or self.is_terminal(s):
            raise ValueError(f"a: column {a} is not a legal move in this state")
        return self.place(s, a, self.to_play(s))

    def symmetries(self, x: np.ndarray, pi: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Identity and the left-right mirror."""
        planes = x.reshape(3, self.rows, self.cols)
        return [(x, pi), (planes[:, :, ::-1].reshape(-1), pi[..., ::-1])]

    def action_label(self, a: int) -> str:
        return f"col{a + 1}"

    def __repr__(self):
        return f"ConnectK({self.rows}, {self.cols}, {self.k})"
