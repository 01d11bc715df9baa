"""Conversions between the four things a denoiser can predict (score, noise, clean data, velocity).

For any process ``x_t = a_t x_0 + b_t eps`` Tweedie's formula gives the optimal predictions in terms of the
score ``s = grad log p_t(x_t)``::

    eps_hat = -b_t s                 x0_hat = (x_t + b_t^2 s) / a_t = (x_t - b_t eps_hat) / a_t

For flow matching (a_t = 1 - t, b_t = t) with the velocity ``v = E[x_0 - x_1 | x_t]`` (corrected 6.16.6; the
book's ``v = x_t + (t + 1) s`` is wrong)::

    x0_hat = x_t + t v               eps_hat = x_t - (1 - t) v          v = (x_t + t s) / (1 - t)

``t`` is a number or a tensor of shape (n,) (one time per row of x); ``process`` is any object with
``coeffs(t) -> (a_t, b_t)`` from :mod:`lib.diffusion.schedules`.
"""
from __future__ import annotations

import torch


def _col(c, like: torch.Tensor):
    """A coefficient broadcastable against like (n, d): numbers stay numbers, (n,) tensors become (n, 1)."""
    if isinstance(c, torch.Tensor):
        c = c.to(dtype=like.dtype, device=like.device)
        return c.reshape(-1, *([1] * (like.ndim - 1))) if c.ndim == 1 else c
    return float(c)


def _ab(t, process, like):
    if not hasattr(process, "coeffs"):
        raise TypeError(f"process: expected a schedule with coeffs(t), got {type(process).__name__}")
    a, b = process.coeffs(t)
    return _col(a, like), _col(b, like)


def score_to_eps(s, t, process):
    """eps_hat = -b_t s."""
    _, b = _ab(t, process, s)
    return -b * s


def eps_to_score(eps, t, process):
    """s = -eps / b_t (undefined at b_t = 0)."""
    _, b = _ab(t, process, eps)
    return -eps / b


def eps_to_x0(eps, x, t, process):
    """x0_hat = (x_t - b_t eps) / a_t."""
    a, b = _ab(t, process, x)
    return (x - b * eps) / a


def x0_to_eps(x0, x, t, process):
    """eps_hat = (x_t - a_t x0) / b_t."""
    a, b = _ab(t, process, x)
    return (x - a * x0) / b


def score_to_x0(s, x, t, process):
    """Tweedie: x0_hat = (x_t + b_t^2 s) / a_t."""
    a, b = _ab(t, process, x)
    return (x + b * b * s) / a


def _t(t, like):
    return _col(t, like)


def velocity_to_score(v, x, t):
    """s = ((1 - t) v - x_t) / t (flow matching; undefined at t = 0)."""
    t = _t(t, x)
    return ((1 - t) * v - x) / t


def score_to_velocity(s, x, t):
    """v = (x_t + t s) / (1 - t) (flow matching; undefined at t = 1)."""
    t = _t(t, x)
    return (x + t * s) / (1 - t)


def velocity_to_x0(v, x, t):
    """x0_hat = x_t + t v."""
    return x + _t(t, x) * v


def velocity_to_eps(v, x, t):
    """eps_hat = x_t - (1 - t) v."""
    return x - (1 - _t(t, x)) * v
