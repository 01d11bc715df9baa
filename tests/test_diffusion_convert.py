"""lib.diffusion.convert: every conversion against the exact Gaussian-mixture oracle (Tweedie, the corrected
flow-matching relations of 6.16.6), round trips, per-row times, and the book's relation failing."""
import pytest
import torch

from lib.diffusion import convert as C
from lib.diffusion.schedules import LinearInterpolant, VPSDE, VPSchedule
from lib.gmm import ring_gmm

F64 = torch.float64
MIX = ring_gmm(weights=[0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
X = torch.randn(64, 2, dtype=F64, generator=torch.Generator().manual_seed(0)) * 1.5


@pytest.mark.parametrize("proc,t", [(VPSchedule.linear(), 250), (VPSDE(), 0.4), (LinearInterpolant(), 0.6)])
def test_score_noise_and_clean_data_against_the_oracle(proc, t):
    a, b = proc.coeffs(t)
    s = MIX.score_t(X, a, b)
    eps, x0 = MIX.posterior_mean_eps(X, a, b), MIX.posterior_mean_x0(X, a, b)
    torch.testing.assert_close(C.score_to_eps(s, t, proc), eps, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(C.eps_to_score(eps, t, proc), s, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(C.score_to_x0(s, X, t, proc), x0, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(C.eps_to_x0(eps, X, t, proc), x0, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(C.x0_to_eps(x0, X, t, proc), eps, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("t", [0.2, 0.5, 0.8])
def test_velocity_relations_against_the_oracle(t):
    v, s = MIX.flow_velocity(X, t), MIX.score_t(X, 1 - t, t)
    torch.testing.assert_close(C.velocity_to_score(v, X, t), s, rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(C.score_to_velocity(s, X, t), v, rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(C.velocity_to_x0(v, X, t), MIX.posterior_mean_x0(X, 1 - t, t), rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(C.velocity_to_eps(v, X, t), MIX.posterior_mean_eps(X, 1 - t, t), rtol=1e-9, atol=1e-9)
    # the book's v = x + (t + 1) s is off by whole units
    assert (C.score_to_velocity(s, X, t) - (X + (t + 1) * s)).abs().max() > 1.0


def test_per_row_times():
    t = torch.linspace(0.1, 0.9, 64, dtype=F64)
    proc = VPSDE()
    a, b = proc.coeffs(t)
    s = MIX.score_t(X, a, b)
    torch.testing.assert_close(C.score_to_x0(s, X, t, proc), MIX.posterior_mean_x0(X, a, b), rtol=1e-9, atol=1e-9)
    v = MIX.flow_velocity(X, t)
    torch.testing.assert_close(C.velocity_to_score(v, X, t), MIX.score_t(X, 1 - t, t), rtol=1e-8, atol=1e-8)


def test_float32_stays_float32_and_bad_process_raises():
    out = C.score_to_eps(torch.ones(3, 2), 10, VPSchedule.linear())
    assert out.dtype == torch.float32
    with pytest.raises(TypeError, match="process"):
        C.score_to_eps(torch.ones(3, 2), 10, "vp")
