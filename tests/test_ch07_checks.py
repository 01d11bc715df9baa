"""The Chapter 7 exercise checks (public and hidden) accept right answers and reject known-wrong ones.

Each check function is called directly with implementations written here: correct references (and alternative
correct formulations) must pass every check of their question; each known-wrong mutant must fail at least one
check of its question with a message. The mutants include the chapter's own slips (spec 7.I): the KL sign of
7.6.3 (the KL added to the ELBO), the non-saturating loss mistaken for the saturating one ("equivalent form",
7.8.4), and a WGAN critic whose Lipschitz constraint is not enforced at random interpolates (7.8.5); plus the
usual ones: exp(logvar) as the standard deviation, a dropped trace term, uncentred PPCA data, log(sigmoid(.)),
a penalty at the real points only, a coverage rule that ignores the mixture weights.
Stubs that return None score 0 everywhere, and junk return values give assertion messages, never crashes.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lib.grading import load_checks
from tests.checks_support import (JUNK, JUNK_IDS, assert_blank_scores_zero, assert_junk_explained, assert_named,
                                  assert_public_and_hidden, assert_rejected, failures as _failures)

SPECS = load_checks("ch07_vae_gan", hidden=True)
QUESTIONS = [f"q{i}" for i in range(1, 9)]


# --------------------------------------------------------------------------- correct references
def kl_diag_std_normal(mu, logvar):
    return 0.5 * (logvar.exp() + mu ** 2 - 1 - logvar).sum(-1)


def reparameterize(mu, logvar, generator=None):
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def elbo(x, W, b, s2, q_mean, q_cov):
    d, k = W.shape
    r = x - b - W @ q_mean
    rec = -0.5 * (d * math.log(2 * math.pi * s2) + (r @ r + np.trace(W @ q_cov @ W.T)) / s2)
    return rec - 0.5 * (np.trace(q_cov) + q_mean @ q_mean - k - np.linalg.slogdet(q_cov)[1])


def em_step_ppca(W, s2, X, centre=True, old_w=False, no_s2_term=False):
    Xc = X - X.mean(0) if centre else X
    S = Xc.T @ Xc / len(X)
    k = W.shape[1]
    Minv = np.linalg.inv(W.T @ W + s2 * np.eye(k))
    SW = S @ W
    W_new = SW @ np.linalg.inv((0.0 if no_s2_term else s2) * np.eye(k) + Minv @ W.T @ SW)
    return W_new, float(np.trace(S - SW @ Minv @ (W if old_w else W_new).T) / X.shape[1])


def bernoulli_elbo(x, logits, mu, logvar):
    rec = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
    return rec - kl_diag_std_normal(mu, logvar)


def interpolate(za, zb, n, mode="linear"):
    t = torch.linspace(0, 1, n, dtype=za.dtype)[:, None]
    if mode == "linear":
        return (1 - t) * za + t * zb
    om = torch.arccos(torch.clamp(za @ zb / (za.norm() * zb.norm()), -1, 1))
    return (torch.sin((1 - t) * om) * za + torch.sin(t * om) * zb) / torch.sin(om)


def d_loss(logit_real, logit_fake):
    return F.softplus(-logit_real).mean() + F.softplus(logit_fake).mean()


def g_loss_saturating(logit_fake):
    return -F.softplus(logit_fake).mean()


def g_loss_nonsaturating(logit_fake):
    return F.softplus(-logit_fake).mean()


def gradient_penalty(critic, x_real, x_fake, lam=10.0, generator=None, mistake=""):
    a = torch.rand(x_real.shape[0], 1, generator=generator, dtype=x_real.dtype)
    if mistake == "one alpha":
        a = a[:1].expand_as(a)
    x_hat = {"real only": x_real, "fake only": x_fake}.get(mistake, a * x_real + (1 - a) * x_fake)
    x_hat = x_hat.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=mistake != "no graph")
    n = g.norm(dim=1)
    if mistake == "no square":
        return lam * (n - 1).abs().mean()
    if mistake == "squared norm":
        return lam * ((n ** 2 - 1) ** 2).mean()
    return (1.0 if mistake == "no lambda" else lam) * ((n - 1) ** 2).mean()


def critic_loss(critic, x_real, x_fake, lam=10.0, generator=None):
    return critic(x_fake).mean() - critic(x_real).mean() + gradient_penalty(critic, x_real, x_fake, lam, generator)


def optimal_discriminator(p_data, p_g):
    return p_data / (p_data + p_g)


def mode_coverage(samples, means, weights, frac=0.25):
    k = np.argmin(((samples[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    share = np.bincount(k, minlength=len(means)) / len(samples)
    return int((share > frac * weights).sum())


def birthday_duplicates(samples, threshold):
    d = np.sqrt(((samples[:, None] - samples[None]) ** 2).sum(-1))
    return int(np.triu(d < threshold, 1).sum())


REFERENCE = dict(kl_diag_std_normal=kl_diag_std_normal, reparameterize=reparameterize, elbo=elbo,
                 em_step_ppca=em_step_ppca, bernoulli_elbo=bernoulli_elbo, interpolate=interpolate, d_loss=d_loss,
                 g_loss_saturating=g_loss_saturating, g_loss_nonsaturating=g_loss_nonsaturating,
                 gradient_penalty=gradient_penalty, critic_loss=critic_loss,
                 optimal_discriminator=optimal_discriminator, mode_coverage=mode_coverage,
                 birthday_duplicates=birthday_duplicates)


def failures(question, namespace, junk_only=False, only=None):
    return _failures(SPECS, question, namespace, junk_only=junk_only, only=only)


def test_every_question_has_public_and_hidden_checks():
    assert_public_and_hidden(SPECS, QUESTIONS, (30, 50))


@pytest.mark.parametrize("question", QUESTIONS)
def test_reference_passes_every_check(question):
    assert failures(question, REFERENCE) == {}


def _kl_by_distributions(mu, logvar):
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    return torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1)


def _elbo_by_form1(x, W, b, s2, q_mean, q_cov):
    """log p(x) - KL(q || exact posterior): the conceptual form of the ELBO."""
    from scipy.stats import multivariate_normal
    d, k = W.shape
    S = np.linalg.inv(np.eye(k) + W.T @ W / s2)
    m = S @ W.T @ (x - b) / s2
    iS = np.linalg.inv(S)
    kl = 0.5 * (np.trace(iS @ q_cov) + (m - q_mean) @ iS @ (m - q_mean) - k + np.linalg.slogdet(S)[1]
                - np.linalg.slogdet(q_cov)[1])
    return multivariate_normal(b, W @ W.T + s2 * np.eye(d)).logpdf(x) - kl


ALTERNATIVES = [
    ("q1", "torch.distributions", dict(kl_diag_std_normal=_kl_by_distributions)),
    ("q3", "Form 1 (log p minus the posterior KL)", dict(elbo=_elbo_by_form1)),
    ("q6", "BCE with logits", dict(
        d_loss=lambda r, f: F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
        + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)),
        g_loss_nonsaturating=lambda f: F.binary_cross_entropy_with_logits(f, torch.ones_like(f)),
        g_loss_saturating=lambda f: -F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))),
    ("q6", "logsigmoid", dict(g_loss_saturating=lambda f: F.logsigmoid(-f).mean(),
                              g_loss_nonsaturating=lambda f: -F.logsigmoid(f).mean())),
    ("q8", "scipy cdist pairs", dict(birthday_duplicates=lambda s, t: int(
        (__import__("scipy.spatial.distance", fromlist=["pdist"]).pdist(s) < t).sum()))),
]


@pytest.mark.parametrize("question, label, overrides", ALTERNATIVES, ids=[a[1] for a in ALTERNATIVES])
def test_alternative_correct_answers_pass(question, label, overrides):
    assert failures(question, {**REFERENCE, **overrides}) == {}


def _bern_mutant(kind):
    def f(x, logits, mu, logvar):
        if kind == "log sigmoid":
            p = torch.sigmoid(logits)
            rec = (x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(-1)
        else:
            rec = -F.binary_cross_entropy_with_logits(logits, x, reduction="none")
            rec = rec.mean(-1) if kind == "mean" else rec.sum(-1)
        kl = kl_diag_std_normal(mu, logvar)
        return rec + kl if kind == "book sign" else rec - kl
    return f


def _interp_mutant(kind):
    def f(za, zb, n, mode="linear"):
        if kind == "linear for slerp":
            return interpolate(za, zb, n, "linear")
        if kind == "reversed":
            return interpolate(zb, za, n, mode)
        if kind == "t excludes the end":
            t = torch.arange(n, dtype=za.dtype)[:, None] / n
            return (1 - t) * za + t * zb if mode == "linear" else interpolate(za, zb, n, mode)
        return interpolate(za, zb, n, mode)
    return f


def _critic_wrong_sign(critic, x_real, x_fake, lam=10.0, generator=None):
    return critic(x_real).mean() - critic(x_fake).mean() + gradient_penalty(critic, x_real, x_fake, lam, generator)


def _critic_unconstrained(critic, x_real, x_fake, lam=10.0, generator=None):
    return critic(x_fake).mean() - critic(x_real).mean()


def _coverage_any(samples, means, weights, frac=0.25):
    k = np.argmin(((samples[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    return int(len(np.unique(k)))


def _coverage_unweighted(samples, means, weights, frac=0.25):
    k = np.argmin(((samples[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    return int((np.bincount(k, minlength=len(means)) / len(samples) > frac / len(means)).sum())


def _pairs_ordered(samples, threshold):
    d = np.sqrt(((samples[:, None] - samples[None]) ** 2).sum(-1))
    return int((d < threshold).sum() - len(samples))


def _pairs_with_self(samples, threshold):
    d = np.sqrt(((samples[:, None] - samples[None]) ** 2).sum(-1))
    return int(np.triu(d < threshold).sum())


MUTANTS = [  # (question, label, overrides, caught by a public check)
    ("q1", "the book's sign in 7.6.3 (-KL)", dict(kl_diag_std_normal=lambda m, lv: -kl_diag_std_normal(m, lv)), True),
    ("q1", "sigma in place of sigma^2", dict(
        kl_diag_std_normal=lambda m, lv: 0.5 * (torch.exp(0.5 * lv) + m ** 2 - 1 - lv).sum(-1)), True),
    ("q1", "no factor 1/2", dict(kl_diag_std_normal=lambda m, lv: 2 * kl_diag_std_normal(m, lv)), True),
    ("q1", "mean over dimensions", dict(
        kl_diag_std_normal=lambda m, lv: 0.5 * (lv.exp() + m ** 2 - 1 - lv).mean(-1)), True),
    ("q2", "exp(logvar) as the std", dict(
        reparameterize=lambda m, lv, g=None: m + lv.exp() * torch.randn(m.shape, generator=g, dtype=m.dtype)), True),
    ("q2", "detached (no pathwise gradient)", dict(
        reparameterize=lambda m, lv, g=None: reparameterize(m, lv, g).detach()), True),
    ("q2", "ignores the generator", dict(
        reparameterize=lambda m, lv, g=None: m + torch.exp(0.5 * lv) * torch.randn(m.shape, dtype=m.dtype)), True),
    ("q3", "no trace term", dict(elbo=lambda x, W, b, s2, m, S: elbo(x, W, b, s2, m, S)
                                 + 0.5 * np.trace(W @ S @ W.T) / s2), True),
    ("q3", "KL added", dict(elbo=lambda x, W, b, s2, m, S: elbo(x, W, b, s2, m, S)
                            + (np.trace(S) + m @ m - len(m) - np.linalg.slogdet(S)[1])), True),
    ("q4", "uncentred data", dict(em_step_ppca=lambda W, s2, X: em_step_ppca(W, s2, X, centre=False)), True),
    ("q4", "sigma^2 from the old W", dict(em_step_ppca=lambda W, s2, X: em_step_ppca(W, s2, X, old_w=True)), True),
    ("q4", "W update without s2 I", dict(em_step_ppca=lambda W, s2, X: em_step_ppca(W, s2, X, no_s2_term=True)), True),
    ("q5", "the book's KL sign in the ELBO", dict(bernoulli_elbo=_bern_mutant("book sign")), True),
    ("q5", "mean over pixels", dict(bernoulli_elbo=_bern_mutant("mean")), True),
    ("q5", "log(sigmoid(.)) in the ELBO", dict(bernoulli_elbo=_bern_mutant("log sigmoid")), True),
    ("q5", "linear path for slerp", dict(interpolate=_interp_mutant("linear for slerp")), True),
    ("q5", "reversed path", dict(interpolate=_interp_mutant("reversed")), True),
    ("q5", "t = i / n (misses zb)", dict(interpolate=_interp_mutant("t excludes the end")), True),
    ("q6", "log(sigmoid(.)) losses", dict(
        d_loss=lambda r, f: -(torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean()),
        g_loss_saturating=lambda f: torch.log(1 - torch.sigmoid(f)).mean(),
        g_loss_nonsaturating=lambda f: -torch.log(torch.sigmoid(f)).mean()), True),
    ("q6", "the 'equivalent form': non-saturating in place of saturating", dict(
        g_loss_saturating=g_loss_nonsaturating), True),
    ("q6", "labels swapped in d_loss", dict(d_loss=lambda r, f: d_loss(f, r)), True),
    ("q6", "non-saturating loss maximised (sign)", dict(g_loss_nonsaturating=lambda f: -g_loss_nonsaturating(f)), True),
    ("q7", "penalty at the real points only", dict(
        gradient_penalty=lambda *a: gradient_penalty(*a, mistake="real only")), True),
    ("q7", "one alpha for the batch", dict(gradient_penalty=lambda *a: gradient_penalty(*a, mistake="one alpha")), True),
    ("q7", "no lambda", dict(gradient_penalty=lambda *a: gradient_penalty(*a, mistake="no lambda")), True),
    ("q7", "no square", dict(gradient_penalty=lambda *a: gradient_penalty(*a, mistake="no square")), True),
    ("q7", "(|g|^2 - 1)^2", dict(gradient_penalty=lambda *a: gradient_penalty(*a, mistake="squared norm")), True),
    ("q7", "create_graph=False", dict(gradient_penalty=lambda *a: gradient_penalty(*a, mistake="no graph")), True),
    ("q7", "critic loss with the wrong sign", dict(critic_loss=_critic_wrong_sign), True),
    ("q7", "critic without the Lipschitz penalty (7.8.5)", dict(critic_loss=_critic_unconstrained), True),
    ("q8", "D* swapped (p_G / (p_data + p_G))", dict(optimal_discriminator=lambda p, q: q / (p + q)), True),
    ("q8", "coverage counts any sample", dict(mode_coverage=_coverage_any), True),
    ("q8", "coverage ignores the weights", dict(mode_coverage=_coverage_unweighted), True),
    ("q8", "ordered pairs", dict(birthday_duplicates=_pairs_ordered), True),
    ("q8", "self-pairs counted", dict(birthday_duplicates=_pairs_with_self), True),
]


@pytest.mark.parametrize("question, label, overrides, public", MUTANTS, ids=[m[1] for m in MUTANTS])
def test_known_wrong_answers_are_rejected(question, label, overrides, public):
    assert_rejected(SPECS, question, REFERENCE, overrides, label, public)


def test_known_mistakes_are_named():
    assert_named(SPECS, REFERENCE, [
        ("q1", dict(kl_diag_std_normal=lambda m, lv: -kl_diag_std_normal(m, lv)), "the book's sign"),
        ("q2", MUTANTS[4][2], "exp(logvar) used as the standard deviation"),
        ("q3", MUTANTS[7][2], "without the trace term"),
        ("q4", MUTANTS[9][2], "not centred"),
        ("q5", MUTANTS[12][2], "the book's sign"),
        ("q6", MUTANTS[19][2], "the non-saturating loss"),
        ("q7", MUTANTS[22][2], "real points only"),
        ("q8", MUTANTS[30][2], "fake-class probability"),
        ("q8", MUTANTS[32][2], "ignoring the weights"),
    ])


def _blank(*args, **kwargs):
    return None


def test_blank_notebook_scores_zero():
    assert_blank_scores_zero(SPECS, {k: _blank for k in REFERENCE}, QUESTIONS)


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_junk_answers_get_messages(junk):
    assert_junk_explained(SPECS, {k: (lambda *a, _j=junk, **kw: _j) for k in REFERENCE}, QUESTIONS, junk)
