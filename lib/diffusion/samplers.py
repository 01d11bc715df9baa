"""Samplers: from noise back to data with a score, noise or velocity predictor (exact or learned).

Every sampler takes a callable ``fn(x, t) -> Tensor[n, d]`` (``t`` an integer index for the discrete chains,
a float in [0, 1] for the continuous processes), runs on the device of its starting point, and returns ``x``
or ``(x, traj)`` with ``return_traj=True``, ``traj[k]`` the state after k steps (``traj[0]`` the start).

Discrete chains (6.5, 6.8, 6.10, 6.17)::

    book VE chain   stochastic   x_{t-1} = x_t + sigma^2 s(x_t, t) + sigma z          (6.5.3, z at every step)
                    half_step    x_{t-1} = x_t + sigma^2 s(x_t, t) / 2                 (deterministic, 6.10)
                    t_minus_2    x_{t-2} = x_t + sigma^2 s(x_t, t)                     (the "t - 2" argument)
                    naive_full   x_{t-1} = x_t + sigma^2 s(x_t, t)                     (collapses: too concentrated)
    DDPM ancestral  x_{t-1} = (x_t - beta_t / sqrt(1 - ab_t) eps) / sqrt(alpha_t) + sigma_t z   (no z at t = 1)
    DDIM (eta = 0)  x_s = sqrt(ab_s) x0_hat + sqrt(1 - ab_s) eps,  x0_hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t)

Continuous processes ``dx = f(t) x dt + g(t) dw`` run backwards from t = 1 to t_min with steps h > 0::

    reverse SDE (Euler-Maruyama)  x <- x - h [f x - g^2 s] + g sqrt(h) z
    probability-flow ODE          dx/dt = f x - g^2 s / 2          (Euler or Heun)
    flow matching                 x <- x + h v,  v = E[x_0 - x_1 | x_t]       (dx/dt = -v)

Langevin dynamics at a fixed target (6.12.3): ``x <- x + (eps/2) grad log pi(x) + sqrt(eps) z``.
"""
from __future__ import annotations

import numpy as np
import torch

from .schedules import BookVEChain, VPSchedule, _Continuous

F64 = torch.float64


# --------------------------------------------------------------------------- shared helpers
def _start(n, dim, std, x_init, generator, device, dtype=F64):
    """The starting cloud: x_init (copied) or N(0, std^2 I) of shape (n, dim)."""
    if x_init is not None:
        if not isinstance(x_init, torch.Tensor) or x_init.ndim != 2:
            raise ValueError("x_init: expected a tensor of shape (n, d)")
        return x_init.detach().clone()
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim: expected a positive integer, got {dim!r}")
    device = torch.device("cpu") if device is None else torch.device(device)
    return std * torch.randn(int(n), int(dim), dtype=dtype, device=device, generator=generator)


def _noise(x, generator):
    return torch.randn(x.shape, dtype=x.dtype, device=x.device, generator=generator)


def _call(fn, x, t, name):
    out = fn(x, t)
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        raise ValueError(f"{name}: expected the callable to return a tensor of shape {tuple(x.shape)}")
    return out.to(x.dtype)


def _steps(steps, name="steps"):
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"{name}: expected a positive integer, got {steps!r}")
    return int(steps)


def _finish(x, traj, return_traj):
    return (x, torch.stack(traj)) if return_traj else x


def _check(obj, cls, name):
    if not isinstance(obj, cls):
        raise TypeError(f"{name}: expected a {cls.__name__}, got {type(obj).__name__}")


