"""lib.diffusion.samplers driven by exact scores: every sampler must reproduce the 8-Gaussian ring (energy
distance within the data-vs-data band of the calibration, mode weights, within-mode spread), the judge must
reject collapsed samplers, the book's four VE-chain updates follow their exact variance recursions on Gaussian
data, the PF-ODE round trip, Langevin's bias and mode trapping, guidance, bad input."""
import math

import numpy as np
import pytest
import torch

from lib.diffusion import samplers as S
from lib.diffusion.schedules import BookVEChain, VEBrownian, VEGeometric, VPSDE, VPSchedule
from lib.gmm import GaussianMixture, ring_gmm
from lib.sample_metrics import energy_distance, mode_weights, within_mode_std

F64 = torch.float64
RING = ring_gmm()
DATA = RING.sample(2000, generator=torch.Generator().manual_seed(100))[0]


def judge(x, mix=RING, data=DATA):
    """Section 0.4 of the spec: ED < 0.02, mode weights within 0.04, within-mode std within 15 %."""
    ed = energy_distance(x, data)
    dev = float(np.abs(mode_weights(x, mix.means) - mix.weights.numpy()).max())
    std = within_mode_std(x, mix.means) / within_mode_std(data, mix.means)
    return ed < 0.02 and dev < 0.04 and abs(std - 1) < 0.15, (ed, dev, std)


def oracle(proc, mix=RING):
    return lambda x, t: mix.score_t(x, *proc.coeffs(t))


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.slow
@pytest.mark.parametrize("var", ["beta_tilde", "beta"])
def test_ancestral_ddpm_reproduces_the_ring(var):
    sch = VPSchedule.linear()
    x = S.ancestral_sample(lambda x, t: RING.posterior_mean_eps(x, *sch.coeffs(t)), sch, 2000, var=var,
                           generator=gen())
    ok, stats = judge(x)
    assert ok, stats


def test_ddim_reproduces_the_ring_and_is_deterministic():
    sch = VPSchedule.linear()
    eps = lambda x, t: RING.posterior_mean_eps(x, *sch.coeffs(t))  # noqa: E731
    x = S.ddim_sample(eps, sch, 2000, steps=100, generator=gen())
    ok, stats = judge(x)
    assert ok, stats
    x_init = torch.randn(50, 2, dtype=F64, generator=gen(1))
    torch.testing.assert_close(S.ddim_sample(eps, sch, steps=20, x_init=x_init),
                               S.ddim_sample(eps, sch, steps=20, x_init=x_init), rtol=0, atol=0)


@pytest.mark.parametrize("proc,steps", [(VPSDE(), 500), (VEGeometric(0.01, 5.0), 200)], ids=repr)
def test_reverse_sde_reproduces_the_ring(proc, steps):
    x = S.reverse_sde_sample(oracle(proc), proc, 2000, steps=steps, generator=gen())
    ok, stats = judge(x)
    assert ok, stats


@pytest.mark.parametrize("proc,steps", [(VPSDE(), 50), (VEGeometric(0.01, 5.0), 200)], ids=repr)
def test_probability_flow_ode_reproduces_the_ring(proc, steps):
    x = S.pf_ode_sample(oracle(proc), proc, 2000, steps=steps, method="heun", generator=gen())
    ok, stats = judge(x)
    assert ok, stats


def test_the_judge_rejects_collapsed_samplers():
    proc = VPSDE()
    # coefficient 1 instead of 1/2 on the score in the ODE (the reverse SDE without its noise) over-concentrates
    twice = lambda x, t: 2 * RING.score_t(x, *proc.coeffs(t))  # noqa: E731
    x = S.pf_ode_sample(twice, proc, 2000, steps=50, generator=gen())
    ok, (ed, dev, std) = judge(x)
    assert not ok and std < 0.7
    # ... and a sampler that lands every point on its mode centre
    ok, (ed, _, std) = judge(RING.means[RING.sample(2000, gen(2))[1]])
    assert not ok and std == 0.0


def test_flow_matching_with_the_exact_velocity_reproduces_the_ring():
    v = lambda x, t: RING.flow_velocity(x, t)  # noqa: E731
    for method, steps in [("euler", 100), ("heun", 20)]:
        ok, stats = judge(S.fm_sample(v, 2000, steps=steps, method=method, generator=gen()))
        assert ok, (method, stats)


def test_imbalanced_ring_weights_are_kept():
    mix = ring_gmm(weights=[0.51] + [0.07] * 7)
    data = mix.sample(2000, gen(3))[0]
    proc = VPSDE()
    x = S.reverse_sde_sample(oracle(proc, mix), proc, 2000, steps=300, generator=gen())
    ok, stats = judge(x, mix, data)
    assert ok, stats


def test_pf_ode_encode_decode_round_trip():
    proc = VPSDE()
    x0 = RING.sample(300, gen(4))[0]
    errs = []
    for steps in (100, 200):
        z = S.pf_ode_encode(oracle(proc), proc, x0, steps=steps)
        errs.append(float((S.pf_ode_sample(oracle(proc), proc, x_init=z, steps=steps) - x0).norm(dim=1).max()))
    assert errs[1] < 1e-2 and errs[0] / errs[1] > 3          # second order: about 4x per halving of the step
    assert abs(float(z.std()) - 1) < 0.1                      # the code is (nearly) standard normal


