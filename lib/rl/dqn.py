"""Deep Q-learning: replay buffer, target network (hard copy or Polyak), the DQN loss and two training loops.

DQN fits ``Q_theta(s, a) ~ Q*(s, a)`` by regressing on bootstrapped targets computed with a slowly moving
copy ``theta^-`` of the parameters::

    y = r + gamma (1 - terminated) max_a' Q_{theta^-}(s', a')                  (a constant: no gradient)
    L(theta) = mean over a replay minibatch of  huber(y - Q_theta(s, a))

Double DQN picks ``a'`` with the online network and evaluates it with the target network:
``y = r + gamma (1 - terminated) Q_{theta^-}(s', argmax_a' Q_theta(s', a'))``. Only true termination
zeroes the bootstrap; a time-limit truncation bootstraps from the final observation.

The target network follows the online one either by a hard copy every C updates or by Polyak averaging
(an exponential moving average, a convex combination of the two parameter vectors)::

    theta^- <- (1 - tau) theta^- + tau theta          (tau = 1 is the hard copy)

With ``theta`` held fixed, k such updates leave ``theta^-_k - theta = (1 - tau)^k (theta^-_0 - theta)``.

:func:`train_dqn` runs online DQN on a vectorised environment (:class:`lib.rl.envs.CartPoleVec`);
:func:`fitted_q` is batch (offline) Q-learning on a fixed dataset of a tabular MDP with one-hot states,
optionally with the conservative (CQL) penalty ``alpha E_s[logsumexp_a Q(s, a) - Q(s, a_data)]``.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class QNetwork(nn.Module):
    """An MLP ``obs (B, obs_dim) -> Q values (B, n_actions)``."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...] = (64, 64)):
        super().__init__()
        sizes, layers = (obs_dim, *hidden), []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], n_actions))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)


class ReplayBuffer:
    """A circular buffer of transitions ``(obs, action, reward, next_obs, terminated)`` kept as tensors on
    ``device``; :meth:`sample` draws a uniform minibatch (with replacement)."""

    def __init__(self, capacity: int, obs_dim: int, device="cpu", dtype=torch.float32):
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 1:
            raise ValueError(f"capacity: expected a positive integer, got {capacity!r}")
        self.capacity, self.device, self.size, self.pos = int(capacity), torch.device(device), 0, 0
        kw = dict(device=self.device)
        self.obs = torch.zeros((capacity, obs_dim), dtype=dtype, **kw)
        self.next_obs = torch.zeros((capacity, obs_dim), dtype=dtype, **kw)
        self.actions = torch.zeros(capacity, dtype=torch.long, **kw)
        self.rewards = torch.zeros(capacity, dtype=dtype, **kw)
        self.terminated = torch.zeros(capacity, dtype=dtype, **kw)

    def __len__(self) -> int:
        return self.size

    def add_batch(self, obs, actions, rewards, next_obs, terminated) -> None:
        """Append N transitions (arrays with a leading dimension N)."""
        obs = torch.as_tensor(np.asarray(obs), dtype=self.obs.dtype, device=self.device)
        if obs.ndim != 2 or obs.shape[1] != self.obs.shape[1]:
            raise ValueError(f"obs: expected shape (N, {self.obs.shape[1]}), got {tuple(obs.shape)}")
        n = obs.shape[0]
        idx = (self.pos + torch.arange(n, device=self.device)) % self.capacity
        self.obs[idx] = obs
        self.next_obs[idx] = torch.as_tensor(np.asarray(next_obs), dtype=self.obs.dtype, device=self.device)
        self.actions[idx] = torch.as_tensor(np.asarray(actions), dtype=torch.long, device=self.device)
        self.rewards[idx] = torch.as_tensor(np.asarray(rewards), dtype=self.obs.dtype, device=self.device)
        self.terminated[idx] = torch.as_tensor(np.asarray(terminated), dtype=self.obs.dtype, device=self.device)
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict:
        if self.size == 0:
            raise ValueError("sample: the buffer is empty")
        idx = torch.as_tensor(rng.integers(0, self.size, batch_size), device=self.device)
        return dict(obs=self.obs[idx], actions=self.actions[idx], rewards=self.rewards[idx],
                    next_obs=self.next_obs[idx], terminated=self.terminated[idx])


