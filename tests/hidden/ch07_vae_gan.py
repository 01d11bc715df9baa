"""Hidden checks for the Chapter 7 exercises (grading only; a failure shows as "hidden check failed").

They use cases the notebook never shows (other sizes and seeds, extreme log-variances, a six-dimensional PPCA,
unequal-norm slerp, a second shift for the WGAN critic, other coverage sets) and verify that the student's
functions leave their inputs unchanged. References come from torch, scipy and closed forms, through the helpers
of the public checks.
"""
from __future__ import annotations

import numpy as np
import torch

from lib.checks.ch07_vae_gan import (F64, RING, _array, _call_cov, _call_interp, _check_bern, _check_dstar,
                                     _check_elbo_bound, _check_em_step, _check_gan_values, _check_gp_interpolates,
                                     _check_gp_linear, _check_kl, _check_moments, _check_pathwise, _close, _near,
                                     _number, _pairs_ref, _ring_samples, _slerp_ref, _train_critic)
from lib.grading import check


@check("q1", points=1)
def hidden_kl_other_shapes_and_extreme_logvar(kl_diag_std_normal):
    _check_kl(kl_diag_std_normal, 1701, 7, 5, "kl_diag_std_normal (hidden)")
    mu = torch.zeros(2, 1, dtype=F64)
    lv = torch.tensor([[-10.0], [5.0]], dtype=F64)
    want = 0.5 * (lv.exp() - 1 - lv)[:, 0]
    _close(kl_diag_std_normal(mu, lv.clone()), want, 1e-12, "kl_diag_std_normal at logvar -10 and 5 (hidden)")


@check("q2", points=1)
def hidden_reparameterize_other_parameters(reparameterize):
    m0 = torch.tensor([-3.0, 0.0], dtype=F64)
    lv0 = torch.tensor([1.0, -2.0], dtype=F64)
    _check_moments(reparameterize, m0, lv0, 100_000, 1702, "reparameterize (hidden)")
    _check_pathwise(reparameterize, m0, lv0, 100_000, 1703, "reparameterize (hidden)")


@check("q3", points=1)
def hidden_elbo_other_dimensions(elbo):
    _check_elbo_bound(elbo, 1704, 7, 3, 10, "elbo (hidden)")


@check("q4", points=1)
def hidden_em_step_six_dimensions(em_step_ppca):
    _check_em_step(em_step_ppca, 1705, 300, 6, 3, "em_step_ppca (hidden)")


@check("q5", points=1)
def hidden_elbo_and_slerp_other_cases(bernoulli_elbo, interpolate):
    _check_bern(bernoulli_elbo, 1706, 3, 20, 4, "bernoulli_elbo (hidden)")
    za, zb = torch.tensor([1.0, 2.0], dtype=F64), torch.tensor([-3.0, 0.5], dtype=F64)
    got = _call_interp(interpolate, za, zb, 5, "slerp", "interpolate(..., 'slerp') (hidden)")
    _close(got, _slerp_ref(za, zb, 5), 1e-10, "interpolate(..., 'slerp') between unequal norms (hidden)")
    got = _call_interp(interpolate, za, zb, 2, "linear", "interpolate(..., 2, 'linear') (hidden)")
    _close(got, torch.stack([za, zb]), 1e-14, "interpolate(..., 2, 'linear') (hidden): the endpoints")


@check("q6", points=1)
def hidden_gan_losses_other_logits(d_loss, g_loss_saturating, g_loss_nonsaturating):
    _check_gan_values(d_loss, g_loss_saturating, g_loss_nonsaturating, 1707, 11, "GAN losses (hidden)")


@check("q7", points=1.5)
def hidden_penalty_and_critic_other_cases(gradient_penalty, critic_loss):
    _check_gp_linear(gradient_penalty, 1708, 5, 3.0, "gradient_penalty (hidden)")
    _check_gp_interpolates(gradient_penalty, 1709, "gradient_penalty (hidden)")
    est, w1 = _train_critic(critic_loss, 0.5, 1710)
    assert abs(est - w1) < 0.2 * w1, f"critic_loss (hidden): W1 estimate {est:.3f} for a shift 0.5 (samples' W1 {w1:.3f})"


@check("q8", points=1)
def hidden_dstar_coverage_duplicates_other_sets(optimal_discriminator, mode_coverage, birthday_duplicates):
    _check_dstar(optimal_discriminator, 1711, "optimal_discriminator (hidden)")
    rng = np.random.default_rng(1712)
    w = np.full(8, 1 / 8)
    x = _ring_samples(rng, [100, 100, 100, 0, 0, 100, 2, 100])
    got = _call_cov(mode_coverage, x, RING, w, "mode_coverage (hidden, balanced ring)")
    assert got == 5, f"mode_coverage (hidden, balanced ring with 3 modes dropped or nearly): got {got}, expected 5"
    pts = rng.normal(size=(80, 3))
    pts[10] = pts[20] + 1e-4
    got = int(_number(birthday_duplicates(pts.copy(), 0.05), "birthday_duplicates (hidden)"))
    _near(got, _pairs_ref(pts, 0.05), 0, "birthday_duplicates (hidden, three dimensions)")
