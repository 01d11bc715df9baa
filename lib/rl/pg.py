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
"""
from __future__ import annotations

import math

import numpy as np
import torch


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
