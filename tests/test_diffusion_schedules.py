"""lib.diffusion.schedules: DDPM alpha-bars against the products they are, the cosine formula, the posterior
variance against Gaussian conditioning, every continuous process's (f, g^2) against its marginal coefficients,
the VP-SDE as the limit of the discrete chain, bad input."""
import math

import numpy as np
import pytest
import torch

from lib.diffusion import schedules as S


def test_linear_schedule_alpha_bar_is_the_product():
    sch = S.VPSchedule.linear()
    betas = np.linspace(1e-4, 0.02, 1000)
    want = np.cumprod(1 - betas)
    np.testing.assert_allclose(sch.alpha_bars[1:].numpy(), want, rtol=1e-12)
    assert float(sch.alpha_bars[-1]) == pytest.approx(4.036e-5, abs=1e-8)
    assert float(sch.alpha_bars[500]) == pytest.approx(0.0786, abs=5e-4)
    assert sch.betas[0] == 0 and sch.alpha_bars[0] == 1 and sch.T == 1000 and sch.betas.shape == (1001,)


def test_cosine_schedule_follows_its_formula():
    sch = S.VPSchedule.cosine(T=1000, s=0.008)
    t = np.arange(1001) / 1000
    f = np.cos((t + 0.008) / 1.008 * np.pi / 2) ** 2
    ab = f / f[0]
    # betas are clipped at 0.999 only at the very end
    np.testing.assert_allclose(sch.alpha_bars[:990].numpy(), ab[:990], rtol=1e-10)
    assert float(sch.betas.max()) <= 0.999
    assert float(sch.alpha_bars[500]) == pytest.approx(0.494, abs=1e-3)


def test_lemma_30_two_steps():
    sch = S.VPSchedule(torch.tensor([0.1, 0.3], dtype=torch.float64))
    a1, a2 = 0.9, 0.7
    # x_2 = sqrt(a2)(sqrt(a1) x0 + sqrt(b1) e1) + sqrt(b2) e2: variance a2 b1 + b2 = 1 - a1 a2
    assert a2 * 0.1 + 0.3 == pytest.approx(1 - a1 * a2)
    a, b = sch.coeffs(2)
    assert a * a == pytest.approx(a1 * a2) and b * b == pytest.approx(1 - a1 * a2)


def test_posterior_variance_is_gaussian_conditioning():
    sch = S.VPSchedule.linear(T=50, beta_min=1e-3, beta_max=0.2)
    for t in (2, 10, 50):
        ab_prev, ab, alpha = (float(v) for v in (sch.alpha_bars[t - 1], sch.alpha_bars[t], sch.alphas[t]))
        # given x0: Var x_{t-1} = 1 - ab_prev, Cov(x_{t-1}, x_t) = sqrt(alpha)(1 - ab_prev), Var x_t = 1 - ab
        cond = (1 - ab_prev) - alpha * (1 - ab_prev) ** 2 / (1 - ab)
        assert float(sch.posterior_var[t]) == pytest.approx(cond, rel=1e-10)
    assert float(sch.posterior_var[1]) == 0.0
    assert math.isinf(float(sch.snr[0])) and float(sch.snr[10]) == pytest.approx(
        float(sch.alpha_bars[10] / (1 - sch.alpha_bars[10])))


def test_discrete_coeffs_for_ints_and_tensors():
    for sch in (S.VPSchedule.linear(), S.BookVEChain(1000, 0.025)):
        t = torch.tensor([1, 17, 1000])
        a, b = sch.coeffs(t)
        for i, ti in enumerate(t.tolist()):
            assert float(a[i]) == pytest.approx(sch.coeffs(ti)[0]) and float(b[i]) == pytest.approx(sch.coeffs(ti)[1])
    assert S.BookVEChain(1000, 0.025).coeffs(1000) == (1.0, pytest.approx(5.0))
    assert S.VPSchedule.linear().to_continuous_time(250) == 0.25


PROCESSES = [S.VEBrownian(3.0), S.VEGeometric(0.01, 5.0), S.VPSDE(0.1, 20.0)]