def dqn_targets(q_target: nn.Module, batch: dict, gamma: float, double: bool = False,
                q_online: nn.Module | None = None) -> torch.Tensor:
    """``y (B,)`` (module docstring), computed without gradient."""
    if not 0 <= gamma <= 1:
        raise ValueError(f"gamma: expected a number in [0, 1], got {gamma!r}")
    if double and q_online is None:
        raise ValueError("q_online: double DQN needs the online network")
    with torch.no_grad():
        q_next = q_target(batch["next_obs"])
        if double:
            best = q_online(batch["next_obs"]).argmax(1, keepdim=True)
            v_next = q_next.gather(1, best).squeeze(1)
        else:
            v_next = q_next.max(1).values
        return batch["rewards"] + gamma * (1.0 - batch["terminated"]) * v_next


def dqn_loss(q_online: nn.Module, q_target: nn.Module, batch: dict, gamma: float, loss: str = "huber",
             double: bool = False) -> tuple[torch.Tensor, dict]:
    """The DQN regression loss on a minibatch; returns ``(loss, info)`` with the mean |TD error| and mean Q."""
    if loss not in ("huber", "mse"):
        raise ValueError(f"loss: expected 'huber' or 'mse', got {loss!r}")
    y = dqn_targets(q_target, batch, gamma, double, q_online)
    q = q_online(batch["obs"]).gather(1, batch["actions"][:, None]).squeeze(1)
    value = F.smooth_l1_loss(q, y) if loss == "huber" else F.mse_loss(q, y)
    return value, dict(td_error=float((y - q).detach().abs().mean()), q=float(q.detach().mean()))


@torch.no_grad()
def polyak_update(target: nn.Module, online: nn.Module, tau: float) -> None:
    """In place ``theta^- <- (1 - tau) theta^- + tau theta`` for every parameter."""
    if not 0 <= tau <= 1:
        raise ValueError(f"tau: expected a number in [0, 1], got {tau!r}")
    for p_t, p in zip(target.parameters(), online.parameters()):
        p_t.lerp_(p, tau)


def hard_update(target: nn.Module, online: nn.Module) -> None:
    """Copy the online parameters into the target network (Polyak with tau = 1)."""
    target.load_state_dict(online.state_dict())


def linear_schedule(t: int, start: float, end: float, duration: int) -> float:
    """Linear interpolation from ``start`` at t = 0 to ``end`` at t = duration, constant afterwards."""
    if duration <= 0:
        raise ValueError(f"duration: expected a positive number of steps, got {duration!r}")
    return start + (end - start) * min(max(t, 0) / duration, 1.0)


# --------------------------------------------------------------------------- online DQN on a vector env
def evaluate_greedy(q_net: nn.Module, env, device="cpu") -> np.ndarray:
    """Run the greedy policy in every copy of a vectorised env until each finishes one episode; returns the
    N episode returns (``env`` is reset first; e.g. ``CartPoleVec(20, seed=123)``)."""
    obs, _ = env.reset()
    done = np.zeros(env.num_envs, dtype=bool)
    ret = np.zeros(env.num_envs)
    while not done.all():
        with torch.no_grad():
            a = q_net(torch.as_tensor(obs, device=device)).argmax(1).cpu().numpy()
        obs, r, term, trunc, _ = env.step(a)
        ret += r * ~done
        done |= term | trunc
    return ret


