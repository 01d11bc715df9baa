"""Flow matching with straight paths (6.16): the interpolant, its regression loss, and the conversions.

Draw data ``x_0`` and noise ``x_1 ~ N(0, I)`` independently and join them by a straight line::

    x_t = (1 - t) x_0 + t x_1,        d x_t / dt = x_1 - x_0,        t in [0, 1]

Going backward (t from 1 to 0) each path moves with the constant increment ``x_0 - x_1``. The network
``v_theta(x, t)`` regresses that increment; its minimiser is the marginal velocity
``v(x, t) = E[x_0 - x_1 | x_t = x]``, whose ODE ``dx/dt = -v`` carries every marginal p_t to the next
(continuity equation; Lipman et al. 2022, Liu et al. 2022)::

    L(theta) = E_{t ~ U(0,1), x_0, x_1} || v_theta(x_t, t) - (x_0 - x_1) ||^2            (6.16)

The velocity converts to the other parametrisations (6.16.6, corrected; ``s`` = grad log p_t) as
``x0_hat = x_t + t v``, ``eps_hat = x_t - (1 - t) v``, ``v = (x_t + t s) / (1 - t)``: see
:mod:`lib.diffusion.convert`.
"""
from __future__ import annotations

from typing import Callable

import torch


def _check_data(name: str, x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point() or x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"{name}: expected a floating tensor of shape (n, d) with n >= 1, got "
                         f"{x.dtype} {tuple(x.shape)}")
    return x


def interpolate(x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``x_t = (1 - t) x_0 + t x_1`` for ``x0, x1`` (n, d) and ``t`` (n,) or a scalar."""
    x0, x1 = _check_data("x0", x0), _check_data("x1", x1)
    if x0.shape != x1.shape:
        raise ValueError(f"x1: expected the shape of x0 {tuple(x0.shape)}, got {tuple(x1.shape)}")
    t = torch.as_tensor(t, dtype=x0.dtype, device=x0.device)
    if t.ndim == 1:
        t = t[:, None]
    return (1 - t) * x0 + t * x1


def fm_loss(v_model: Callable, x0: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The flow-matching loss (6.16) on a batch ``x0`` (n, d): fresh ``x_1 ~ N(0, I)`` and ``t ~ U(0, 1)``.

    ``v_model(x_t, t)`` receives float times ``t`` (n,) in [0, 1]. Returns the batch mean of the squared
    error summed over the d coordinates.
    """
    x0 = _check_data("x0", x0)
    if not callable(v_model):
        raise TypeError(f"v_model: expected a callable (x, t) -> velocity, got {type(v_model).__name__}")
    x1 = torch.randn(x0.shape, device=x0.device, dtype=x0.dtype, generator=generator)
    t = torch.rand(x0.shape[0], device=x0.device, dtype=x0.dtype, generator=generator)
    x_t = interpolate(x0, x1, t)
    return (v_model(x_t, t) - (x0 - x1)).pow(2).sum(1).mean()

