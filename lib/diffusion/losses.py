"""Training losses for denoisers: the book's VE chain (6.22, 6.23, 6.25), DDPM in four parametrisations
with "simple" or ELBO weights (6.9, 6.17), and the score-matching pair behind the Vincent identity (6.7).

Every loss draws its own time steps and noise from ``generator`` (a ``torch.Generator`` on the data's
device, or None for the global one) and returns a scalar ``E ||target - output||^2``: squared errors are
summed over the data dimensions and averaged over the batch.

**Book's VE chain** ``x_t = x_{t-1} + sigma e_t`` (``chain.T`` steps of variance ``chain.sigma2``). The
network reads ``(x_t, t)`` with an integer ``t`` uniform on 1..T and its output is interpreted as

* ``"x_prev"`` (6.22): a score ``s``; target ``x_{t-1}``, prediction ``x_t + sigma^2 s``;
* ``"x0"`` (6.23): a score ``s``; target ``x_0``, prediction ``x_t + t sigma^2 s`` (Tweedie);
* ``"eps"`` (6.25, standardised): the noise ``z = (x_t - x_0) / (sigma sqrt t)``, so ``s = -z / (sigma sqrt t)``.

**DDPM** ``x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps`` for ``t`` uniform on 1..T. The output is a
prediction of ``param``: ``eps``; ``x0``; the velocity ``v = sqrt(abar) eps - sqrt(1 - abar) x_0``; or the
score ``-eps / sqrt(1 - abar)``. All four are affine in ``eps_hat``, with
``||eps - eps_hat||^2 = c_t ||target - output||^2`` for ``c_t = 1, SNR_t, abar_t, 1 - abar_t``. ``weighting``:

* ``"simple"``: the plain squared error in the chosen parametrisation (Ho et al. 2020 for ``eps``);
* ``"elbo"``: ``lambda_t c_t ||target - output||^2 = lambda_t ||eps - eps_hat||^2`` with the ELBO weights of
  :func:`elbo_weights`; the mean over t is the negative ELBO divided by T, up to a theta-free constant.
"""
from __future__ import annotations

from typing import Callable

import torch

PARAMS = ("eps", "x0", "v", "score")
WEIGHTINGS = ("simple", "elbo")
VE_TARGETS = ("x_prev", "x0", "eps")


# --------------------------------------------------------------------------- input checks
def _check_data(x0) -> torch.Tensor:
    if not isinstance(x0, torch.Tensor):
        raise TypeError(f"x0: expected a torch.Tensor, got {type(x0).__name__}")
    if not x0.is_floating_point() or x0.ndim < 2 or x0.shape[0] == 0:
        raise ValueError(f"x0: expected a floating tensor of shape (n, ...) with n >= 1, got "
                         f"{x0.dtype} {tuple(x0.shape)}")
    return x0


def _check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _sqnorm(r: torch.Tensor) -> torch.Tensor:
    """Per-example squared norm: sum over every dimension but the first."""
    return r.pow(2).flatten(1).sum(1)


