"""The Chapter 6 exercise checks (public and hidden) accept right answers and reject known-wrong ones.

Each check function is called directly with implementations written here: correct references (and alternative
correct formulations) must pass every check of their question; each known-wrong mutant must fail at least one
check of its question with a message. The mutants include the chapter's own slips (spec 6.I): Algorithm 5's
drift sigma^2 / t eps_theta (items 9, 6.8.3), the flow-matching conversion v = x_t + (t + 1) s (item 21), the DDIM
update (6.141) with its negative radicand (item 26), and the Langevin / ODE coefficient 1 instead of 1/2 (items 17,
20). The DDPM noise std beta_t and the coefficient beta_t / (1 - alpha_bar_t) have an energy distance of about
0.01 (under the threshold 0.02): only the within-mode std check catches them, as the spec measured.
Stubs that return None score 0 everywhere, and junk return values give assertion messages, never crashes.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lib.checks import ch06_diffusion as C
from lib.grading import load_checks
from tests.checks_support import (JUNK, JUNK_IDS, assert_blank_scores_zero, assert_junk_explained, assert_named,
                                  assert_public_and_hidden, assert_rejected, failures as _failures)

SPECS = load_checks("ch06_diffusion", hidden=True)
QUESTIONS = [f"q{i}" for i in range(1, 10)]


# --------------------------------------------------------------------------- correct references
def marginal(p, P):
    return p @ P


def backward_conditional(p, P):
    joint = p[:, None] * P
    return joint.T / (p @ P)[:, None]


def alpha_bar(betas):
    return torch.cumprod(1 - betas, 0)


def q_sample(x0, t, alpha_bars, noise, mistake=""):
    ab = alpha_bars[t][:, None]
    if mistake == "mean ab":
        return ab * x0 + (1 - ab).sqrt() * noise
    if mistake == "var 1-ab":
        return ab.sqrt() * x0 + (1 - ab) * noise
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def gmm_score(x, weights, means, covs, a, b, mistake=""):
    d = x.shape[1]
    cov = (covs if mistake == "clean" else a * a * covs + b * b * torch.eye(d, dtype=x.dtype))
    mu = means if mistake == "clean" else a * means
    diff = x[:, None, :] - mu[None]
    sol = torch.linalg.solve(cov[None], diff[..., None])[..., 0]
    logc = torch.log(weights) - 0.5 * (diff * sol).sum(-1) - 0.5 * torch.logdet(cov)
    return -(torch.softmax(logc, 1)[..., None] * sol).sum(1)


def ddpm_loss(model, x0, alpha_bars, t, noise, mistake=""):
    ab = alpha_bars[t][:, None]
    xt = ab.sqrt() * x0 + ((1 - ab) if mistake == "1-ab" else (1 - ab).sqrt()) * noise
    pred = model(x0 if mistake == "x0" else xt, t)
    return ((noise - pred) ** 2).mean()


def ancestral_step(x, t, eps_hat, betas, alpha_bars, z, mistake=""):
    b, ab = betas[t], alpha_bars[t]
    coef = b / (1 - ab) if mistake == "coef" else b / (1 - ab).sqrt()
    mean = (x - coef * eps_hat) / (1 - b).sqrt()
    if t == 0:
        return mean
    return mean + (b if mistake == "std" else b.sqrt()) * z


def book_ve_step(x, t, eps_hat, sigma2, z, mistake=""):
    drift = sigma2 / t if mistake == "book" else 1.0 / t
    out = x - drift * eps_hat
    return out + math.sqrt(sigma2) * z if t > 1 else out


def _beta(t):
    return 0.1 + t * 19.9


def pf_ode_step_heun(x, t, t_next, score_fn, mistake=""):
    c = 1.0 if mistake == "coef 1" else 0.5
    sx = 0.5 if mistake == "drift sign" else -0.5

    def v(y, s):
        return sx * _beta(s) * y - c * _beta(s) * score_fn(y, s)
    h = t_next - t
    d1 = v(x, t)
    if mistake == "euler":
        return x + h * d1
    d2 = v(x + h * d1, t_next)
    return x + h * (d1 + d2) / 2


def fm_loss(v_model, x0, x1, t):
    tt = t[:, None]
    xt = (1 - tt) * x0 + tt * x1
    return ((v_model(xt, t) - (x0 - x1)) ** 2).mean()


def fm_euler_sample(v_model, x1, n_steps, mistake=""):
    x, dt = x1.clone(), 1.0 / n_steps
    for k in range(n_steps):
        t = 1.0 - k * dt
        x = x - dt * v_model(x, t) if mistake == "sign" else x + dt * v_model(x, t)
    return x


def velocity_to_score(v, x, t, mistake=""):
    if mistake == "book":
        return (v - x) / (t + 1)
    return ((1 - t) * v - x) / t


def langevin(score_fn, x, step, n_steps, generator, mistake=""):
    c = 1.0 if mistake == "coef 1" else 0.5
    for _ in range(n_steps):
        z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        x = x + c * step * score_fn(x) + math.sqrt(step) * z
    return x


def ddim_step(x, eps_hat, ab_t, ab_s, mistake=""):
    if mistake == "book":
        return math.sqrt(ab_s / ab_t) * x - torch.sqrt(torch.tensor(1 - ab_s / ab_t)) * math.sqrt(1 - ab_t) * eps_hat
    x0 = (x - math.sqrt(1 - ab_t) * eps_hat) / math.sqrt(ab_t)
    return math.sqrt(ab_s) * x0 + math.sqrt(1 - ab_s) * eps_hat


REFERENCE = dict(marginal=marginal, backward_conditional=backward_conditional, alpha_bar=alpha_bar,
                 q_sample=q_sample, gmm_score=gmm_score, ddpm_loss=ddpm_loss, ancestral_step=ancestral_step,
                 book_ve_step=book_ve_step, pf_ode_step_heun=pf_ode_step_heun, fm_loss=fm_loss,
                 fm_euler_sample=fm_euler_sample, velocity_to_score=velocity_to_score, langevin=langevin,
                 ddim_step=ddim_step)


def failures(question, namespace, junk_only=False, only=None):
    return _failures(SPECS, question, namespace, junk_only=junk_only, only=only)


def test_every_question_has_public_and_hidden_checks():
    assert_public_and_hidden(SPECS, QUESTIONS, (30, 50))


@pytest.mark.slow
@pytest.mark.parametrize("question", QUESTIONS)
def test_reference_passes_every_check(question):
    assert failures(question, REFERENCE) == {}


# --------------------------------------------------------------------------- alternative correct answers
def _numpy_backward(p, P):
    """p(x | y) by Bayes' rule one entry at a time."""
    py = p @ P
    return np.array([[p[x] * P[x, y] / py[y] for x in range(len(p))] for y in range(P.shape[1])])


