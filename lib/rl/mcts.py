"""Look-ahead search for two-player games, from one-step look-ahead to full PUCT Monte Carlo Tree Search.

All values are from the perspective of the player **to move** (negamax): an evaluator returns the value
of ``s`` for the mover at ``s``; an edge statistic ``Q(s, a)`` is from the perspective of the mover at
``s``; a leaf value is **negated once per ply** on its way back to the root.

Progressive versions (book section 8.6):

* :func:`direct_policy_move`: ``a ~ p(a | s)`` (or its argmax);
* :func:`one_step_value_move`: ``argmax_a -v(s_a)``, the sign flip because ``v(s_a)`` is for the opponent;
* :func:`fixed_depth_lookahead`: play each first move, roll out ``depth`` plies with a policy, score the
  reached state with ``v``, and average per first move (mean and standard error).

Full MCTS (:class:`MCTS`): per simulation

1. **selection**: from the root, follow ``argmax_a Q(s,a) + U(s,a)`` with the PUCT bonus
   ``U(s,a) = c P(a|s) sqrt(sum_b N(s,b)) / (1 + N(s,a))``, until a node not yet expanded;
2. **expansion**: create its edges with ``N = W = 0`` and priors ``P(.|s_L)`` from the evaluator;
3. **evaluation**: the leaf value ``v(s_L)`` (the exact outcome at a terminal state);
4. **backup**: for each edge on the path, from the leaf upward, ``N += 1``, ``W += v_edge`` with
   ``v_edge = -v`` for the edge into the leaf and the sign alternating per ply; ``Q = W / N``.

At a node where no edge has been visited, ``sqrt(sum N) = 0`` makes every score equal; we use
``sqrt(max(sum N, 1))`` so the first visit goes to the highest prior (identical scores elsewhere).
An unvisited edge has ``Q = fpu`` (first-play urgency, default 0 = "a draw" on the +-1 scale). The move
played is the most visited one, and the search policy is ``pi(a) ~ N(s0, a)^(1/tau)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


# ---------------------------------------------------------------------------------------------------
# evaluators: (game, state) -> (priors over all actions (A,), value for the mover)
# ---------------------------------------------------------------------------------------------------
def _uniform(game, s) -> np.ndarray:
    m = game.legal_mask(s).astype(np.float64)
    return m / m.sum()


class UniformEvaluator:
    """Uniform prior over legal moves and value 0 (search driven by terminal states only)."""

    name = "uniform prior, zero value"

    def __call__(self, game, s):
        return _uniform(game, s), 0.0


class RolloutEvaluator:
    """Uniform prior; value = mean outcome of ``n_rollouts`` uniformly random playouts, mover's view."""

    name = "random rollout"

    def __init__(self, rng: np.random.Generator, n_rollouts: int = 1):
        if isinstance(n_rollouts, bool) or not isinstance(n_rollouts, (int, np.integer)) or n_rollouts < 1:
            raise ValueError(f"n_rollouts: expected a positive integer, got {n_rollouts!r}")
        self.rng, self.n_rollouts = rng, int(n_rollouts)

    def rollout(self, game, s) -> float:
        mover = game.to_play(s)
        while not game.is_terminal(s):
            legal = game.legal_actions(s)
            s = game.next_state(s, int(legal[self.rng.integers(len(legal))]))
        return float(game.winner(s) * mover)

    def __call__(self, game, s):
        return _uniform(game, s), float(np.mean([self.rollout(game, s) for _ in range(self.n_rollouts)]))


class OracleEvaluator:
    """Uniform prior and the exact negamax value (a perfect value function)."""

    name = "exact value oracle"

    def __init__(self, solver):
        self.solver = solver

    def __call__(self, game, s):
        return _uniform(game, s), self.solver.value(s)


