"""Public checks for the Chapter 6 exercises (``exercises/ch06_diffusion.ipynb``).

Questions: q1 the population round trip (forward marginal and backward conditional), q2 the VP forward process
(alpha-bar and closed-form noising), q3 the exact score of a noised Gaussian mixture (Tweedie, denoising score
matching), q4 the DDPM epsilon loss, q5 the ancestral step (DDPM, and the book's VE chain corrected), q6 a Heun
step of the probability-flow ODE, q7 flow matching (loss, Euler sampler, velocity to score), q8 Langevin dynamics
(plain and annealed), q9 the deterministic DDIM step.

Every reference is computed here, independently of the course's topic modules (``lib.gmm``, ``lib.diffusion``):
a small Gaussian-mixture oracle in float64 torch (exact noised density, score by the mixture formula, posterior
means by per-component Gaussian conditioning, ``torch.autograd`` for gradients), the energy distance and
nearest-mean mode statistics. Samplers are judged on the 8-Gaussian ring (radius 2, std 0.1) with the exact
score: energy distance below 0.02 (data against data: about 0.004), mode weights within 0.04 and the within-mode
std within 15 % of the data's (the energy distance alone misses wrong noise scales inside a mode). The book's own
slips (Algorithm 5's sigma^2/t, the flow-matching conversion v = x + (t + 1) s, the DDIM update (6.141), the
Langevin coefficient) are named when a wrong answer matches them. The underscore helpers are shared with
``tests/hidden/ch06_diffusion.py``.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import torch

from lib.grading import check
from lib.grading.answers import (answered as _answered, as_array as _array, as_number as _number, close as _close,
                                 looks_like as _looks_like, near as _near, unchanged as _unchanged)

F64 = torch.float64


# --------------------------------------------------------------------------- answers as tensors
def _t(value, name: str, shape: tuple | None = None) -> torch.Tensor:
    """The student's answer as a finite float64 tensor (numpy, lists and tensors accepted)."""
    return torch.from_numpy(_array(value, name, shape=shape))


# --------------------------------------------------------------------------- the Gaussian-mixture oracle
def _ring(K: int = 8, radius: float = 2.0, std: float = 0.1, weights=None):
    """(weights (K,), means (K, 2), covs (K, 2, 2)) of K isotropic Gaussians evenly spaced on a circle."""
    ang = torch.arange(K, dtype=F64) * 2 * math.pi / K
    means = radius * torch.stack([torch.cos(ang), torch.sin(ang)], 1)
    w = torch.full((K,), 1.0 / K, dtype=F64) if weights is None else torch.tensor(weights, dtype=F64)
    return w, means, std ** 2 * torch.eye(2, dtype=F64).repeat(K, 1, 1)


def _random_mixture(gen: torch.Generator, K: int = 3, d: int = 2):
    """A mixture with random weights, means and full (anisotropic) covariances."""
    w = torch.rand(K, generator=gen, dtype=F64) + 0.2
    A = torch.randn(K, d, d, generator=gen, dtype=F64) * 0.5
    return w / w.sum(), 2 * torch.randn(K, d, generator=gen, dtype=F64), A @ A.transpose(1, 2) + 0.1 * torch.eye(d, dtype=F64)


def _noised(mix, a: float, b: float):
    """The law of a X + b eps for X ~ mix: sum_k pi_k N(a mu_k, a^2 Sigma_k + b^2 I)."""
    w, m, C = mix
    return w, a * m, a * a * C + b * b * torch.eye(m.shape[1], dtype=F64)


def _components(x, mix):
    """log(pi_k N(x; mu_k, Sigma_k)) of shape (n, K), and Sigma_k^{-1}(x - mu_k) of shape (n, K, d)."""
    w, m, C = mix
    diff = x[:, None, :] - m[None]
    prec_diff = torch.einsum("kij,nkj->nki", torch.linalg.inv(C), diff)
    logc = (torch.log(w) - 0.5 * (diff * prec_diff).sum(-1) - 0.5 * torch.logdet(C)
            - 0.5 * m.shape[1] * math.log(2 * math.pi))
    return logc, prec_diff


def _log_prob(x, mix):
    return torch.logsumexp(_components(x, mix)[0], 1)


def _score(x, mix):
    """grad log p(x) = -sum_k r_k(x) Sigma_k^{-1}(x - mu_k); a shortcut when every Sigma_k is v_k I."""
    w, m, C = mix
    v = C[:, 0, 0]
    if torch.equal(C, v[:, None, None] * torch.eye(m.shape[1], dtype=F64)):
        logc = torch.log(w) - torch.cdist(x, m) ** 2 / (2 * v) - 0.5 * m.shape[1] * torch.log(v)
        r = torch.softmax(logc, 1) / v  # r_k / v_k
        return r @ m - x * r.sum(1, keepdim=True)
    logc, prec_diff = _components(x, mix)
    return -(torch.softmax(logc, 1)[..., None] * prec_diff).sum(1)


def _score_t(x, mix, a: float, b: float):
    return _score(x, _noised(mix, a, b))


def _posterior_mean(x, mix, a: float, b: float):
    """E[x_0 | x_t = x] for x_t = a x_0 + b eps, by Gaussian conditioning inside each component."""
    w, m, C = mix
    logc, prec_diff = _components(x, _noised(mix, a, b))
    cond = m[None] + a * torch.einsum("kij,nkj->nki", C, prec_diff)
    return (torch.softmax(logc, 1)[..., None] * cond).sum(1)


def _fm_velocity(x, mix, t: float):
    """E[x_0 - x_1 | x_t = x] for x_t = (1 - t) x_0 + t x_1, x_1 ~ N(0, I); regular at t = 1."""
    w, m, C = mix
    a, b = 1.0 - t, t
    logc, prec_diff = _components(x, _noised(mix, a, b))
    x0 = m[None] + a * torch.einsum("kij,nkj->nki", C, prec_diff)
    x1 = b * prec_diff
    return (torch.softmax(logc, 1)[..., None] * (x0 - x1)).sum(1)