def _per_example(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(n,) -> (n, 1, ..., 1) so it broadcasts against a batch shaped like ``like``."""
    return v.reshape(-1, *([1] * (like.ndim - 1))).to(like.dtype)


def _vp_tables(schedule) -> dict[str, torch.Tensor]:
    """``betas, alphas, alpha_bars`` of a discrete VP schedule as float64 tensors of length T (index t-1).

    ``schedule`` needs a 1-D ``betas``: either T entries, or T + 1 with ``betas[0] = 0`` standing for the clean
    data (as :class:`lib.diffusion.schedules.VPSchedule` stores them). ``alpha_bars`` are their cumulative product.
    """
    betas = getattr(schedule, "betas", None)
    if not isinstance(betas, torch.Tensor) or betas.ndim != 1:
        raise TypeError(f"schedule: expected a VP schedule with a 1-D tensor `betas` (e.g. VPSchedule.linear()), "
                        f"got {type(schedule).__name__}")
    betas = betas.detach().double().cpu()
    if betas[0] == 0:  # a table that stores the t = 0 entry first
        betas = betas[1:]
    alphas = 1.0 - betas
    return dict(betas=betas, alphas=alphas, alpha_bars=torch.cumprod(alphas, 0))


def _draw_steps(n: int, T: int, device, generator) -> torch.Tensor:
    return torch.randint(1, T + 1, (n,), device=device, generator=generator)


# --------------------------------------------------------------------------- the book's VE chain
def book_ve_loss(model: Callable, x0: torch.Tensor, chain, target: str = "x0",
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """The book's three regressions on the chain ``x_t = x_0 + sqrt(t sigma^2) eps`` (module docstring).

    ``chain`` has ``T`` (steps) and ``sigma2`` (per-step variance), e.g. ``BookVEChain(T, sigma2)``.
    ``x_{t-1}`` and ``x_t`` are drawn as one trajectory: ``x_{t-1} = x_0 + sqrt((t-1) sigma^2) e_1``,
    ``x_t = x_{t-1} + sigma e_2``.
    """
    x0 = _check_data(x0)
    _check_choice("target", target, VE_TARGETS)
    T, sigma2 = getattr(chain, "T", None), getattr(chain, "sigma2", None)
    if not isinstance(T, int) or T < 1 or not isinstance(sigma2, (int, float)) or not sigma2 > 0:
        raise TypeError(f"chain: expected an object with an integer T >= 1 and a positive sigma2, got {chain!r}")
    n = x0.shape[0]
    t = _draw_steps(n, T, x0.device, generator)
    tt = _per_example(t, x0)
    sigma = sigma2 ** 0.5
    e1 = torch.randn(x0.shape, device=x0.device, dtype=x0.dtype, generator=generator)
    e2 = torch.randn(x0.shape, device=x0.device, dtype=x0.dtype, generator=generator)
    x_prev = x0 + sigma * (tt - 1).sqrt() * e1
    x_t = x_prev + sigma * e2
    out = model(x_t, t)
    if target == "x_prev":
        return _sqnorm(x_prev - (x_t + sigma2 * out)).mean()
    if target == "x0":
        return _sqnorm(x0 - (x_t + tt * sigma2 * out)).mean()
    z = (x_t - x0) / (sigma * tt.sqrt())
    return _sqnorm(z - out).mean()


# --------------------------------------------------------------------------- DDPM
def elbo_weights(schedule, var: str = "beta_tilde") -> torch.Tensor:
    """``lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - abar_t))``, t = 1..T, float64 (T,).

    The KL between the true reverse step ``q(x_{t-1} | x_t, x_0)`` and the model ``N(mu_theta, sigma_t^2 I)``
    whose mean is written with ``eps_hat`` is ``lambda_t ||eps - eps_hat||^2`` plus a theta-free constant.
    ``var`` is the model variance: ``"beta"`` (sigma_t^2 = beta_t) or ``"beta_tilde"`` (the posterior
    variance ``(1 - abar_{t-1}) / (1 - abar_t) beta_t``, which is 0 at t = 1, where beta_1 is used).
    """
    _check_choice("var", var, ("beta", "beta_tilde"))
    tab = _vp_tables(schedule)
    b, a, ab = tab["betas"], tab["alphas"], tab["alpha_bars"]
    sigma2 = b.clone()
    if var == "beta_tilde":
        sigma2[1:] = (1 - ab[:-1]) / (1 - ab[1:]) * b[1:]
    return b ** 2 / (2 * sigma2 * a * (1 - ab))


def book_ve_elbo_weights(T: int) -> torch.Tensor:
    """ELBO weights of the book's VE chain for the standardised noise ``z``: ``1 / (2 t)``, t = 1..T.

    (For the cumulative noise ``eps_t = x_t - x_0`` the weight is ``1 / (2 sigma^2 t^2)``.)
    """
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise ValueError(f"T: expected an integer >= 1, got {T!r}")
    return 1.0 / (2.0 * torch.arange(1, T + 1, dtype=torch.float64))


def _param_factor(param: str, ab: torch.Tensor) -> torch.Tensor:
    """``c_t`` with ``||eps - eps_hat||^2 = c_t ||target - output||^2`` for each parametrisation."""
    return {"eps": torch.ones_like(ab), "x0": ab / (1 - ab), "v": ab, "score": 1 - ab}[param]


def to_eps(out: torch.Tensor, x_t: torch.Tensor, alpha_bar: torch.Tensor, param: str) -> torch.Tensor:
    """Convert a network output in parametrisation ``param`` into ``eps_hat``.

    ``alpha_bar``: (n,) values of ``abar_t`` for the batch. ``x0``: ``(x_t - sqrt(abar) x0_hat) / sqrt(1 - abar)``;
    ``v``: ``sqrt(1 - abar) x_t + sqrt(abar) v_hat``; ``score``: ``-sqrt(1 - abar) s_hat``.
    """
    _check_choice("param", param, PARAMS)
    ab = _per_example(alpha_bar, x_t)
    if param == "eps":
        return out
    if param == "x0":
        return (x_t - ab.sqrt() * out) / (1 - ab).sqrt()
    if param == "v":
        return (1 - ab).sqrt() * x_t + ab.sqrt() * out
    return -(1 - ab).sqrt() * out


def eps_model(model: Callable, schedule, param: str = "eps") -> Callable:
    """``fn(x_t, t) -> eps_hat`` for a network trained with ``ddpm_loss(param=...)``; ``t`` integer in 1..T
    (a python int or an (n,) tensor). This is what the DDPM samplers take."""
    _check_choice("param", param, PARAMS)
    ab_table = _vp_tables(schedule)["alpha_bars"]

    def fn(x: torch.Tensor, t) -> torch.Tensor:
        tt = torch.as_tensor(t, device=x.device).long().expand(x.shape[0])
        ab = ab_table.to(device=x.device, dtype=x.dtype)[tt - 1]
        return to_eps(model(x, tt), x, ab, param)

    return fn


def ddpm_loss(model: Callable, x0: torch.Tensor, schedule, param: str = "eps", weighting: str = "simple",
              generator: torch.Generator | None = None, var: str = "beta_tilde") -> torch.Tensor:
    """DDPM regression ``E_{t, x0, eps} w_t ||target_param - model(x_t, t)||^2`` (module docstring).

    ``schedule``: a discrete VP schedule with ``betas`` (T,), e.g. ``VPSchedule.linear()``; the model
    receives the integer step ``t`` in 1..T. ``var`` picks the model variance for the ELBO weights.
    """
    x0 = _check_data(x0)
    _check_choice("param", param, PARAMS)
    _check_choice("weighting", weighting, WEIGHTINGS)
    tab = _vp_tables(schedule)
    T = tab["betas"].shape[0]
    t = _draw_steps(x0.shape[0], T, x0.device, generator)
    ab = tab["alpha_bars"].to(device=x0.device, dtype=x0.dtype)[t - 1]  # x0's dtype: MPS has no float64
    abx = _per_example(ab, x0)
    eps = torch.randn(x0.shape, device=x0.device, dtype=x0.dtype, generator=generator)
    x_t = abx.sqrt() * x0 + (1 - abx).sqrt() * eps
    target = {"eps": eps, "x0": x0, "v": abx.sqrt() * eps - (1 - abx).sqrt() * x0,
              "score": -eps / (1 - abx).sqrt()}[param]
    err = _sqnorm(target - model(x_t, t))
    if weighting == "elbo":
        lam = elbo_weights(schedule, var).to(device=x0.device, dtype=x0.dtype)[t - 1]
        err = err * lam * _param_factor(param, ab)
    return err.mean()


# --------------------------------------------------------------------------- score matching (6.7)
def dsm_loss(score_fn: Callable, x0: torch.Tensor, a: float, b: float,
             generator: torch.Generator | None = None, eps: torch.Tensor | None = None) -> torch.Tensor:
    """Denoising score matching at one noise level: ``E ||s(x_t) - grad log q(x_t | x_0)||^2`` with
    ``x_t = a x_0 + b eps`` and ``grad log q(x_t | x_0) = -eps / b``. Pass ``eps`` for common random numbers."""
    x0 = _check_data(x0)
    if not b > 0:
        raise ValueError(f"b: expected a positive noise scale, got {b!r}")
    if eps is None:
        eps = torch.randn(x0.shape, device=x0.device, dtype=x0.dtype, generator=generator)
    elif eps.shape != x0.shape:
        raise ValueError(f"eps: expected the shape of x0 {tuple(x0.shape)}, got {tuple(eps.shape)}")
    x_t = a * x0 + b * eps
    return _sqnorm(score_fn(x_t) + eps / b).mean()


def esm_loss(score_fn: Callable, x_t: torch.Tensor, exact_score: torch.Tensor) -> torch.Tensor:
    """Explicit score matching: ``E ||s(x_t) - grad log p_t(x_t)||^2`` given the exact score at ``x_t``."""
    x_t = _check_data(x_t)
    if not isinstance(exact_score, torch.Tensor) or exact_score.shape != x_t.shape:
        raise ValueError(f"exact_score: expected a tensor of shape {tuple(x_t.shape)}")
    return _sqnorm(score_fn(x_t) - exact_score).mean()


# --------------------------------------------------------------------------- Gaussian KL
def gaussian_kl(m1: torch.Tensor, v1, m2: torch.Tensor, v2) -> torch.Tensor:
    """``KL(N(m1, diag v1) || N(m2, diag v2))`` summed over the last dimension.

    ``m1, m2`` (..., d); ``v1, v2`` positive variances broadcastable to them (scalars for isotropic)::

        KL = 1/2 sum_i [ log(v2_i / v1_i) + (v1_i + (m1_i - m2_i)^2) / v2_i - 1 ]
    """
    m1, m2 = torch.as_tensor(m1), torch.as_tensor(m2)
    v1 = torch.as_tensor(v1, dtype=m1.dtype, device=m1.device)
    v2 = torch.as_tensor(v2, dtype=m1.dtype, device=m1.device)
    if m1.shape != m2.shape:
        raise ValueError(f"m2: expected the shape of m1 {tuple(m1.shape)}, got {tuple(m2.shape)}")
    if (v1 <= 0).any() or (v2 <= 0).any():
        raise ValueError("v1, v2: expected positive variances")
    v1, v2 = v1.expand_as(m1), v2.expand_as(m1)
    return 0.5 * (torch.log(v2 / v1) + (v1 + (m1 - m2) ** 2) / v2 - 1).sum(-1)
