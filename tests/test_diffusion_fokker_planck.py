"""lib.diffusion.fokker_planck: the finite-volume solvers against the exact heat-kernel and OU marginals of a
Gaussian mixture, the probability-flow velocity (and the book's sign failing), Brownian variation scaling."""
import numpy as np
import pytest
import torch

from lib.diffusion import fokker_planck as FP
from lib.diffusion.schedules import VPSDE
from lib.gmm import GaussianMixture

MIX = GaussianMixture([0.6, 0.4], [[-1.0], [1.5]], [0.09, 0.25])
X = np.linspace(-7, 7, 701)


def exact(a, b):
    return np.exp(MIX.noised(a, b).log_prob(torch.from_numpy(X[:, None])).numpy())


def l1(p, q):
    return float(np.abs(p - q).sum() * (X[1] - X[0]))


def test_heat_equation_against_the_heat_kernel():
    sigma = 1.2
    ts = [0.0, 0.25, 1.0]
    sol = FP.fp_solve_1d(exact(1, 0), X, lambda x, t: 0.0, lambda x, t: sigma ** 2, ts)
    assert sol.shape == (3, X.size)
    for p, t in zip(sol, ts):
        assert l1(p, exact(1, sigma * np.sqrt(t))) < 1e-2
        assert p.sum() * (X[1] - X[0]) == pytest.approx(1.0, abs=1e-9)


def test_ou_process_against_its_closed_form():
    vp = VPSDE(0.1, 20.0)
    ts = [0.0, 0.1, 0.3]
    sol = FP.fp_solve_1d(exact(1, 0), X, lambda x, t: -0.5 * vp.beta(t) * x, lambda x, t: vp.beta(t), ts)
    for p, t in zip(sol[1:], ts[1:]):
        assert l1(p, exact(*vp.coeffs(t))) < 1e-2


def test_probability_flow_velocity_carries_the_same_marginals_and_the_books_sign_does_not():
    sigma = 1.0

    def velocity(sign):
        def v(x, t):
            s = MIX.score_t(torch.from_numpy(x[:, None]), 1.0, sigma * np.sqrt(t))[:, 0].numpy()
            return sign * 0.5 * sigma ** 2 * s
        return v

    ts = [0.05, 0.5]
    p0 = exact(1, sigma * np.sqrt(0.05))
    good = FP.continuity_solve_1d(p0, X, velocity(-1.0), ts)[-1]
    bad = FP.continuity_solve_1d(p0, X, velocity(+1.0), ts)[-1]
    target = exact(1, sigma * np.sqrt(0.5))
    assert l1(good, target) < 3e-2 and l1(bad, target) > 0.3


def test_brownian_variation_scaling():
    rng = np.random.default_rng(0)
    qv, tv = [], []
    for steps in (100, 400, 1600):
        dt = 1.0 / steps
        path = np.concatenate([np.zeros((1, 200)), np.cumsum(2.0 * np.sqrt(dt) * rng.normal(size=(steps, 200)), 0)])
        q, t = FP.brownian_variation(path)
        qv.append(q.mean())
        tv.append(t.mean())
    np.testing.assert_allclose(qv, 4.0, rtol=0.03)               # sigma^2 t
    assert tv[1] / tv[0] == pytest.approx(2.0, rel=0.05) and tv[2] / tv[1] == pytest.approx(2.0, rel=0.05)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="uniform"):
        FP.fp_solve_1d(np.ones(4), [0, 1, 3, 4], lambda x, t: 0, lambda x, t: 1, [0, 1])
    with pytest.raises(ValueError, match="p0"):
        FP.fp_solve_1d(-np.ones(4), np.arange(4.0), lambda x, t: 0, lambda x, t: 1, [0, 1])
    with pytest.raises(ValueError, match="t_grid"):
        FP.continuity_solve_1d(np.ones(4), np.arange(4.0), lambda x, t: 0, [1, 0])
    with pytest.raises(ValueError, match="cfl"):
        FP.continuity_solve_1d(np.ones(4), np.arange(4.0), lambda x, t: 1, [0, 1], cfl=2)
    with pytest.raises(ValueError, match="path"):
        FP.brownian_variation(np.zeros(1))