def _sample(mix, n: int, gen: torch.Generator):
    w, m, C = mix
    k = torch.multinomial(w, n, replacement=True, generator=gen)
    z = torch.randn(n, m.shape[1], generator=gen, dtype=F64)
    return m[k] + torch.einsum("nij,nj->ni", torch.linalg.cholesky(C)[k], z)


def _energy_distance(x, y) -> float:
    """2 E|X - Y| - E|X - X'| - E|Y - Y'| (V-statistics)."""
    return float(2 * torch.cdist(x, y).mean() - torch.cdist(x, x).mean() - torch.cdist(y, y).mean())


def _mode_stats(x, mix):
    """(weights of the nearest-mean assignment, RMS distance to the nearest mean / sqrt(2))."""
    w, m, _ = mix
    d = torch.cdist(x, m)
    weights = torch.bincount(d.argmin(1), minlength=len(m)).to(F64) / len(x)
    return weights, float(torch.sqrt((d.min(1).values ** 2).mean() / 2))


@functools.lru_cache(maxsize=None)
def _ring_data(seed: int, n: int = 2000):
    return _sample(_ring(), n, torch.Generator().manual_seed(seed))


def _judge_samples(x, name: str, seed: int, mix=None, ed_max: float = 0.02, std_tol: float = 0.15,
                   weight_tol: float = 0.04, check_std: bool = True, mistakes: str = "") -> None:
    """Samples ``x`` (n, 2) of the ring: energy distance, mode weights and within-mode std against data."""
    data = _ring_data(seed, len(x)) if mix is None else _sample(mix, len(x), torch.Generator().manual_seed(seed))
    mix = _ring() if mix is None else mix
    ed = _energy_distance(x, data)
    weights, within = _mode_stats(x, mix)
    _, within_data = _mode_stats(data, mix)
    assert ed < ed_max, (f"{name}: energy distance to data samples {ed:.4f}, expected < {ed_max} (data against "
                         f"data gives about 0.004){mistakes}")
    dev = float((weights - mix[0]).abs().max())
    assert dev < weight_tol, (f"{name}: mode weights {np.round(weights.numpy(), 3).tolist()}, off by up to {dev:.3f} "
                              f"from {np.round(mix[0].numpy(), 3).tolist()} (allowed {weight_tol}){mistakes}")
    if check_std:
        assert abs(within / within_data - 1) < std_tol, (
            f"{name}: within-mode std {within:.4f}, the data's is {within_data:.4f} (off by "
            f"{100 * abs(within / within_data - 1):.0f} %, allowed {100 * std_tol:.0f} %): the clusters are "
            f"{'too tight' if within < within_data else 'too wide'}{mistakes}")


# --------------------------------------------------------------------------- q1: the population round trip
P_BOOK = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.4, 0.5]])
p_BOOK = np.array([0.4, 0.3, 0.3])


def _marginal_ref(p, P):
    return p @ P


def _backward_ref(p, P):
    joint = p[:, None] * P  # joint[x, y] = p(x) P(y | x)
    return (joint / joint.sum(0)).T  # B[y, x] = p(x | y)


def _q1_mistakes(p, P) -> dict:
    joint = p[:, None] * P
    return {"the forward matrix transposed, P.T (normalised over y instead of x)": P.T,
            "the joint p(x, y) without dividing by the marginal": joint.T,
            "B[x, y] instead of B[y, x] (transposed)": joint / joint.sum(0),
            "P @ p instead of p @ P": P @ p if P.shape[0] == P.shape[1] else np.zeros(1)}


def _random_stochastic(rng, n_x: int, n_y: int):
    p = rng.dirichlet(np.ones(n_x))
    P = rng.dirichlet(np.ones(n_y), size=n_x)
    return p, P


@check("q1", points=1, hint="p~(y) = sum_x p(x) P[x, y], i.e. p @ P")
def marginal_of_the_book_tables(marginal):
    got = _close(marginal(p_BOOK.copy(), P_BOOK.copy()), [0.33, 0.39, 0.28], 1e-12,
                 "marginal(p, P) for Tables 6.1 and 6.2", {"P @ p instead of p @ P": P_BOOK @ p_BOOK})
    rng = np.random.default_rng(601)
    for k in range(20):
        p, P = _random_stochastic(rng, int(rng.integers(2, 6)), int(rng.integers(2, 6)))
        _close(marginal(p.copy(), P.copy()), _marginal_ref(p, P), 1e-12,
               f"marginal on random case {k + 1} ({P.shape[0]} states to {P.shape[1]})")
    assert got.shape == (3,)


@check("q1", points=1.5, hint="B[y, x] = p(x) P[x, y] / p~(y): divide each column of the joint by its sum")
def backward_conditional_of_the_book_tables(backward_conditional):
    B = _close(backward_conditional(p_BOOK.copy(), P_BOOK.copy()), _backward_ref(p_BOOK, P_BOOK), 1e-12,
               "backward_conditional(p, P) for the book's tables", _q1_mistakes(p_BOOK, P_BOOK))
    _close(B[0], [0.24 / 0.33, 0.06 / 0.33, 0.03 / 0.33], 1e-12,
           "row y = 1 of B, p(x | y = 1) = (0.727, 0.182, 0.091)")


@check("q1", points=1.5, hint="rows of B are distributions, and sum_y p~(y) B[y, x] = p(x)")
def round_trip_returns_the_population(backward_conditional):
    rng = np.random.default_rng(602)
    for k in range(50):
        p, P = _random_stochastic(rng, int(rng.integers(2, 7)), int(rng.integers(2, 7)))
        name = f"backward_conditional on random case {k + 1} ({P.shape[0]} states to {P.shape[1]})"
        B = _array(backward_conditional(p.copy(), P.copy()), name, shape=(P.shape[1], P.shape[0]))
        rows = B.sum(1)
        assert np.abs(rows - 1).max() < 1e-12, (f"{name}: the rows of B should sum to 1 (each is p(. | y)), got sums "
                                                f"{np.round(rows, 4).tolist()}." + _looks_like(B, _q1_mistakes(p, P)))
        back = _marginal_ref(p, P) @ B
        assert np.abs(back - p).max() < 1e-12, (f"{name}: sending p~ back through B should return p, max error "
                                                f"{np.abs(back - p).max():.1e}." + _looks_like(B, _q1_mistakes(p, P)))


