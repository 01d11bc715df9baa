"""Model-free tabular learning: TD and Monte Carlo prediction, TD(lambda), Q-learning and SARSA.

Prediction methods learn ``V ~ v_pi`` from episodes that :func:`lib.rl.mdp.sample_episodes` drew under the
policy, vectorised over independent runs (so a learning curve with error bands costs one pass). With
``r_t`` the reward after ``a_t`` in ``s_t`` and ``d_t`` = "step t entered a terminal state"::

    TD(0)      V(s_t) += alpha (r_t + gamma (1 - d_t) V(s_{t+1}) - V(s_t))                online
    MC         V(s_t) += alpha (G_t - V(s_t)),  G_t = sum_k gamma^k r_{t+k}                after the episode
    n-step     target G_t^(n) = sum_{k<n} gamma^k r_{t+k} + gamma^n V(s_{t+n})            (stops at the end)
    lambda     G_t^lam = (1 - lam) sum_{n>=1} lam^(n-1) G_t^(n)   (forward view, offline)
    TD(lam)    z <- gamma lam z + e(s_t);  V += alpha delta_t z                            (backward view, traces)

Offline (increments summed over the episode and applied at its end) the backward view equals the forward
view exactly. Control methods (Q-learning, SARSA) interact with an environment that has
``reset() / step(a)`` (:class:`lib.rl.mdp.TabularEnv`) and act epsilon-greedily::

    Q-learning  Q(s,a) += alpha (r + gamma (1 - d) max_a' Q(s', a') - Q(s,a))     off-policy (learns Q*)
    SARSA       Q(s,a) += alpha (r + gamma (1 - d) Q(s', a') - Q(s,a)),  a' ~ eps-greedy   on-policy
"""
from __future__ import annotations

import numpy as np


def _episodes(episodes: dict, n_runs: int) -> tuple[np.ndarray, ...]:
    for k in ("states", "rewards", "valid", "terminated"):
        if k not in episodes:
            raise ValueError(f"episodes: expected the dict of lib.rl.mdp.sample_episodes (missing {k!r})")
    N = episodes["rewards"].shape[0]
    if isinstance(n_runs, bool) or not isinstance(n_runs, (int, np.integer)) or n_runs < 1 or N % n_runs:
        raise ValueError(f"n_runs: expected a positive divisor of the number of episodes {N}, got {n_runs!r}")
    E = N // n_runs
    shape = lambda x: x.reshape(n_runs, E, *x.shape[1:])
    return tuple(shape(episodes[k]) for k in ("states", "rewards", "valid", "terminated"))


def _check(alpha, gamma, n_states):
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha: expected a step size in (0, 1], got {alpha!r}")
    if not 0 <= gamma <= 1:
        raise ValueError(f"gamma: expected a number in [0, 1], got {gamma!r}")
    if isinstance(n_states, bool) or not isinstance(n_states, (int, np.integer)) or n_states < 1:
        raise ValueError(f"n_states: expected a positive integer, got {n_states!r}")


def _returns(rw, ok, gamma):
    """Discounted returns-to-go G_t along the last axis (steps after the end contribute 0)."""
    G = np.zeros_like(rw)
    running = np.zeros(rw.shape[:-1])
    for t in range(rw.shape[-1] - 1, -1, -1):
        running = rw[..., t] * ok[..., t] + gamma * running
        G[..., t] = running
    return G