# --------------------------------------------------------------------------- the book's VE chain (6.5, 6.10)
def book_ve_sample(score_fn, chain, n=None, dim=2, mode="stochastic", x_init=None, generator=None, device=None,
                   return_traj=False):
    """Reverse the book's chain with ``score_fn(x, t) = grad log p_t(x)`` at integer t; start N(0, T sigma2 I).

    ``mode`` selects the update (module docstring). ``t_minus_2`` visits t = T, T-2, ..., so T must be even.
    """
    _check(chain, BookVEChain, "chain")
    if mode not in ("stochastic", "half_step", "t_minus_2", "naive_full"):
        raise ValueError(f"mode: expected 'stochastic', 'half_step', 't_minus_2' or 'naive_full', got {mode!r}")
    T, s2 = chain.T, chain.sigma2
    x = _start(n, dim, (T * s2) ** 0.5, x_init, generator, device)
    traj = [x]
    if mode == "t_minus_2":
        if T % 2:
            raise ValueError(f"chain: mode 't_minus_2' needs an even T, got {T}")
        times, coef = range(T, 0, -2), 1.0
    else:
        times, coef = range(T, 0, -1), 0.5 if mode == "half_step" else 1.0
    for t in times:
        x = x + coef * s2 * _call(score_fn, x, t, "score_fn")
        if mode == "stochastic":
            x = x + s2 ** 0.5 * _noise(x, generator)
        if return_traj:
            traj.append(x)
    return _finish(x, traj, return_traj)


# --------------------------------------------------------------------------- DDPM and DDIM (6.17)
def ancestral_sample(eps_fn, schedule, n=None, dim=2, var="beta_tilde", x_init=None, generator=None, device=None,
                     return_traj=False):
    """DDPM ancestral sampling with a noise predictor ``eps_fn(x, t)`` (t = T..1); start N(0, I).

    ``var`` is the reverse-step variance: "beta_tilde" (the posterior variance) or "beta" (beta_t).
    """
    _check(schedule, VPSchedule, "schedule")
    if var not in ("beta", "beta_tilde"):
        raise ValueError(f"var: expected 'beta' or 'beta_tilde', got {var!r}")
    sig2 = schedule.posterior_var if var == "beta_tilde" else schedule.betas
    betas, alphas, abar = schedule.betas.tolist(), schedule.alphas.tolist(), schedule.alpha_bars.tolist()
    sig = torch.sqrt(sig2).tolist()
    x = _start(n, dim, 1.0, x_init, generator, device)
    traj = [x]
    for t in range(schedule.T, 0, -1):
        eps = _call(eps_fn, x, t, "eps_fn")
        x = (x - betas[t] / (1 - abar[t]) ** 0.5 * eps) / alphas[t] ** 0.5
        if t > 1:
            x = x + sig[t] * _noise(x, generator)
        if return_traj:
            traj.append(x)
    return _finish(x, traj, return_traj)


def ddim_sample(eps_fn, schedule, n=None, dim=2, steps=50, eta=0.0, clip_x0=None, x_init=None, generator=None,
                device=None, return_traj=False):
    """DDIM on ``steps`` evenly spaced indices T = t_0 > ... > t_steps = 0 (Song, Meng and Ermon 2021).

    Each step predicts ``x0_hat`` (clamped to [-clip_x0, clip_x0] if given, after which ``eps`` is recomputed
    from the clamped x0_hat so the two stay consistent) and moves to
    ``x_s = sqrt(ab_s) x0_hat + sqrt(1 - ab_s - sigma^2) eps + sigma z`` with
    ``sigma = eta sqrt((1 - ab_s) / (1 - ab_t)) sqrt(1 - ab_t / ab_s)`` (eta = 0: deterministic).
    """
    _check(schedule, VPSchedule, "schedule")
    steps = _steps(steps)
    if steps > schedule.T:
        raise ValueError(f"steps: expected at most T = {schedule.T}, got {steps}")
    if eta < 0:
        raise ValueError(f"eta: expected eta >= 0, got {eta}")
    times = np.round(np.linspace(schedule.T, 0, steps + 1)).astype(int).tolist()
    abar = schedule.alpha_bars.tolist()
    x = _start(n, dim, 1.0, x_init, generator, device)
    traj = [x]
    for t, s in zip(times[:-1], times[1:]):
        eps = _call(eps_fn, x, t, "eps_fn")
        x0 = (x - (1 - abar[t]) ** 0.5 * eps) / abar[t] ** 0.5
        if clip_x0 is not None:
            x0 = x0.clamp(-clip_x0, clip_x0)
            eps = (x - abar[t] ** 0.5 * x0) / (1 - abar[t]) ** 0.5
        sigma = eta * ((1 - abar[s]) / (1 - abar[t]) * (1 - abar[t] / abar[s])) ** 0.5
        x = abar[s] ** 0.5 * x0 + max(1 - abar[s] - sigma ** 2, 0.0) ** 0.5 * eps
        if sigma > 0:
            x = x + sigma * _noise(x, generator)
        if return_traj:
            traj.append(x)
    return _finish(x, traj, return_traj)