# --------------------------------------------------------------------------- q2: the VP forward process
def _linear_betas(T: int = 1000, lo: float = 1e-4, hi: float = 0.02):
    return torch.linspace(lo, hi, T, dtype=F64)


def _q2_mistakes(x0, t, ab, noise) -> dict:
    a, s = ab[t][:, None], (1 - ab[t])[:, None]
    return {"the mean alpha_bar x0 instead of sqrt(alpha_bar) x0": a * x0 + s.sqrt() * noise,
            "the noise scale 1 - alpha_bar instead of its square root": a.sqrt() * x0 + s * noise,
            "alpha_bar of the step after t (index t + 1)": ab[(t + 1).clamp(max=len(ab) - 1)][:, None].sqrt() * x0
            + (1 - ab[(t + 1).clamp(max=len(ab) - 1)][:, None]).sqrt() * noise}


@check("q2", points=1.5, hint="alpha_t = 1 - beta_t and alpha_bar_t = alpha_1 ... alpha_t (torch.cumprod)")
def alpha_bar_of_the_linear_schedule(alpha_bar):
    betas = _linear_betas()
    got = _t(alpha_bar(betas.clone()), "alpha_bar(betas)", shape=(1000,))
    want = torch.cumprod(1 - betas, 0)
    _near(float(got[-1]), 4.036e-5, 1e-7, "alpha_bar at T = 1000 for betas from 1e-4 to 0.02",
          {"1 - sum(betas)": float(1 - betas.sum()), "the product of the betas": 0.0,
           "exp(-sum(betas))": float(torch.exp(-betas.sum()))})
    _close(got, want, 1e-12, "alpha_bar(betas) at every step")
    cos = torch.linspace(0.001, 0.3, 50, dtype=F64)
    _close(alpha_bar(cos.clone()), torch.cumprod(1 - cos, 0), 1e-12, "alpha_bar on another schedule (50 steps)")


@check("q2", points=1.5, hint="x_t = sqrt(alpha_bar[t]) x0 + sqrt(1 - alpha_bar[t]) noise, one t per row")
def q_sample_is_the_closed_form(q_sample):
    gen = torch.Generator().manual_seed(603)
    ab = torch.cumprod(1 - _linear_betas(), 0)
    x0 = torch.randn(64, 2, generator=gen, dtype=F64) + 1.5
    t = torch.randint(0, 1000, (64,), generator=gen)
    noise = torch.randn(64, 2, generator=gen, dtype=F64)
    want = ab[t][:, None].sqrt() * x0 + (1 - ab[t])[:, None].sqrt() * noise
    _close(q_sample(x0.clone(), t.clone(), ab.clone(), noise.clone()), want, 1e-12,
           "q_sample(x0, t, alpha_bars, noise)", _q2_mistakes(x0, t, ab, noise))


def _chain_moments(t_index: int, x0, betas):
    """Mean and variance of x_t | x_0 by running the chain's moments step by step (Lemma 30 without the lemma):
    x_s = sqrt(alpha_s) x_{s-1} + sqrt(beta_s) e_s maps (mean, var) to (sqrt(alpha_s) mean, alpha_s var + beta_s)."""
    mean, var = torch.tensor(x0, dtype=F64), torch.tensor(0.0, dtype=F64)
    for s in range(t_index + 1):
        mean, var = (1 - betas[s]).sqrt() * mean, (1 - betas[s]) * var + betas[s]
    return mean, var


@check("q2", points=1, hint="the closed form must agree with running the chain step by step")
def q_sample_agrees_with_the_markov_chain(q_sample):
    betas = _linear_betas()
    ab = torch.cumprod(1 - betas, 0)
    gen = torch.Generator().manual_seed(604)
    n = 100_000
    for t_index, x0 in ((99, [2.0, -1.0]), (599, [3.0, 0.5])):
        mean, var = _chain_moments(t_index, x0, betas)
        x0s = torch.tensor(x0, dtype=F64).repeat(n, 1)
        got = _t(q_sample(x0s, torch.full((n,), t_index, dtype=torch.long), ab.clone(),
                          torch.randn(n, 2, generator=gen, dtype=F64)), "q_sample", shape=(n, 2))
        for what, emp, want, tol in (("mean", got.mean(0), mean, 0.01 + 0.01 * mean.abs()),
                                     ("variance", got.var(0), var.expand(2), 0.02 * var)):
            err = (emp - want).abs()
            assert bool((err < tol).all()), (
                f"{what} of x_t given x_0 = {x0} at t = {t_index + 1} over {n} draws of q_sample: "
                f"{np.round(emp.numpy(), 4).tolist()}; {t_index + 1} steps of the chain give "
                f"{np.round(want.numpy(), 4).tolist()}")


# --------------------------------------------------------------------------- q3: exact score of a noised mixture
def _call_score(gmm_score, x, mix, a, b, name):
    w, m, C = mix
    return _t(gmm_score(x.clone(), w.clone(), m.clone(), C.clone(), a, b), name, shape=tuple(x.shape))


def _q3_mistakes(x, mix, a, b) -> dict:
    w, m, C = mix
    return {"the clean-data score (b = 0) used at x_t": _score(x, mix),
            "the noised covariances without a^2 (Sigma_k + b^2 I)": _score(x, (w, a * m, C + b * b * torch.eye(m.shape[1], dtype=F64))),
            "the means not scaled by a": _score(x, (w, m, a * a * C + b * b * torch.eye(m.shape[1], dtype=F64)))}


