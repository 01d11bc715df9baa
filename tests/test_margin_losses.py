"""lib.margin_losses: derivatives against torch.autograd, stability, population minimizers."""
import numpy as np
import pytest
import torch

from lib import margin_losses as ml

F = np.linspace(-30, 30, 241)


def _autograd(fn, y, f):
    """First and second derivative of sum(fn(y, f)) in f, elementwise, float64."""
    ft = torch.tensor(f, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(y, dtype=torch.float64)
    (g,) = torch.autograd.grad(fn(yt, ft).sum(), ft, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), ft)
    return g.detach().numpy(), h.numpy()


TORCH = {
    "squared": lambda y, f: 0.5 * (y - f) ** 2,
    "logistic": lambda y, f: torch.logaddexp(torch.zeros_like(f), f) - y * f,
    "exponential": lambda y, f: torch.exp(-y * f),
}


@pytest.mark.parametrize("name, labels", [("squared", (-1.3, 0.0, 2.5)), ("logistic", (0.0, 1.0)),
                                          ("exponential", (-1.0, 1.0))])
def test_grad_hess_match_autograd(name, labels):
    loss = ml.get_loss(name)
    for lab in labels:
        y = np.full_like(F, lab)
        g, h = _autograd(TORCH[name], y, F)
        np.testing.assert_allclose(loss.grad(y, F), g, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(loss.hess(y, F), np.maximum(h, ml.HESS_FLOOR if name == "logistic" else 0),
                                   rtol=1e-10, atol=1e-14)
        ref = TORCH[name](torch.tensor(y), torch.tensor(F)).numpy()
        np.testing.assert_allclose(loss.value(y, F), ref, rtol=1e-12)


def test_logistic_is_stable_and_floored():
    loss = ml.LogisticLoss()
    f = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    v = loss.value(y, f)
    assert np.all(np.isfinite(v))
    np.testing.assert_allclose(v[[0, 4]], 800.0)
    assert loss.hess(y, f).min() == ml.HESS_FLOOR
    assert loss.hess(y, np.array([0.0] * 5))[0] == 0.25


def test_init_margin_is_best_constant():
    rng = np.random.default_rng(3)
    y01 = (rng.random(200) < 0.3).astype(float)
    ypm = 2 * y01 - 1
    yr = rng.normal(size=200)
    for loss, y in [(ml.SquaredLoss(), yr), (ml.LogisticLoss(), y01), (ml.ExponentialLoss(), ypm)]:
        c = loss.init_margin(y)
        assert abs(loss.grad(y, np.full_like(y, c)).sum()) < 1e-9
    assert ml.LogisticLoss().link(ml.LogisticLoss().init_margin(y01)) == pytest.approx(y01.mean())


@pytest.mark.parametrize("name", ["hinge", "logistic", "exponential", "squared"])
@pytest.mark.parametrize("eta", [0.1, 0.37, 0.8, 0.95])
def test_population_minimizers(name, eta):
    fn = {"hinge": ml.hinge, "logistic": ml.logistic_margin, "exponential": ml.exponential,
          "squared": lambda z: (1 - z) ** 2}[name]
    num = ml.population_minimizer_numeric(fn, eta)
    assert num == pytest.approx(ml.population_minimizer(name, eta), abs=1e-6)


def test_margin_derivatives():
    z = np.linspace(-5, 5, 101)
    zt = torch.tensor(z, requires_grad=True)
    for fn, d, tfn in [(ml.logistic_margin, ml.d_logistic, lambda t: torch.logaddexp(torch.zeros_like(t), -t)),
                       (ml.exponential, ml.d_exponential, lambda t: torch.exp(-t))]:
        (g,) = torch.autograd.grad(tfn(zt).sum(), zt)
        np.testing.assert_allclose(d(z), g.numpy(), rtol=1e-12)
        np.testing.assert_allclose(fn(z), tfn(zt).detach().numpy(), rtol=1e-12)
    assert ml.d_hinge(1.0) == 0 and ml.d_hinge(0.5) == -1
    assert ml.zero_one(0.0) == 1 and ml.zero_one(1e-9) == 0
    assert np.all(ml.exponential(z) >= ml.zero_one(z)) and np.all(ml.hinge(z) >= ml.zero_one(z))


def test_bad_inputs():
    with pytest.raises(ValueError, match="y"):
        ml.LogisticLoss().grad(np.array([-1.0, 1.0]), np.zeros(2))
    with pytest.raises(ValueError, match="y"):
        ml.ExponentialLoss().value(np.array([0.0, 1.0]), np.zeros(2))
    with pytest.raises(ValueError, match="loss"):
        ml.get_loss("huber")
    with pytest.raises(TypeError, match="loss"):
        ml.get_loss(3)
    with pytest.raises(ValueError, match="eta"):
        ml.population_minimizer("logistic", 1.0)
    with pytest.raises(ValueError, match="loss_name"):
        ml.population_minimizer("savage", 0.3)
    with pytest.raises(ValueError, match="y"):
        ml.LogisticLoss().init_margin(np.ones(4))
