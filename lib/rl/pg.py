"""Policy-gradient primitives: REINFORCE, the PPO clipped surrogate and three kinds of trust-region step.

REINFORCE (score-function estimator). For one episode with log-probabilities ``logp_t = log pi(a_t|s_t)``
and rewards ``r_t`` (t = 0..T-1), the return-to-go is ``G_t = sum_{k>=t} gamma^(k-t) r_k`` and::

    loss = - sum_t  w_t (G_t - b_t) logp_t,      w_t = gamma^t  (or 1 with discount_weights=False)

Its gradient is minus the REINFORCE estimate of grad J; ``b_t`` (the baseline) must not depend on the
action, so it changes the variance but not the expectation. ``discount_weights=False`` drops ``gamma^t``,
the common (biased) practice.

PPO clipped surrogate with the ratio ``r = exp(logp_new - logp_old)`` and advantages ``A``::

    loss = - mean( min(r A, clip(r, 1 - eps, 1 + eps) A) )

Trust regions for a softmax policy ``pi = softmax(theta)`` with reward vector ``R`` (the Chapter 5
bandit): the gradient is ``g = pi * (R - pi.R)`` and the Fisher matrix ``F = diag(pi) - pi pi^T``.

* Euclidean ball ``||d||^2 <= eps``: ``d = sqrt(eps) g / ||g||`` (:func:`euclidean_trust_step`);
* KL ball ``0.5 d^T F d <= delta`` (second order KL): ``d = sqrt(2 delta / g^T F^+ g) F^+ g``
  (:func:`natural_gradient_step`); for the softmax bandit ``F^+ g = R - mean(R)`` exactly.

Actor-critic training on a vector environment (Chapter 8). :class:`ActorCritic` holds a policy network
(logits of ``pi(a|s)``) and a value network ``V(s)``. :func:`a2c_loss` is the one-step actor-critic loss
(minimised)::

    loss = - mean(log pi(a_t|s_t) A_t) + c_1 * 0.5 mean((V(s_t) - G^lam_t)^2) - c_2 mean(H[pi(.|s_t)])

with the advantages ``A`` and the targets ``G^lam`` held constant (semi-gradient critic). The loops
:func:`train_reinforce` (whole episodes, Monte Carlo returns minus a learned baseline),
:func:`train_a2c` (fixed-length rollouts, GAE, one step per rollout) and :func:`train_ppo` (the same
rollouts, several epochs of minibatch steps on the clipped surrogate) return ``(model, History)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import envs, returns


def _tensor(name: str, value) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {value.dtype}")
    return value


# --------------------------------------------------------------------------- REINFORCE
def returns_to_go(rewards: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """``G_t = sum_{k>=t} gamma^(k-t) r_k`` along the last axis; ``rewards`` (..., T) -> (..., T)."""
    rewards = _tensor("rewards", rewards)
    out = torch.empty_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in range(rewards.shape[-1] - 1, -1, -1):
        running = rewards[..., t] + gamma * running
        out[..., t] = running
    return out


def reinforce_loss(logp: torch.Tensor, rewards: torch.Tensor, gamma: float = 1.0, baseline=None,
                   discount_weights: bool = True) -> torch.Tensor:
    """REINFORCE surrogate loss (module docstring) for one episode (T,) or a batch of episodes (N, T).

    ``baseline`` is None, a number, or a tensor broadcastable to the returns (it is detached). A batch is
    averaged over episodes (sum over time, mean over episodes). Returns a scalar tensor.
    """
    logp, rewards = _tensor("logp", logp), _tensor("rewards", rewards)
    if logp.ndim not in (1, 2) or logp.shape != rewards.shape:
        raise ValueError(f"logp, rewards: expected equal shapes (T,) or (N, T), got {tuple(logp.shape)} "
                         f"and {tuple(rewards.shape)}")
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma: expected a number in [0, 1], got {gamma!r}")
    G = returns_to_go(rewards.detach(), float(gamma))
    if baseline is not None:
        if isinstance(baseline, torch.Tensor):
            b = baseline.detach().to(G.dtype)
        elif isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
            b = torch.tensor(float(baseline), dtype=G.dtype, device=G.device)
        else:
            raise TypeError(f"baseline: expected None, a number or a tensor, got {type(baseline).__name__}")
        G = G - b
    T = logp.shape[-1]
    w = gamma ** torch.arange(T, dtype=G.dtype, device=G.device) if discount_weights else torch.ones_like(G[..., :])
    per_episode = -(w * G * logp).sum(-1)
    return per_episode.mean() if per_episode.ndim else per_episode


# --------------------------------------------------------------------------- PPO
def ppo_clip_loss(logp_new: torch.Tensor, logp_old: torch.Tensor, advantages: torch.Tensor,
                  clip_eps: float = 0.2):
    """PPO's clipped surrogate as a loss to *minimise*: ``-mean(min(r A, clip(r, 1-eps, 1+eps) A))``.

    All three tensors have one shape (N,) (or any common shape); ``logp_old`` and ``advantages`` are
    detached. Returns ``(loss, info)`` with ``info = dict(clip_fraction = mean(|r - 1| > eps),
    approx_kl = mean((r - 1) - log r), ratio = r.detach())``.
    """
    logp_new, logp_old, advantages = (_tensor("logp_new", logp_new), _tensor("logp_old", logp_old),
                                      _tensor("advantages", advantages))
    if not (logp_new.shape == logp_old.shape == advantages.shape):
        raise ValueError(f"logp_new, logp_old, advantages: expected one shape, got {tuple(logp_new.shape)}, "
                         f"{tuple(logp_old.shape)}, {tuple(advantages.shape)}")
    if isinstance(clip_eps, bool) or not isinstance(clip_eps, (int, float)) or not clip_eps > 0:
        raise ValueError(f"clip_eps: expected a positive number, got {clip_eps!r}")
    log_ratio = logp_new - logp_old.detach()
    ratio = torch.exp(log_ratio)
    adv = advantages.detach()
    surrogate = torch.minimum(ratio * adv, torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * adv)
    loss = -surrogate.mean()
    with torch.no_grad():
        info = dict(clip_fraction=float(((ratio - 1.0).abs() > clip_eps).to(ratio.dtype).mean()),
                    approx_kl=float(((ratio - 1.0) - log_ratio).mean()), ratio=ratio.detach())
    return loss, info


# --------------------------------------------------------------------------- trust regions
def _probs(name: str, p) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1 or p.size < 2 or np.any(p < 0) or not np.isclose(p.sum(), 1.0, atol=1e-8):
        raise ValueError(f"{name}: expected a probability vector (non-negative, summing to 1), got {p!r}")
    return p


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def softmax_fisher(p) -> np.ndarray:
    """Fisher information of a categorical distribution in its logits: ``F = diag(p) - p p^T`` (K, K)."""
    p = _probs("p", p)
    return np.diag(p) - np.outer(p, p)


def kl_categorical(p, q) -> float:
    """``KL(p || q) = sum_i p_i log(p_i / q_i)`` (terms with ``p_i = 0`` count 0)."""
    p, q = _probs("p", p), _probs("q", q)
    if p.shape != q.shape:
        raise ValueError(f"p, q: expected equal lengths, got {p.size} and {q.size}")
    m = p > 0
    if np.any(q[m] == 0):
        return math.inf
    return float(np.sum(p[m] * np.log(p[m] / q[m])))


def euclidean_trust_step(grad, eps: float) -> np.ndarray:
    """Maximiser of the linear model ``g^T d`` subject to ``||d||^2 <= eps``: ``d = sqrt(eps) g / ||g||``."""
    g = np.asarray(grad, dtype=np.float64)
    if g.ndim != 1 or not np.all(np.isfinite(g)):
        raise ValueError(f"grad: expected a finite 1-D array, got shape {g.shape}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
        raise ValueError(f"eps: expected a positive number, got {eps!r}")
    norm = np.linalg.norm(g)
    return np.zeros_like(g) if norm == 0 else math.sqrt(eps) * g / norm


def natural_gradient_step(logits, grad, delta: float) -> np.ndarray:
    """Maximiser of ``g^T d`` subject to the quadratic KL model ``0.5 d^T F d <= delta`` for the softmax
    policy ``softmax(logits)``: ``d = sqrt(2 delta / (g^T F^+ g)) F^+ g`` with the pseudo-inverse ``F^+``
    (``F`` is singular: adding a constant to every logit changes nothing)."""
    z = np.asarray(logits, dtype=np.float64)
    g = np.asarray(grad, dtype=np.float64)
    if z.ndim != 1 or z.size < 2 or not np.all(np.isfinite(z)):
        raise ValueError(f"logits: expected a finite 1-D array of length >= 2, got shape {z.shape}")
    if g.shape != z.shape or not np.all(np.isfinite(g)):
        raise ValueError(f"grad: expected a finite array of shape {z.shape}, got {g.shape}")
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not delta > 0:
        raise ValueError(f"delta: expected a positive number, got {delta!r}")
    F = softmax_fisher(_softmax(z))
    nat = np.linalg.pinv(F, rcond=1e-12, hermitian=True) @ g
    quad = float(g @ nat)
    return np.zeros_like(g) if quad <= 0 else math.sqrt(2.0 * delta / quad) * nat


# --------------------------------------------------------------------------- actor-critic
class ActorCritic(nn.Module):
    """Separate policy and value MLPs ``obs_dim -> hidden -> hidden -> {n_actions, 1}`` with tanh units.

    Orthogonal initialisation with gain sqrt(2) for hidden layers, 0.01 for the policy output (a nearly
    uniform first policy) and 1 for the value output (the usual PPO choice). ``forward(obs)`` gives
    ``(logits (B, n_actions), value (B,))``.
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden: int = 64, device=None):
        super().__init__()
        for name, v in (("obs_dim", obs_dim), ("n_actions", n_actions), ("hidden", hidden)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")

        def mlp(out: int, gain: float) -> nn.Sequential:
            layers = [nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                      nn.Linear(hidden, out)]
            for layer, g in zip(layers[::2], (math.sqrt(2), math.sqrt(2), gain)):
                nn.init.orthogonal_(layer.weight, g)
                nn.init.zeros_(layer.bias)
            return nn.Sequential(*layers)

        self.actor, self.critic = mlp(n_actions, 0.01), mlp(1, 1.0)
        self.to(device or "cpu")

    def forward(self, obs: torch.Tensor):
        return self.actor(obs), self.critic(obs).squeeze(-1)

    def dist(self, obs: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.actor(obs))

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)