def td0(episodes: dict, n_states: int, alpha: float, gamma: float = 1.0, v0: float = 0.0,
        n_runs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """TD(0) prediction (online). The N episodes are split into ``n_runs`` independent runs of N / n_runs
    episodes. Returns ``(V (n_runs, S), history (E + 1, n_runs, S))`` with V before each episode and at the end."""
    _check(alpha, gamma, n_states)
    st, rw, ok, dn = _episodes(episodes, n_runs)
    V = np.full((n_runs, n_states), float(v0))
    rows, hist = np.arange(n_runs), [V.copy()]
    for e in range(st.shape[1]):
        for t in range(rw.shape[2]):
            if not ok[:, e, t].any():
                break
            s, s2 = st[:, e, t], st[:, e, t + 1]
            delta = rw[:, e, t] + gamma * (1 - dn[:, e, t]) * V[rows, s2] - V[rows, s]
            V[rows, s] += alpha * ok[:, e, t] * delta
        hist.append(V.copy())
    return V, np.stack(hist)


def mc(episodes: dict, n_states: int, alpha: float, gamma: float = 1.0, v0: float = 0.0,
       n_runs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Constant-alpha every-visit Monte Carlo: after each episode, ``V(s_t) += alpha (G_t - V(s_t))`` for
    t = 0, 1, ... in order. Same shapes as :func:`td0`."""
    _check(alpha, gamma, n_states)
    st, rw, ok, dn = _episodes(episodes, n_runs)
    V = np.full((n_runs, n_states), float(v0))
    rows, hist = np.arange(n_runs), [V.copy()]
    G = _returns(rw, ok, gamma)
    for e in range(st.shape[1]):
        for t in range(rw.shape[2]):
            if not ok[:, e, t].any():
                break
            s = st[:, e, t]
            V[rows, s] += alpha * ok[:, e, t] * (G[:, e, t] - V[rows, s])
        hist.append(V.copy())
    return V, np.stack(hist)


def n_step_td(episodes: dict, n_states: int, n: int, alpha: float, gamma: float = 1.0, v0: float = 0.0,
              n_runs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Online n-step TD: at time ``t + n`` update ``V(s_t)`` toward ``G_t^(n)`` with the current V (the tail
    of an episode uses the Monte Carlo return). ``n = 1`` is TD(0); ``n`` >= the episode length is MC."""
    _check(alpha, gamma, n_states)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    st, rw, ok, dn = _episodes(episodes, n_runs)
    V = np.full((n_runs, n_states), float(v0))
    rows, hist, H = np.arange(n_runs), [V.copy()], rw.shape[2]
    disc = gamma ** np.arange(n)
    for e in range(st.shape[1]):
        r_e, ok_e, dn_e = rw[:, e] * ok[:, e], ok[:, e], dn[:, e]
        length = ok_e.sum(1)
        for tau in range(H):                      # tau = the time whose value is updated
            if not (ok_e[:, tau]).any():
                break
            b = np.minimum(tau + n, length)       # the bootstrap time (the episode's end if sooner)
            k = np.arange(n)
            G = (r_e[:, np.minimum(tau + k, H - 1)] * disc * (tau + k < b[:, None])).sum(1)
            boot = ~((b == length) & dn_e[rows, np.maximum(length - 1, 0)])   # no bootstrap from a terminal
            G = G + boot * gamma ** (b - tau) * V[rows, st[rows, e, b]]
            s = st[:, e, tau]
            V[rows, s] += alpha * ok_e[:, tau] * (G - V[rows, s])
        hist.append(V.copy())
    return V, np.stack(hist)


def _lambda_targets(rw, ok, dn, V_next, gamma, lam):
    """Forward view for one batch of episodes with fixed values: ``G^lam_t = r_t + gamma (1 - d_t)
    [(1 - lam) V(s_{t+1}) + lam G^lam_{t+1}]`` (the recursive form of the lambda-return)."""
    H = rw.shape[-1]
    G = np.zeros_like(rw)
    nxt = np.zeros(rw.shape[:-1])
    for t in range(H - 1, -1, -1):
        v1 = V_next[..., t]
        last = ~ok[..., t + 1] if t + 1 < H else np.ones_like(ok[..., t])
        tail = np.where(last, v1, (1 - lam) * v1 + lam * nxt)   # truncated at the horizon: bootstrap fully
        G[..., t] = rw[..., t] + gamma * (1 - dn[..., t]) * tail
        nxt = G[..., t]
    return G


def lambda_return(episodes: dict, n_states: int, lam: float, alpha: float, gamma: float = 1.0, v0: float = 0.0,
                  n_runs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Offline forward view: with V fixed during an episode, add ``alpha sum_t (G^lam_t - V(s_t)) e(s_t)``
    at its end. Same shapes as :func:`td0`."""
    _check(alpha, gamma, n_states)
    if not 0 <= lam <= 1:
        raise ValueError(f"lam: expected a number in [0, 1], got {lam!r}")
    st, rw, ok, dn = _episodes(episodes, n_runs)
    V = np.full((n_runs, n_states), float(v0))
    rows, hist = np.arange(n_runs), [V.copy()]
    for e in range(st.shape[1]):
        V_next = V[rows[:, None], st[:, e, 1:]]
        G = _lambda_targets(rw[:, e], ok[:, e], dn[:, e], V_next, gamma, lam)
        inc = alpha * ok[:, e] * (G - V[rows[:, None], st[:, e, :-1]])
        np.add.at(V, (rows[:, None].repeat(inc.shape[1], 1), st[:, e, :-1]), inc)
        hist.append(V.copy())
    return V, np.stack(hist)


def td_lambda(episodes: dict, n_states: int, lam: float, alpha: float, gamma: float = 1.0, v0: float = 0.0,
              n_runs: int = 1, online: bool = True, trace: str = "accumulating") -> tuple[np.ndarray, np.ndarray]:
    """Backward view with eligibility traces: ``z <- gamma lam z``, then ``z(s_t) += 1`` (accumulating) or
    ``z(s_t) = 1`` (replacing), ``V += alpha delta_t z``. ``online=False`` sums the increments and applies them
    at the episode's end (then it equals :func:`lambda_return` exactly with accumulating traces)."""
    _check(alpha, gamma, n_states)
    if not 0 <= lam <= 1:
        raise ValueError(f"lam: expected a number in [0, 1], got {lam!r}")
    if trace not in ("accumulating", "replacing"):
        raise ValueError(f"trace: expected 'accumulating' or 'replacing', got {trace!r}")
    st, rw, ok, dn = _episodes(episodes, n_runs)
    V = np.full((n_runs, n_states), float(v0))
    rows, hist = np.arange(n_runs), [V.copy()]
    for e in range(st.shape[1]):
        z = np.zeros_like(V)
        W = V if online else V.copy()            # values used inside the episode
        for t in range(rw.shape[2]):
            if not ok[:, e, t].any():
                break
            s, s2, live = st[:, e, t], st[:, e, t + 1], ok[:, e, t]
            z *= gamma * lam
            z[rows, s] = (z[rows, s] + 1.0) if trace == "accumulating" else 1.0
            delta = rw[:, e, t] + gamma * (1 - dn[:, e, t]) * W[rows, s2] - W[rows, s]
            V += alpha * (live * delta)[:, None] * z
        hist.append(V.copy())
    return V, np.stack(hist)


# --------------------------------------------------------------------------- control
class _Uniforms:
    """Uniform draws from a numpy Generator, handed out one python float at a time (fast in loops)."""

    def __init__(self, rng: np.random.Generator):
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng: expected a numpy Generator, got {type(rng).__name__}")
        self.rng, self.buf, self.i = rng, [], 0

    def __call__(self) -> float:
        if self.i >= len(self.buf):
            self.buf, self.i = self.rng.random(8192).tolist(), 0
        self.i += 1
        return self.buf[self.i - 1]


def epsilon_greedy(q_row, epsilon: float, u) -> int:
    """With probability ``epsilon`` a uniformly random action, else a greedy one (random among ties).
    ``u`` is a callable returning uniforms in [0, 1) (or a numpy Generator)."""
    if isinstance(u, np.random.Generator):
        u = u.random
    n = len(q_row)
    if u() < epsilon:
        return min(int(u() * n), n - 1)
    best = max(q_row)
    ties = [a for a in range(n) if q_row[a] == best]
    return ties[min(int(u() * len(ties)), len(ties) - 1)] if len(ties) > 1 else ties[0]


def _control(env, episodes, alpha, gamma, epsilon, rng, q0, rule):
    _check(alpha, gamma, getattr(env, "n_states", 0))
    if not 0 <= epsilon <= 1:
        raise ValueError(f"epsilon: expected a probability in [0, 1], got {epsilon!r}")
    u = _Uniforms(rng)
    Q = [[float(q0)] * env.n_actions for _ in range(env.n_states)]
    returns, lengths = np.zeros(episodes), np.zeros(episodes, dtype=np.int64)
    for e in range(episodes):
        s, _ = env.reset()
        a = epsilon_greedy(Q[s], epsilon, u)
        done, total, steps = False, 0.0, 0
        while not done:
            s2, r, terminated, truncated, _ = env.step(a)
            a2 = epsilon_greedy(Q[s2], epsilon, u) if not terminated else 0
            if terminated:
                nxt = 0.0
            elif rule == "q":
                nxt = max(Q[s2])
            else:
                nxt = Q[s2][a2]
            Q[s][a] += alpha * (r + gamma * nxt - Q[s][a])
            s, a, done = s2, a2, terminated or truncated
            total, steps = total + r, steps + 1
        returns[e], lengths[e] = total, steps
    return np.array(Q), dict(returns=returns, lengths=lengths)


def q_learning(env, episodes: int, alpha: float, gamma: float, epsilon: float, rng: np.random.Generator,
               q0: float = 0.0) -> tuple[np.ndarray, dict]:
    """Tabular Q-learning (off-policy TD control) with an epsilon-greedy behaviour policy.
    Returns ``(Q (S, A), history)`` with per-episode undiscounted ``returns`` and ``lengths``."""
    return _control(env, episodes, alpha, gamma, epsilon, rng, q0, "q")


def sarsa(env, episodes: int, alpha: float, gamma: float, epsilon: float, rng: np.random.Generator,
          q0: float = 0.0) -> tuple[np.ndarray, dict]:
    """Tabular SARSA (on-policy TD control): the target uses the action the epsilon-greedy policy takes next."""
    return _control(env, episodes, alpha, gamma, epsilon, rng, q0, "sarsa")