# --------------------------------------------------------------------------- continuous time (6.11-6.13, 6.17.4-5)
def time_grid(steps, t_min, t_max=1.0) -> list[float]:
    """The times a continuous-time sampler visits: ``steps + 1`` evenly spaced from ``t_max`` down to ``t_min``
    (``traj[k]`` of ``return_traj=True`` is the state at the k-th of them)."""
    if not 0 <= t_min < t_max <= 1:
        raise ValueError(f"t_min: expected 0 <= t_min < {t_max}, got {t_min}")
    return np.linspace(t_max, t_min, _steps(steps) + 1).tolist()


def reverse_sde_sample(score_fn, process, n=None, dim=2, steps=500, t_min=1e-3, x_init=None, generator=None,
                       device=None, return_traj=False):
    """Euler-Maruyama on the reverse SDE from t = 1 (start N(0, b_1^2 I) or x_init) down to t_min.

    In reverse time the drift is ``-(f x - g^2 s)``: the full score step of 6.12.4, plus fresh noise.
    """
    _check(process, _Continuous, "process")
    ts = time_grid(steps, t_min)
    x = _start(n, dim, process.prior_std(), x_init, generator, device)
    traj = [x]
    for t, t_next in zip(ts[:-1], ts[1:]):
        h, g2 = t - t_next, float(process.g2(t))
        x = x - h * (float(process.f(t)) * x - g2 * _call(score_fn, x, t, "score_fn")) \
            + (g2 * h) ** 0.5 * _noise(x, generator)
        if return_traj:
            traj.append(x)
    return _finish(x, traj, return_traj)


def _ode_velocity(score_fn, process, x, t):
    """dx/dt of the probability-flow ODE: f x - g^2 s / 2 (the sign the book's 6.15.4 gets wrong)."""
    return float(process.f(t)) * x - 0.5 * float(process.g2(t)) * _call(score_fn, x, t, "score_fn")


def _integrate(velocity, x, ts, method, return_traj):
    """Euler or Heun along the time grid ts (either direction) for dx/dt = velocity(x, t)."""
    if method not in ("euler", "heun"):
        raise ValueError(f"method: expected 'euler' or 'heun', got {method!r}")
    traj = [x]
    for t, t_next in zip(ts[:-1], ts[1:]):
        dt = t_next - t
        k1 = velocity(x, t)
        if method == "heun":
            k2 = velocity(x + dt * k1, t_next)
            x = x + dt * 0.5 * (k1 + k2)
        else:
            x = x + dt * k1
        if return_traj:
            traj.append(x)
    return _finish(x, traj, return_traj)


def pf_ode_sample(score_fn, process, n=None, dim=2, steps=50, method="heun", t_min=1e-3, x_init=None,
                  generator=None, device=None, return_traj=False):
    """Integrate the probability-flow ODE from t = 1 (start N(0, b_1^2 I) or x_init) down to t_min."""
    _check(process, _Continuous, "process")
    x = _start(n, dim, process.prior_std(), x_init, generator, device)
    return _integrate(lambda y, t: _ode_velocity(score_fn, process, y, t), x, time_grid(steps, t_min), method,
                      return_traj)


