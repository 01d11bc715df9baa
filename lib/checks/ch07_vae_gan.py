"""Public checks for the Chapter 7 exercises (``exercises/ch07_vae_gan.ipynb``).

Questions: q1 the Gaussian KL to the prior, q2 the reparametrisation trick, q3 the ELBO of a linear-Gaussian
model, q4 one EM step for probabilistic PCA, q5 the Bernoulli VAE's ELBO and latent interpolation, q6 the GAN
losses from logits, q7 the WGAN-GP gradient penalty and critic loss, q8 the optimal discriminator and the
mode-collapse diagnostics.

Every reference is computed here, independently of the course's topic modules (``lib.vae``, ``lib.gan``,
``lib.linear_gaussian``): ``torch.distributions``, ``torch.nn.functional.binary_cross_entropy_with_logits``,
``scipy.stats.multivariate_normal``, ``scipy.spatial.distance.jensenshannon``, ``scipy.stats.wasserstein_distance``,
eigendecompositions (the Tipping-Bishop closed form) and brute force. Each check calls the student's functions on
fresh copies of its inputs; a wrong answer fails with a message that says what is off and by how much, and names
the mistake when it is a known one (the book's own slips among them). The underscore helpers are shared with
``tests/hidden/ch07_vae_gan.py``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy.spatial.distance import jensenshannon
from scipy.stats import multivariate_normal, wasserstein_distance

from lib.grading import check
from lib.grading.answers import (answered as _answered, as_array as _array, as_number as _number, close as _close,
                                 looks_like as _looks_like, near as _near, unchanged as _unchanged)

F64 = torch.float64


def _tensor(value, name: str) -> torch.Tensor:
    _answered(value, name)
    assert isinstance(value, torch.Tensor), f"{name}: expected a torch.Tensor, got {type(value).__name__} {value!r:.60}"
    return value


def _pair(value, name: str) -> tuple:
    _answered(value, name)
    assert isinstance(value, (tuple, list)) and len(value) == 2, \
        f"{name}: expected a pair (tuple of 2 items), got {type(value).__name__} {value!r:.80}"
    return tuple(value)


# --------------------------------------------------------------------------- q1: KL to the prior
def _kl_ref(mu, logvar):
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return torch.distributions.kl_divergence(q, p).sum(-1)


def _kl_mistakes(mu, logvar) -> dict:
    s2 = logvar.exp()
    return {"the book's sign (7.6.3): +1/2 sum(1 + log s^2 - mu^2 - s^2) is minus the KL":
                0.5 * (1 + logvar - mu ** 2 - s2).sum(-1),
            "sigma used in place of sigma^2": 0.5 * (torch.exp(0.5 * logvar) + mu ** 2 - 1 - logvar).sum(-1),
            "a missing factor 1/2": (s2 + mu ** 2 - 1 - logvar).sum(-1),
            "a mean over latent dimensions instead of a sum": 0.5 * (s2 + mu ** 2 - 1 - logvar).mean(-1)}


def _check_kl(kl_diag_std_normal, seed: int, n: int, k: int, name: str) -> None:
    g = torch.Generator().manual_seed(seed)
    mu, logvar = torch.randn(n, k, generator=g, dtype=F64), 1.5 * torch.randn(n, k, generator=g, dtype=F64)
    copies = dict(mu=mu.clone(), logvar=logvar.clone())
    got = _tensor(kl_diag_std_normal(copies["mu"], copies["logvar"]), name)
    _close(got, _kl_ref(mu, logvar), 1e-10, f"{name} on {n} random ({n}, {k}) rows", _kl_mistakes(mu, logvar))
    _unchanged(copies, dict(mu=mu.numpy(), logvar=logvar.numpy()), "kl_diag_std_normal")


@check("q1", points=2, hint="KL = 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - log sigma_j^2), summed over the last axis")
def kl_matches_torch_distributions(kl_diag_std_normal):
    _check_kl(kl_diag_std_normal, 701, 50, 3, "kl_diag_std_normal")


@check("q1", points=1.5, hint="KL >= 0, with equality only for mu = 0 and logvar = 0")
def kl_is_zero_only_at_the_prior(kl_diag_std_normal):
    z = torch.zeros(4, 2, dtype=F64)
    got = _array(kl_diag_std_normal(z, z.clone()), "kl_diag_std_normal(0, 0)", shape=(4,))
    assert np.abs(got).max() < 1e-14, f"kl_diag_std_normal(0, 0) should be 0 (q is the prior), got {got}"
    for mu, lv, what in ((0.3, 0.0, "mu = 0.3"), (0.0, 0.5, "logvar = 0.5"), (0.0, -0.5, "logvar = -0.5")):
        v = _number(kl_diag_std_normal(torch.full((1, 1), mu, dtype=F64), torch.full((1, 1), lv, dtype=F64)),
                    f"kl_diag_std_normal at {what}")
        want = 0.5 * (math.exp(lv) + mu ** 2 - 1 - lv)
        _near(v, want, 1e-12, f"kl_diag_std_normal at {what} (must be > 0)")


# --------------------------------------------------------------------------- q2: reparametrisation
M2, LV2 = torch.tensor([0.5, -1.0, 2.0], dtype=F64), torch.tensor([0.0, math.log(4.0), math.log(0.25)], dtype=F64)


def _draw(reparameterize, m0, lv0, n, seed, name):
    mu, lv = m0.expand(n, -1), lv0.expand(n, -1)
    z = _tensor(reparameterize(mu, lv, torch.Generator().manual_seed(seed)), name)
    assert z.shape == (n, len(m0)), f"{name}: expected shape {(n, len(m0))}, got {tuple(z.shape)}"
    return z


def _check_moments(reparameterize, m0, lv0, n, seed, name):
    z = _draw(reparameterize, m0, lv0, n, seed, name).detach()
    sd = torch.exp(0.5 * lv0)
    mean, var = z.mean(0), z.var(0)
    err = ((mean - m0).abs() / (sd / math.sqrt(n))).max().item()
    assert err < 5, f"{name}: sample means {mean.numpy().round(4)} are off from mu = {m0.numpy()} ({err:.1f} standard errors)"
    ratio = (var / sd ** 2).numpy()
    hint = ""
    if np.allclose(ratio, sd.numpy() ** 2, rtol=0.05):
        hint = " This looks like exp(logvar) used as the standard deviation (it is the variance)."
    assert np.all(np.abs(ratio - 1) < 0.03), (f"{name}: sample variances {var.numpy().round(4)}, expected "
                                              f"exp(logvar) = {(sd ** 2).numpy().round(4)}." + hint)


@check("q2", points=1.5, hint="z = mu + exp(logvar / 2) * eps with eps = torch.randn(..., generator=generator)")
def samples_have_the_right_mean_and_variance(reparameterize):
    _check_moments(reparameterize, M2, LV2, 200_000, 702, "reparameterize")


@check("q2", points=1, hint="draw eps with torch.randn(mu.shape, generator=generator, dtype=mu.dtype)")
def the_generator_makes_draws_reproducible(reparameterize):
    a = _draw(reparameterize, M2, LV2, 10, 7, "reparameterize").detach()
    b = _draw(reparameterize, M2, LV2, 10, 7, "reparameterize").detach()
    c = _draw(reparameterize, M2, LV2, 10, 8, "reparameterize").detach()
    assert torch.equal(a, b), "reparameterize: two calls with equally seeded generators gave different z; use `generator`"
    assert not torch.equal(a, c), "reparameterize: different seeds gave the same z"


def _check_pathwise(reparameterize, m0, lv0, n, seed, name):
    mu, lv = m0.clone().requires_grad_(True), lv0.clone().requires_grad_(True)
    z = _tensor(reparameterize(mu.expand(n, -1), lv.expand(n, -1), torch.Generator().manual_seed(seed)), name)
    assert z.requires_grad, f"{name}: z carries no gradient to mu and logvar (detached, or eps built from mu?)"
    (z ** 2).mean(0).sum().backward()
    assert mu.grad is not None and lv.grad is not None, f"{name}: no gradient reached mu or logvar"
    _close(mu.grad, 2 * m0, 0.03, f"{name}: d E[z^2] / d mu (should be 2 mu)")
    _close(lv.grad, torch.exp(lv0), 0.03, f"{name}: d E[z^2] / d logvar (should be sigma^2)",
           {"exp(logvar) used as the standard deviation": 2 * torch.exp(2 * lv0)})


@check("q2", points=2, hint="the pathwise gradient flows through z = mu + sigma * eps: do not detach")
def pathwise_gradients_of_a_second_moment(reparameterize):
    _check_pathwise(reparameterize, M2, LV2, 200_000, 703, "reparameterize")


# --------------------------------------------------------------------------- q3: linear-Gaussian ELBO
def _lg_case(rng, d, k):
    W, b, s2 = rng.normal(size=(d, k)), rng.normal(size=d), float(rng.uniform(0.3, 1.5))
    x = b + W @ rng.normal(size=k) + math.sqrt(s2) * rng.normal(size=d)
    return x, W, b, s2


def _posterior(x, W, b, s2):
    k = W.shape[1]
    S = np.linalg.inv(np.eye(k) + W.T @ W / s2)
    return S @ W.T @ (x - b) / s2, S


def _elbo_ref(x, W, b, s2, m, S, drop=""):
    d, k = W.shape
    r = x - b - W @ m
    tr = 0.0 if drop == "trace" else np.trace(W @ S @ W.T)
    rec = -0.5 * (d * math.log(2 * math.pi * s2) + (r @ r + tr) / s2)
    kl = 0.5 * (np.trace(S) + m @ m - k - (0.0 if drop == "logdet" else np.linalg.slogdet(S)[1]))
    return rec + kl if drop == "kl sign" else rec - kl


def _random_q(rng, k):
    A = rng.normal(size=(k, k))
    return rng.normal(size=k), A @ A.T / k + 0.1 * np.eye(k)


def _call_elbo(elbo, x, W, b, s2, m, S, name):
    copies = dict(x=x.copy(), W=W.copy(), b=b.copy(), q_mean=m.copy(), q_cov=S.copy())
    v = _number(elbo(copies["x"], copies["W"], copies["b"], s2, copies["q_mean"], copies["q_cov"]), name)
    _unchanged(copies, dict(x=x, W=W, b=b, q_mean=m, q_cov=S), "elbo")
    return v


def _elbo_mistakes(x, W, b, s2, m, S):
    return {"the ELBO without the trace term tr(W S W^T) / (2 sigma^2)": _elbo_ref(x, W, b, s2, m, S, "trace"),
            "the KL added instead of subtracted": _elbo_ref(x, W, b, s2, m, S, "kl sign"),
            "a KL without log det S": _elbo_ref(x, W, b, s2, m, S, "logdet")}


def _check_elbo_bound(elbo, seed, d, k, n_q, name):
    rng = np.random.default_rng(seed)
    x, W, b, s2 = _lg_case(rng, d, k)
    logp = multivariate_normal(b, W @ W.T + s2 * np.eye(d)).logpdf(x)
    mp, Sp = _posterior(x, W, b, s2)
    for _ in range(n_q):
        m, S = _random_q(rng, k)
        v = _call_elbo(elbo, x, W, b, s2, m, S, name)
        want = _elbo_ref(x, W, b, s2, m, S)
        _near(v, want, 1e-9 * max(1, abs(want)), f"{name} for a random q (Form 2: E_q log p(x|z) - KL(q || p(z)))",
              _elbo_mistakes(x, W, b, s2, m, S))
        assert v <= logp + 1e-9, f"{name}: ELBO {v:.6f} exceeds log p(x) = {logp:.6f}"
    return x, W, b, s2, logp, mp, Sp


@check("q3", points=2, hint="E_q log N(x; Wz + b, s2 I) = -1/2 [d log(2 pi s2) + (|x - b - W m|^2 + tr(W S W^T)) / s2]; "
                            "KL(N(m, S) || N(0, I)) = 1/2 [tr S + m^T m - k - log det S]")
def elbo_matches_the_closed_form_and_is_a_lower_bound(elbo):
    _check_elbo_bound(elbo, 703, 4, 2, 20, "elbo")


@check("q3", points=2, hint="with q the exact posterior N((I + W^T W / s2)^-1 W^T (x - b) / s2, (I + W^T W / s2)^-1) "
                            "the bound is tight")
def elbo_is_tight_at_the_exact_posterior(elbo):
    rng = np.random.default_rng(704)
    x, W, b, s2 = _lg_case(rng, 5, 2)
    logp = multivariate_normal(b, W @ W.T + s2 * np.eye(5)).logpdf(x)
    m, S = _posterior(x, W, b, s2)
    v = _call_elbo(elbo, x, W, b, s2, m, S, "elbo")
    _near(v, logp, 1e-9, "elbo at the exact posterior (must equal log p(x))", _elbo_mistakes(x, W, b, s2, m, S))
    # Form 1 = Form 2: log p(x) - ELBO = KL(q || posterior) for another q
    m2, S2 = _random_q(rng, 2)
    iS = np.linalg.inv(S)
    kl = 0.5 * (np.trace(iS @ S2) + (m - m2) @ iS @ (m - m2) - 2 + np.linalg.slogdet(S)[1] - np.linalg.slogdet(S2)[1])
    v2 = _call_elbo(elbo, x, W, b, s2, m2, S2, "elbo")
    _near(logp - v2, kl, 1e-9, "log p(x) - elbo(q) (must equal KL(q || exact posterior))", )


# --------------------------------------------------------------------------- q4: EM for PPCA
def _ppca_data(seed, n, d, k):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, k)) * np.linspace(3.0, 2.0, k)
    return rng.normal(size=(n, k)) @ W.T + 0.7 * rng.normal(size=(n, d)) + rng.normal(size=d) * 3


def _em_ref(W, s2, X, centre=True, new_w_in_s2=True):
    Xc = X - X.mean(0) if centre else X
    S = Xc.T @ Xc / len(X)
    k = W.shape[1]
    Minv = np.linalg.inv(W.T @ W + s2 * np.eye(k))
    SW = S @ W
    W_new = SW @ np.linalg.inv(s2 * np.eye(k) + Minv @ W.T @ SW)
    s2_new = np.trace(S - SW @ Minv @ (W_new if new_w_in_s2 else W).T) / X.shape[1]
    return W_new, s2_new


def _ppca_loglik(W, s2, X):
    d = X.shape[1]
    return multivariate_normal(X.mean(0), W @ W.T + s2 * np.eye(d)).logpdf(X).mean()


def _tipping_bishop(X, k):
    Xc = X - X.mean(0)
    lam, U = np.linalg.eigh(Xc.T @ Xc / len(X))
    lam, U = lam[::-1], U[:, ::-1]
    s2 = lam[k:].mean()
    return U[:, :k] * np.sqrt(lam[:k] - s2), s2


def _call_em(em_step_ppca, W, s2, X, name):
    copies = dict(W=W.copy(), X=X.copy())
    out = _pair(em_step_ppca(copies["W"], s2, copies["X"]), name)
    _unchanged(copies, dict(W=W, X=X), "em_step_ppca")
    return _array(out[0], f"{name}: W_new", shape=W.shape), _number(out[1], f"{name}: s2_new")


def _check_em_step(em_step_ppca, seed, n, d, k, name):
    X = _ppca_data(seed, n, d, k)
    rng = np.random.default_rng(seed + 1)
    W, s2 = rng.normal(size=(d, k)), 1.3
    Wn, s2n = _call_em(em_step_ppca, W, s2, X, name)
    W_ref, s2_ref = _em_ref(W, s2, X)
    mistakes = {"data that were not centred": _em_ref(W, s2, X, centre=False)[0]}
    _close(Wn, W_ref, 1e-8, f"{name}: W_new after one step", mistakes)
    _near(s2n, s2_ref, 1e-8 * max(1, s2_ref), f"{name}: s2_new after one step",
          {"sigma^2 from the old W (use W_new)": _em_ref(W, s2, X, new_w_in_s2=False)[1],
           "data that were not centred": _em_ref(W, s2, X, centre=False)[1]})


@check("q4", points=2, hint="S = centred covariance (1/n); M = W^T W + s2 I; W_new = S W (s2 I + M^-1 W^T S W)^-1; "
                            "s2_new = tr(S - S W M^-1 W_new^T) / d")
def one_em_step_matches_tipping_bishop(em_step_ppca):
    _check_em_step(em_step_ppca, 705, 400, 5, 2, "em_step_ppca")


@check("q4", points=2, hint="EM never lowers the average log-likelihood and converges to the closed-form MLE")
def em_is_monotone_and_reaches_the_mle(em_step_ppca):
    X = _ppca_data(706, 500, 5, 2)
    W, s2 = np.random.default_rng(7).normal(size=(5, 2)), 2.0
    ll = [_ppca_loglik(W, s2, X)]
    for it in range(100):
        W, s2 = _call_em(em_step_ppca, W, s2, X, "em_step_ppca")
        assert s2 > 0, f"em_step_ppca: s2 became {s2:.3g} at iteration {it + 1}"
        ll.append(_ppca_loglik(W, s2, X))
        assert ll[-1] >= ll[-2] - 1e-10, (f"em_step_ppca: the average log-likelihood fell from {ll[-2]:.8f} to "
                                          f"{ll[-1]:.8f} at iteration {it + 1}; EM never does that")
    W_ml, s2_ml = _tipping_bishop(X, 2)
    ll_ml = _ppca_loglik(W_ml, s2_ml, X)
    _near(ll[-1], ll_ml, 1e-4, "average log-likelihood after 100 EM steps vs the Tipping-Bishop MLE")
    _near(s2, s2_ml, 0.01 * s2_ml, "s2 after 100 EM steps vs the MLE (mean of the discarded eigenvalues)")


# --------------------------------------------------------------------------- q5: Bernoulli ELBO and interpolation
def _bern_case(seed, n, p, k):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, p, generator=g, dtype=F64) < 0.4).to(F64)
    return x, 3 * torch.randn(n, p, generator=g, dtype=F64), torch.randn(n, k, generator=g, dtype=F64), \
        torch.randn(n, k, generator=g, dtype=F64)


def _bern_ref(x, logits, mu, logvar, mistake=""):
    rec = -F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    rec = rec.mean(-1) if mistake == "mean" else rec.sum(-1)
    kl = 0.5 * (logvar.exp() + mu ** 2 - 1 - logvar).sum(-1)
    return rec + kl if mistake == "sign" else rec - kl


def _check_bern(bernoulli_elbo, seed, n, p, k, name):
    x, logits, mu, logvar = _bern_case(seed, n, p, k)
    copies = dict(x=x.clone(), logits=logits.clone(), mu=mu.clone(), logvar=logvar.clone())
    got = _tensor(bernoulli_elbo(**copies), name)
    _close(got, _bern_ref(x, logits, mu, logvar), 1e-10, f"{name} per example",
           {"the book's sign in 7.6.3 (the KL added to the reconstruction term)": _bern_ref(x, logits, mu, logvar, "sign"),
            "a mean over pixels instead of a sum": _bern_ref(x, logits, mu, logvar, "mean")})
    _unchanged(copies, dict(x=x.numpy(), logits=logits.numpy(), mu=mu.numpy(), logvar=logvar.numpy()), "bernoulli_elbo")


@check("q5", points=2, hint="ELBO = sum_pixels [x log sigmoid(l) + (1 - x) log(1 - sigmoid(l))] - KL(q || N(0, I)); "
                            "minus the BCE-with-logits, summed")
def bernoulli_elbo_matches_bce_minus_kl(bernoulli_elbo):
    _check_bern(bernoulli_elbo, 707, 6, 64, 2, "bernoulli_elbo")


@check("q5", points=1, hint="use softplus or binary_cross_entropy_with_logits, not log(sigmoid(l))")
def bernoulli_elbo_is_stable_at_large_logits(bernoulli_elbo):
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0]], dtype=F64)
    logits = torch.tensor([[800.0, -800.0, -800.0, 800.0]], dtype=F64)
    z = torch.zeros(1, 2, dtype=F64)
    got = _array(bernoulli_elbo(x, logits, z, z.clone()), "bernoulli_elbo at logits +-800")
    _close(got, [-1600.0], 1e-12, "bernoulli_elbo at logits +-800 (two confident right and two confident wrong pixels)")


def _slerp_ref(za, zb, n):
    t = torch.linspace(0, 1, n, dtype=F64)[:, None]
    om = torch.arccos(torch.clamp((za @ zb) / (za.norm() * zb.norm()), -1, 1))
    return (torch.sin((1 - t) * om) * za + torch.sin(t * om) * zb) / torch.sin(om)


def _call_interp(interpolate, za, zb, n, mode, name):
    copies = dict(za=za.clone(), zb=zb.clone())
    got = _array(interpolate(copies["za"], copies["zb"], n, mode), name, shape=(n, len(za)))
    _unchanged(copies, dict(za=za.numpy(), zb=zb.numpy()), "interpolate")
    return got


@check("q5", points=1.5, hint="row i is (1 - t_i) za + t_i zb with t_i = i / (n - 1)")
def linear_interpolation_is_convex(interpolate):
    g = torch.Generator().manual_seed(708)
    za, zb = torch.randn(3, generator=g, dtype=F64), torch.randn(3, generator=g, dtype=F64)
    got = _call_interp(interpolate, za, zb, 9, "linear", "interpolate(..., 9, 'linear')")
    t = np.linspace(0, 1, 9)[:, None]
    _close(got, (1 - t) * za.numpy() + t * zb.numpy(), 1e-12, "interpolate(..., 'linear')",
           {"the path reversed (zb to za)": t * za.numpy() + (1 - t) * zb.numpy()})


@check("q5", points=1.5, hint="slerp: sin((1 - t) W) / sin W za + sin(t W) / sin W zb, W the angle between za and zb")
def slerp_keeps_the_norm(interpolate):
    za = torch.tensor([2.0, 0.0, 0.0], dtype=F64)
    zb = torch.tensor([0.0, 1.2, -1.6], dtype=F64)  # also norm 2
    got = _call_interp(interpolate, za, zb, 7, "slerp", "interpolate(..., 7, 'slerp')")
    norms = np.linalg.norm(got, axis=1)
    assert np.abs(norms - 2).max() < 1e-9, f"interpolate(..., 'slerp'): norms along the path {norms.round(6)}, expected all 2"
    _close(got, _slerp_ref(za, zb, 7), 1e-10, "interpolate(..., 'slerp')")


# --------------------------------------------------------------------------- q6: GAN losses
def _gan_refs(lr, lf):
    one, zero = torch.ones_like(lr), torch.zeros_like(lf)
    return dict(d=F.binary_cross_entropy_with_logits(lr, one) + F.binary_cross_entropy_with_logits(lf, zero),
                sat=-F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf)),
                ns=F.binary_cross_entropy_with_logits(lf, torch.ones_like(lf)))


def _check_gan_values(d_loss, g_loss_saturating, g_loss_nonsaturating, seed, n, name):
    g = torch.Generator().manual_seed(seed)
    lr, lf = 3 * torch.randn(n, generator=g, dtype=F64), 3 * torch.randn(n + 3, generator=g, dtype=F64)
    ref = _gan_refs(lr, lf)
    swapped = {"the other generator loss (saturating and non-saturating swapped)": None}
    got_d = _number(_tensor(d_loss(lr.clone(), lf.clone()), "d_loss"), "d_loss")
    _near(got_d, ref["d"].item(), 1e-10, f"{name}: d_loss", {"real and fake labels swapped":
                                                            _gan_refs(lf, lr)["d"].item()})
    got_s = _number(_tensor(g_loss_saturating(lf.clone()), "g_loss_saturating"), "g_loss_saturating")
    swapped = {"the non-saturating loss": ref["ns"].item(), "E log(1 - D) with the wrong sign": -ref["sat"].item()}
    _near(got_s, ref["sat"].item(), 1e-10, f"{name}: g_loss_saturating = mean log(1 - D(G(z)))", swapped)
    got_n = _number(_tensor(g_loss_nonsaturating(lf.clone()), "g_loss_nonsaturating"), "g_loss_nonsaturating")
    _near(got_n, ref["ns"].item(), 1e-10, f"{name}: g_loss_nonsaturating = -mean log D(G(z))",
          {"the saturating loss": ref["sat"].item(), "mean log D (maximised, not minimised)": -ref["ns"].item()})


@check("q6", points=2, hint="log D = -softplus(-l), log(1 - D) = -softplus(l); d_loss = mean softplus(-l_real) + "
                            "mean softplus(l_fake)")
def gan_losses_match_binary_cross_entropy(d_loss, g_loss_saturating, g_loss_nonsaturating):
    _check_gan_values(d_loss, g_loss_saturating, g_loss_nonsaturating, 709, 40, "GAN losses")


@check("q6", points=1.5, hint="log(sigmoid(l)) underflows: 1 - sigmoid(50) is exactly 0 in floating point")
def gan_losses_are_finite_at_logits_50(d_loss, g_loss_saturating, g_loss_nonsaturating):
    for dtype in (torch.float32, F64):
        lr = torch.tensor([50.0, -50.0], dtype=dtype, requires_grad=True)
        lf = torch.tensor([-50.0, 50.0], dtype=dtype, requires_grad=True)
        for fname, fn, args in (("d_loss", d_loss, (lr, lf)), ("g_loss_saturating", g_loss_saturating, (lf,)),
                                ("g_loss_nonsaturating", g_loss_nonsaturating, (lf,))):
            v = _tensor(fn(*args), fname)
            assert torch.isfinite(v).all(), f"{fname} at logits +-50 ({dtype}) is {v.item()}: log(sigmoid(.)) overflowed"
            grads = torch.autograd.grad(v.sum(), args, allow_unused=True)
            assert all(gr is None or torch.isfinite(gr).all() for gr in grads), \
                f"{fname}: the gradient at logits +-50 ({dtype}) is not finite"


@check("q6", points=1.5, hint="d/dl of log(1 - sigmoid(l)) is -sigmoid(l): tiny when D rejects the sample")
def saturating_gradient_vanishes_where_d_rejects(g_loss_saturating, g_loss_nonsaturating):
    out = {}
    for fname, fn in (("g_loss_saturating", g_loss_saturating), ("g_loss_nonsaturating", g_loss_nonsaturating)):
        l = torch.tensor([-6.0], dtype=F64, requires_grad=True)
        (gr,) = torch.autograd.grad(_tensor(fn(l), fname).sum(), l)
        out[fname] = gr.abs().item()
    _near(out["g_loss_saturating"], 1 / (1 + math.exp(6)), 1e-9, "|d g_loss_saturating / d logit| at logit -6 (= D)")
    _near(out["g_loss_nonsaturating"], 1 / (1 + math.exp(-6)), 1e-9,
          "|d g_loss_nonsaturating / d logit| at logit -6 (= 1 - D)")


# --------------------------------------------------------------------------- q7: WGAN-GP
class _Recorder:
    """A critic f(x) = sum_j a_j x_j^2 that records where it was evaluated (gradient 2 a x)."""

    def __init__(self, a):
        self.a, self.seen = torch.as_tensor(a, dtype=F64), []

    def __call__(self, x):
        self.seen.append(x.detach().clone())
        return (self.a * x ** 2).sum(-1)


def _check_gp_linear(gradient_penalty, seed, d, lam, name):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(d, generator=g, dtype=F64)
    xr, xf = torch.randn(30, d, generator=g, dtype=F64), torch.randn(30, d, generator=g, dtype=F64) + 1
    v = _number(_tensor(gradient_penalty(lambda x: x @ w, xr.clone(), xf.clone(), lam,
                                         torch.Generator().manual_seed(1)), name), name)
    nw = w.norm().item()
    _near(v, lam * (nw - 1) ** 2, 1e-10 * max(1, lam * (nw - 1) ** 2), f"{name} for a linear critic with |grad f| = {nw:.4f}",
          {"a penalty without lambda": (nw - 1) ** 2, "|grad f| - 1 without the square": lam * abs(nw - 1),
           "(|grad f|^2 - 1)^2": lam * (nw ** 2 - 1) ** 2})
    v0 = _number(gradient_penalty(lambda x: x @ (w / nw), xr.clone(), xf.clone(), lam, torch.Generator().manual_seed(1)),
                 name)
    _near(v0, 0.0, 1e-12, f"{name} for a critic with unit gradient norm")


@check("q7", points=1.5, hint="lam * mean_i (|grad f(x_hat_i)| - 1)^2; for f(x) = w.x the gradient is w everywhere")
def penalty_of_linear_critics(gradient_penalty):
    _check_gp_linear(gradient_penalty, 710, 3, 10.0, "gradient_penalty")


def _check_gp_interpolates(gradient_penalty, seed, name):
    crit = _Recorder([1.5, 0.4])
    xr = torch.zeros(400, 2, dtype=F64)
    xf = torch.ones(400, 2, dtype=F64)
    v = _number(_tensor(gradient_penalty(crit, xr.clone(), xf.clone(), 2.0, torch.Generator().manual_seed(seed)), name),
                name)
    assert crit.seen, f"{name} never called the critic"
    xh = crit.seen[-1]
    assert xh.shape == (400, 2), f"{name}: the critic was called on shape {tuple(xh.shape)}, expected the (400, 2) batch"
    if torch.allclose(xh, xr):
        raise AssertionError(f"{name} evaluated the critic at the real points only; use x_hat = a x_real + (1 - a) x_fake")
    if torch.allclose(xh, xf):
        raise AssertionError(f"{name} evaluated the critic at the fake points only; use random interpolates")
    a = xh[:, 0]
    assert torch.allclose(xh[:, 1], a) and a.min() >= 0 and a.max() <= 1, \
        f"{name}: the critic's inputs are not on the segments between real and fake points"
    assert a.std() > 0.2, f"{name}: one mixing weight for the whole batch (std {a.std():.3f}); draw one per sample"
    want = 2.0 * ((2 * crit.a * xh).norm(dim=1) - 1).pow(2).mean().item()
    _near(v, want, 1e-10, f"{name} for the quadratic critic at its own interpolates")


@check("q7", points=1.5, hint="x_hat = a * x_real + (1 - a) * x_fake with a ~ U(0, 1) of shape (n, 1), one per sample")
def penalty_is_taken_at_random_interpolates(gradient_penalty):
    _check_gp_interpolates(gradient_penalty, 711, "gradient_penalty")


@check("q7", points=1, hint="torch.autograd.grad(..., create_graph=True) so that the penalty can be differentiated")
def penalty_is_differentiable_in_the_critic(gradient_penalty):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).to(F64)
    crit = lambda x: net(x).squeeze(-1)
    v = _tensor(gradient_penalty(crit, torch.randn(16, 2, dtype=F64), torch.randn(16, 2, dtype=F64), 10.0,
                                 torch.Generator().manual_seed(2)), "gradient_penalty")
    assert v.requires_grad, "gradient_penalty: the result carries no gradient to the critic (create_graph=True is needed)"
    grads = torch.autograd.grad(v, list(net.parameters()), allow_unused=True)
    assert any(gr is not None and gr.abs().sum() > 0 for gr in grads), \
        "gradient_penalty: no gradient reaches the critic's weights"


def _train_critic(critic_loss, theta, seed, steps=250):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny network: one thread is fastest and steady on a busy machine
    try:
        return _train_critic_1t(critic_loss, theta, seed, steps)
    finally:
        torch.set_num_threads(threads)


def _train_critic_1t(critic_loss, theta, seed, steps):
    g = torch.Generator().manual_seed(seed)
    xp, xq = torch.randn(2000, 1, generator=g, dtype=F64), torch.randn(2000, 1, generator=g, dtype=F64) + theta
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.LeakyReLU(0.2), torch.nn.Linear(32, 32),
                              torch.nn.LeakyReLU(0.2), torch.nn.Linear(32, 1)).to(F64)
    torch.nn.init.zeros_(net[-1].weight), torch.nn.init.zeros_(net[-1].bias)  # start at f = 0: no sign barrier
    crit = lambda x: net(x).squeeze(-1)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3, betas=(0.5, 0.9))
    for _ in range(steps):
        i, j = torch.randint(0, 2000, (128,), generator=g), torch.randint(0, 2000, (128,), generator=g)
        loss = _tensor(critic_loss(crit, xp[i], xq[j], 10.0, g), "critic_loss")
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        est = (crit(xp).mean() - crit(xq).mean()).item()
    return est, wasserstein_distance(xp[:, 0].numpy(), xq[:, 0].numpy())


@check("q7", points=2, hint="critic_loss = mean f(x_fake) - mean f(x_real) + gradient_penalty(...); minimising it "
                            "maximises E f(real) - E f(fake)")
def trained_critic_estimates_w1(critic_loss):
    est, w1 = _train_critic(critic_loss, 1.0, 712)
    assert est > 0, (f"critic_loss: after training, E f(real) - E f(fake) = {est:.3f} < 0; the loss has the wrong sign "
                     "(it should be minimised)")
    assert abs(est - w1) < 0.15 * w1, (f"critic_loss: the trained critic estimates W1 = {est:.3f}, the samples' W1 is "
                                       f"{w1:.3f} (allowed 15%)")


# --------------------------------------------------------------------------- q8: D*, coverage, duplicates
def _grid_case(seed):
    rng = np.random.default_rng(seed)
    x = np.linspace(-8, 8, 1601)
    dx = x[1] - x[0]
    c = rng.uniform(-2, 2, 3)
    p = sum(np.exp(-0.5 * ((x - m) / s) ** 2) / s for m, s in zip(c[:2], rng.uniform(0.4, 1.0, 2)))
    q = np.exp(-0.5 * ((x - c[2]) / 1.3) ** 2)
    return x, p / (p.sum() * dx), q / (q.sum() * dx), dx


def _check_dstar(optimal_discriminator, seed, name):
    x, p, q, dx = _grid_case(seed)
    copies = dict(p_data=p.copy(), p_g=q.copy())
    d = _array(optimal_discriminator(copies["p_data"], copies["p_g"]), name, shape=p.shape)
    _unchanged(copies, dict(p_data=p, p_g=q), "optimal_discriminator")
    _close(d, p / (p + q), 1e-12, name, {"p_G / (p_data + p_G), the fake-class probability": q / (p + q)})
    v = np.sum(p * np.log(d) + q * np.log(1 - d)) * dx
    jsd = jensenshannon(p, q) ** 2
    _near(v, 2 * jsd - math.log(4), 1e-8, f"V(D*, G) with your {name} (should be 2 JSD - log 4)")


@check("q8", points=1.5, hint="D*(x) = p_data(x) / (p_data(x) + p_G(x))")
def optimal_discriminator_gives_the_jsd(optimal_discriminator):
    _check_dstar(optimal_discriminator, 713, "optimal_discriminator")
    p = np.exp(-np.linspace(-3, 3, 50) ** 2)
    d = _array(optimal_discriminator(p, p.copy()), "optimal_discriminator(p, p)", shape=p.shape)
    assert np.abs(d - 0.5).max() < 1e-15, "optimal_discriminator(p, p) must be 1/2 everywhere"


RING = np.array([[2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)] for k in range(8)])
PI8 = np.array([0.51] + [0.07] * 7)


def _ring_samples(rng, counts):
    k = np.repeat(np.arange(len(counts)), counts)
    return RING[k] + 0.1 * rng.normal(size=(len(k), 2))


def _coverage_ref(x, means, weights, frac=0.25):
    k = np.argmin(((x[:, None] - means[None]) ** 2).sum(-1), 1)
    share = np.bincount(k, minlength=len(means)) / len(x)
    return int((share > frac * weights).sum())


def _call_cov(mode_coverage, x, means, weights, name):
    copies = dict(samples=x.copy(), means=means.copy(), weights=weights.copy())
    v = _answered(mode_coverage(**copies), name)
    _unchanged(copies, dict(samples=x, means=means, weights=weights), "mode_coverage")
    return int(_number(v, name))


@check("q8", points=2, hint="a mode is covered when the share of samples nearest to it exceeds frac * its weight")
def coverage_of_known_sets(mode_coverage):
    rng = np.random.default_rng(714)
    cases = [([400, 60, 60, 60, 60, 60, 0, 0], 6, "two light modes dropped"),
             ([500, 0, 70, 0, 70, 0, 70, 70], 5, "three light modes dropped"),
             ([300, 70, 70, 70, 70, 70, 70, 1], 7, "one light mode with a single stray sample"),
             ([60, 70, 70, 70, 70, 70, 70, 70], 7, "the heavy mode at 11% (below a quarter of 0.51)")]
    for counts, want, what in cases:
        x = _ring_samples(rng, counts)
        got = _call_cov(mode_coverage, x, RING, PI8, f"mode_coverage ({what})")
        share = np.bincount(np.argmin(((x[:, None] - RING[None]) ** 2).sum(-1), 1), minlength=8) / len(x)
        mistakes = {"a threshold of frac / K, ignoring the weights": int((share > 0.25 / 8).sum()),
                    "any mode with at least one sample": int((share > 0).sum())}
        assert got == want, f"mode_coverage ({what}): got {got}, expected {want}." + _looks_like(got, mistakes)


def _pairs_ref(x, thr):
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    return int(np.triu(d < thr, 1).sum())


@check("q8", points=1.5, hint="count pairs i < j with |x_i - x_j| < threshold (each pair once, no self-pairs)")
def birthday_duplicates_by_brute_force(birthday_duplicates):
    rng = np.random.default_rng(715)
    x = rng.normal(size=(120, 2))
    x[7], x[50] = x[3] + 1e-3, x[9] - 2e-3
    for pts, thr, what in ((x, 0.01, "a diverse batch with two planted duplicates"),
                           (np.tile(x[:1], (30, 1)), 1e-6, "a fully collapsed batch of 30")):
        copies = pts.copy()
        got = int(_number(birthday_duplicates(copies, thr), f"birthday_duplicates ({what})"))
        _unchanged(dict(samples=copies), dict(samples=pts), "birthday_duplicates")
        want = _pairs_ref(pts, thr)
        n = len(pts)
        mistakes = {"ordered pairs (each counted twice)": 2 * want, "self-pairs included": want + n,
                    "ordered pairs with self-pairs": 2 * want + n}
        assert got == want, f"birthday_duplicates ({what}): got {got}, expected {want}." + _looks_like(got, mistakes)