def train_dqn(env, total_steps: int, gamma: float = 0.99, lr: float = 1e-3, batch_size: int = 64,
              buffer_size: int = 50_000, learning_starts: int = 1000, train_every: int = 1,
              tau: float | None = 0.01, target_every: int | None = None, eps: tuple = (1.0, 0.05, 8000),
              hidden: tuple = (64, 64), double: bool = False, device="cpu", seed: int = 0) -> tuple[nn.Module, dict]:
    """Online DQN on a vectorised env with gymnasium's step API and same-step autoreset
    (``info["final_obs"]``). ``total_steps`` counts environment transitions (all copies together);
    one gradient step every ``train_every`` vector steps. The target follows by Polyak (``tau``) or, with
    ``tau=None``, by a hard copy every ``target_every`` gradient steps. ``eps = (start, end, duration)`` is
    the linear epsilon schedule in transitions. Returns ``(q_net, history)`` with the returns and end steps
    of finished episodes and the loss per gradient step."""
    if (tau is None) == (target_every is None):
        raise ValueError("tau, target_every: give exactly one (Polyak tau, or a hard copy every target_every)")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    q = QNetwork(env.obs_dim, env.n_actions, hidden).to(device)
    q_tgt = copy.deepcopy(q)
    opt = torch.optim.Adam(q.parameters(), lr=lr)
    buf = ReplayBuffer(buffer_size, env.obs_dim, device)
    hist = dict(returns=[], end_steps=[], losses=[])
    obs, _ = env.reset(seed=seed)
    n, steps, updates = env.num_envs, 0, 0
    while steps < total_steps:
        epsilon = linear_schedule(steps, *eps)
        with torch.no_grad():
            greedy = q(torch.as_tensor(obs, device=device)).argmax(1).cpu().numpy()
        explore = rng.random(n) < epsilon
        actions = np.where(explore, rng.integers(0, env.n_actions, n), greedy)
        nxt, r, term, trunc, info = env.step(actions)
        buf.add_batch(obs, actions, r, info["final_obs"], term)
        hist["returns"] += list(info["episode_returns"])
        hist["end_steps"] += [steps + n] * len(info["episode_returns"])
        obs, steps = nxt, steps + n
        if len(buf) >= learning_starts and (steps // n) % train_every == 0:
            loss, _ = dqn_loss(q, q_tgt, buf.sample(batch_size, rng), gamma, double=double)
            opt.zero_grad()
            loss.backward()
            opt.step()
            updates += 1
            hist["losses"].append(float(loss.detach()))
            if tau is not None:
                polyak_update(q_tgt, q, tau)
            elif updates % target_every == 0:
                hard_update(q_tgt, q)
    return q, {k: np.asarray(v) for k, v in hist.items()}


# --------------------------------------------------------------------------- batch Q-learning (tabular data)
def fitted_q(dataset: dict, n_states: int, n_actions: int, gamma: float, steps: int, batch_size: int = 256,
             lr: float = 0.5, tau: float = 0.1, cql_alpha: float = 0.0, hidden: tuple = (), device="cpu",
             seed: int = 0) -> tuple[np.ndarray, dict]:
    """Q-learning from a fixed dataset (dict of 1-D arrays ``states, actions, rewards, next_states,
    terminated``) with one-hot states, a Polyak target and the DQN loss (MSE here); with ``cql_alpha > 0`` the
    CQL penalty ``alpha mean_B[logsumexp_a Q(s, a) - Q(s, a_data)]`` pushes down actions the data never took.
    ``hidden=()`` makes the network a linear (tabular) Q. Adam's step size decays linearly to 0. Returns ``(Q (S, A) numpy, history)``."""
    for k in ("states", "actions", "rewards", "next_states", "terminated"):
        if k not in dataset:
            raise ValueError(f"dataset: missing {k!r}")
    if cql_alpha < 0:
        raise ValueError(f"cql_alpha: expected a non-negative number, got {cql_alpha!r}")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    eye = torch.eye(n_states, device=device)
    data = dict(obs=eye[torch.as_tensor(dataset["states"], device=device)],
                next_obs=eye[torch.as_tensor(dataset["next_states"], device=device)],
                actions=torch.as_tensor(dataset["actions"], dtype=torch.long, device=device),
                rewards=torch.as_tensor(dataset["rewards"], dtype=torch.float32, device=device),
                terminated=torch.as_tensor(dataset["terminated"], dtype=torch.float32, device=device))
    q = QNetwork(n_states, n_actions, hidden).to(device)
    q_tgt = copy.deepcopy(q)
    opt = torch.optim.Adam(q.parameters(), lr=lr)
    decay = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1.0 - i / steps)   # lr -> 0 linearly
    N, losses = len(dataset["states"]), []
    for _ in range(steps):
        idx = torch.as_tensor(rng.integers(0, N, batch_size), device=device)
        batch = {k: v[idx] for k, v in data.items()}
        loss, _ = dqn_loss(q, q_tgt, batch, gamma, loss="mse")
        if cql_alpha > 0:
            qs = q(batch["obs"])
            loss = loss + cql_alpha * (torch.logsumexp(qs, 1) - qs.gather(1, batch["actions"][:, None]).squeeze(1)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        decay.step()
        polyak_update(q_tgt, q, tau)
        losses.append(float(loss.detach()))
    with torch.no_grad():
        Q = q(eye).cpu().double().numpy()
    return Q, dict(losses=np.asarray(losses))