@check("q3", points=2, hint="p_t = sum_k pi_k N(a mu_k, a^2 Sigma_k + b^2 I); its score is "
                            "-sum_k r_k(x) (a^2 Sigma_k + b^2 I)^{-1} (x - a mu_k)")
def gmm_score_matches_autograd(gmm_score):
    gen = torch.Generator().manual_seed(605)
    for k, (a, b) in enumerate(((0.8, 0.6), (1.0, 0.5), (0.3, 0.95), (1.0, 0.0))):
        mix = _random_mixture(gen, K=3, d=2)
        x = (3 * torch.randn(50, 2, generator=gen, dtype=F64)).requires_grad_(True)
        want = torch.autograd.grad(_log_prob(x, _noised(mix, a, b)).sum(), x)[0]
        x = x.detach()
        got = _call_score(gmm_score, x, mix, a, b, f"gmm_score at a = {a}, b = {b}")
        _close(got, want, 1e-8, f"gmm_score at a = {a}, b = {b} (against torch.autograd of log p_t)",
               _q3_mistakes(x, mix, a, b) if b > 0 else {})


@check("q3", points=1.5, hint="Tweedie: E[x_0 | x_t] = (x_t + b^2 grad log p_t(x_t)) / a")
def tweedie_gives_the_posterior_mean(gmm_score):
    gen = torch.Generator().manual_seed(606)
    mix = _ring()
    for a, b in ((0.9, 0.44), (0.5, 0.87), (0.1, 0.995)):
        x = _sample(_noised(mix, a, b), 200, gen)
        s = _call_score(gmm_score, x, mix, a, b, f"gmm_score on the ring at a = {a}, b = {b}")
        _close((x + b * b * s) / a, _posterior_mean(x, mix, a, b), 1e-8,
               f"(x + b^2 gmm_score) / a compared with E[x_0 | x_t] by Gaussian conditioning (a = {a}, b = {b})",
               {k: (x + b * b * v) / a for k, v in _q3_mistakes(x, mix, a, b).items()})


def _dsm_minus_esm(gmm_score, mix, a, b, n, seed):
    """For three candidate scores s: the per-sample DSM(s) - ESM(s), with the student's score as the exact one."""
    gen = torch.Generator().manual_seed(seed)
    x0 = _sample(mix, n, gen)
    eps = torch.randn(x0.shape, generator=gen, dtype=F64)
    xt = a * x0 + b * eps
    exact = _call_score(gmm_score, xt, mix, a, b, f"gmm_score on {n} noised samples")
    cond = -eps / b  # grad log q(x_t | x_0)
    candidates = {"the exact score": exact, "0.9 x the exact score": 0.9 * exact,
                  "the linear map -x / (a^2 + b^2)": -xt / (a * a + b * b)}
    return {k: ((s - cond) ** 2).sum(1) - ((s - exact) ** 2).sum(1) for k, s in candidates.items()}


@check("q3", points=1.5, hint="denoising score matching = explicit score matching + a constant that does not "
                              "depend on the candidate, when the explicit one uses the true score")
def denoising_and_explicit_score_matching_differ_by_a_constant(gmm_score):
    vals = _dsm_minus_esm(gmm_score, _ring(), 0.8, 0.6, 200_000, 607)
    names = list(vals)
    ref = vals[names[0]]
    for k in names[1:]:
        diff = vals[k] - ref
        se = float(diff.std() / math.sqrt(len(diff)))
        gap = float(diff.mean())
        assert abs(gap) < 3 * se + 1e-12, (
            f"DSM - ESM should be the same constant for every candidate score; for {k} it differs from the exact "
            f"score's by {gap:.4g} ({abs(gap) / max(se, 1e-300):.1f} standard errors, allowed 3). Is gmm_score the score "
            f"of the noised density p_t?")


# --------------------------------------------------------------------------- q4: the DDPM loss
class _LinearEps(torch.nn.Module):
    """eps_theta(x, t) = x W + (t / T) c: a model with parameters, to test the loss."""

    def __init__(self, seed: int, d: int = 2, T: int = 1000):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.W = torch.nn.Parameter(torch.randn(d, d, generator=gen, dtype=F64))
        self.c = torch.nn.Parameter(torch.randn(d, generator=gen, dtype=F64))
        self.T = T

    def forward(self, x, t):
        return x @ self.W + (torch.as_tensor(t, dtype=F64).reshape(-1, 1) / self.T) * self.c


def _ddpm_loss_ref(model, x0, ab, t, noise):
    xt = ab[t][:, None].sqrt() * x0 + (1 - ab[t])[:, None].sqrt() * noise
    return ((noise - model(xt, t)) ** 2).mean()


def _q4_mistakes(model, x0, ab, t, noise) -> dict:
    with torch.no_grad():
        xt_var = ab[t][:, None].sqrt() * x0 + (1 - ab[t])[:, None] * noise
        xt = ab[t][:, None].sqrt() * x0 + (1 - ab[t])[:, None].sqrt() * noise
        return {"the model fed x_0 instead of x_t": float(((noise - model(x0, t)) ** 2).mean()),
                "x_t built with 1 - alpha_bar instead of its square root": float(((noise - model(xt_var, t)) ** 2).mean()),
                "a sum over the coordinates (mean over the batch only)": float(((noise - model(xt, t)) ** 2).sum(1).mean()),
                "the model's output compared with x_0 instead of the noise": float(((x0 - model(xt, t)) ** 2).mean())}


def _q4_case(seed: int, n: int = 256):
    gen = torch.Generator().manual_seed(seed)
    ab = torch.cumprod(1 - _linear_betas(), 0)
    x0 = _sample(_ring(), n, gen)
    return ab, x0, torch.randint(0, 1000, (n,), generator=gen), torch.randn(n, 2, generator=gen, dtype=F64)


