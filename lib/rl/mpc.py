"""Model predictive control: plan H steps ahead with a model, execute the first action, replan.

At every time step ``t`` the planner solves, approximately,

    max_{a_t..a_{t+H-1}}  sum_{k=0}^{H-1} gamma^k r(s_{t+k}, a_{t+k}) + gamma^H V(s_{t+H})
    s.t.  s_{t+k+1} = f(s_{t+k}, a_{t+k})                                                  (8.144)

with ``H`` reward terms and an optional terminal value ``V``; only ``a_t`` is executed (receding horizon).
:func:`random_shooting` samples ``n_samples`` random action sequences and keeps the best one, all of
them simulated together as one batch. ``f`` is either the true CartPole dynamics
(:func:`lib.rl.envs.cartpole_step`) or a network fitted to random transitions
(:func:`fit_dynamics_model`), whose errors compound over the horizon.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from .envs import THETA_LIMIT, X_LIMIT, cartpole_step, cartpole_terminated


def survival_reward(S, A, S2) -> np.ndarray:
    """CartPole's own reward as a planning signal: 1 per step (the caller stops it at termination)."""
    return np.ones(len(S))


def shaped_reward(S, A, S2) -> np.ndarray:
    """A dense reward, ``1 - (theta/theta_max)^2 - 0.1 (x/x_max)^2`` at the reached state."""
    return 1.0 - (S2[:, 2] / THETA_LIMIT) ** 2 - 0.1 * (S2[:, 0] / X_LIMIT) ** 2


def random_shooting(model_fn: Callable, reward_fn: Callable, state, horizon: int, n_samples: int,
                    rng: np.random.Generator, n_actions: int = 2, gamma: float = 1.0,
                    terminal_value_fn: Callable | None = None, done_fn: Callable | None = cartpole_terminated):
    """Best first action of ``n_samples`` uniformly random ``horizon``-step plans under ``model_fn``.

    ``model_fn(S (N, d), a (N,)) -> S' (N, d)``, ``reward_fn(S, a, S') -> (N,)``, ``done_fn(S') -> (N,) bool``
    (a plan earns nothing after it terminates), ``terminal_value_fn(S) -> (N,)`` added at the horizon for the
    plans still alive. Returns ``(a0, info)`` with ``info = dict(actions (N, H), returns (N,),
    states (N, H + 1, d), best)``.
    """
    for name, v in dict(horizon=horizon, n_samples=n_samples).items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name}: expected a positive integer, got {v!r}")
    s = np.asarray(state, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"state: expected one state vector, got shape {s.shape}")
    A = rng.integers(n_actions, size=(n_samples, horizon))
    S = np.repeat(s[None], n_samples, 0)
    states, G = [S], np.zeros(n_samples)
    alive = np.ones(n_samples, dtype=bool)
    for k in range(horizon):
        S2 = model_fn(S, A[:, k])
        G += alive * gamma ** k * reward_fn(S, A[:, k], S2)
        if done_fn is not None:
            alive &= ~done_fn(S2)
        S = S2
        states.append(S)
    if terminal_value_fn is not None:
        G += alive * gamma ** horizon * terminal_value_fn(S)
    best = int(np.argmax(G))
    return int(A[best, 0]), dict(actions=A, returns=G, states=np.stack(states, 1), best=best)


def mpc_episode(planner: Callable, s0, max_steps: int = 500, step_fn: Callable = cartpole_step,
                done_fn: Callable = cartpole_terminated, record_plans_every: int = 0) -> dict:
    """Run the real system ``step_fn`` with ``a_t = planner(s_t)``, a planner that returns ``(a, info)``.
    Returns ``dict(states (T + 1, d), actions (T,), ret = T (CartPole pays 1 per step), plans)``, where
    ``plans`` maps some time steps to the planner's info (every ``record_plans_every`` steps)."""
    s = np.asarray(s0, dtype=np.float64)
    states, actions, plans = [s], [], {}
    for t in range(max_steps):
        a, info = planner(s)
        if record_plans_every and t % record_plans_every == 0:
            plans[t] = info
        s = step_fn(s[None], np.array([a]))[0]
        states.append(s)
        actions.append(a)
        if done_fn(s[None])[0]:
            break
    return dict(states=np.array(states), actions=np.array(actions), ret=len(actions), plans=plans)


