"""Returns and advantages of a rollout: Monte Carlo, n-step, lambda-returns and GAE.

Conventions (Chapter 8): ``r_t`` is the reward received after taking ``a_t`` in ``s_t``; time is axis 0,
so every array is (T,) for one environment or (T, N) for N environments stepped together; ``values[t]``
is ``V(s_t)`` and ``last_value`` is ``V(s_T)``, the state after the rollout. ``dones[t] = 1`` means the
episode *terminated* at step t (``s_{t+1}`` is terminal, worth 0): nothing is bootstrapped through it.
numpy in gives numpy out, torch in gives torch out (no gradient is needed: these are targets).

    G_t       = r_t + gamma (1 - d_t) G_{t+1}                                   (Monte Carlo)
    G^(n)_t   = sum_{k<n} gamma^k r_{t+k} + gamma^n V(s_{t+n})                  (stops at a terminal)
    G^lam_t   = r_t + gamma (1 - d_t) [(1 - lam) V(s_{t+1}) + lam G^lam_{t+1}]  (= (1-lam) sum lam^(n-1) G^(n))
    delta_t   = r_t + gamma (1 - d_t) V(s_{t+1}) - V(s_t)
    A_t       = delta_t + gamma lam (1 - d_t) A_{t+1}                           (GAE; G^lam_t = A_t + V(s_t))

A *truncated* step (time limit, gymnasium's ``truncated``) is different from a terminal one: the episode
was cut, not finished, so :func:`gae` bootstraps from ``V`` of the true last observation
(``final_values[t]``) and stops the recursion there, because step t+1 belongs to a new episode.
"""
from __future__ import annotations

import numpy as np
import torch


def _arrays(**named):
    """Check that the named arrays are all numpy or all torch, float, (T,) or (T, N) and of one shape."""
    first = next(iter(named.values()))
    kind = torch.Tensor if isinstance(first, torch.Tensor) else np.ndarray
    out = {}
    for name, v in named.items():
        if not isinstance(v, kind):
            raise TypeError(f"{name}: expected a {kind.__module__}.{kind.__name__} like the rewards, "
                            f"got {type(v).__name__}")
        if v.ndim not in (1, 2) or v.shape != first.shape:
            raise ValueError(f"{name}: expected shape (T,) or (T, N) equal to the rewards' "
                             f"{tuple(first.shape)}, got {tuple(v.shape)}")
        out[name] = v.to(first.dtype if first.is_floating_point() else torch.float64) if kind is torch.Tensor \
            else v.astype(first.dtype if np.issubdtype(first.dtype, np.floating) else np.float64)
    return out.values()


def _unit(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
        raise ValueError(f"{name}: expected a number in [0, 1], got {v!r}")
    return float(v)


def _empty(x):
    return torch.empty_like(x) if isinstance(x, torch.Tensor) else np.empty_like(x)


def _row(like, value, name):
    """``value`` (a number or an (N,) array/tensor) broadcast to the shape of one time step ``like[0]``."""
    try:
        row = like[0] * 0 + value
    except (ValueError, RuntimeError, TypeError):
        row = None
    if row is None or row.shape != like[0].shape:
        raise ValueError(f"{name}: expected a number or shape {tuple(like[0].shape)}, got {value!r}")
    return row


def discounted_returns(rewards, dones, gamma: float, bootstrap=0.0):
    """Monte Carlo returns ``G_t = r_t + gamma (1 - d_t) G_{t+1}`` with ``G_T = bootstrap``; (T[, N])."""
    rewards, dones = _arrays(rewards=rewards, dones=dones)
    gamma = _unit("gamma", gamma)
    G, running = _empty(rewards), _row(rewards, bootstrap, "bootstrap")
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = rewards[t] + gamma * (1 - dones[t]) * running
        G[t] = running
    return G


def n_step_returns(rewards, values, dones, gamma: float, n: int, last_value):
    """``G^(n)_t = sum_{k<m} gamma^k r_{t+k} + gamma^m V(s_{t+m})`` with ``m = min(n, T - t)``; the sum
    stops (and nothing is bootstrapped) at a terminal step. (T[, N])."""
    rewards, values, dones = _arrays(rewards=rewards, values=values, dones=dones)
    gamma = _unit("gamma", gamma)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    T = rewards.shape[0]
    last = _row(rewards, last_value, "last_value")
    G = _empty(rewards)
    for t in range(T):
        m = min(n, T - t)
        acc, alive, disc = rewards[t] * 0, rewards[t] * 0 + 1, 1.0
        for k in range(m):
            acc = acc + alive * disc * rewards[t + k]
            alive = alive * (1 - dones[t + k])
            disc *= gamma
        boot = values[t + m] if t + m < T else last
        G[t] = acc + alive * disc * boot
    return G


def lambda_returns(rewards, values, dones, gamma: float, lam: float, last_value):
    """``G^lam_t = r_t + gamma (1 - d_t) [(1 - lam) V(s_{t+1}) + lam G^lam_{t+1}]``, ``G^lam_T = V(s_T)``;
    equal to ``(1 - lam) sum_{n>=1} lam^(n-1) G^(n)_t`` with the leftover weight on the longest return."""
    rewards, values, dones = _arrays(rewards=rewards, values=values, dones=dones)
    gamma, lam = _unit("gamma", gamma), _unit("lam", lam)
    G = _empty(rewards)
    running = _row(rewards, last_value, "last_value")
    next_v = running
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = rewards[t] + gamma * (1 - dones[t]) * ((1 - lam) * next_v + lam * running)
        G[t], next_v = running, values[t]
    return G


def gae(rewards, values, dones, last_value, gamma: float, lam: float, truncated=None, final_values=None):
    """Generalised advantage estimation (Schulman et al. 2016): returns ``(advantages, returns)``, both
    (T[, N]), with ``returns = advantages + values`` (the lambda-returns, the critic's targets).

    ``dones`` marks terminations (no bootstrap). ``truncated`` (optional, same shape) marks time-limit
    cuts: there ``V(s_{t+1})`` is ``final_values[t]`` (the value of ``info["final_obs"]``) and the
    recursion restarts. A step both terminated and truncated counts as terminated.
    """
    rewards, values, dones = _arrays(rewards=rewards, values=values, dones=dones)
    gamma, lam = _unit("gamma", gamma), _unit("lam", lam)
    if truncated is None:
        truncated = dones * 0
        final_values = values
    elif final_values is None:
        raise ValueError("final_values: expected V(final_obs) of shape (T[, N]) when truncated is given")
    _, truncated, final_values = _arrays(rewards=rewards, truncated=truncated, final_values=final_values)
    cut = truncated * (1 - dones)                    # truncated but not terminated
    adv = _empty(rewards)
    running = rewards[0] * 0
    next_v = _row(rewards, last_value, "last_value")
    for t in range(rewards.shape[0] - 1, -1, -1):
        boot = (1 - cut[t]) * next_v + cut[t] * final_values[t]
        delta = rewards[t] + gamma * (1 - dones[t]) * boot - values[t]
        running = delta + gamma * lam * (1 - dones[t]) * (1 - cut[t]) * running
        adv[t], next_v = running, values[t]
    return adv, adv + values