@check("q4", points=2, hint="x_t = sqrt(ab[t]) x0 + sqrt(1 - ab[t]) noise; loss = mean of (noise - model(x_t, t))^2 "
                            "over all entries")
def ddpm_loss_matches_the_reference(ddpm_loss):
    ab, x0, t, noise = _q4_case(608)
    model = _LinearEps(609)
    got = ddpm_loss(model, x0.clone(), ab.clone(), t.clone(), noise.clone())
    with torch.no_grad():
        want = float(_ddpm_loss_ref(model, x0, ab, t, noise))
    _near(_number(got, "ddpm_loss"), want, 1e-10 * max(1.0, want), "ddpm_loss with a linear model",
          _q4_mistakes(model, x0, ab, t, noise))


@check("q4", points=1.5, hint="the loss must back-propagate into the model's parameters")
def ddpm_loss_has_a_gradient(ddpm_loss):
    ab, x0, t, noise = _q4_case(610)
    model = _LinearEps(611)
    loss = ddpm_loss(model, x0.clone(), ab.clone(), t.clone(), noise.clone())
    _answered(loss, "ddpm_loss")
    assert isinstance(loss, torch.Tensor) and loss.requires_grad, (
        f"ddpm_loss should return a torch tensor connected to the model's parameters, got {type(loss).__name__}"
        f"{' without a gradient (detached, or .item()?)' if isinstance(loss, torch.Tensor) else ''}")
    assert loss.numel() == 1, f"ddpm_loss should return a scalar, got shape {tuple(loss.shape)}"
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, (
            f"the gradient of ddpm_loss with respect to the parameter {name} is missing, zero or not finite")


@check("q4", points=1.5, hint="the exact noise predictor -b_t grad log p_t(x_t) minimises the loss")
def oracle_noise_predictor_has_the_lowest_loss(ddpm_loss):
    ab, x0, t, noise = _q4_case(612, n=20_000)
    mix = _ring()

    def oracle(x, tt, scale=1.0, shift=0.0):
        out = torch.empty_like(x)
        for i in torch.unique(tt).tolist():
            rows = tt == i
            a, b = float(ab[i].sqrt()), float((1 - ab[i]).sqrt())
            out[rows] = -b * _score_t(x[rows], mix, a, b)
        return scale * out + shift

    losses = {}
    for label, f in (("the exact predictor", oracle), ("1.1 x the exact predictor", lambda x, tt: oracle(x, tt, 1.1)),
                     ("the exact predictor + 0.1", lambda x, tt: oracle(x, tt, shift=0.1))):
        with torch.no_grad():
            losses[label] = _number(ddpm_loss(f, x0.clone(), ab.clone(), t.clone(), noise.clone()), f"ddpm_loss of {label}")
    best = min(losses, key=losses.get)
    assert best == "the exact predictor", (f"on 20000 samples the exact noise predictor should have the lowest loss; got "
                                           + ", ".join(f"{k}: {v:.5f}" for k, v in losses.items())
                                           + ". Does the model see x_t (not x_0)?")


# --------------------------------------------------------------------------- q5: ancestral sampling
def _ancestral_ref(x, t, eps, betas, ab, z):
    mean = (x - betas[t] / (1 - ab[t]).sqrt() * eps) / (1 - betas[t]).sqrt()
    return mean + betas[t].sqrt() * z if t > 0 else mean


def _q5_mistakes(x, t, eps, betas, ab, z) -> dict:
    mean = (x - betas[t] / (1 - ab[t]).sqrt() * eps) / (1 - betas[t]).sqrt()
    return {"the noise std beta_t instead of sqrt(beta_t)": mean + (betas[t] * z if t > 0 else 0),
            "the coefficient beta_t / (1 - alpha_bar_t) instead of beta_t / sqrt(1 - alpha_bar_t)":
            (x - betas[t] / (1 - ab[t]) * eps) / (1 - betas[t]).sqrt() + (betas[t].sqrt() * z if t > 0 else 0),
            "noise added at the last step (t = 0)": mean + betas[t].sqrt() * z,
            "no division by sqrt(alpha_t)": x - betas[t] / (1 - ab[t]).sqrt() * eps + (betas[t].sqrt() * z if t > 0 else 0)}


def _eps_oracle(mix, ab):
    def eps(x, t):
        a, b = float(ab[t].sqrt()), float((1 - ab[t]).sqrt())
        return -b * _score_t(x, mix, a, b)
    return eps


def _run_ancestral(ancestral_step, mix, n: int, seed: int, T: int = 1000):
    gen = torch.Generator().manual_seed(seed)
    betas = _linear_betas(T)
    ab = torch.cumprod(1 - betas, 0)
    eps = _eps_oracle(mix, ab)
    x = torch.randn(n, 2, generator=gen, dtype=F64)
    for t in range(T - 1, -1, -1):
        z = torch.randn(n, 2, generator=gen, dtype=F64)
        x = _t(ancestral_step(x, t, eps(x, t), betas, ab, z), f"ancestral_step at t = {t}", shape=(n, 2))
    return x


@check("q5", points=1.5, hint="x_{t-1} = (x_t - beta_t / sqrt(1 - ab_t) eps_hat) / sqrt(alpha_t) + sqrt(beta_t) z, "
                              "without the noise at t = 0")
def ancestral_step_matches_the_reference(ancestral_step):
    gen = torch.Generator().manual_seed(613)
    betas = _linear_betas()
    ab = torch.cumprod(1 - betas, 0)
    for t in (999, 500, 37, 0):
        x, eps, z = (torch.randn(20, 2, generator=gen, dtype=F64) for _ in range(3))
        _close(ancestral_step(x.clone(), t, eps.clone(), betas.clone(), ab.clone(), z.clone()),
               _ancestral_ref(x, t, eps, betas, ab, z), 1e-12, f"ancestral_step at t = {t}",
               _q5_mistakes(x, t, eps, betas, ab, z))