def _ancestral_tilde(x, t, eps_hat, betas, alpha_bars, z):
    """The same step written through the predicted x_0 and the posterior mean mu~_t (spec 6.G item 4)."""
    ab, ab_prev = alpha_bars[t], (alpha_bars[t - 1] if t > 0 else torch.tensor(1.0, dtype=x.dtype))
    x0 = (x - (1 - ab).sqrt() * eps_hat) / ab.sqrt()
    mean = (ab_prev.sqrt() * betas[t] / (1 - ab)) * x0 + ((1 - betas[t]).sqrt() * (1 - ab_prev) / (1 - ab)) * x
    return mean + betas[t].sqrt() * z if t > 0 else mean


def _langevin_numpy_loop(score_fn, x, step, n_steps, generator):
    for _ in range(n_steps):
        x = x + step / 2 * score_fn(x) + step ** 0.5 * torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return x.numpy()


ALTERNATIVES = [
    ("q1", "Bayes' rule entry by entry", dict(backward_conditional=_numpy_backward)),
    ("q1", "lists", dict(marginal=lambda p, P: (p @ P).tolist())),
    ("q2", "alpha_bar by exp(cumsum(log))", dict(alpha_bar=lambda b: torch.exp(torch.cumsum(torch.log1p(-b), 0)))),
    ("q5", "the step through x0_hat and mu~_t", dict(ancestral_step=_ancestral_tilde)),
    ("q8", "numpy output", dict(langevin=_langevin_numpy_loop)),
    ("q9", "DDIM through the coefficients of (6.I item 26)", dict(ddim_step=lambda x, e, a, s: math.sqrt(s / a) * x + (
        math.sqrt(1 - s) - math.sqrt(s / a) * math.sqrt(1 - a)) * e)),
]


@pytest.mark.slow
@pytest.mark.parametrize("question, label, overrides", ALTERNATIVES, ids=[a[1] for a in ALTERNATIVES])
def test_alternative_correct_answers_pass(question, label, overrides):
    assert failures(question, {**REFERENCE, **overrides}) == {}


# --------------------------------------------------------------------------- known-wrong answers
def _m(func, mistake):
    return lambda *a: func(*a, mistake=mistake)


