"""Fitting one Gaussian to a bimodal 1-D target: forward vs reverse KL (book 7.1.4, 7.5.6).

* Forward KL, ``min_q KL(p || q)``: the maximum-likelihood direction. For a Gaussian q the optimum
  matches the target's mean and variance (moment projection), so q covers both modes::

      m* = E_p x,   s*^2 = Var_p x

* Reverse KL, ``min_q KL(q || p) = E_q log q - E_q log p``: the direction of variational inference.
  It is infinite wherever q puts mass where p has none, so q locks onto one mode (mode seeking).
  ``fit_gaussian_reverse_kl`` minimises it by reparametrised SGD (q = N(m, e^{2 log s})).

``kl_grid`` evaluates either direction by quadrature on a grid of (m, log s), which gives the global
reverse-KL optimum for the widget and the contour plots.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

LOG2PI = math.log(2 * math.pi)


def _vec(name: str, a) -> np.ndarray:
    a = np.atleast_1d(np.asarray(a, dtype=np.float64))
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected a non-empty 1-D array of finite numbers")
    return a


def mixture_logpdf(x, means, stds, weights) -> np.ndarray:
    """``log sum_k w_k N(x; mu_k, s_k^2)`` for 1-D x (any shape); weights are normalised."""
    means, stds, weights = _vec("means", means), _vec("stds", stds), _vec("weights", weights)
    if not (means.shape == stds.shape == weights.shape):
        raise ValueError("means, stds, weights: expected arrays of the same length")
    if np.any(stds <= 0) or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("stds, weights: expected positive stds and non-negative weights with a positive sum")
    x = np.asarray(x, dtype=np.float64)[..., None]
    w = weights / weights.sum()
    comp = np.log(w) - 0.5 * LOG2PI - np.log(stds) - 0.5 * ((x - means) / stds) ** 2
    mx = comp.max(-1, keepdims=True)
    return (mx + np.log(np.exp(comp - mx).sum(-1, keepdims=True)))[..., 0]


def mixture_moments(means, stds, weights) -> tuple[float, float]:
    """Mean and standard deviation of a 1-D Gaussian mixture (the forward-KL Gaussian, exactly)."""
    means, stds, weights = _vec("means", means), _vec("stds", stds), _vec("weights", weights)
    w = weights / weights.sum()
    m = float(w @ means)
    return m, float(np.sqrt(w @ (stds ** 2 + means ** 2) - m ** 2))


def fit_gaussian_forward_kl(target_samples) -> tuple[float, float]:
    """Forward-KL (= maximum-likelihood) Gaussian for samples of p: their mean and (1/n) std."""
    x = _vec("target_samples", target_samples)
    if x.size < 2:
        raise ValueError("target_samples: expected at least 2 samples")
    return float(x.mean()), float(x.std())


def fit_gaussian_reverse_kl(log_target: Callable[[torch.Tensor], torch.Tensor], init=(0.0, 0.0),
                            steps: int = 500, lr: float = 0.05, n_samples: int = 256,
                            generator: torch.Generator | None = None) -> dict:
    """Minimise ``KL(q || p) = -H(q) - E_eps log p(m + s eps) + const`` over q = N(m, s^2) by Adam
    on reparametrised samples. ``log_target`` maps a float64 tensor to its (unnormalised) log density;
    ``init = (m, log s)``. Returns ``dict(mean, std, trace)`` with the (m, s) path [steps + 1, 2]."""
    if not callable(log_target):
        raise TypeError("log_target: expected a callable taking a tensor of points")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: expected a positive integer, got {steps!r}")
    init = _vec("init", init)
    if init.size != 2:
        raise ValueError("init: expected (mean, log std)")
    m = torch.tensor(init[0], dtype=torch.float64, requires_grad=True)
    log_s = torch.tensor(init[1], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([m, log_s], lr=lr)
    trace = [(float(m.detach()), math.exp(float(log_s.detach())))]
    for _ in range(steps):
        eps = torch.randn(n_samples, dtype=torch.float64, generator=generator)
        loss = -log_s - log_target(m + torch.exp(log_s) * eps).mean()   # -H(q) up to a constant
        opt.zero_grad()
        loss.backward()
        opt.step()
        trace.append((float(m.detach()), math.exp(float(log_s.detach()))))
    return dict(mean=trace[-1][0], std=trace[-1][1], trace=np.array(trace))


def kl_grid(log_p: np.ndarray, x: np.ndarray, means, log_stds, direction: str = "reverse") -> np.ndarray:
    """KL between the normalised density exp(log_p) on the uniform grid x and q = N(m, e^{2 log s}),
    by quadrature, for every (m, log s): returns [len(means), len(log_stds)].

    ``direction='reverse'`` is KL(q || p); ``'forward'`` is KL(p || q).
    """
    if direction not in ("forward", "reverse"):
        raise ValueError(f"direction: expected 'forward' or 'reverse', got {direction!r}")
    x, log_p = _vec("x", x), _vec("log_p", log_p)
    if x.shape != log_p.shape or x.size < 3:
        raise ValueError("log_p: expected one value per grid point of x")
    dx = x[1] - x[0]
    log_p = log_p - np.log(np.exp(log_p - log_p.max()).sum() * dx) - log_p.max()
    m, ls = _vec("means", means)[:, None, None], _vec("log_stds", log_stds)[None, :, None]
    log_q = -0.5 * LOG2PI - ls - 0.5 * ((x - m) / np.exp(ls)) ** 2
    if direction == "reverse":
        return (np.exp(log_q) * (log_q - log_p)).sum(-1) * dx
    return (np.exp(log_p) * (log_p - log_q)).sum(-1) * dx


def grid_fit(log_p: np.ndarray, x: np.ndarray, means, log_stds, direction: str = "reverse") -> tuple[float, float]:
    """The (m, s) minimising :func:`kl_grid` over the grid: a global optimum up to the grid spacing."""
    kl = kl_grid(log_p, x, means, log_stds, direction)
    i, j = np.unravel_index(np.argmin(kl), kl.shape)
    return float(np.asarray(means)[i]), float(np.exp(np.asarray(log_stds)[j]))