@check("q5", points=2, hint="with the exact noise predictor, 1000 steps should reproduce the ring: energy "
                            "distance, mode weights and the spread inside each mode")
def ancestral_sampling_reproduces_the_ring(ancestral_step):
    x = _run_ancestral(ancestral_step, _ring(), 2000, 614)
    _judge_samples(x, "1000 ancestral steps with the exact score (2000 samples)", 615)


def _book_ve_ref(x, t, eps, sigma2, z):
    return x - eps / t + (math.sqrt(sigma2) * z if t > 1 else 0)


def _run_book_ve(book_ve_step, mix, n: int, seed: int, T: int = 200, sigma2: float = 0.05):
    """The book's VE chain x_t = x_0 + sqrt(t sigma^2) eps, sampled backwards with eps_theta = x_t - E[x_0 | x_t]."""
    gen = torch.Generator().manual_seed(seed)
    x = math.sqrt(T * sigma2) * torch.randn(n, 2, generator=gen, dtype=F64)
    for t in range(T, 0, -1):
        eps = -t * sigma2 * _score_t(x, mix, 1.0, math.sqrt(t * sigma2))
        z = torch.randn(n, 2, generator=gen, dtype=F64)
        x = _t(book_ve_step(x, t, eps, sigma2, z), f"book_ve_step at t = {t}", shape=(n, 2))
    return x


@check("q5", points=1.5, hint="eps_theta predicts x_t - x_0, so x_{t-1} = x_t - eps_theta / t + sigma z "
                              "(no sigma^2 in the drift), without noise at t = 1")
def book_ve_step_is_corrected(book_ve_step):
    gen = torch.Generator().manual_seed(616)
    for t, s2 in ((200, 0.05), (7, 0.3), (1, 0.05)):
        x, eps, z = (torch.randn(20, 2, generator=gen, dtype=F64) for _ in range(3))
        _close(book_ve_step(x.clone(), t, eps.clone(), s2, z.clone()), _book_ve_ref(x, t, eps, s2, z), 1e-12,
               f"book_ve_step at t = {t}, sigma^2 = {s2}",
               {"Algorithm 5's drift sigma^2 / t eps_theta (the book's slip)": x - s2 / t * eps + (math.sqrt(s2) * z if t > 1 else 0),
                "noise added at the last step (t = 1)": x - eps / t + math.sqrt(s2) * z})
    x = _run_book_ve(book_ve_step, _ring(), 2000, 617)
    _judge_samples(x, "200 steps of the book's VE chain (sigma^2 = 0.05) with the exact score", 618, check_std=False)


# --------------------------------------------------------------------------- q6: probability-flow ODE
BETA_MIN, BETA_MAX = 0.1, 20.0


def _vp_beta(t: float) -> float:
    return BETA_MIN + t * (BETA_MAX - BETA_MIN)


def _vp_coeffs(t: float) -> tuple[float, float]:
    ab = math.exp(-(BETA_MIN * t + 0.5 * (BETA_MAX - BETA_MIN) * t * t))
    return math.sqrt(ab), math.sqrt(1 - ab)


def _vp_score_fn(mix):
    return lambda x, t: _score_t(x, mix, *_vp_coeffs(float(t)))


def _heun_ref(x, t, t_next, score_fn, coef=0.5, drift_sign=-1.0, heun=True):
    def v(y, s):
        return drift_sign * 0.5 * _vp_beta(s) * y - coef * _vp_beta(s) * score_fn(y, s)
    d1 = v(x, t)
    if not heun:
        return x + (t_next - t) * d1
    d2 = v(x + (t_next - t) * d1, t_next)
    return x + (t_next - t) * (d1 + d2) / 2


def _integrate(step, x, times, score_fn, name):
    for t, t_next in zip(times[:-1], times[1:]):
        x = _t(step(x, float(t), float(t_next), score_fn), f"{name} from t = {t:.3f} to {t_next:.3f}",
               shape=tuple(x.shape))
    return x


@check("q6", points=2, hint="dx/dt = -1/2 beta(t) x - 1/2 beta(t) score(x, t); Heun: an Euler predictor, then the "
                            "average of the slopes at both ends")
def heun_step_matches_the_reference(pf_ode_step_heun):
    gen = torch.Generator().manual_seed(619)
    score_fn = _vp_score_fn(_ring())
    for t, t_next in ((1.0, 0.98), (0.5, 0.45), (0.05, 0.001)):
        x = 1.5 * torch.randn(30, 2, generator=gen, dtype=F64)
        want = _heun_ref(x, t, t_next, score_fn)
        got = _close(pf_ode_step_heun(x.clone(), t, t_next, score_fn), want, 1e-10,
                     f"pf_ode_step_heun from t = {t} to {t_next}",
                     {"the SDE's coefficient 1 on the score instead of 1/2": _heun_ref(x, t, t_next, score_fn, coef=1.0),
                      "the drift's sign flipped (+1/2 beta x)": _heun_ref(x, t, t_next, score_fn, drift_sign=1.0),
                      "an Euler step instead of Heun's": _heun_ref(x, t, t_next, score_fn, heun=False)})
        again = _array(pf_ode_step_heun(x.clone(), t, t_next, score_fn), "pf_ode_step_heun (second call)")
        assert np.array_equal(again, got), "pf_ode_step_heun is not deterministic: two calls on the same input differ"


@check("q6", points=2, hint="50 Heun steps from t = 1 to t = 0.001 with the exact score reproduce the ring")
def pf_ode_sampling_reproduces_the_ring(pf_ode_step_heun):
    mix = _ring()
    x1 = torch.randn(2000, 2, generator=torch.Generator().manual_seed(620), dtype=F64)
    x = _integrate(pf_ode_step_heun, x1, np.linspace(1.0, 1e-3, 51), _vp_score_fn(mix), "pf_ode_step_heun")
    _judge_samples(x, "50 Heun steps of the probability-flow ODE (2000 samples)", 621)


