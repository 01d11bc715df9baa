"""The forward (noising) side: closed-form marginals, the reverse-time posteriors given x_0, Markov chains.

    q_sample       x_t = a_t x_0 + b_t eps                              (any process of lib.diffusion.schedules)
    q_posterior    q(x_{t-1} | x_t, x_0) = N(mean, var I):
                   DDPM (6.17):  mean = sqrt(ab_{t-1}) beta_t / (1 - ab_t) x_0
                                        + sqrt(alpha_t)(1 - ab_{t-1}) / (1 - ab_t) x_t,
                                 var = beta-tilde_t = (1 - ab_{t-1}) / (1 - ab_t) beta_t
                   book VE chain (Lemma 8, Brownian bridge): mean = x_0 / t + (1 - 1/t) x_t, var = sigma2 (t - 1) / t
    forward_chain  the step-by-step Markov simulation x_0 -> x_1 -> ... -> x_T of a discrete chain
"""
from __future__ import annotations

import torch

from .convert import _col
from .schedules import BookVEChain, VPSchedule, _index


def _x(x, name="x0") -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch tensor, got {type(x).__name__}")
    if x.ndim != 2 or not x.is_floating_point():
        raise ValueError(f"{name}: expected a float tensor of shape (n, d), got {tuple(x.shape)}, {x.dtype}")
    return x


def q_sample(x0, t, process, noise=None, generator=None):
    """Draw x_t ~ q(x_t | x_0) in closed form. Returns (x_t, noise), both shaped like x0 (n, d)."""
    x0 = _x(x0)
    if not hasattr(process, "coeffs"):
        raise TypeError(f"process: expected a schedule with coeffs(t), got {type(process).__name__}")
    if noise is None:
        noise = torch.randn(x0.shape, dtype=x0.dtype, device=x0.device, generator=generator)
    elif noise.shape != x0.shape:
        raise ValueError(f"noise: expected shape {tuple(x0.shape)}, got {tuple(noise.shape)}")
    a, b = process.coeffs(t.cpu() if isinstance(t, torch.Tensor) else t)
    return _col(a, x0) * x0 + _col(b, x0) * noise, noise


def q_posterior(x0, x_t, t, schedule):
    """Mean (n, d) and variance (number or (n, 1)) of q(x_{t-1} | x_t, x_0) for t >= 1."""
    x0, x_t = _x(x0), _x(x_t, "x_t")
    if isinstance(schedule, VPSchedule):
        t = _index(t, schedule.T)
        ab, ab_prev = schedule.alpha_bars[t], schedule.alpha_bars[t - 1]
        beta, alpha = schedule.betas[t], schedule.alphas[t]
        c0 = _col(torch.sqrt(ab_prev) * beta / (1 - ab), x0)
        ct = _col(torch.sqrt(alpha) * (1 - ab_prev) / (1 - ab), x0)
        return c0 * x0 + ct * x_t, _col(schedule.posterior_var[t], x0)
    if isinstance(schedule, BookVEChain):
        t = _index(t, schedule.T)
        tt = _col(t.to(x0.dtype) if isinstance(t, torch.Tensor) else float(t), x0)
        return x0 / tt + (1 - 1 / tt) * x_t, schedule.sigma2 * (tt - 1) / tt
    raise TypeError(f"schedule: expected a VPSchedule or BookVEChain, got {type(schedule).__name__}")


def forward_chain(x0, schedule, generator=None) -> torch.Tensor:
    """Simulate the discrete chain step by step from x0 (n, d); returns the path [T + 1, n, d]."""
    x = _x(x0)
    if isinstance(schedule, VPSchedule):
        scale = torch.sqrt(schedule.alphas[1:]).tolist()
        std = torch.sqrt(schedule.betas[1:]).tolist()
    elif isinstance(schedule, BookVEChain):
        scale, std = [1.0] * schedule.T, [schedule.sigma2 ** 0.5] * schedule.T
    else:
        raise TypeError(f"schedule: expected a VPSchedule or BookVEChain, got {type(schedule).__name__}")
    noise = torch.randn((len(std), *x.shape), dtype=x.dtype, device=x.device, generator=generator)
    path = [x]
    for c, s, z in zip(scale, std, noise):
        x = c * x + s * z
        path.append(x)
    return torch.stack(path)
