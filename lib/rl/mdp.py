"""Exact tabular Markov decision processes: models, Bellman operators, dynamic programming, exact gradients.

A finite MDP is a tuple ``(S, A, P, R, gamma)`` with a start distribution ``mu0``. We store it as arrays::

    T[s, a, s'] = P(s' | s, a)                  (S, A, S)
    R[s, a] or R[s, a, s']                      reward received after taking a in s (and landing in s')
    r[s, a] = sum_s' T[s, a, s'] R[s, a, s']    the expected reward (the form the Bellman equations use)

Terminal states are absorbing with no continuation: their rows of ``T`` and ``r`` are zero, so every
value is 0 there and an episode ends on entering one. With that convention the Bellman equations are
plain linear algebra. For a stochastic policy ``pi[s, a]``::

    P_pi[s, s'] = sum_a pi[s, a] T[s, a, s'],   r_pi[s] = sum_a pi[s, a] r[s, a]
    v_pi = r_pi + gamma P_pi v_pi   =>   v_pi = (I - gamma P_pi)^{-1} r_pi                    (policy evaluation)
    Q_pi = r + gamma T v_pi                                                                  (q from v)
    (T* Q)(s, a) = r(s, a) + gamma sum_s' T[s, a, s'] max_a' Q(s', a')                        (optimality operator)

``T*`` is a gamma-contraction in the sup norm, so value iteration ``Q_{k+1} = T* Q_k`` converges to Q* with
``||Q_k - Q*|| <= gamma^k ||Q_0 - Q*||``. The objective of a policy is ``J = mu0 . v_pi``; for a tabular
softmax policy ``pi = softmax(theta[s])`` the policy-gradient theorem gives::

    dJ/dtheta[s, b] = d_pi(s) pi(b|s) (Q_pi(s, b) - V_pi(s)),   d_pi = mu0^T (I - gamma P_pi)^{-1}

where ``d_pi`` is the (unnormalised) discounted state visitation. :func:`exact_policy_gradient`
differentiates ``J`` with autograd instead; the tests check that the two agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

# grid moves (d_row, d_col) in FrozenLake's action order: 0 left, 1 down, 2 right, 3 up
GRID_MOVES = np.array([(0, -1), (1, 0), (0, 1), (-1, 0)])
CLIFF_MOVES = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])  # CliffWalking: 0 up, 1 right, 2 down, 3 left


@dataclass
class TabularMDP:
    """A finite MDP (module docstring). ``shape`` (rows, cols) and ``moves`` (A, 2) describe grid worlds
    (state ``s`` is cell ``divmod(s, cols)``; ``moves[a]`` is the intended step of action ``a``)."""

    T: np.ndarray
    R: np.ndarray
    gamma: float
    mu0: np.ndarray
    terminal: np.ndarray
    shape: tuple | None = None
    moves: np.ndarray | None = None
    layout: list | None = None
    name: str = ""
    r: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        T = np.asarray(self.T, dtype=np.float64)
        if T.ndim != 3 or T.shape[0] != T.shape[2]:
            raise ValueError(f"T: expected shape (S, A, S), got {T.shape}")
        S, A, _ = T.shape
        R = np.asarray(self.R, dtype=np.float64)
        if R.shape not in ((S, A), (S, A, S)):
            raise ValueError(f"R: expected shape {(S, A)} or {(S, A, S)}, got {R.shape}")
        terminal = np.asarray(self.terminal, dtype=bool)
        if terminal.shape != (S,):
            raise ValueError(f"terminal: expected a boolean array of shape ({S},), got {terminal.shape}")
        if np.any(T < -1e-12) or not np.all(np.isfinite(T)):
            raise ValueError("T: expected non-negative finite probabilities")
        rows = T.sum(-1)
        if not np.allclose(rows[~terminal], 1.0, atol=1e-9) or not np.allclose(T[terminal], 0.0):
            raise ValueError("T: rows must sum to 1 for non-terminal states and be 0 for terminal ones")
        mu0 = np.asarray(self.mu0, dtype=np.float64)
        if mu0.shape != (S,) or np.any(mu0 < 0) or not np.isclose(mu0.sum(), 1.0):
            raise ValueError(f"mu0: expected a probability vector of length {S}")
        if isinstance(self.gamma, bool) or not isinstance(self.gamma, (int, float)) or not 0 <= self.gamma <= 1:
            raise ValueError(f"gamma: expected a number in [0, 1], got {self.gamma!r}")
        self.T, self.R, self.terminal, self.mu0, self.gamma = T, R, terminal, mu0, float(self.gamma)
        self.r = R if R.ndim == 2 else np.einsum("sat,sat->sa", T, R)
        self.r = np.where(terminal[:, None], 0.0, self.r)

    @property
    def n_states(self) -> int:
        return self.T.shape[0]

    @property
    def n_actions(self) -> int:
        return self.T.shape[1]

    def with_gamma(self, gamma: float) -> "TabularMDP":
        """The same MDP with another discount."""
        return TabularMDP(self.T, self.R, gamma, self.mu0, self.terminal, self.shape, self.moves, self.layout, self.name)

    @classmethod
    def from_gymnasium(cls, env_id: str, gamma: float = 0.99, **kwargs) -> "TabularMDP":
        """Build ``T, R[s, a, s']`` from a toy-text environment's exact model ``env.unwrapped.P``
        (FrozenLake, CliffWalking). A state is terminal when some transition enters it with
        ``done=True``; its own (never used) outgoing transitions are dropped."""
        from .envs import make

        env = make(env_id, **kwargs)
        u = env.unwrapped
        S, A = u.observation_space.n, u.action_space.n
        T, R = np.zeros((S, A, S)), np.zeros((S, A, S))
        terminal = np.zeros(S, dtype=bool)
        for s in range(S):
            for a in range(A):
                for p, s2, rew, done in u.P[s][a]:
                    T[s, a, s2] += p
                    R[s, a, s2] = rew
                    terminal[s2] |= bool(done)
        T[terminal], R[terminal] = 0.0, 0.0
        name = env_id.split("-")[0]
        shape, moves, layout = None, None, None
        if name == "FrozenLake":
            layout = [row.tobytes().decode() for row in u.desc]
            shape, moves = (len(layout), len(layout[0])), GRID_MOVES
        elif name == "CliffWalking":
            shape, moves = tuple(u.shape), CLIFF_MOVES
            layout = ["." * shape[1] for _ in range(shape[0] - 1)] + ["S" + "C" * (shape[1] - 2) + "G"]
        env.close()
        return cls(T, R, gamma, np.asarray(u.initial_state_distrib, dtype=np.float64), terminal, shape, moves,
                   layout, name)


# --------------------------------------------------------------------------- builders
def gridworld(layout: list[str], slip: float = 0.0, step_reward: float = -1.0, goal_reward: float = 0.0,
              cliff_reward: float = -100.0, gamma: float = 0.99) -> TabularMDP:
    """A grid world from an ASCII map. Cells: ``S`` start, ``G`` goal (terminal), ``H`` hole (terminal, no
    reward), ``C`` cliff (entering it pays ``cliff_reward`` and sends the agent back to ``S``), ``#`` wall,
    anything else free. Actions 0 left, 1 down, 2 right, 3 up; a move into a wall or off the grid stays put.
    With probability ``slip`` the agent moves in one of the two perpendicular directions instead (each
    ``slip / 2``; FrozenLake's slippery ice is ``slip = 2/3``). Every step pays ``step_reward``, plus
    ``goal_reward`` when it enters ``G``."""
    if not isinstance(layout, (list, tuple)) or not layout or any(not isinstance(r, str) for r in layout):
        raise TypeError("layout: expected a non-empty list of strings")
    if len({len(r) for r in layout}) != 1:
        raise ValueError("layout: expected rows of equal length")
    text = "".join(layout)
    if text.count("S") != 1 or "G" not in text:
        raise ValueError("layout: expected exactly one 'S' and at least one 'G'")
    if not 0 <= slip <= 1:
        raise ValueError(f"slip: expected a probability in [0, 1], got {slip!r}")
    rows, cols = len(layout), len(layout[0])
    S, A = rows * cols, 4
    start = text.index("S")
    terminal = np.array([c in "GH" for c in text])
    T, R = np.zeros((S, A, S)), np.zeros((S, A, S))
    for s in np.flatnonzero(~terminal):
        i, j = divmod(s, cols)
        for a in range(A):
            for b, p in ((a, 1.0 - slip), ((a - 1) % 4, slip / 2), ((a + 1) % 4, slip / 2)):
                if p == 0:
                    continue
                i2, j2 = i + GRID_MOVES[b][0], j + GRID_MOVES[b][1]
                s2 = i2 * cols + j2 if 0 <= i2 < rows and 0 <= j2 < cols and layout[i2][j2] != "#" else s
                rew = step_reward + goal_reward * (text[s2] == "G")
                if text[s2] == "C":
                    s2, rew = start, cliff_reward
                T[s, a, s2] += p
                R[s, a, s2] = rew
    mu0 = np.zeros(S)
    mu0[start] = 1.0
    return TabularMDP(T, R, gamma, mu0, terminal, (rows, cols), GRID_MOVES, list(layout), "gridworld")


def random_walk(n: int = 5) -> TabularMDP:
    """The classic random walk: states ``0..n+1`` with both ends terminal, start in the middle, one action
    that steps left or right with probability 1/2, reward 1 on entering the right end, gamma = 1. The true
    values of the inner states are ``i / (n + 1)``, i = 1..n."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 or n % 2 == 0:
        raise ValueError(f"n: expected an odd positive integer, got {n!r}")
    S = n + 2
    T, R = np.zeros((S, 1, S)), np.zeros((S, 1, S))
    for s in range(1, n + 1):
        T[s, 0, s - 1] = T[s, 0, s + 1] = 0.5
    R[n, 0, n + 1] = 1.0
    mu0 = np.zeros(S)
    mu0[(n + 1) // 2] = 1.0
    terminal = np.zeros(S, dtype=bool)
    terminal[[0, n + 1]] = True
    return TabularMDP(T, R, 1.0, mu0, terminal, (1, S), np.array([(0, 1)]), None, "random walk")


def chain(n: int = 10, gamma: float = 0.95) -> TabularMDP:
    """A corridor of ``n`` states: start at 0, actions 0 left / 1 right (left at 0 stays), the last state is a
    terminal goal and entering it pays 1; every other reward is 0 (a sparse reward)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: expected an integer >= 2, got {n!r}")
    T, R = np.zeros((n, 2, n)), np.zeros((n, 2, n))
    for s in range(n - 1):
        T[s, 0, max(s - 1, 0)] = 1.0
        T[s, 1, s + 1] = 1.0
    R[n - 2, 1, n - 1] = 1.0
    mu0 = np.zeros(n)
    mu0[0] = 1.0
    terminal = np.zeros(n, dtype=bool)
    terminal[-1] = True
    return TabularMDP(T, R, gamma, mu0, terminal, (1, n), np.array([(0, -1), (0, 1)]), None, "chain")


def shaped(mdp: TabularMDP, potential: np.ndarray) -> TabularMDP:
    """Potential-based shaping: ``R'(s, a, s') = R(s, a, s') + gamma Phi(s') - Phi(s)`` with ``Phi = 0`` on
    terminal states. Then ``Q'*(s, a) = Q*(s, a) - Phi(s)``, so the optimal policy is unchanged."""
    phi = np.asarray(potential, dtype=np.float64)
    if phi.shape != (mdp.n_states,):
        raise ValueError(f"potential: expected shape ({mdp.n_states},), got {phi.shape}")
    phi = np.where(mdp.terminal, 0.0, phi)
    R3 = mdp.R if mdp.R.ndim == 3 else np.broadcast_to(mdp.R[:, :, None], mdp.T.shape)
    R2 = R3 + mdp.gamma * phi[None, None, :] - phi[:, None, None]
    return TabularMDP(mdp.T, R2, mdp.gamma, mdp.mu0, mdp.terminal, mdp.shape, mdp.moves, mdp.layout,
                      mdp.name + " (shaped)")


def random_mdp(n_states: int, n_actions: int, gamma: float = 0.9, seed: int = 0, n_terminal: int = 0) -> TabularMDP:
    """A random MDP for tests: Dirichlet transitions, Gaussian rewards, the last ``n_terminal`` states terminal."""
    if n_states < 1 or n_actions < 1 or not 0 <= n_terminal < n_states:
        raise ValueError("n_states, n_actions, n_terminal: expected n_states >= 1, n_actions >= 1, "
                         "0 <= n_terminal < n_states")
    rng = np.random.default_rng(seed)
    T = rng.dirichlet(np.ones(n_states), size=(n_states, n_actions))
    R = rng.normal(size=(n_states, n_actions))
    terminal = np.arange(n_states) >= n_states - n_terminal
    T[terminal] = 0.0
    mu0 = rng.dirichlet(np.ones(n_states))
    return TabularMDP(T, R, gamma, mu0, terminal, name="random")


# --------------------------------------------------------------------------- Bellman operators and DP
def _policy(mdp: TabularMDP, pi) -> np.ndarray:
    pi = np.asarray(pi, dtype=np.float64)
    if pi.shape != (mdp.n_states, mdp.n_actions) or np.any(pi < 0) or not np.allclose(pi.sum(1), 1.0):
        raise ValueError(f"pi: expected a stochastic matrix of shape {(mdp.n_states, mdp.n_actions)}")
    return pi


def _q(mdp: TabularMDP, Q) -> np.ndarray:
    Q = np.asarray(Q, dtype=np.float64)
    if Q.shape != (mdp.n_states, mdp.n_actions):
        raise ValueError(f"Q: expected shape {(mdp.n_states, mdp.n_actions)}, got {Q.shape}")
    return Q


def _solve(mdp: TabularMDP, P_pi: np.ndarray, rhs: np.ndarray, transpose: bool = False) -> np.ndarray:
    M = np.eye(mdp.n_states) - mdp.gamma * P_pi
    try:
        return np.linalg.solve(M.T if transpose else M, rhs)
    except np.linalg.LinAlgError as e:
        raise ValueError("pi: I - gamma P_pi is singular (with gamma = 1 the policy must reach a terminal "
                         "state from every state)") from e


def policy_evaluation(mdp: TabularMDP, pi) -> np.ndarray:
    """``v_pi = (I - gamma P_pi)^{-1} r_pi`` (S,) by one linear solve."""
    pi = _policy(mdp, pi)
    return _solve(mdp, np.einsum("sa,sat->st", pi, mdp.T), (pi * mdp.r).sum(1))


def q_from_v(mdp: TabularMDP, v) -> np.ndarray:
    """``Q(s, a) = r(s, a) + gamma sum_s' T[s, a, s'] v(s')`` (S, A)."""
    return mdp.r + mdp.gamma * mdp.T @ np.asarray(v, dtype=np.float64)


def bellman_expectation(mdp: TabularMDP, pi, v) -> np.ndarray:
    """One application of the expectation operator: ``v' = r_pi + gamma P_pi v`` (S,)."""
    pi = _policy(mdp, pi)
    return (pi * q_from_v(mdp, v)).sum(1)


def bellman_optimality(mdp: TabularMDP, Q) -> np.ndarray:
    """One application of the optimality operator ``(T* Q)(s, a) = r + gamma T max_a' Q`` (S, A)."""
    return q_from_v(mdp, _q(mdp, Q).max(1))


def greedy(Q) -> np.ndarray:
    """The greedy policy as a one-hot (S, A) matrix; ties go to the first maximising action."""
    Q = np.asarray(Q, dtype=np.float64)
    if Q.ndim != 2:
        raise ValueError(f"Q: expected a 2-D array (S, A), got shape {Q.shape}")
    return np.eye(Q.shape[1])[Q.argmax(1)]


def value_iteration(mdp: TabularMDP, tol: float = 1e-10, max_iter: int = 100_000, Q0=None,
                    history: bool = False) -> tuple[np.ndarray, dict]:
    """Iterate ``Q <- T* Q`` from ``Q0`` (zeros) until ``||T* Q - Q||_inf < tol``. Returns ``(Q, info)`` with
    ``info["iterations"]``, ``info["residuals"]`` (sup-norm change per sweep) and, with ``history=True``,
    ``info["Q"]``: every iterate ``Q_0, Q_1, ...`` stacked (K+1, S, A)."""
    if not tol > 0:
        raise ValueError(f"tol: expected a positive number, got {tol!r}")
    Q = np.zeros((mdp.n_states, mdp.n_actions)) if Q0 is None else _q(mdp, Q0).copy()
    Qs, residuals = [Q], []
    for _ in range(max_iter):
        Q_new = bellman_optimality(mdp, Q)
        residuals.append(float(np.abs(Q_new - Q).max()))
        Q = Q_new
        if history:
            Qs.append(Q)
        if residuals[-1] < tol:
            break
    else:
        raise RuntimeError(f"value_iteration: no convergence in {max_iter} sweeps (residual {residuals[-1]:.3g})")
    info = dict(iterations=len(residuals), residuals=np.array(residuals))
    if history:
        info["Q"] = np.stack(Qs)
    return Q, info


def policy_iteration(mdp: TabularMDP, pi0=None, max_iter: int = 1000) -> tuple[np.ndarray, np.ndarray, int]:
    """Alternate exact evaluation and greedy improvement from ``pi0`` (uniform) until the policy is stable.
    An action changes only if it improves Q by more than 1e-12 (no cycling between tied actions).
    Returns ``(pi, v, n_iter)``, ``pi`` one-hot (S, A)."""
    pi = np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions) if pi0 is None else _policy(mdp, pi0)
    rows = np.arange(mdp.n_states)
    for n_iter in range(1, max_iter + 1):
        v = policy_evaluation(mdp, pi)
        Q = q_from_v(mdp, v)
        keep, best = pi.argmax(1), Q.argmax(1)
        improve = Q[rows, best] > Q[rows, keep] + 1e-12
        if np.allclose(pi.max(1), 1.0) and not improve.any():
            return pi, v, n_iter
        pi = np.eye(mdp.n_actions)[np.where(improve, best, keep)]
    raise RuntimeError(f"policy_iteration: no convergence in {max_iter} iterations")


def discounted_visitation(mdp: TabularMDP, pi) -> np.ndarray:
    """``d_pi = mu0^T (I - gamma P_pi)^{-1}`` (S,): the expected discounted number of visits to each state
    (total mass ``1 / (1 - gamma)`` when no state is terminal)."""
    pi = _policy(mdp, pi)
    return _solve(mdp, np.einsum("sa,sat->st", pi, mdp.T), mdp.mu0, transpose=True)


# --------------------------------------------------------------------------- exact policy gradients
def softmax_policy(logits) -> np.ndarray:
    """Row-wise softmax of a (S, A) array of logits."""
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


def exact_objective(mdp: TabularMDP, logits: torch.Tensor) -> torch.Tensor:
    """``J(theta) = mu0 . (I - gamma P_pi)^{-1} r_pi`` for ``pi = softmax(logits)``, differentiable in the
    (S, A) ``logits`` tensor (computed in its dtype; use float64 for exactness checks)."""
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"logits: expected a torch.Tensor, got {type(logits).__name__}")
    if tuple(logits.shape) != (mdp.n_states, mdp.n_actions):
        raise ValueError(f"logits: expected shape {(mdp.n_states, mdp.n_actions)}, got {tuple(logits.shape)}")
    kw = dict(dtype=logits.dtype, device=logits.device)
    T, r = torch.as_tensor(mdp.T, **kw), torch.as_tensor(mdp.r, **kw)
    pi = torch.softmax(logits, dim=1)
    P_pi = torch.einsum("sa,sat->st", pi, T)
    v = torch.linalg.solve(torch.eye(mdp.n_states, **kw) - mdp.gamma * P_pi, (pi * r).sum(1))
    return torch.as_tensor(mdp.mu0, **kw) @ v


