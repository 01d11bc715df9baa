"""lib.diffusion.forward: closed-form noising against its moments and against the step-by-step chain, the
DDPM posterior and the book's bridge (Lemma 8) against Gaussian conditioning and simulation, bad input."""
import math

import numpy as np
import pytest
import torch

from lib.diffusion import forward as F
from lib.diffusion.schedules import BookVEChain, VPSDE, VPSchedule

F64 = torch.float64


@pytest.mark.parametrize("proc,t", [(VPSchedule.linear(), 300), (BookVEChain(100, 0.05), 40), (VPSDE(), 0.3)])
def test_q_sample_moments(proc, t):
    gen = torch.Generator().manual_seed(0)
    x0 = torch.tensor([[1.0, -2.0]], dtype=F64).repeat(100_000, 1)
    xt, noise = F.q_sample(x0, t, proc, generator=gen)
    a, b = proc.coeffs(t)
    torch.testing.assert_close(xt.mean(0), a * x0[0], atol=4 * b / math.sqrt(1e5), rtol=0)
    torch.testing.assert_close(xt.var(0), torch.full((2,), b * b, dtype=F64), rtol=0.02, atol=0)
    torch.testing.assert_close(xt, a * x0 + b * noise)


def test_q_sample_per_row_times():
    sch = VPSchedule.linear()
    x0 = torch.randn(4, 2, dtype=F64)
    noise = torch.randn(4, 2, dtype=F64)
    t = torch.tensor([1, 10, 500, 1000])
    xt, _ = F.q_sample(x0, t, sch, noise=noise)
    for i in range(4):
        torch.testing.assert_close(xt[i:i + 1], F.q_sample(x0[i:i + 1], int(t[i]), sch, noise=noise[i:i + 1])[0])


@pytest.mark.parametrize("sched", [VPSchedule.linear(T=200, beta_min=1e-3, beta_max=0.05), BookVEChain(200, 0.02)])
def test_forward_chain_agrees_with_the_closed_form(sched):
    x0 = torch.tensor([[2.0, 0.5]], dtype=F64).repeat(20_000, 1)
    path = F.forward_chain(x0, sched, generator=torch.Generator().manual_seed(1))
    assert path.shape == (201, 20_000, 2)
    for t in (1, 50, 200):
        a, b = sched.coeffs(t)
        torch.testing.assert_close(path[t].mean(0), a * x0[0], atol=5 * b / math.sqrt(2e4), rtol=0)
        assert float(path[t].var(0).mean()) == pytest.approx(b * b, rel=0.03)


def _condition(m1, v1, cov, m2, v2, x2):
    """Mean and variance of u given w = x2 when (u, w) is jointly Gaussian (scalars per coordinate)."""
    return m1 + cov / v2 * (x2 - m2), v1 - cov * cov / v2


def test_ddpm_posterior_is_gaussian_conditioning():
    sch = VPSchedule.linear()
    gen = torch.Generator().manual_seed(2)
    x0, xt = torch.randn(5, 2, generator=gen, dtype=F64), torch.randn(5, 2, generator=gen, dtype=F64)
    for t in (2, 100, 999):
        ab_prev, ab, alpha = (float(v) for v in (sch.alpha_bars[t - 1], sch.alpha_bars[t], sch.alphas[t]))
        want_m, want_v = _condition(math.sqrt(ab_prev) * x0, 1 - ab_prev, math.sqrt(alpha) * (1 - ab_prev),
                                    math.sqrt(ab) * x0, 1 - ab, xt)
        mean, var = F.q_posterior(x0, xt, t, sch)
        torch.testing.assert_close(mean, want_m, rtol=1e-10, atol=1e-12)
        assert float(var) == pytest.approx(want_v, rel=1e-9)


def test_book_bridge_lemma_8_by_conditioning_and_by_simulation():
    chain = BookVEChain(50, 0.04)
    t = 20
    x0 = torch.tensor([[1.0, -1.0]], dtype=F64)
    # conditioning: x_{t-1} ~ N(x0, (t-1) s2), x_t = x_{t-1} + e
    xt = torch.tensor([[0.2, 0.7]], dtype=F64)
    want_m, want_v = _condition(x0, (t - 1) * 0.04, (t - 1) * 0.04, x0, t * 0.04, xt)
    mean, var = F.q_posterior(x0, xt, t, chain)
    torch.testing.assert_close(mean, want_m)
    assert float(var) == pytest.approx(0.04 * (t - 1) / t)
    # simulation: regress x_{t-1} on x_t over many chains from x0
    path = F.forward_chain(x0.repeat(40_000, 1), chain, generator=torch.Generator().manual_seed(3))
    u, w = path[t - 1][:, 0] - 1.0, path[t][:, 0] - 1.0
    slope = float((u * w).mean() / (w * w).mean())
    resid = float((u - slope * w).var())
    assert slope == pytest.approx(1 - 1 / t, abs=0.01)
    assert resid == pytest.approx(0.04 * (t - 1) / t, rel=0.03)


def test_bad_input_raises():
    sch = VPSchedule.linear()
    with pytest.raises(TypeError, match="x0"):
        F.q_sample(np.zeros((3, 2)), 5, sch)
    with pytest.raises(ValueError, match="noise"):
        F.q_sample(torch.zeros(3, 2), 5, sch, noise=torch.zeros(2, 2))
    with pytest.raises(TypeError, match="process"):
        F.q_sample(torch.zeros(3, 2), 5, "linear")
    with pytest.raises(TypeError, match="schedule"):
        F.q_posterior(torch.zeros(3, 2), torch.zeros(3, 2), 5, VPSDE())
    with pytest.raises(TypeError, match="schedule"):
        F.forward_chain(torch.zeros(3, 2), VPSDE())