MUTANTS = [  # (question, label, overrides, caught by a public check)
    ("q1", "backward over the wrong axis (P.T)", dict(backward_conditional=lambda p, P: P.T.copy()), True),
    ("q1", "joint without normalising", dict(backward_conditional=lambda p, P: (p[:, None] * P).T), True),
    ("q1", "P @ p", dict(marginal=lambda p, P: P @ p), True),
    ("q2", "1 - cumsum(betas)", dict(alpha_bar=lambda b: 1 - torch.cumsum(b, 0)), True),
    ("q2", "cumprod of the betas", dict(alpha_bar=lambda b: torch.cumprod(b, 0)), True),
    ("q2", "mean alpha_bar x0 (no square root)", dict(q_sample=_m(q_sample, "mean ab")), True),
    ("q2", "noise scale 1 - alpha_bar", dict(q_sample=_m(q_sample, "var 1-ab")), True),
    ("q3", "clean-data score at x_t", dict(gmm_score=_m(gmm_score, "clean")), True),
    ("q4", "model fed x0", dict(ddpm_loss=_m(ddpm_loss, "x0")), True),
    ("q4", "1 - alpha_bar without square root", dict(ddpm_loss=_m(ddpm_loss, "1-ab")), True),
    ("q4", "detached loss", dict(ddpm_loss=lambda *a: ddpm_loss(*a).detach()), True),
    ("q5", "noise std beta_t", dict(ancestral_step=_m(ancestral_step, "std")), True),
    ("q5", "coefficient beta_t / (1 - alpha_bar_t)", dict(ancestral_step=_m(ancestral_step, "coef")), True),
    ("q5", "Algorithm 5's sigma^2 / t", dict(book_ve_step=_m(book_ve_step, "book")), True),
    ("q6", "score coefficient 1 (the SDE's)", dict(pf_ode_step_heun=_m(pf_ode_step_heun, "coef 1")), True),
    ("q6", "drift sign flipped", dict(pf_ode_step_heun=_m(pf_ode_step_heun, "drift sign")), True),
    ("q6", "Euler instead of Heun", dict(pf_ode_step_heun=_m(pf_ode_step_heun, "euler")), True),
    ("q7", "the book's v = x + (t + 1) s", dict(velocity_to_score=_m(velocity_to_score, "book")), True),
    ("q7", "Euler in the wrong direction", dict(fm_euler_sample=_m(fm_euler_sample, "sign")), True),
    ("q7", "target x1 - x0", dict(fm_loss=lambda v, x0, x1, t: fm_loss(v, x1, x0, 1 - t)), True),
    ("q8", "coefficient 1 on the score", dict(langevin=_m(langevin, "coef 1")), True),
    ("q9", "the book's (6.141)", dict(ddim_step=_m(ddim_step, "book")), True),
]


@pytest.mark.slow
@pytest.mark.parametrize("question, label, overrides, public", MUTANTS, ids=[m[1] for m in MUTANTS])
def test_mutant_is_rejected(question, label, overrides, public):
    assert_rejected(SPECS, question, REFERENCE, overrides, label, public)


def test_book_mistakes_are_named_in_the_messages():
    cases = [("q5", dict(book_ve_step=_m(book_ve_step, "book")), "Algorithm 5"),
             ("q7", dict(velocity_to_score=_m(velocity_to_score, "book")), "v = x + (t + 1) s"),
             ("q9", dict(ddim_step=_m(ddim_step, "book")), "(6.141)"),
             ("q6", dict(pf_ode_step_heun=_m(pf_ode_step_heun, "coef 1")), "coefficient 1"),
             ("q8", dict(langevin=_m(langevin, "coef 1")), "coefficient 1"),
             ("q3", dict(gmm_score=_m(gmm_score, "clean")), "clean-data score"),
             ("q5", dict(ancestral_step=_m(ancestral_step, "std")), "beta_t instead of sqrt(beta_t)")]
    assert_named([s for s in SPECS if s.name not in _SLOW_CHECKS], REFERENCE, cases)


_SLOW_CHECKS = {"ancestral_sampling_reproduces_the_ring", "hidden_imbalanced_ring", "annealed_langevin_finds_the_weights"}


# --------------------------------------------------------------------------- stubs and junk answers
def _namespace_returning(value):
    return {name: (lambda *args, **kwargs: value) for name in REFERENCE}


def test_none_stubs_score_zero_on_every_question():
    assert_blank_scores_zero(SPECS, _namespace_returning(None), QUESTIONS)


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_junk_answers_fail_with_messages(junk):
    assert_junk_explained(SPECS, _namespace_returning(junk), QUESTIONS, junk)


def test_references_reproduce_the_chapter_numbers():
    """Facts the spec states (6.G), from this file's references (the checks compute theirs independently)."""
    p, P = np.array([0.4, 0.3, 0.3]), np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.4, 0.5]])
    np.testing.assert_allclose(marginal(p, P), [0.33, 0.39, 0.28], atol=1e-12)
    np.testing.assert_allclose(backward_conditional(p, P)[0], [0.727, 0.182, 0.091], atol=5e-4)
    ab = alpha_bar(torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64))
    assert abs(float(ab[-1]) - 4.036e-5) < 1e-7
    radicand = 1 - ab[:-1] / ab[1:]  # (6.141) from t to t - 1: negative everywhere
    assert float(radicand.max()) < 0 and abs(float(radicand.min()) + 0.0204) < 1e-4
    mix = C._ring()
    x = torch.randn(20, 2, dtype=torch.float64)
    for t in (0.2, 0.5, 0.8):  # the corrected conversion (6.I item 21); the book's is far off
        s = C._score_t(x, mix, 1 - t, t)
        v = C._fm_velocity(x, mix, t)
        assert torch.allclose(velocity_to_score(v, x, t), s, atol=1e-10)
        assert (velocity_to_score(v, x, t, mistake="book") - s).abs().max() > 0.1
