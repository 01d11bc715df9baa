"""lib.lagrange against scipy (Gaussian, constrained optimiser) and torch.autograd."""
import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from scipy.stats import norm

from lib import lagrange as lg


@pytest.mark.parametrize("mu, sigma", [(0.5, 1.3), (-1.0, 0.7), (1.0, 1.5)])
def test_maxent_is_the_gaussian(mu, sigma):
    x = np.linspace(-8, 8, 2001)
    p, (l0, l1, l2) = lg.maxent_on_grid(x, mu, sigma**2)
    assert abs(p.sum() - 1) < 1e-12
    assert abs(p @ x - mu) < 1e-8 and abs(p @ (x - mu) ** 2 - sigma**2) < 1e-8
    q = norm.pdf(x, mu, sigma)
    q /= q.sum()
    assert 0.5 * np.abs(p - q).sum() < 1e-3
    assert abs(l1) < 1e-4 and abs(l2 + 0.5 / sigma**2) < 1e-4
    assert np.allclose(p, np.exp(l0 + l1 * x + l2 * (x - mu) ** 2), rtol=1e-8, atol=1e-300)
    # it beats another distribution with the same moments: a two-point mixture smoothed on the grid
    r = 0.5 * norm.pdf(x, mu - 0.8 * sigma, 0.6 * sigma) + 0.5 * norm.pdf(x, mu + 0.8 * sigma, 0.6 * sigma)
    r /= r.sum()
    assert abs(r @ x - mu) < 1e-6 and abs(r @ (x - mu) ** 2 - sigma**2) < 1e-3
    assert lg.entropy(p) > lg.entropy(r)


def _mlp(acts, seed):
    torch.manual_seed(seed)
    dims = [5, 7, 6, 3]
    layers = []
    for i in range(3):
        layers.append(torch.nn.Linear(dims[i], dims[i + 1]))
        if i < 2:
            layers.append(acts[i]())
    return torch.nn.Sequential(*layers).double()


@pytest.mark.parametrize("acts, loss_fn, seed", [
    ((torch.nn.Tanh, torch.nn.ReLU), torch.nn.functional.cross_entropy, 0),
    ((torch.nn.Sigmoid, torch.nn.Tanh), torch.nn.functional.cross_entropy, 1),
    ((torch.nn.ReLU, torch.nn.Identity), lambda out, y: ((out - y) ** 2).mean(), 2),
])
def test_adjoints_equal_autograd(acts, loss_fn, seed):
    mlp = _mlp(acts, seed)
    g = torch.Generator().manual_seed(100 + seed)
    x = torch.randn(12, 5, dtype=torch.float64, generator=g)
    y = torch.randint(0, 3, (12,), generator=g) if seed < 2 else torch.randn(12, 3, dtype=torch.float64, generator=g)
    res = lg.adjoints_via_lagrange(mlp, x, y, loss_fn)
    zs, h = [], x
    for m in mlp:
        h = m(h)
        zs.append(h)
    loss = loss_fn(zs[-1], y)
    params = list(mlp.named_parameters())
    grads = torch.autograd.grad(loss, zs + [p for _, p in params])
    assert len(res["adjoints"]) == len(zs) == len(mlp)
    for lam, ref in zip(res["adjoints"], grads[:len(zs)]):
        assert torch.allclose(lam, ref, atol=1e-12, rtol=0)
    for (name, _), ref in zip(params, grads[len(zs):]):
        assert torch.allclose(res["param_grads"][name], ref, atol=1e-12, rtol=0)
    assert abs(res["loss"] - float(loss.detach())) < 1e-14


def test_trust_region_step_matches_constrained_optimiser():
    rng = np.random.default_rng(0)
    for _ in range(3):
        A = rng.normal(size=(4, 4))
        F = A @ A.T + 0.5 * np.eye(4)
        g = rng.normal(size=4)
        delta = rng.uniform(0.01, 1.0)
        d = lg.trust_region_step(g, F, delta)
        assert abs(0.5 * d @ F @ d - delta) < 1e-12           # the constraint is active
        res = minimize(lambda v: -g @ v, np.zeros(4), jac=lambda v: -g, method="SLSQP",
                       constraints=[dict(type="ineq", fun=lambda v: delta - 0.5 * v @ F @ v,
                                         jac=lambda v: -F @ v)], options=dict(ftol=1e-14, maxiter=500))
        assert np.allclose(d, res.x, atol=1e-5)
        assert g @ d >= g @ res.x - 1e-9


def test_saddle_toy_and_gda():
    t = lg.saddle_toy()
    assert np.all(t["dual"] <= t["p_star"] + 1e-15)           # weak duality on the whole grid
    k = int(np.argmax(t["dual"]))
    assert t["alpha"][k] == 2.0 and t["dual"][k] == 1.0         # strong duality at alpha = 2
    # g(alpha) is the minimum over x of L: compare with the grid minimum (x grid contains alpha/2)
    assert np.allclose(t["L"].min(axis=1), t["dual"], atol=1e-2)
    assert np.all(np.isinf(t["primal"][t["x"] < 1]))
    path = lg.gda_toy(x0=-0.5, alpha0=0.0, lr=0.2, steps=200)
    assert np.allclose(path[-1], [1.0, 2.0], atol=1e-8)
    assert np.all(path[:, 1] >= 0)


def test_bad_inputs():
    with pytest.raises(ValueError, match="var"):
        lg.maxent_on_grid(np.linspace(-1, 1, 11), 0.0, -1.0)
    with pytest.raises(ValueError, match="mean"):
        lg.maxent_on_grid(np.linspace(-1, 1, 11), 5.0, 1.0)
    with pytest.raises(ValueError, match="grid"):
        lg.maxent_on_grid(np.zeros((3, 3)), 0.0, 1.0)
    with pytest.raises(TypeError, match="mlp"):
        lg.adjoints_via_lagrange(torch.nn.Linear(2, 2), torch.zeros(1, 2), None, lambda o, y: o.sum())
    with pytest.raises(TypeError, match="layer 1"):
        lg.adjoints_via_lagrange(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Softmax(dim=1)),
                                 torch.zeros(1, 2), None, lambda o, y: o.sum())
    with pytest.raises(ValueError, match="F"):
        lg.trust_region_step([1.0, 0.0], -np.eye(2), 0.1)
    with pytest.raises(ValueError, match="delta"):
        lg.trust_region_step([1.0, 0.0], np.eye(2), 0.0)
    with pytest.raises(ValueError, match="alpha_grid"):
        lg.saddle_toy(alpha_grid=[-1.0, 0.0])
    with pytest.raises(ValueError, match="steps"):
        lg.gda_toy(steps=0)
    with pytest.raises(ValueError, match="p"):
        lg.entropy([-0.1, 1.1])