def exact_policy_gradient(mdp: TabularMDP, logits) -> np.ndarray:
    """``dJ/dlogits`` (S, A) by autograd through :func:`exact_objective` in float64."""
    theta = torch.tensor(np.asarray(logits, dtype=np.float64), requires_grad=True)
    exact_objective(mdp, theta).backward()
    return theta.grad.numpy()


def pg_theorem_gradient(mdp: TabularMDP, logits) -> np.ndarray:
    """The policy-gradient theorem for a tabular softmax policy:
    ``dJ/dtheta[s, b] = d_pi(s) pi(b|s) (Q_pi(s, b) - V_pi(s))`` (S, A)."""
    pi = softmax_policy(logits)
    v = policy_evaluation(mdp, pi)
    Q = q_from_v(mdp, v)
    return discounted_visitation(mdp, pi)[:, None] * pi * (Q - v[:, None])


# --------------------------------------------------------------------------- sampling
def sample_episodes(mdp: TabularMDP, pi, n_episodes: int, horizon: int, rng: np.random.Generator) -> dict:
    """Sample ``n_episodes`` episodes of at most ``horizon`` steps, vectorised over episodes (inverse-CDF
    sampling). Returns arrays ``states`` (N, H+1) int, ``actions`` (N, H) int, ``rewards`` (N, H) float,
    ``valid`` (N, H) bool (step t was taken: the episode had not ended) and ``terminated`` (N, H) bool (step t
    entered a terminal state). Rewards use ``R[s, a, s']`` when the MDP has it. After the end, states repeat
    the terminal state and rewards are 0."""
    pi = _policy(mdp, pi)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy Generator, got {type(rng).__name__}")
    if n_episodes < 1 or horizon < 1:
        raise ValueError("n_episodes, horizon: expected positive integers")
    N, H = int(n_episodes), int(horizon)
    cum_pi, cum_T, cum_mu = np.cumsum(pi, 1), np.cumsum(mdp.T, 2), np.cumsum(mdp.mu0)
    states = np.zeros((N, H + 1), dtype=np.int64)
    actions = np.zeros((N, H), dtype=np.int64)
    rewards = np.zeros((N, H))
    valid = np.zeros((N, H), dtype=bool)
    terminated = np.zeros((N, H), dtype=bool)
    s = np.minimum(np.searchsorted(cum_mu, rng.random(N), side="right"), mdp.n_states - 1)
    alive = ~mdp.terminal[s]
    states[:, 0] = s
    for t in range(H):
        a = np.minimum((rng.random((N, 1)) > cum_pi[s]).sum(1), mdp.n_actions - 1)
        s2 = np.minimum((rng.random((N, 1)) > cum_T[s, a]).sum(1), mdp.n_states - 1)
        s2 = np.where(alive, s2, s)
        rew = mdp.R[s, a, s2] if mdp.R.ndim == 3 else mdp.R[s, a]
        actions[:, t], valid[:, t] = a, alive
        rewards[:, t] = np.where(alive, rew, 0.0)
        terminated[:, t] = alive & mdp.terminal[s2]
        alive = alive & ~mdp.terminal[s2]
        states[:, t + 1] = s = s2
        if not alive.any():
            return dict(states=states[:, :t + 2], actions=actions[:, :t + 1], rewards=rewards[:, :t + 1],
                        valid=valid[:, :t + 1], terminated=terminated[:, :t + 1])
    return dict(states=states, actions=actions, rewards=rewards, valid=valid, terminated=terminated)