# --------------------------------------------------------------------------- q7: flow matching
def _fm_loss_ref(v_model, x0, x1, t):
    xt = (1 - t)[:, None] * x0 + t[:, None] * x1
    return ((v_model(xt, t) - (x0 - x1)) ** 2).mean()


def _fm_case(seed: int, n: int):
    gen = torch.Generator().manual_seed(seed)
    return _sample(_ring(), n, gen), torch.randn(n, 2, generator=gen, dtype=F64), torch.rand(n, generator=gen, dtype=F64)


def _fm_oracle_rows(mix, scale: float = 1.0):
    """The exact velocity for one time per row, vectorised over the rows."""
    w, m, C = mix

    def v(x, t):
        t = torch.as_tensor(t, dtype=F64).reshape(-1, 1, 1)
        a, b = 1 - t, t
        cov = a[..., None] ** 2 * C[None] + b[..., None] ** 2 * torch.eye(2, dtype=F64)  # (n, K, 2, 2)
        diff = x[:, None, :] - a * m[None]
        prec_diff = torch.linalg.solve(cov, diff[..., None])[..., 0]
        logc = torch.log(w) - 0.5 * (diff * prec_diff).sum(-1) - 0.5 * torch.logdet(cov)
        x0 = m[None] + a * torch.einsum("kij,nkj->nki", C, prec_diff)
        r = torch.softmax(logc, 1)[..., None]
        return scale * (r * (x0 - b * prec_diff)).sum(1)
    return v


@check("q7", points=1.5, hint="Tweedie for a = 1 - t, b = t: (1 - t) x0_hat = x + t^2 s, and x0_hat = x + t v; "
                              "solve for s")
def velocity_to_score_recovers_the_exact_score(velocity_to_score):
    gen = torch.Generator().manual_seed(622)
    mix = _ring()
    for t in (0.2, 0.5, 0.8):
        x = _sample(_noised(mix, 1 - t, t), 100, gen)
        v = _fm_velocity(x, mix, t)
        want = _score_t(x, mix, 1 - t, t)
        _close(velocity_to_score(v.clone(), x.clone(), t), want, 1e-8, f"velocity_to_score at t = {t}",
               {"the book's v = x + (t + 1) s, i.e. s = (v - x) / (t + 1)": (v - x) / (t + 1)})


@check("q7", points=1.5, hint="loss = mean over all entries of (v(x_t, t) - (x0 - x1))^2, x_t = (1 - t) x0 + t x1")
def fm_loss_matches_and_prefers_the_exact_velocity(fm_loss):
    x0, x1, t = _fm_case(623, 128)
    model = _LinearEps(624, T=1)
    with torch.no_grad():
        want = float(_fm_loss_ref(model, x0, x1, t))
        got = _number(fm_loss(model, x0.clone(), x1.clone(), t.clone()), "fm_loss with a linear model")
        _near(got, want, 1e-10 * max(1.0, want), "fm_loss with a linear model",
              {"the target x1 - x0 (the sign of the velocity flipped)":
               float(((model((1 - t)[:, None] * x0 + t[:, None] * x1, t) - (x1 - x0)) ** 2).mean()),
               "x_t = t x0 + (1 - t) x1 (the ends swapped)":
               float(((model(t[:, None] * x0 + (1 - t)[:, None] * x1, t) - (x0 - x1)) ** 2).mean())})
        x0, x1, t = _fm_case(625, 100_000)
        losses = {k: _number(fm_loss(_fm_oracle_rows(_ring(), s), x0, x1, t), f"fm_loss of {k}")
                  for k, s in (("the exact velocity", 1.0), ("0.9 x the exact velocity", 0.9),
                               ("1.1 x the exact velocity", 1.1))}
    assert min(losses, key=losses.get) == "the exact velocity", (
        "on 100000 draws of (x0, x1, t) the exact velocity should have the lowest loss; got "
        + ", ".join(f"{k}: {v:.5f}" for k, v in losses.items()))


@check("q7", points=2, hint="start at x1 (t = 1) and step down: x <- x + (1 / n_steps) v(x, t), t <- t - 1 / n_steps")
def fm_euler_sampling_reproduces_the_ring(fm_euler_sample):
    mix = _ring()
    x1 = torch.randn(2000, 2, generator=torch.Generator().manual_seed(626), dtype=F64)
    x = _t(fm_euler_sample(lambda x, t: _fm_velocity(x, mix, float(t)), x1.clone(), 50),
           "fm_euler_sample(v, x1, 50)", shape=(2000, 2))
    _judge_samples(x, "50 Euler steps of flow matching with the exact velocity (2000 samples)", 627,
                   mistakes=" (does x move along +v while t goes from 1 down to 0?)")


# --------------------------------------------------------------------------- q8: Langevin dynamics
def _langevin_ref(score_fn, x, step, n_steps, gen):
    for _ in range(n_steps):
        z = torch.randn(x.shape, generator=gen, dtype=x.dtype)
        x = x + 0.5 * step * score_fn(x) + math.sqrt(step) * z
    return x


def _two_bumps():
    """0.8 N(-2, 0.25^2) + 0.2 N(2, 0.25^2) in one dimension."""
    return (torch.tensor([0.8, 0.2], dtype=F64), torch.tensor([[-2.0], [2.0]], dtype=F64),
            0.0625 * torch.ones(2, 1, 1, dtype=F64))


def _call_langevin(langevin, score_fn, x, step, n_steps, seed, name):
    gen = torch.Generator().manual_seed(seed)
    return _t(langevin(score_fn, x.clone(), step, n_steps, gen), name, shape=tuple(x.shape))


@check("q8", points=1.5, hint="x <- x + (step / 2) score(x) + sqrt(step) z with z = torch.randn(x.shape, "
                              "generator=generator, dtype=x.dtype)")
