"""lib.kl_fit against scipy's densities and quadrature, and the closed-form Gaussian KL."""
import math

import numpy as np
import pytest
import torch
from scipy import integrate
from scipy.stats import norm

from lib import kl_fit as kf

MEANS, STDS, W = np.array([-2.0, 2.0]), np.array([0.5, 0.5]), np.array([0.3, 0.7])


def test_mixture_logpdf_and_moments_match_scipy():
    x = np.linspace(-5, 5, 101)
    ref = np.log(0.3 * norm.pdf(x, -2, 0.5) + 0.7 * norm.pdf(x, 2, 0.5))
    np.testing.assert_allclose(kf.mixture_logpdf(x, MEANS, STDS, W), ref, rtol=1e-12)
    m, s = kf.mixture_moments(MEANS, STDS, W)
    pdf = lambda t: np.exp(kf.mixture_logpdf(t, MEANS, STDS, W))
    m_ref = integrate.quad(lambda t: t * pdf(t), -12, 12)[0]
    v_ref = integrate.quad(lambda t: (t - m_ref) ** 2 * pdf(t), -12, 12)[0]
    assert m == pytest.approx(m_ref, abs=1e-9) and s == pytest.approx(math.sqrt(v_ref), rel=1e-9)


def test_forward_fit_is_moment_matching_and_the_forward_kl_minimum():
    rng = np.random.default_rng(0)
    comp = rng.random(200_000) < 0.3
    samples = np.where(comp, rng.normal(-2, 0.5, comp.size), rng.normal(2, 0.5, comp.size))
    m, s = kf.fit_gaussian_forward_kl(samples)
    m_ex, s_ex = kf.mixture_moments(MEANS, STDS, W)
    assert m == pytest.approx(m_ex, abs=0.01) and s == pytest.approx(s_ex, rel=0.01)
    x = np.linspace(-8, 8, 801)
    lp = kf.mixture_logpdf(x, MEANS, STDS, W)
    mg, lsg = np.linspace(-3, 3, 121), np.linspace(-1.5, 1.5, 121)
    gm, gs = kf.grid_fit(lp, x, mg, lsg, direction="forward")
    assert gm == pytest.approx(m_ex, abs=0.05) and gs == pytest.approx(s_ex, rel=0.03)


def test_kl_grid_matches_closed_form_for_gaussian_target():
    x = np.linspace(-25, 25, 10001)           # the grid must hold essentially all of q's and p's mass
    lp = norm.logpdf(x, 0.5, 1.3)
    mg, lsg = np.array([-1.0, 0.5, 2.0]), np.log(np.array([0.7, 1.3, 2.0]))
    closed = lambda m1, s1, m2, s2: np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5
    rev, fwd = kf.kl_grid(lp, x, mg, lsg, "reverse"), kf.kl_grid(lp, x, mg, lsg, "forward")
    for i, m in enumerate(mg):
        for j, s in enumerate(np.exp(lsg)):
            assert rev[i, j] == pytest.approx(closed(m, s, 0.5, 1.3), abs=1e-8)
            assert fwd[i, j] == pytest.approx(closed(0.5, 1.3, m, s), abs=1e-8)
    assert rev[1, 1] == pytest.approx(0.0, abs=1e-10)


def test_reverse_kl_seeks_one_mode():
    x = np.linspace(-8, 8, 801)
    lp = kf.mixture_logpdf(x, MEANS, STDS, W)
    rm, rs = kf.grid_fit(lp, x, np.linspace(-3, 3, 61), np.linspace(-2, 1, 61))
    assert rm == pytest.approx(2.0, abs=0.1) and rs == pytest.approx(0.5, rel=0.1)   # the heavier mode
    log_target = lambda z: torch.logsumexp(torch.stack([math.log(0.3) - 0.5 * ((z + 2) / 0.5) ** 2,
                                                        math.log(0.7) - 0.5 * ((z - 2) / 0.5) ** 2]), 0)
    for init, mode in (((-1.0, 0.0), -2.0), ((1.0, 0.0), 2.0)):   # SGD finds the local optimum near its start
        fit = kf.fit_gaussian_reverse_kl(log_target, init=init, steps=400, generator=torch.Generator().manual_seed(0))
        assert fit["mean"] == pytest.approx(mode, abs=0.1) and fit["std"] == pytest.approx(0.5, rel=0.15)
        assert fit["trace"].shape == (401, 2)
    # the reverse-KL optimum is far below the forward-KL Gaussian's reverse KL
    m_f, s_f = kf.mixture_moments(MEANS, STDS, W)
    kl_r = kf.kl_grid(lp, x, [rm, m_f], np.log([rs, s_f]))
    assert kl_r[0, 0] < 0.5 < kl_r[1, 1]


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: kf.mixture_logpdf(0.0, [0.0, 1.0], [1.0], [1.0, 1.0]), ValueError, "means"),
    (lambda: kf.mixture_logpdf(0.0, [0.0], [-1.0], [1.0]), ValueError, "stds"),
    (lambda: kf.fit_gaussian_forward_kl([1.0]), ValueError, "target_samples"),
    (lambda: kf.fit_gaussian_reverse_kl(None), TypeError, "log_target"),
    (lambda: kf.fit_gaussian_reverse_kl(lambda z: -z ** 2, steps=0), ValueError, "steps"),
    (lambda: kf.kl_grid(np.zeros(5), np.arange(5.0), [0.0], [0.0], "sideways"), ValueError, "direction"),
    (lambda: kf.kl_grid(np.zeros(4), np.arange(5.0), [0.0], [0.0]), ValueError, "log_p"),
])
def test_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