def pf_ode_encode(score_fn, process, x0, steps=200, method="heun", t_min=1e-3, return_traj=False):
    """Run the probability-flow ODE forwards from t_min to 1: the deterministic code of x0 (n, d)."""
    _check(process, _Continuous, "process")
    x = _start(None, None, 1.0, x0, None, None)
    return _integrate(lambda y, t: _ode_velocity(score_fn, process, y, t), x, time_grid(steps, t_min)[::-1], method,
                      return_traj)


def fm_sample(v_fn, n=None, dim=2, steps=20, method="euler", t_min=0.0, x_init=None, generator=None, device=None,
              return_traj=False):
    """Flow matching: integrate dx/dt = -v(x, t) from t = 1 (start N(0, I)) down to t_min (6.16)."""
    x = _start(n, dim, 1.0, x_init, generator, device)
    return _integrate(lambda y, t: -_call(v_fn, y, t, "v_fn"), x, time_grid(steps, t_min), method, return_traj)


# --------------------------------------------------------------------------- Langevin (6.12)
def langevin(score_fn, x_init, step, n_steps, generator=None, return_traj=False):
    """Unadjusted Langevin: ``x <- x + step/2 score_fn(x) + sqrt(step) z`` for n_steps steps.

    Leaves the target invariant only as step -> 0 (on N(0, 1) the stationary variance is 1 / (1 - step / 4)).
    """
    if not step > 0:
        raise ValueError(f"step: expected a positive number, got {step!r}")
    x = _start(None, None, 1.0, x_init, None, None)
    traj = [x]
    for _ in range(_steps(n_steps, "n_steps")):
        s = score_fn(x)
        if not isinstance(s, torch.Tensor) or s.shape != x.shape:
            raise ValueError(f"score_fn: expected the callable to return a tensor of shape {tuple(x.shape)}")
        x = x + 0.5 * step * s.to(x.dtype) + step ** 0.5 * _noise(x, generator)
        if return_traj:
            traj.append(x)
    return _finish(x, traj, return_traj)


def annealed_langevin(score_fn, sigmas, x_init, steps_per_level=100, c=0.1, base_var=0.0, generator=None,
                      return_traj=False):
    """Annealed Langevin (Song and Ermon 2019): Langevin at each noise level sigma in ``sigmas`` (decreasing),
    with ``score_fn(x, sigma)`` the score of the data smoothed by N(0, sigma^2 I).

    The step at level sigma is ``c (sigma^2 + base_var)``: proportional to the variance of the smoothed
    target, whose own scale is ``base_var`` (the data's, e.g. its within-mode variance).
    """
    sig = [float(s) for s in sigmas]
    if not sig or any(s <= 0 for s in sig) or any(a < b for a, b in zip(sig[:-1], sig[1:])):
        raise ValueError("sigmas: expected a non-empty decreasing sequence of positive numbers")
    if not c > 0 or base_var < 0:
        raise ValueError(f"c, base_var: expected c > 0 and base_var >= 0, got {c}, {base_var}")
    x = _start(None, None, 1.0, x_init, None, None)
    traj = [x]
    for s in sig:
        x, path = langevin(lambda y: score_fn(y, s), x, c * (s * s + base_var), steps_per_level, generator,
                           return_traj=True)
        if return_traj:
            traj.extend(path[1:])
    return _finish(x, traj, return_traj)


# --------------------------------------------------------------------------- guidance (6.18)
def cfg_score(score_cond, score_uncond, w: float):
    """Classifier-free guidance: ``(1 + w) s_cond - w s_uncond`` (Ho and Salimans 2022).

    Given two callables ``fn(x, t)`` it returns the guided callable; given two tensors, the guided tensor.
    The same combination applies to noise predictions. A guided score is not the score of any noised family.
    """
    if callable(score_cond) and callable(score_uncond):
        return lambda x, t: (1 + w) * score_cond(x, t) - w * score_uncond(x, t)
    if isinstance(score_cond, torch.Tensor) and isinstance(score_uncond, torch.Tensor):
        return (1 + w) * score_cond - w * score_uncond
    raise TypeError("score_cond, score_uncond: expected two callables or two tensors")
