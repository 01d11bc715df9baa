"""Noising processes, all written as ``x_t = a_t x_0 + b_t eps`` with ``eps ~ N(0, I)`` (t = 0 is data).

Discrete chains (integer index t = 0..T; arrays have length T + 1 and entry 0 is the clean data):

    BookVEChain(T, sigma2)   x_t = x_{t-1} + N(0, sigma2 I)            a_t = 1,              b_t = sqrt(t sigma2)
    VPSchedule (DDPM)        x_t = sqrt(alpha_t) x_{t-1} + N(0, beta_t I), alpha_t = 1 - beta_t,
                             a_t = sqrt(alpha_bar_t), b_t = sqrt(1 - alpha_bar_t), alpha_bar_t = prod_{i<=t} alpha_i

Continuous processes (float t in [0, 1]) are linear SDEs ``dx = f(t) x dt + g(t) dw``; for any such process
``f = d log a_t / dt`` and ``g^2 = d b_t^2 / dt - 2 f b_t^2``:

    VEBrownian(sigma)              dx = sigma dw                       a = 1,   b = sigma sqrt(t)
    VEGeometric(s_min, s_max)      g^2 = d sigma(t)^2 / dt              a = 1,   b = sigma(t) = s_min (s_max / s_min)^t
    VPSDE(beta_min, beta_max)      dx = -beta(t) x / 2 dt + sqrt(beta(t)) dw,
                                   beta(t) = beta_min + t (beta_max - beta_min),  a = exp(-int_0^t beta / 2),
                                   b = sqrt(1 - a^2)
    LinearInterpolant()            x_t = (1 - t) x_0 + t x_1 (flow matching)   a = 1 - t, b = t

Every process has ``coeffs(t) -> (a_t, b_t)``: floats for a number t, float64 tensors for a tensor t.
The VP schedules are Ho et al. (2020) (linear, 1e-4 -> 0.02, T = 1000), Nichol and Dhariwal (2021) (cosine,
s = 0.008) and Song et al. (2021) (VP-SDE, beta in [0.1, 20]).
"""
from __future__ import annotations

import math

import numpy as np
import torch

F64 = torch.float64


def _time(t, name: str = "t"):
    """A continuous time in [0, 1] as a float or a float64 tensor."""
    if isinstance(t, torch.Tensor):
        tt = t.to(F64)
        if not torch.isfinite(tt).all() or (tt < 0).any() or (tt > 1).any():
            raise ValueError(f"{name}: expected times in [0, 1]")
        return tt
    if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)) or not 0 <= t <= 1:
        raise ValueError(f"{name}: expected a number in [0, 1], got {t!r}")
    return float(t)


def _positive(v, name):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not v > 0:
        raise ValueError(f"{name}: expected a positive number, got {v!r}")
    return float(v)


def _exp(v):
    return torch.exp(v) if isinstance(v, torch.Tensor) else math.exp(v)


def _sqrt(v):
    return torch.sqrt(v) if isinstance(v, torch.Tensor) else math.sqrt(v)


class _Continuous:
    """Shared protocol of the continuous processes: coefficients, SDE drift and diffusion, time grid."""

    def coeffs(self, t):
        raise NotImplementedError

    def f(self, t):
        """Drift coefficient: the forward SDE's drift is ``f(t) x``."""
        raise NotImplementedError

    def g2(self, t):
        """Squared diffusion coefficient g(t)^2."""
        raise NotImplementedError

    def drift(self, x, t):
        return self.f(t) * x

    def diffusion(self, t):
        return _sqrt(self.g2(t))

    def prior_std(self) -> float:
        """b_1: the std of the noise at t = 1 (the sampler's starting law is N(0, b_1^2 I))."""
        return float(self.coeffs(1.0)[1])


class VEBrownian(_Continuous):
    """``dx = sigma dw``: the book's constant-variance chain in continuous time (6.11), b_t = sigma sqrt(t)."""

    def __init__(self, sigma: float = 5.0):
        self.sigma = _positive(sigma, "sigma")

    def __repr__(self):
        return f"VEBrownian(sigma={self.sigma})"

    def coeffs(self, t):
        t = _time(t)
        return 1.0 + 0 * t, self.sigma * _sqrt(t)

    def f(self, t):
        return 0.0 * _time(t)

    def g2(self, t):
        return self.sigma ** 2 + 0 * _time(t)


class VEGeometric(_Continuous):
    """Variance exploding with a geometric noise scale sigma(t) = s_min (s_max / s_min)^t (Song et al.)."""

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 5.0):
        self.sigma_min, self.sigma_max = _positive(sigma_min, "sigma_min"), _positive(sigma_max, "sigma_max")
        if self.sigma_max <= self.sigma_min:
            raise ValueError(f"sigma_max: expected a value above sigma_min = {self.sigma_min}, got {sigma_max}")
        self.log_ratio = math.log(self.sigma_max / self.sigma_min)

    def __repr__(self):
        return f"VEGeometric(sigma_min={self.sigma_min}, sigma_max={self.sigma_max})"

    def sigma(self, t):
        return self.sigma_min * _exp(self.log_ratio * _time(t))

    def coeffs(self, t):
        s = self.sigma(t)
        return 1.0 + 0 * s, s

    def f(self, t):
        return 0.0 * _time(t)

    def g2(self, t):
        return 2 * self.log_ratio * self.sigma(t) ** 2


