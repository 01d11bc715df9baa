"""Two-sample metrics for judging generative models on low-dimensional data (Chapters 6 and 7).

The energy distance (a V-statistic, so it is never negative)::

    ED(x, y) = 2 E|X - Y| - E|X - X'| - E|Y - Y'|

is zero exactly when the two laws agree, but at n = 1000 it barely notices a wrong spread *inside* a mode.
So the course always pairs it with mode statistics computed by nearest-mean assignment to known centres:
the share of samples per mode (:func:`mode_weights`), the within-mode spread (:func:`within_mode_std`, the
RMS distance to the nearest centre divided by sqrt(d): the per-coordinate std of an isotropic mode) and the
number of modes that received at least ``frac`` of their expected share (:func:`mode_coverage`).

Calibration on the 8-Gaussian ring (radius 2, std 0.1), n = 1000 against n = 1000: ED between two data
samples averages about 0.004 with a 99 % quantile near 0.011; a sampler is accepted below 0.02 (exact score)
or 0.03 (learned network), together with mode weights within 0.04 and the within-mode std within 15 %.

Inputs are numpy arrays or torch tensors of shape (n, d) (1-D input is read as (n, 1)); outputs are floats
or numpy arrays. Computation is float64 torch on the CPU.
"""
from __future__ import annotations

import numpy as np
import torch

F64 = torch.float64


def _points(x, name: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x.detach().to("cpu", F64)
    elif isinstance(x, (np.ndarray, list, tuple)):
        t = torch.as_tensor(np.asarray(x, dtype=np.float64))
    else:
        raise TypeError(f"{name}: expected a numpy array or torch tensor, got {type(x).__name__}")
    if t.ndim == 1:
        t = t[:, None]
    if t.ndim != 2 or t.shape[0] < 1:
        raise ValueError(f"{name}: expected shape (n, d) with n >= 1, got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name}: expected finite values")
    return t


def _dist(x, y):
    """Pairwise Euclidean distances, computed directly (torch's faster matrix-product route loses digits)."""
    return torch.cdist(x, y, compute_mode="donot_use_mm_for_euclid_dist")


def _pair(x, y):
    x, y = _points(x, "x"), _points(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x, y: expected the same dimension, got {x.shape[1]} and {y.shape[1]}")
    return x, y


def energy_distance(x, y) -> float:
    """Energy distance (V-statistic) between the samples x (n, d) and y (m, d)."""
    x, y = _pair(x, y)
    return float(2 * _dist(x, y).mean() - _dist(x, x).mean() - _dist(y, y).mean())


def mmd_rbf(x, y, bandwidth="median") -> float:
    """Squared maximum mean discrepancy (V-statistic) with the kernel exp(-|u - v|^2 / (2 h^2)).

    ``bandwidth`` is h, or "median": the median distance between distinct points of the pooled sample.
    """
    x, y = _pair(x, y)
    if bandwidth == "median":
        z = torch.cat([x, y])
        d = _dist(z, z)
        h = float(np.median(d[torch.triu(torch.ones_like(d, dtype=torch.bool), diagonal=1)].numpy()))
    elif isinstance(bandwidth, (int, float)) and not isinstance(bandwidth, bool) and bandwidth > 0:
        h = float(bandwidth)
    else:
        raise ValueError(f"bandwidth: expected 'median' or a positive number, got {bandwidth!r}")

    def k(u, v):
        return torch.exp(-_dist(u, v) ** 2 / (2 * h * h)).mean()

    return float(k(x, x) + k(y, y) - 2 * k(x, y))


def _assign(x, means):
    x, m = _pair(x, means)
    dist = _dist(x, m)
    nearest = dist.argmin(1)
    return x, m, nearest, dist.gather(1, nearest[:, None])[:, 0]


def mode_weights(x, means) -> np.ndarray:
    """Share of the samples x (n, d) whose nearest centre is means[k], shape (K,)."""
    _, m, nearest, _ = _assign(x, means)
    return (torch.bincount(nearest, minlength=m.shape[0]).to(F64) / nearest.numel()).numpy()


def within_mode_std(x, means) -> float:
    """RMS distance of each sample to its nearest centre, divided by sqrt(d)."""
    x, _, _, dist = _assign(x, means)
    return float(torch.sqrt((dist ** 2).mean() / x.shape[1]))


def mode_coverage(x, means, weights, frac: float = 0.25) -> int:
    """Number of modes holding more than ``frac`` times their expected share ``weights[k]`` of the samples."""
    w = _points(weights, "weights")[:, 0]
    if w.numel() != _points(means, "means").shape[0] or (w < 0).any():
        raise ValueError("weights: expected one non-negative weight per mean")
    if not 0 < frac <= 1:
        raise ValueError(f"frac: expected a number in (0, 1], got {frac!r}")
    share = torch.from_numpy(mode_weights(x, means))
    return int((share > frac * w / w.sum()).sum())


def w1_1d(x, y) -> float:
    """1-D Wasserstein-1 distance between two samples: the area between their empirical CDFs."""
    x, y = _pair(x, y)
    if x.shape[1] != 1:
        raise ValueError(f"x, y: expected 1-D samples, got dimension {x.shape[1]}")
    x, y = x[:, 0].sort().values, y[:, 0].sort().values
    grid = torch.cat([x, y]).sort().values
    Fx = torch.searchsorted(x, grid[:-1], right=True).to(F64) / x.numel()
    Fy = torch.searchsorted(y, grid[:-1], right=True).to(F64) / y.numel()
    return float(((Fx - Fy).abs() * (grid[1:] - grid[:-1])).sum())