def reinforce_gradient_tabular(mdp: TabularMDP, logits, episodes: dict, baseline=None,
                               discount_weights: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The REINFORCE estimate of ``dJ/dlogits`` from sampled episodes of ``pi = softmax(logits)``::

        g = sum_t w_t (G_t - b(s_t)) grad log pi(a_t|s_t),   w_t = gamma^t (or 1),  G_t = sum_k gamma^k r_{t+k}

    with ``grad_theta[s, :] log pi(a|s) = onehot(a) - pi(.|s)``. ``baseline`` is None or a (S,) array of
    state values. Returns ``(mean, stderr)`` over episodes, both (S, A)."""
    pi = softmax_policy(logits)
    S, A = pi.shape
    st, ac, rw, ok = episodes["states"][:, :-1], episodes["actions"], episodes["rewards"], episodes["valid"]
    N, H = ac.shape
    g = mdp.gamma
    G = np.zeros_like(rw)
    running = np.zeros(N)
    for t in range(H - 1, -1, -1):
        running = rw[:, t] + g * running
        G[:, t] = running
    if baseline is not None:
        b = np.asarray(baseline, dtype=np.float64)
        if b.shape != (S,):
            raise ValueError(f"baseline: expected shape ({S},), got {b.shape}")
        G = G - b[st]
    w = (g ** np.arange(H) if discount_weights else np.ones(H))[None, :] * G * ok
    score = np.eye(A)[ac] - pi[st]                       # (N, H, A)
    per = np.zeros((N, S, A))
    np.add.at(per, (np.arange(N)[:, None].repeat(H, 1), st), w[..., None] * score)
    flat = per.reshape(N, -1)
    return flat.mean(0).reshape(S, A), (flat.std(0, ddof=1) / np.sqrt(N)).reshape(S, A)


# --------------------------------------------------------------------------- a fast environment
class TabularEnv:
    """A gymnasium-like environment over a :class:`TabularMDP` without wrapper overhead:
    ``reset() -> (s, info)``, ``step(a) -> (s', r, terminated, truncated, info)`` with python ints.
    ``max_steps`` truncates an episode (``truncated=True``); entering a terminal state terminates it."""

    def __init__(self, mdp: TabularMDP, max_steps: int | None = None, seed: int = 0):
        if not isinstance(mdp, TabularMDP):
            raise TypeError(f"mdp: expected a TabularMDP, got {type(mdp).__name__}")
        self.mdp, self.max_steps = mdp, max_steps
        self.n_states, self.n_actions = mdp.n_states, mdp.n_actions
        self.rng = np.random.default_rng(seed)
        self._next = [[np.flatnonzero(mdp.T[s, a]).tolist() for a in range(mdp.n_actions)] for s in range(mdp.n_states)]
        self._cum = [[np.cumsum(mdp.T[s, a][nz]).tolist() for a, nz in enumerate(row)] for s, row in enumerate(self._next)]
        self._R = mdp.R.tolist()
        self._r3 = mdp.R.ndim == 3
        self._terminal = mdp.terminal.tolist()
        self._cum_mu = np.cumsum(mdp.mu0)
        self._u, self._i = [], 0
        self.state, self.t = None, 0

    def _uniform(self) -> float:
        if self._i >= len(self._u):
            self._u, self._i = self.rng.random(4096).tolist(), 0
        self._i += 1
        return self._u[self._i - 1]

    def reset(self, seed: int | None = None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
            self._u, self._i = [], 0
        self.state = int(min(np.searchsorted(self._cum_mu, self._uniform(), side="right"), self.n_states - 1))
        self.t = 0
        return self.state, {}

    def step(self, action: int):
        if self.state is None:
            raise RuntimeError("step: call reset() first")
        if not 0 <= action < self.n_actions:
            raise ValueError(f"action: expected an integer in [0, {self.n_actions}), got {action!r}")
        s, u = self.state, self._uniform()
        nxt, cum = self._next[s][action], self._cum[s][action]
        if not nxt:
            raise RuntimeError("step: the episode has ended (terminal state); call reset()")
        k = 0
        while k < len(cum) - 1 and cum[k] <= u:
            k += 1
        s2 = nxt[k]
        r = self._R[s][action][s2] if self._r3 else self._R[s][action]
        self.state, self.t = s2, self.t + 1
        terminated = self._terminal[s2]
        truncated = self.max_steps is not None and self.t >= self.max_steps and not terminated
        return s2, r, terminated, truncated, {}