def a2c_loss(dist, actions: torch.Tensor, advantages: torch.Tensor, values: torch.Tensor,
             returns: torch.Tensor, vf_coef: float = 0.5, ent_coef: float = 0.0):
    """Actor-critic loss (module docstring) for a batch (B,): ``dist`` a ``Categorical`` over the actions,
    ``values`` the critic's ``V(s)`` (with gradient), ``advantages`` and ``returns`` constants.
    Returns ``(loss, info)`` with ``info = dict(policy_loss, value_loss, entropy)`` (floats)."""
    if not isinstance(dist, torch.distributions.Categorical):
        raise TypeError(f"dist: expected a torch.distributions.Categorical, got {type(dist).__name__}")
    advantages, values, returns = (_tensor("advantages", advantages), _tensor("values", values),
                                   _tensor("returns", returns))
    if not (actions.shape == advantages.shape == values.shape == returns.shape == dist.batch_shape):
        raise ValueError(f"actions, advantages, values, returns: expected the batch shape "
                         f"{tuple(dist.batch_shape)}, got {tuple(actions.shape)}, {tuple(advantages.shape)}, "
                         f"{tuple(values.shape)}, {tuple(returns.shape)}")
    policy_loss = -(dist.log_prob(actions) * advantages.detach()).mean()
    value_loss = 0.5 * ((values - returns.detach()) ** 2).mean()
    entropy = dist.entropy().mean()
    loss = policy_loss + vf_coef * value_loss - ent_coef * entropy
    return loss, dict(policy_loss=policy_loss.item(), value_loss=value_loss.item(), entropy=entropy.item())