class VPSDE(_Continuous):
    """Variance preserving SDE with a linear beta(t):
    alpha_bar(t) = exp(-(beta_min t + (beta_max - beta_min) t^2 / 2))."""

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0):
        self.beta_min, self.beta_max = _positive(beta_min, "beta_min"), _positive(beta_max, "beta_max")

    def __repr__(self):
        return f"VPSDE(beta_min={self.beta_min}, beta_max={self.beta_max})"

    def beta(self, t):
        return self.beta_min + _time(t) * (self.beta_max - self.beta_min)

    def alpha_bar(self, t):
        t = _time(t)
        return _exp(-(self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t * t))

    def coeffs(self, t):
        ab = self.alpha_bar(t)
        return _sqrt(ab), _sqrt(1 - ab)

    def f(self, t):
        return -0.5 * self.beta(t)

    def g2(self, t):
        return self.beta(t)


class LinearInterpolant:
    """Flow matching's straight interpolation x_t = (1 - t) x_0 + t x_1: a_t = 1 - t, b_t = t."""

    def __repr__(self):
        return "LinearInterpolant()"

    def coeffs(self, t):
        t = _time(t)
        return 1 - t, t

    def prior_std(self) -> float:
        return 1.0


# --------------------------------------------------------------------------- discrete chains
def _index(t, T: int):
    """An integer index in [0, T] (int or integer tensor)."""
    if isinstance(t, torch.Tensor):
        if t.is_floating_point() or t.is_complex() or (t < 0).any() or (t > T).any():
            raise ValueError(f"t: expected integer indices in [0, {T}]")
        return t.long()
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t <= T:
        raise ValueError(f"t: expected an integer in [0, {T}], got {t!r}")
    return int(t)


def _T(T):
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T: expected a positive integer, got {T!r}")
    return int(T)


def _pick(arr: torch.Tensor, t):
    return arr[t].to(F64) if isinstance(t, torch.Tensor) else float(arr[t])


class BookVEChain:
    """The book's chain x_t = x_{t-1} + e_t, e_t ~ N(0, sigma2 I), t = 1..T (6.4): x_t | x_0 ~ N(x_0, t sigma2 I)."""

    def __init__(self, T: int = 1000, sigma2: float = 0.025):
        self.T = _T(T)
        self.sigma2 = _positive(sigma2, "sigma2")

    def __repr__(self):
        return f"BookVEChain(T={self.T}, sigma2={self.sigma2})"

    def var(self, t):
        """Variance of x_t given x_0: t sigma2."""
        t = _index(t, self.T)
        return t * self.sigma2 if not isinstance(t, torch.Tensor) else t.to(F64) * self.sigma2

    def coeffs(self, t):
        v = self.var(t)
        return 1.0 + 0 * v, _sqrt(v)

    def to_continuous_time(self, t):
        return _index(t, self.T) / self.T


class VPSchedule:
    """DDPM's discrete variance-preserving chain from betas (T,), stored with a leading entry for t = 0.

    Attributes (float64, length T + 1, index t): ``betas`` (beta_0 = 0), ``alphas = 1 - betas``,
    ``alpha_bars`` (cumulative product, alpha_bar_0 = 1), ``posterior_var`` (beta-tilde_t =
    (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t, 0 at t <= 1), ``snr = alpha_bar / (1 - alpha_bar)``
    (infinite at t = 0).
    """

    def __init__(self, betas):
        b = torch.as_tensor(np.asarray(betas.cpu() if isinstance(betas, torch.Tensor) else betas, dtype=np.float64))
        if b.ndim != 1 or b.numel() < 1 or not torch.isfinite(b).all() or (b <= 0).any() or (b >= 1).any():
            raise ValueError("betas: expected a 1-D sequence of numbers in (0, 1)")
        self.T = b.numel()
        self.betas = torch.cat([torch.zeros(1, dtype=F64), b])
        self.alphas = 1 - self.betas
        self.alpha_bars = torch.cumprod(self.alphas, 0)
        prev = torch.cat([torch.ones(1, dtype=F64), self.alpha_bars[:-1]])
        self.posterior_var = torch.zeros_like(self.betas)
        self.posterior_var[1:] = (1 - prev[1:]) / (1 - self.alpha_bars[1:]) * self.betas[1:]
        self.snr = self.alpha_bars / (1 - self.alpha_bars)

    @classmethod
    def linear(cls, T: int = 1000, beta_min: float = 1e-4, beta_max: float = 0.02) -> "VPSchedule":
        """Ho et al.'s linear schedule: betas evenly spaced from beta_min to beta_max."""
        T = _T(T)
        _positive(beta_min, "beta_min"), _positive(beta_max, "beta_max")
        return cls(torch.linspace(beta_min, beta_max, T, dtype=F64))

    @classmethod
    def cosine(cls, T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> "VPSchedule":
        """Nichol and Dhariwal's cosine schedule: alpha_bar(t) = cos^2(pi/2 (t/T + s)/(1 + s)) / (same at 0),
        betas = 1 - alpha_bar_t / alpha_bar_{t-1} clipped at max_beta."""
        T = _T(T)
        _positive(s, "s")
        u = torch.arange(T + 1, dtype=F64) / T
        f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
        ab = f / f[0]
        return cls(torch.clamp(1 - ab[1:] / ab[:-1], max=max_beta))

    def __repr__(self):
        return f"VPSchedule(T={self.T}, beta_1={float(self.betas[1]):.3g}, beta_T={float(self.betas[-1]):.3g})"

    def coeffs(self, t):
        """(sqrt(alpha_bar_t), sqrt(1 - alpha_bar_t)) at the integer index t."""
        ab = _pick(self.alpha_bars, _index(t, self.T))
        return _sqrt(ab), _sqrt(1 - ab)

    def to_continuous_time(self, t):
        return _index(t, self.T) / self.T