class NetEvaluator:
    """Priors and value from a network ``predict(states) -> (P (B, A), v (B,))`` (see
    :class:`lib.rl.alphazero.PolicyValueNet`). Results are cached per state: the network is frozen
    while it is searched with, so a repeated position costs a dictionary look-up. Call ``clear()``
    after changing the network."""

    name = "policy-value net"

    def __init__(self, net):
        self.net, self.cache = net, {}

    def clear(self):
        self.cache.clear()

    def prefill(self, game, states, batch: int = 8192) -> None:
        """Evaluate many states in large batches up front (all of tic-tac-toe's 4,520 take milliseconds)."""
        states = list(states)
        for i in range(0, len(states), batch):
            P, v = self.net.predict(game, states[i:i + batch])
            self.cache.update({s: (p, float(x)) for s, p, x in zip(states[i:i + batch], P, v)})

    def __call__(self, game, s):
        out = self.cache.get(s)
        if out is None:
            P, v = self.net.predict(game, [s])
            out = self.cache[s] = (P[0], float(v[0]))
        return out


# ---------------------------------------------------------------------------------------------------
# the progressive look-ahead rules (8.6.1 - 8.6.5)
# ---------------------------------------------------------------------------------------------------
def direct_policy_move(game, s, prior_fn: Callable, rng: np.random.Generator | None = None) -> int:
    """System 1: sample from ``prior_fn(game, s)`` (argmax when ``rng`` is None)."""
    p = np.asarray(prior_fn(game, s), dtype=np.float64) * game.legal_mask(s)
    if p.sum() <= 0:
        raise ValueError("prior_fn: expected positive probability on some legal move")
    return int(np.argmax(p)) if rng is None else int(rng.choice(len(p), p=p / p.sum()))


def one_step_value_move(game, s, value_fn: Callable) -> int:
    """``argmax_a -v(s_a)``: ``value_fn(game, s')`` is for the mover at ``s'``, the opponent; terminal
    children get their exact value."""
    best, best_v = None, -np.inf
    for a in game.legal_actions(s):
        t = game.next_state(s, int(a))
        v = -(game.terminal_value(t) if game.is_terminal(t) else value_fn(game, t))
        if v > best_v:
            best, best_v = int(a), v
    return best


def _rollout_to_depth(game, s, depth, rollout_policy, value_fn, rng, path=None):
    """Play ``depth`` plies from ``s`` with ``rollout_policy`` and return the value for the mover at ``s``."""
    sign = 1.0
    for _ in range(depth):
        if game.is_terminal(s):
            break
        a = rollout_policy(game, s, rng)
        if path is not None:
            path.append((s, a))
        s = game.next_state(s, a)
        sign = -sign
    v = game.terminal_value(s) if game.is_terminal(s) else value_fn(game, s)
    return sign * v


def uniform_rollout_policy(game, s, rng) -> int:
    legal = game.legal_actions(s)
    return int(legal[rng.integers(len(legal))])


@dataclass
class RootStats:
    """Per first move: number of rollouts, mean value for the mover at the root and its standard error."""
    actions: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    se: np.ndarray

    def best_action(self) -> int:
        return int(self.actions[np.argmax(self.mean)])


def fixed_depth_lookahead(game, s0, depth: int, n_rollouts: int, rng: np.random.Generator,
                          value_fn: Callable = lambda g, s: 0.0,
                          rollout_policy: Callable = uniform_rollout_policy) -> RootStats:
    """8.6.2: ``Q(s0, a0) ~ (1/N) sum_i [value of s_T for the root mover]`` with ``T = depth`` plies after
    ``a0`` (``depth = 0`` is one-step look-ahead), ``n_rollouts`` per first move."""
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 0:
        raise ValueError(f"depth: expected a non-negative integer, got {depth!r}")
    if isinstance(n_rollouts, bool) or not isinstance(n_rollouts, (int, np.integer)) or n_rollouts < 1:
        raise ValueError(f"n_rollouts: expected a positive integer, got {n_rollouts!r}")
    acts = game.legal_actions(s0)
    vals = np.array([[-_rollout_to_depth(game, game.next_state(s0, int(a)), depth, rollout_policy, value_fn, rng)
                      for _ in range(n_rollouts)] for a in acts])
    se = vals.std(1, ddof=1) / np.sqrt(n_rollouts) if n_rollouts > 1 else np.full(len(acts), np.nan)
    return RootStats(acts, np.full(len(acts), n_rollouts), vals.mean(1), se)