@pytest.mark.parametrize("proc", PROCESSES, ids=repr)
def test_sde_coefficients_match_the_marginals(proc):
    """For dx = f x dt + g dw: f = d log a / dt and g^2 = d b^2 / dt - 2 f b^2 (central differences)."""
    h = 1e-6
    for t in (0.1, 0.4, 0.8):
        (a_lo, b_lo), (a, b), (a_hi, b_hi) = proc.coeffs(t - h), proc.coeffs(t), proc.coeffs(t + h)
        f = (math.log(a_hi) - math.log(a_lo)) / (2 * h)
        g2 = (b_hi ** 2 - b_lo ** 2) / (2 * h) - 2 * f * b * b
        assert float(proc.f(t)) == pytest.approx(f, abs=1e-6)
        assert float(proc.g2(t)) == pytest.approx(g2, rel=1e-6)


def test_vp_sde_closed_forms_and_the_discrete_limit():
    vp = S.VPSDE()
    assert vp.alpha_bar(1.0) == pytest.approx(math.exp(-10.05), rel=1e-12)
    a, b = vp.coeffs(0.3)
    assert a * a + b * b == pytest.approx(1.0)
    # the discrete chain with beta_t = beta(t / T) / T tends to the SDE, with an error O(1 / T)
    def worst(T):
        sch = S.VPSchedule(vp.beta(torch.arange(1, T + 1, dtype=torch.float64) / T) / T)
        return max(abs(float(sch.alpha_bars[int(t * T)]) / vp.alpha_bar(t) - 1) for t in (0.1, 0.5, 1.0))

    assert worst(4000) < 0.02 and 3.5 < worst(1000) / worst(4000) < 4.5


def test_euler_maruyama_reaches_the_closed_form_variance():
    gen = torch.Generator().manual_seed(0)
    for proc in PROCESSES:
        x = torch.full((20_000,), 1.5, dtype=torch.float64)
        ts = np.linspace(0, 1, 1001)
        for t, t1 in zip(ts[:-1], ts[1:]):
            h = t1 - t
            x = x + proc.f(t) * x * h + math.sqrt(proc.g2(t) * h) * torch.randn(x.shape, generator=gen, dtype=torch.float64)
        a, b = proc.coeffs(1.0)
        a0, b0 = proc.coeffs(0.0)
        var = b * b - (a / a0) ** 2 * b0 ** 2          # variance added between t = 0 and t = 1
        assert float(x.mean()) == pytest.approx(1.5 * a / a0, abs=4 * math.sqrt(var / 20_000) + 0.01)
        assert float(x.var()) == pytest.approx(var, rel=0.04)


def test_continuous_coeffs_for_tensors_and_interpolant():
    t = torch.tensor([0.0, 0.25, 1.0], dtype=torch.float64)
    for proc in PROCESSES + [S.LinearInterpolant()]:
        a, b = proc.coeffs(t)
        for i, ti in enumerate(t.tolist()):
            assert float(a[i]) == pytest.approx(proc.coeffs(ti)[0]) and float(b[i]) == pytest.approx(proc.coeffs(ti)[1])
    assert S.LinearInterpolant().coeffs(0.3) == (pytest.approx(0.7), 0.3)
    assert S.VEGeometric(0.01, 5.0).prior_std() == pytest.approx(5.0)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="betas"):
        S.VPSchedule([0.1, 1.2])
    with pytest.raises(ValueError, match="T"):
        S.VPSchedule.linear(T=0)
    with pytest.raises(ValueError, match="t"):
        S.VPSchedule.linear(T=10).coeffs(11)
    with pytest.raises(ValueError, match="t"):
        S.VPSchedule.linear(T=10).coeffs(2.5)
    with pytest.raises(ValueError, match="t"):
        S.VPSDE().coeffs(1.5)
    with pytest.raises(ValueError, match="sigma_max"):
        S.VEGeometric(1.0, 0.5)
    with pytest.raises(ValueError, match="sigma2"):
        S.BookVEChain(10, -1.0)