@pytest.mark.parametrize("mode", ["stochastic", "half_step", "naive_full", "t_minus_2"])
def test_book_ve_chain_updates_follow_their_variance_recursions(mode):
    """Data N(0, 1): p_t = N(0, 1 + t s2) and the score is -x / (1 + t s2), so every update is linear and its
    output variance follows a recursion computed here independently."""
    T, s2 = 40, 0.05
    chain = BookVEChain(T, s2)
    score = lambda x, t: -x / (1 + t * s2)  # noqa: E731
    x = S.book_ve_sample(score, chain, 200_000, dim=1, mode=mode, generator=gen(5))
    v = T * s2
    coef = 0.5 if mode == "half_step" else 1.0
    for t in (range(T, 0, -2) if mode == "t_minus_2" else range(T, 0, -1)):
        v = (1 - coef * s2 / (1 + t * s2)) ** 2 * v + (s2 if mode == "stochastic" else 0.0)
    assert float(x.var()) == pytest.approx(v, rel=0.015)


def test_book_ve_naive_full_step_collapses_the_ring():
    chain = BookVEChain(400, 25 / 400)
    x = S.book_ve_sample(oracle(chain), chain, 1000, mode="naive_full", generator=gen())
    ok, (ed, dev, std) = judge(x)
    assert not ok and std < 0.7


def test_langevin_stationary_variance_is_biased_as_predicted():
    eps = 0.5
    x = S.langevin(lambda x: -x, torch.zeros(20_000, 1, dtype=F64), eps, 300, generator=gen(6))
    assert float(x.var()) == pytest.approx(1 / (1 - eps / 4), rel=0.02)
    assert abs(float(x.var()) - 1) > 0.1


def test_annealed_langevin_finds_the_weights_plain_langevin_misses():
    mix = GaussianMixture([0.8, 0.2], [[5.0, 5.0], [-5.0, -5.0]], [1.0, 1.0])
    x_init = 16 * torch.rand(1000, 2, dtype=F64, generator=gen(7)) - 8
    plain = S.langevin(mix.score, x_init, 0.1, 500, generator=gen(8))
    sigmas = np.geomspace(20, 0.01, 10)
    ann = S.annealed_langevin(lambda x, s: mix.score_t(x, 1.0, s), sigmas, x_init, steps_per_level=50, c=0.1,
                              base_var=1.0, generator=gen(9))
    w_plain = mode_weights(plain, mix.means)[0]
    w_ann = mode_weights(ann, mix.means)[0]
    assert w_plain < 0.6 and w_ann > 0.7, (w_plain, w_ann)


def test_cfg_score_combines_as_stated():
    sc, su = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.5, -1.0]])
    torch.testing.assert_close(S.cfg_score(sc, su, 2.0), 3 * sc - 2 * su)
    f = S.cfg_score(lambda x, t: sc, lambda x, t: su, 0.0)
    torch.testing.assert_close(f(None, 0.5), sc)


def test_trajectories_and_starting_points():
    sch, proc = VPSchedule.linear(T=100), VEBrownian(2.0)
    eps = lambda x, t: RING.posterior_mean_eps(x, *sch.coeffs(t))  # noqa: E731
    x, traj = S.ancestral_sample(eps, sch, 10, return_traj=True, generator=gen())
    assert traj.shape == (101, 10, 2) and torch.equal(traj[-1], x)
    x, traj = S.pf_ode_sample(oracle(proc), proc, 10, steps=7, return_traj=True, generator=gen())
    assert traj.shape == (8, 10, 2) and abs(float(traj[0].std()) - 2.0) < 1.0
    _, traj = S.book_ve_sample(oracle(BookVEChain(10, 0.1)), BookVEChain(10, 0.1), 5, mode="t_minus_2",
                               return_traj=True, generator=gen())
    assert traj.shape == (6, 5, 2)
    _, traj = S.annealed_langevin(lambda x, s: -x, [2.0, 1.0], torch.zeros(4, 1), steps_per_level=3,
                                  return_traj=True, generator=gen())
    assert traj.shape == (7, 4, 1)


def test_bad_input_raises():
    sch = VPSchedule.linear(T=10)
    eps = lambda x, t: torch.zeros_like(x)  # noqa: E731
    with pytest.raises(TypeError, match="schedule"):
        S.ancestral_sample(eps, VPSDE(), 5)
    with pytest.raises(ValueError, match="var"):
        S.ancestral_sample(eps, sch, 5, var="sigma")
    with pytest.raises(ValueError, match="n"):
        S.ancestral_sample(eps, sch, 0)
    with pytest.raises(ValueError, match="steps"):
        S.ddim_sample(eps, sch, 5, steps=11)
    with pytest.raises(ValueError, match="eps_fn"):
        S.ancestral_sample(lambda x, t: x[:, :1], sch, 5)
    with pytest.raises(ValueError, match="mode"):
        S.book_ve_sample(eps, BookVEChain(10, 0.1), 5, mode="fast")
    with pytest.raises(ValueError, match="t_min"):
        S.pf_ode_sample(eps, VPSDE(), 5, t_min=1.0)
    with pytest.raises(ValueError, match="method"):
        S.pf_ode_sample(eps, VPSDE(), 5, method="rk4")
    with pytest.raises(ValueError, match="step"):
        S.langevin(lambda x: x, torch.zeros(3, 1), -0.1, 5)
    with pytest.raises(ValueError, match="sigmas"):
        S.annealed_langevin(lambda x, s: x, [1.0, 2.0], torch.zeros(3, 1))
    with pytest.raises(TypeError, match="score_cond"):
        S.cfg_score(torch.ones(2), lambda x, t: x, 1.0)