def branch_stats_lookahead(game, s0, depth: int, n_rollouts: int, rng: np.random.Generator,
                           value_fn: Callable = lambda g, s: 0.0,
                           rollout_policy: Callable = uniform_rollout_policy) -> dict:
    """8.6.5: the same rollouts (uniform first move), but every edge ``(s, a)`` on every path keeps
    ``N, W`` with ``W`` from the perspective of the mover at ``s``. Returns ``{(s, a): [N, W]}``."""
    stats: dict = {}
    for _ in range(n_rollouts):
        path = []
        v = _rollout_to_depth(game, s0, depth + 1, rollout_policy, value_fn, rng, path)
        for ply, (s, a) in enumerate(path):  # v is for the root mover; flip for the odd plies
            e = stats.setdefault((s, a), [0, 0.0])
            e[0] += 1
            e[1] += v if ply % 2 == 0 else -v
    return stats


def puct_scores(Q, N, P, c: float) -> dict[str, np.ndarray]:
    """``U = c P sqrt(max(sum N, 1)) / (1 + N)`` and ``score = Q + U`` for arrays over actions (8.54)."""
    Q, N, P = (np.asarray(x, dtype=np.float64) for x in (Q, N, P))
    if not (Q.shape == N.shape == P.shape) or Q.ndim != 1:
        raise ValueError(f"Q, N, P: expected 1-D arrays of one shape, got {Q.shape}, {N.shape}, {P.shape}")
    if np.any(N < 0) or np.any(P < 0):
        raise ValueError("N, P: expected non-negative visit counts and priors")
    if not np.isfinite(c) or c < 0:
        raise ValueError(f"c: expected a non-negative number, got {c!r}")
    U = c * P * np.sqrt(max(N.sum(), 1.0)) / (1.0 + N)
    return dict(Q=Q, N=N, P=P, U=U, score=Q + U)


# ---------------------------------------------------------------------------------------------------
# full MCTS
# ---------------------------------------------------------------------------------------------------
@dataclass
class MCTSConfig:
    c_puct: float = 1.5
    n_sims: int = 200
    fpu: float = 0.0                       # Q of an unvisited edge
    dirichlet_alpha: float | None = None   # root noise P <- (1 - eps) P + eps Dir(alpha) on legal moves
    dirichlet_eps: float = 0.25
    seed: int = 0                          # for the root noise

    def __post_init__(self):
        if not np.isfinite(self.c_puct) or self.c_puct < 0:
            raise ValueError(f"c_puct: expected a non-negative number, got {self.c_puct!r}")
        if isinstance(self.n_sims, bool) or not isinstance(self.n_sims, (int, np.integer)) or self.n_sims < 0:
            raise ValueError(f"n_sims: expected a non-negative integer, got {self.n_sims!r}")
        if self.dirichlet_alpha is not None and not self.dirichlet_alpha > 0:
            raise ValueError(f"dirichlet_alpha: expected a positive number or None, got {self.dirichlet_alpha!r}")


class Node:
    """A search-tree node: the state, who moves, and per-action edge arrays ``P, N, W`` (length A)."""

    __slots__ = ("state", "to_play", "terminal", "value", "P", "N", "W", "children", "expanded", "legal",
                 "illegal")

    def __init__(self, game, state):
        self.state, self.to_play = state, game.to_play(state)
        self.terminal = game.is_terminal(state)
        self.value = game.terminal_value(state) if self.terminal else None
        A = game.action_size
        self.P, self.N, self.W = np.zeros(A), np.zeros(A), np.zeros(A)
        self.legal = game.legal_mask(state)
        self.illegal = np.where(self.legal, 0.0, -np.inf)  # added to scores to exclude illegal moves
        self.children: dict[int, Node] = {}
        self.expanded = False

    def q(self, fpu: float = 0.0) -> np.ndarray:
        """``Q = W / N`` per action, ``fpu`` where ``N = 0``."""
        return np.where(self.N > 0, self.W / np.maximum(self.N, 1), fpu)

    @property
    def visits(self) -> int:
        return int(self.N.sum())