def random_transitions(n: int, rng: np.random.Generator, step_fn: Callable = cartpole_step):
    """``n`` transitions from states uniform on the box ``|x| <= 2.4, |x'| <= 2, |theta| <= 0.21, |theta'| <= 2``
    with uniformly random actions: ``(S, A, S2)``."""
    high = np.array([X_LIMIT, 2.0, THETA_LIMIT, 2.0])
    S = rng.uniform(-high, high, size=(n, 4))
    A = rng.integers(2, size=n)
    return S, A, step_fn(S, A)


class DynamicsNet(nn.Module):
    """``f_phi(s, a) = s + scale * MLP([s / s_scale, onehot(a)])``: predicts the normalised change of state."""

    def __init__(self, s_scale: np.ndarray, d_scale: np.ndarray, hidden: int = 64):
        super().__init__()
        self.register_buffer("s_scale", torch.as_tensor(s_scale, dtype=torch.float32))
        self.register_buffer("d_scale", torch.as_tensor(d_scale, dtype=torch.float32))
        self.net = nn.Sequential(nn.Linear(6, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, 4))

    def delta(self, S: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        """Normalised predicted change ``(s' - s) / d_scale``."""
        x = torch.cat([S / self.s_scale, nn.functional.one_hot(A, 2).float()], -1)
        return self.net(x)


def fit_dynamics_model(S, A, S2, hidden: int = 64, steps: int = 1500, lr: float = 3e-3, batch: int = 512,
                       seed: int = 0, device: str | torch.device = "cpu"):
    """Fit :class:`DynamicsNet` by mean squared error on normalised state changes. Returns
    ``(model_fn, losses)`` where ``model_fn(S (N, 4), a (N,)) -> S' (N, 4)`` is a numpy function."""
    S, S2 = np.asarray(S, dtype=np.float64), np.asarray(S2, dtype=np.float64)
    A = np.asarray(A)
    if S.ndim != 2 or S.shape != S2.shape or A.shape != S.shape[:1]:
        raise ValueError(f"S, A, S2: expected (n, d), (n,), (n, d), got {S.shape}, {A.shape}, {S2.shape}")
    torch.manual_seed(seed)
    D = S2 - S
    net = DynamicsNet(S.std(0), D.std(0), hidden).to(device)
    St = torch.as_tensor(S, dtype=torch.float32, device=device)
    At = torch.as_tensor(A, dtype=torch.long, device=device)
    Dt = torch.as_tensor(D / D.std(0), dtype=torch.float32, device=device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        idx = torch.randint(len(St), (batch,), generator=gen).to(device)
        loss = ((net.delta(St[idx], At[idx]) - Dt[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    net.eval()
    d_scale = D.std(0)

    @torch.no_grad()
    def model_fn(Sq, a):
        Sq = np.asarray(Sq, dtype=np.float64)
        d = net.delta(torch.as_tensor(Sq, dtype=torch.float32, device=device),
                      torch.as_tensor(np.asarray(a), dtype=torch.long, device=device))
        return Sq + d.double().cpu().numpy() * d_scale

    return model_fn, np.array(losses)


def rollout_error(model_fn: Callable, S0, A, step_fn: Callable = cartpole_step) -> np.ndarray:
    """Open-loop multi-step error: from states ``S0`` (N, d) apply actions ``A`` (N, H) under the true
    dynamics and under ``model_fn``; returns the RMS state error after 1..H steps, shape (H, d)."""
    s_true, s_model = np.asarray(S0, dtype=np.float64), np.asarray(S0, dtype=np.float64)
    out = []
    for k in range(A.shape[1]):
        s_true, s_model = step_fn(s_true, A[:, k]), model_fn(s_model, A[:, k])
        out.append(np.sqrt(((s_true - s_model) ** 2).mean(0)))
    return np.array(out)