def langevin_step_matches_the_reference(langevin):
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(628), dtype=F64)
    score_fn = lambda y: _score(y, _ring())  # noqa: E731
    got = _call_langevin(langevin, score_fn, x, 0.01, 5, 629, "langevin(score, x, 0.01, 5, generator)")
    want = _langevin_ref(score_fn, x, 0.01, 5, torch.Generator().manual_seed(629))
    full = _langevin_ref(lambda y: 2 * score_fn(y), x, 0.01, 5, torch.Generator().manual_seed(629))
    _close(got, want, 1e-10, "5 Langevin steps from fixed noise", {"the coefficient 1 instead of 1/2 on the score": full})


@check("q8", points=1.5, hint="unadjusted Langevin is biased: on N(0, 1) its stationary variance is 1 / (1 - step/4)")
def langevin_stationary_variance_on_a_gaussian(langevin):
    x = torch.randn(100_000, 1, generator=torch.Generator().manual_seed(630), dtype=F64)
    out = _call_langevin(langevin, lambda y: -y, x, 0.5, 300, 631, "langevin on N(0, 1)")
    var, want = float(out.var()), 1 / (1 - 0.5 / 4)
    assert abs(var / want - 1) < 0.02, (
        f"after 300 steps of size 0.5 on N(0, 1) the variance is {var:.4f}; unadjusted Langevin's stationary variance "
        f"is 1 / (1 - 0.5/4) = {want:.4f} (allowed 2 %)."
        + (" This looks like the coefficient 1 instead of 1/2 on the score (variance 1 / (2 - step) = 0.667)."
           if abs(var - 1 / 1.5) < 0.02 else ""))


@check("q8", points=1.5, hint="annealing: run Langevin on the noised scores from a large sigma down to a small one")
def annealed_langevin_finds_the_weights(langevin):
    mix = _two_bumps()
    gen = torch.Generator().manual_seed(632)
    x0 = 4 * torch.rand(4000, 1, generator=gen, dtype=F64) - 2
    plain = _call_langevin(langevin, lambda y: _score(y, mix), x0, 0.01, 500, 633, "plain langevin")
    w_plain = float((plain[:, 0] < 0).to(F64).mean())
    x = x0
    for k, s in enumerate(np.geomspace(2.0, 0.05, 10)):
        noised = _noised(mix, 1.0, float(s))
        x = _call_langevin(langevin, lambda y, nm=noised: _score(y, nm), x, 0.1 * s * s, 50, 634 + k,
                           f"langevin at noise level {s:.3f}")
    x = _call_langevin(langevin, lambda y: _score(y, mix), x, 0.01, 100, 645, "langevin at the data")
    w = float((x[:, 0] < 0).to(F64).mean())
    assert w_plain < 0.6, (f"plain Langevin from uniform starts on [-2, 2] cannot cross between the two modes; it "
                           f"should leave about half of the mass at the left one, got {w_plain:.3f}")
    assert w > 0.70, (f"annealed Langevin should give the left mode (weight 0.8) more than 70 % of the samples, got "
                      f"{w:.3f} (plain Langevin: {w_plain:.3f})")


# --------------------------------------------------------------------------- q9: DDIM
def _ddim_ref(x, eps, ab_t, ab_s):
    x0 = (x - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)
    return math.sqrt(ab_s) * x0 + math.sqrt(1 - ab_s) * eps


def _ddim_book(x, eps, ab_t, ab_s):
    """Book eq. (6.141): the radicand 1 - ab_s / ab_t is negative when ab_s > ab_t."""
    with np.errstate(invalid="ignore"):
        return (math.sqrt(ab_s / ab_t) * x
                - float(np.sqrt(np.float64(1 - ab_s / ab_t))) * math.sqrt(1 - ab_t) * eps)


@check("q9", points=1.5, hint="x0_hat = (x - sqrt(1 - ab_t) eps) / sqrt(ab_t); x_s = sqrt(ab_s) x0_hat + "
                              "sqrt(1 - ab_s) eps")
def ddim_step_matches_the_reference(ddim_step):
    gen = torch.Generator().manual_seed(646)
    ab = torch.cumprod(1 - _linear_betas(), 0)
    for t, s in ((999, 979), (500, 480), (19, 0)):
        x, eps = (torch.randn(20, 2, generator=gen, dtype=F64) for _ in range(2))
        ab_t, ab_s = float(ab[t]), float(ab[s])
        got = ddim_step(x.clone(), eps.clone(), ab_t, ab_s)
        _answered(got, "ddim_step")
        if np.isnan(_np(got)).any():
            raise AssertionError(f"ddim_step from t = {t + 1} to {s + 1} returned NaN. This looks like the book's "
                                 f"(6.141): its radicand 1 - ab_s / ab_t = {1 - ab_s / ab_t:.4g} is negative.")
        _close(got, _ddim_ref(x, eps, ab_t, ab_s), 1e-12, f"ddim_step from t = {t + 1} to {s + 1}")


def _np(value):
    try:
        return np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value, dtype=float)
    except (TypeError, ValueError):
        return np.zeros(1)


def _run_ddim(ddim_step, mix, n, seed, steps=50, T=1000):
    ab = torch.cumprod(1 - _linear_betas(T), 0)
    eps = _eps_oracle(mix, ab)
    idx = np.linspace(T - 1, 0, steps).round().astype(int).tolist()
    x = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=F64)
    for t, s in zip(idx, idx[1:] + [None]):
        ab_s = 1.0 if s is None else float(ab[s])
        x = _t(ddim_step(x, eps(x, t), float(ab[t]), ab_s), f"ddim_step at t = {t + 1}", shape=(n, 2))
    return x


@check("q9", points=1.5, hint="50 deterministic DDIM steps with the exact noise predictor reproduce the ring")
def ddim_sampling_reproduces_the_ring(ddim_step):
    x = _run_ddim(ddim_step, _ring(), 2000, 647)
    _judge_samples(x, "50 DDIM steps with the exact score (2000 samples)", 648, check_std=False)