def clipped_value_loss(v_new: torch.Tensor, v_old: torch.Tensor, returns: torch.Tensor, clip_eps: float):
    """PPO's optional clipped critic loss ``0.5 mean(max((V - G)^2, (V_old + clip(V - V_old, -eps, eps) - G)^2))``.

    ``clip_eps`` is in the units of the returns (not the policy's ratio epsilon)."""
    v_new, v_old, returns = _tensor("v_new", v_new), _tensor("v_old", v_old), _tensor("returns", returns)
    if not (v_new.shape == v_old.shape == returns.shape):
        raise ValueError(f"v_new, v_old, returns: expected one shape, got {tuple(v_new.shape)}, "
                         f"{tuple(v_old.shape)}, {tuple(returns.shape)}")
    if isinstance(clip_eps, bool) or not isinstance(clip_eps, (int, float)) or not clip_eps > 0:
        raise ValueError(f"clip_eps: expected a positive number, got {clip_eps!r}")
    v_old, returns = v_old.detach(), returns.detach()
    clipped = v_old + torch.clamp(v_new - v_old, -clip_eps, clip_eps)
    return 0.5 * torch.maximum((v_new - returns) ** 2, (clipped - returns) ** 2).mean()


class RolloutBuffer:
    """``n_steps`` transitions of ``n_envs`` environments, time first: ``obs`` (T, N, obs_dim); ``actions``
    (T, N) long; ``logp``, ``rewards``, ``terminated``, ``truncated``, ``values`` and ``final_values``
    (``V(info["final_obs"])`` where truncated, else 0) are (T, N) float32 on ``device``."""

    fields = ("logp", "rewards", "terminated", "truncated", "values", "final_values")

    def __init__(self, n_steps: int, n_envs: int, obs_dim: int, device=None):
        for name, v in (("n_steps", n_steps), ("n_envs", n_envs), ("obs_dim", obs_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")
        dev = torch.device(device or "cpu")
        self.obs = torch.zeros(n_steps, n_envs, obs_dim, device=dev)
        self.actions = torch.zeros(n_steps, n_envs, dtype=torch.long, device=dev)
        for name in self.fields:
            setattr(self, name, torch.zeros(n_steps, n_envs, device=dev))

    def advantages(self, last_value: torch.Tensor, gamma: float, lam: float):
        """GAE advantages and lambda-return targets (T, N) (:func:`lib.rl.returns.gae`, run in numpy:
        a loop over T small steps is much cheaper there than in torch)."""
        np_ = lambda x: x.detach().cpu().numpy().astype(np.float64)  # noqa: E731
        adv, ret = returns.gae(np_(self.rewards), np_(self.values), np_(self.terminated), np_(last_value),
                               gamma, lam, truncated=np_(self.truncated), final_values=np_(self.final_values))
        return _obs(adv, self.obs.device), _obs(ret, self.obs.device)


@dataclass
class History:
    """What a training loop recorded: for every finished episode the environment step at which it
    ended and its return; for every update a dict of diagnostics (losses, clip fraction, KL...);
    for PPO, ``last_batch`` holds the ratios ``pi_new / pi_old`` of the last batch after its epochs and
    the batch's (unnormalised) advantages."""
    episode_steps: list = field(default_factory=list)
    episode_returns: list = field(default_factory=list)
    updates: list = field(default_factory=list)
    last_batch: dict = field(default_factory=dict)

    def final_return(self, k: int = 20) -> float:
        """Mean return of the last ``k`` finished episodes."""
        return float(np.mean(self.episode_returns[-k:])) if self.episode_returns else float("nan")

    def curve(self, grid, k: int = 20) -> np.ndarray:
        """At each step count in ``grid``, the mean return of the last ``k`` episodes finished by then
        (NaN before the first one)."""
        steps, rets = np.asarray(self.episode_steps), np.asarray(self.episode_returns, dtype=float)
        out = np.full(len(grid), np.nan)
        for i, g in enumerate(grid):
            n = int(np.searchsorted(steps, g, side="right"))
            if n:
                out[i] = rets[max(0, n - k):n].mean()
        return out


def _obs(x, device) -> torch.Tensor:
    return torch.as_tensor(x, dtype=torch.float32, device=device)


def _setup(env_fn, n_envs, seed, device, hidden, lr):
    torch.manual_seed(seed)
    env = env_fn(n_envs, seed=seed)
    model = ActorCritic(env.obs_dim, env.n_actions, hidden, device)
    return env, model, torch.optim.Adam(model.parameters(), lr=lr, eps=1e-5)


@torch.no_grad()
def collect_rollout(model: ActorCritic, env, obs: np.ndarray, buf: RolloutBuffer, history: History,
                    step0: int) -> np.ndarray:
    """Fill ``buf`` by running ``model``'s policy in ``env`` (a :class:`lib.rl.envs.CartPoleVec`-like vector
    env: same-step autoreset, ``info["final_obs"]`` and ``info["episode_returns"]``) from observations
    ``obs``; finished episodes are logged in ``history`` (``step0`` = environment steps taken before).
    Returns the next observations."""
    device = buf.obs.device
    n_steps, n_envs = buf.actions.shape
    O, A, LP, V, Rw, TE, TR = [], [], [], [], [], [], []
    final_values = np.zeros((n_steps, n_envs), dtype=np.float32)
    for t in range(n_steps):
        o = _obs(obs, device)
        logits, v = model(o)
        logp_all = torch.log_softmax(logits, -1)
        a = torch.multinomial(logp_all.exp(), 1)
        obs, r, term, trunc, info = env.step(a[:, 0].cpu().numpy())
        O.append(o), A.append(a[:, 0]), LP.append(logp_all.gather(1, a)[:, 0]), V.append(v)
        Rw.append(r), TE.append(term), TR.append(trunc)
        if trunc.any():      # bootstrap value of the true last observation of a time-limited episode
            final_values[t, trunc] = model.value(_obs(info["final_obs"][trunc], device)).cpu().numpy()
        n_done = len(info["episode_returns"])
        history.episode_steps += [step0 + (t + 1) * n_envs] * n_done
        history.episode_returns += info["episode_returns"].tolist()
    for name, seq in (("obs", O), ("actions", A), ("logp", LP), ("values", V)):
        getattr(buf, name).copy_(torch.stack(seq))
    for name, arr in (("rewards", Rw), ("terminated", TE), ("truncated", TR), ("final_values", final_values)):
        getattr(buf, name).copy_(_obs(np.asarray(arr, dtype=np.float32), device))
    return obs


def _count(name, v, low=1):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {v!r}")
    return int(v)


def train_ppo(env_fn=envs.CartPoleVec, total_steps: int = 50_000, n_envs: int = 8, n_steps: int = 128,
              epochs: int = 4, minibatch: int = 256, clip_eps: float = 0.2, lr: float = 2.5e-3,
              gamma: float = 0.99, lam: float = 0.95, vf_coef: float = 0.5, ent_coef: float = 0.0,
              max_grad_norm: float = 0.5, normalize_adv: bool = True, clip_value: float | None = None,
              anneal_lr: bool = False, hidden: int = 64, seed: int = 0, device=None):
    """PPO with the clipped surrogate (Schulman et al. 2017) on a vector environment
    ``env_fn(n_envs, seed=seed)`` (gymnasium-like, same-step autoreset, ``info["final_obs"]``).

    Each iteration: a rollout of ``n_steps x n_envs`` transitions, GAE(gamma, lam) advantages, then
    ``epochs`` passes over random minibatches of the loss ``ppo_clip_loss + vf_coef * value loss -
    ent_coef * entropy`` (the value loss clipped by ``clip_value`` in return units if given), with
    gradient-norm clipping and, with ``anneal_lr``, a learning rate decayed linearly to 0.
    Returns ``(model, History)``; each update's dict has the clip fraction and approximate KL.
    """
    total_steps, n_envs, n_steps = (_count(k, v) for k, v in (("total_steps", total_steps), ("n_envs", n_envs),
                                                              ("n_steps", n_steps)))
    epochs, minibatch = _count("epochs", epochs), _count("minibatch", minibatch)
    env, model, opt = _setup(env_fn, n_envs, seed, device, hidden, lr)
    dev = next(model.parameters()).device
    buf, hist = RolloutBuffer(n_steps, n_envs, env.obs_dim, dev), History()
    obs, _ = env.reset()
    batch, iters = n_steps * n_envs, max(1, total_steps // (n_steps * n_envs))
    for it in range(iters):
        if anneal_lr:
            opt.param_groups[0]["lr"] = lr * (1 - it / iters)
        obs = collect_rollout(model, env, obs, buf, hist, it * batch)
        with torch.no_grad():
            adv, ret = buf.advantages(model.value(_obs(obs, dev)), gamma, lam)
        b_obs, b_act = buf.obs.reshape(batch, -1), buf.actions.reshape(batch)
        b_logp, b_adv, b_ret, b_val = (x.reshape(batch) for x in (buf.logp, adv, ret, buf.values))
        for _ in range(epochs):
            for idx in torch.randperm(batch, device=dev).split(minibatch):
                logits, v = model(b_obs[idx])
                logp_all = torch.log_softmax(logits, -1)
                a = b_adv[idx]
                if normalize_adv:
                    a = (a - a.mean()) / (a.std() + 1e-8)
                pl, info = ppo_clip_loss(logp_all.gather(1, b_act[idx, None])[:, 0], b_logp[idx], a, clip_eps)
                vl = (clipped_value_loss(v, b_val[idx], b_ret[idx], clip_value) if clip_value
                      else 0.5 * ((v - b_ret[idx]) ** 2).mean())
                entropy = -(logp_all.exp() * logp_all).sum(-1).mean()
                loss = pl + vf_coef * vl - ent_coef * entropy
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                opt.step()
        hist.updates.append(dict(step=(it + 1) * batch, policy_loss=pl.item(), value_loss=vl.item(),
                                 clip_fraction=info["clip_fraction"], approx_kl=info["approx_kl"]))
    with torch.no_grad():  # how far the epochs moved the last batch's ratios
        ratio = torch.exp(model.dist(b_obs).log_prob(b_act) - b_logp)
    hist.last_batch = dict(ratio=ratio.cpu().numpy(), advantages=b_adv.cpu().numpy())
    return model, hist


def train_a2c(env_fn=envs.CartPoleVec, total_steps: int = 80_000, n_envs: int = 8, n_steps: int = 16,
              lr: float = 1e-3, gamma: float = 0.99, lam: float = 0.95, vf_coef: float = 0.5,
              ent_coef: float = 0.0, max_grad_norm: float = 0.5, normalize_adv: bool = True,
              hidden: int = 64, seed: int = 0, device=None):
    """Synchronous advantage actor-critic: rollouts of ``n_steps x n_envs`` transitions, GAE(gamma, lam)
    advantages, one gradient step of :func:`a2c_loss` per rollout. Returns ``(model, History)``."""
    total_steps, n_envs, n_steps = (_count(k, v) for k, v in (("total_steps", total_steps), ("n_envs", n_envs),
                                                              ("n_steps", n_steps)))
    env, model, opt = _setup(env_fn, n_envs, seed, device, hidden, lr)
    dev = next(model.parameters()).device
    buf, hist = RolloutBuffer(n_steps, n_envs, env.obs_dim, dev), History()
    obs, _ = env.reset()
    batch = n_steps * n_envs
    for it in range(max(1, total_steps // batch)):
        obs = collect_rollout(model, env, obs, buf, hist, it * batch)
        with torch.no_grad():
            adv, ret = buf.advantages(model.value(_obs(obs, dev)), gamma, lam)
        adv, ret = adv.reshape(batch), ret.reshape(batch)
        if normalize_adv:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        logits, v = model(buf.obs.reshape(batch, -1))
        loss, info = a2c_loss(torch.distributions.Categorical(logits=logits), buf.actions.reshape(batch),
                              adv, v, ret, vf_coef, ent_coef)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        opt.step()
        hist.updates.append(dict(step=(it + 1) * batch, **info))
    return model, hist


def train_reinforce(env_fn=envs.CartPoleVec, total_steps: int = 80_000, n_envs: int = 8, lr: float = 1e-3,
                    gamma: float = 0.99, baseline: bool = True, discount_weights: bool = False,
                    vf_coef: float = 1.0, hidden: int = 64, seed: int = 0, device=None):
    """REINFORCE on batches of ``n_envs`` whole episodes: every environment is reset, run until its
    episode ends, and the batch's loss is :func:`reinforce_loss` (Monte Carlo returns-to-go, minus the
    critic's ``V(s_t)`` if ``baseline``), divided by the longest episode's length so that the step size
    does not grow with the episodes, plus ``vf_coef`` times the critic's squared error on those returns.
    An episode cut by the time limit is treated as finished (the objective is the return of an episode
    of at most ``max_steps``). Only the steps of the batch's episodes count in ``total_steps``.
    ``discount_weights=False`` (the default, the common practice) drops the ``gamma^t`` factor, which
    biases the estimate of the discounted objective's gradient (Chapter 8, notebook 01, measures it).
    Returns ``(model, History)``."""
    total_steps, n_envs = _count("total_steps", total_steps), _count("n_envs", n_envs)
    env, model, opt = _setup(env_fn, n_envs, seed, device, hidden, lr)
    dev = next(model.parameters()).device
    hist, used = History(), 0
    while used < total_steps:
        obs, _ = env.reset()
        O, A, Rw, alive = [], [], [], []
        live = np.ones(n_envs, dtype=bool)
        with torch.no_grad():
            while live.any():
                o = _obs(obs, dev)
                a = torch.multinomial(torch.softmax(model.actor(o), -1), 1)[:, 0]
                obs, r, term, trunc, _ = env.step(a.cpu().numpy())
                O.append(o), A.append(a), Rw.append(_obs(r * live, dev)), alive.append(_obs(live, dev))
                live &= ~(term | trunc)
        # (N, T, ...): steps after an episode's end are padding, masked by M (their rewards are 0)
        O, A, Rw, M = torch.stack(O, 1), torch.stack(A, 1), torch.stack(Rw, 1), torch.stack(alive, 1)
        used += int(M.sum())
        hist.episode_steps += [used] * n_envs
        hist.episode_returns += Rw.sum(1).tolist()
        logp = model.dist(O).log_prob(A) * M
        V = model.value(O)
        G = returns_to_go(Rw, gamma)
        loss = reinforce_loss(logp, Rw, gamma, baseline=V * M if baseline else None,
                              discount_weights=discount_weights) / M.shape[1]
        value_loss = 0.5 * (((V - G) ** 2) * M).sum() / M.sum()
        opt.zero_grad()
        (loss + vf_coef * value_loss).backward()
        opt.step()
        hist.updates.append(dict(step=used, value_loss=value_loss.item()))
    return model, hist