@dataclass
class SimRecord:
    """One simulation, for step-through displays: the actions taken from the root, the leaf state, whether
    it was expanded (False for a terminal leaf), its value for the mover at the leaf, and the backed-up
    value of each edge on the path (root edge first)."""
    actions: list[int]
    leaf: tuple
    expanded: bool
    leaf_value: float
    edge_values: list[float] = field(default_factory=list)


class MCTS:
    """``MCTS(game, evaluator, config).run(state) -> root`` (PUCT search, see the module docstring)."""

    def __init__(self, game, evaluator, config: MCTSConfig | None = None):
        self.game, self.evaluator = game, evaluator
        self.config = config or MCTSConfig()
        self.rng = np.random.default_rng(self.config.seed)

    def expand(self, node: Node, priors: np.ndarray) -> None:
        p = np.where(node.legal, np.asarray(priors, dtype=np.float64), 0.0)
        node.P = p / p.sum() if p.sum() > 0 else node.legal / node.legal.sum()
        node.expanded = True

    def add_noise(self, node: Node) -> None:
        a = self.config.dirichlet_alpha
        idx = np.flatnonzero(node.legal)
        noise = self.rng.dirichlet(np.full(len(idx), a))
        eps = self.config.dirichlet_eps
        node.P[idx] = (1 - eps) * node.P[idx] + eps * noise

    def puct(self, node: Node) -> dict[str, np.ndarray]:
        """PUCT table of ``node``: Q, N, P, U, score (illegal moves score -inf)."""
        t = puct_scores(node.q(self.config.fpu), node.N, node.P, self.config.c_puct)
        t["score"] = np.where(node.legal, t["score"], -np.inf)
        return t

    def select(self, node: Node) -> int:
        """``argmax_a Q + U`` over legal moves (the fast path of :meth:`puct`)."""
        N = node.N
        q = node.W / np.maximum(N, 1.0)
        if self.config.fpu != 0.0:
            q = np.where(N > 0, q, self.config.fpu)
        u = (self.config.c_puct * np.sqrt(max(N.sum(), 1.0))) * node.P / (1.0 + N)
        return int(np.argmax(q + u + node.illegal))

    @staticmethod
    def backup(path: list[tuple[Node, int]], leaf_value: float) -> list[float]:
        """``leaf_value`` is for the mover at the leaf; the edge into the leaf gets ``-leaf_value``, and the
        sign alternates per ply up to the root. Returns the added values, root edge first."""
        v, added = -leaf_value, []
        for node, a in reversed(path):
            node.N[a] += 1
            node.W[a] += v
            added.append(v)
            v = -v
        return added[::-1]

    def new_root(self, state) -> Node:
        """A root node, expanded (with root noise when configured); its evaluation is not a simulation."""
        root = Node(self.game, state)
        if root.terminal:
            raise ValueError("state: expected a non-terminal state to search from")
        priors, _ = self.evaluator(self.game, state)
        self.expand(root, priors)
        if self.config.dirichlet_alpha is not None:
            self.add_noise(root)
        return root

    def simulate(self, root: Node) -> SimRecord:
        """One simulation: selection, expansion, evaluation, backup."""
        node, path = root, []
        while node.expanded and not node.terminal:
            a = self.select(node)
            path.append((node, a))
            child = node.children.get(a)
            if child is None:
                child = node.children[a] = Node(self.game, self.game.next_state(node.state, a))
            node = child
        if node.terminal:
            value, expanded = node.value, False
        else:
            priors, value = self.evaluator(self.game, node.state)
            self.expand(node, priors)
            expanded = True
        added = self.backup(path, value)
        return SimRecord([a for _, a in path], node.state, expanded, float(value), added)

    def run(self, state_or_root, n_sims: int | None = None, callback: Callable | None = None) -> Node:
        """Run ``n_sims`` (default ``config.n_sims``) simulations from a state or an existing root.
        ``callback(k, root, record)`` is called after simulation ``k`` (1-based)."""
        root = state_or_root if isinstance(state_or_root, Node) else self.new_root(state_or_root)
        n = self.config.n_sims if n_sims is None else n_sims
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n_sims: expected a non-negative integer, got {n!r}")
        for k in range(1, n + 1):
            rec = self.simulate(root)
            if callback is not None:
                callback(k, root, rec)
        return root


