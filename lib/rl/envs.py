"""Environments without downloads: CartPole as vectorised numpy, and a gymnasium helper for tests.

CartPole (Barto, Sutton & Anderson 1983, with gymnasium's ``CartPole-v1`` constants). The state is
``s = (x, x_dot, theta, theta_dot)``; action 1 pushes right with force ``F = +10`` N, action 0 pushes
left with ``F = -10``. With total mass ``m = m_c + m_p``, half pole length ``l`` and ``dt = 0.02`` s::

    tmp        = (F + m_p l theta_dot^2 sin theta) / m
    theta_acc  = (g sin theta - cos theta tmp) / (l (4/3 - m_p cos^2 theta / m))
    x_acc      = tmp - m_p l theta_acc cos theta / m
    s'         = s + dt (x_dot, x_acc, theta_dot, theta_acc)          (explicit Euler)

The episode *terminates* when ``|x'| > 2.4`` or ``|theta'| > 12 degrees`` and is *truncated* by the
time limit after ``max_steps`` steps; every step (including the last) pays reward 1.

:class:`CartPoleVec` runs N copies with **same-step autoreset**: when an episode ends, ``step`` returns
the first observation of the next episode and puts the true last observation in ``info["final_obs"]``,
so a rollout of fixed length never mixes a reset step into the data (gymnasium 1.x's vector envs reset
on the *next* step instead, which silently breaks GAE loops written for same-step semantics).
"""
from __future__ import annotations

import numpy as np

GRAVITY, MASS_CART, MASS_POLE, HALF_LENGTH, FORCE_MAG, DT = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
TOTAL_MASS = MASS_CART + MASS_POLE
X_LIMIT = 2.4
THETA_LIMIT = 12 * 2 * np.pi / 360
RESET_HIGH = 0.05


def cartpole_step(S, a) -> np.ndarray:
    """One Euler step of CartPole for a batch: ``S`` (N, 4) states, ``a`` (N,) actions in {0, 1} -> (N, 4).

    Pure (no termination logic, no copy of the input is modified); float64 arithmetic, identical to
    gymnasium's ``CartPoleEnv.step`` on its internal float64 state. A single state (4,) with a scalar
    action is accepted too and gives (4,).
    """
    S = np.asarray(S, dtype=np.float64)
    a = np.asarray(a)
    if S.shape[-1:] != (4,) or S.ndim not in (1, 2):
        raise ValueError(f"S: expected states of shape (N, 4) or (4,), got {S.shape}")
    if a.shape != S.shape[:-1]:
        raise ValueError(f"a: expected actions of shape {S.shape[:-1]}, got {a.shape}")
    if not np.all((a == 0) | (a == 1)):
        raise ValueError("a: expected actions in {0, 1}")
    x, x_dot, theta, theta_dot = np.moveaxis(S, -1, 0)
    force = np.where(a == 1, FORCE_MAG, -FORCE_MAG)
    cos, sin = np.cos(theta), np.sin(theta)
    tmp = (force + MASS_POLE * HALF_LENGTH * theta_dot ** 2 * sin) / TOTAL_MASS
    theta_acc = (GRAVITY * sin - cos * tmp) / (HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * cos ** 2 / TOTAL_MASS))
    x_acc = tmp - MASS_POLE * HALF_LENGTH * theta_acc * cos / TOTAL_MASS
    return np.stack([x + DT * x_dot, x_dot + DT * x_acc, theta + DT * theta_dot, theta_dot + DT * theta_acc], -1)


def cartpole_terminated(S) -> np.ndarray:
    """``|x| > 2.4`` or ``|theta| > 12 degrees`` for states (..., 4) -> bool (...)."""
    S = np.asarray(S, dtype=np.float64)
    return (np.abs(S[..., 0]) > X_LIMIT) | (np.abs(S[..., 2]) > THETA_LIMIT)


class CartPoleVec:
    """``num_envs`` CartPoles stepped together, with gymnasium's API and same-step autoreset.

    ``reset() -> (obs, info)``; ``step(actions) -> (obs, reward, terminated, truncated, info)`` with
    ``obs`` (N, 4) float32 (the state is kept in float64, as gymnasium does), ``reward`` (N,) float32
    ones, ``terminated``/``truncated`` (N,) bool (both can be True on the last step, as with gymnasium's
    TimeLimit). ``info["final_obs"]`` (N, 4) is the observation reached by this step *before* any reset
    (equal to ``obs`` where the episode goes on); ``info["episode_returns"]`` and
    ``info["episode_lengths"]`` list the episodes that ended at this step. Initial states are uniform
    on [-0.05, 0.05]^4 from ``np.random.default_rng(seed)`` (for one env the same draws as
    ``gymnasium.make("CartPole-v1").reset(seed=seed)``).
    """

    obs_dim, n_actions = 4, 2

    def __init__(self, num_envs: int, max_steps: int = 500, seed: int = 0):
        for name, v in (("num_envs", num_envs), ("max_steps", max_steps)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")
        self.num_envs, self.max_steps = int(num_envs), int(max_steps)
        self.rng = np.random.default_rng(seed)
        self.state = None

    def _initial(self, n: int) -> np.ndarray:
        return self.rng.uniform(-RESET_HIGH, RESET_HIGH, size=(n, 4))

    def reset(self, seed: int | None = None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.state = self._initial(self.num_envs)
        self.steps = np.zeros(self.num_envs, dtype=np.int64)
        self.returns = np.zeros(self.num_envs)
        return self.state.astype(np.float32), {}

    def step(self, actions):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        a = np.asarray(actions)
        if a.shape != (self.num_envs,):
            raise ValueError(f"actions: expected shape ({self.num_envs},), got {a.shape}")
        self.state = cartpole_step(self.state, a)
        self.steps += 1
        self.returns += 1.0
        terminated = cartpole_terminated(self.state)
        truncated = self.steps >= self.max_steps
        final_obs = self.state.astype(np.float32)
        done = terminated | truncated
        info = dict(final_obs=final_obs, episode_returns=self.returns[done].copy(),
                    episode_lengths=self.steps[done].copy())
        if done.any():
            self.state[done] = self._initial(int(done.sum()))
            self.steps[done] = 0
            self.returns[done] = 0.0
        reward = np.ones(self.num_envs, dtype=np.float32)
        return self.state.astype(np.float32), reward, terminated, truncated, info


def make(env_id: str, **kwargs):
    """``gymnasium.make(env_id, **kwargs)``, falling back across the ``-v0``/``-v1`` suffix when the
    installed gymnasium names the environment differently (``CliffWalking-v1`` was ``-v0`` before 1.1)."""
    if not isinstance(env_id, str):
        raise TypeError(f"env_id: expected a string, got {type(env_id).__name__}")
    import gymnasium as gym

    try:
        return gym.make(env_id, **kwargs)
    except gym.error.Error:
        base, _, version = env_id.rpartition("-v")
        other = {"0": "1", "1": "0"}.get(version)
        if not base or other is None:
            raise
        return gym.make(f"{base}-v{other}", **kwargs)