def best_action(root: Node) -> int:
    """The most visited move; ties by Q, then by prior. With no visits at all: the highest prior (8.6.7)."""
    legal = np.flatnonzero(root.legal)
    q = root.q()
    return int(max(legal, key=lambda a: (root.N[a], q[a], root.P[a])))


def search_policy(root: Node, temperature: float = 1.0) -> np.ndarray:
    """``pi(a) ~ N(s0, a)^(1/tau)``; ``tau = 0`` is one-hot on :func:`best_action`."""
    if not np.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature: expected a non-negative number, got {temperature!r}")
    pi = np.zeros_like(root.N)
    if temperature == 0 or root.N.sum() == 0:
        pi[best_action(root)] = 1.0
        return pi
    n = root.N ** (1.0 / temperature)
    return n / n.sum()


def mcts_player(game, evaluator, n_sims: int, c_puct: float = 2.0, seed: int = 0):
    """A player ``state -> most visited move`` after ``n_sims`` simulations of a fresh search."""
    search = MCTS(game, evaluator, MCTSConfig(c_puct=c_puct, n_sims=n_sims, seed=seed))
    return lambda s: best_action(search.run(s))


def tree_table(game, root: Node, max_depth: int = 3, fpu: float = 0.0) -> list[dict]:
    """Rows for a plotly icicle/treemap: one per visited edge down to ``max_depth`` plies, plus the root.

    Each row: ``id, parent, depth, action, label, N, W, Q, P, player, board`` where ``Q`` is from the
    perspective of the player who chose the edge (``player``). ``N`` of an edge is at least the sum of its
    children's, so ``branchvalues="total"`` is valid.
    """
    sym = {1: "X", -1: "O"}
    rows = [dict(id="root", parent="", depth=0, action=-1, label="root", N=root.visits, W=0.0, Q=np.nan,
                 P=np.nan, player=root.to_play, board=game.render(root.state))]

    def walk(node, node_id, depth):
        if depth >= max_depth:
            return
        q = node.q(fpu)
        for a in np.flatnonzero(node.N > 0):
            a = int(a)
            cid = f"{node_id}/{a}"
            child = node.children[a]
            rows.append(dict(id=cid, parent=node_id, depth=depth + 1, action=a,
                             label=f"{sym[node.to_play]}:{game.action_label(a)}", N=int(node.N[a]),
                             W=float(node.W[a]), Q=float(q[a]), P=float(node.P[a]), player=node.to_play,
                             board=game.render(child.state)))
            walk(child, cid, depth + 1)

    walk(root, "root", 0)
    return rows


def check_invariants(root: Node, n_sims: int | None = None) -> None:
    """Raise AssertionError unless: root visits equal ``n_sims`` (when given); every child of an edge has
    ``N(s, a) = 1 + sum_b N(s', b)`` when non-terminal and ``N(s, a) >= 1`` when terminal; ``|Q| <= 1``;
    visits only on legal moves; priors sum to 1 over legal moves at expanded nodes."""
    if n_sims is not None:
        assert root.visits == n_sims, f"root visits {root.visits} != simulations {n_sims}"
    stack = [root]
    while stack:
        node = stack.pop()
        assert np.all(node.N[~node.legal] == 0), "visits on an illegal move"
        if node.expanded:
            assert abs(node.P[node.legal].sum() - 1) < 1e-9, "priors do not sum to 1"
        vis = node.N > 0
        assert np.all(np.abs(node.W[vis] / node.N[vis]) <= 1 + 1e-12), "|Q| > 1"
        for a, child in node.children.items():
            if child.terminal:
                assert node.N[a] >= 1 and child.visits == 0
            else:
                assert node.N[a] == 1 + child.visits, f"N(s,{a}) = {node.N[a]} but child visits {child.visits}"
            stack.append(child)
