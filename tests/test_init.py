"""lib.init: scheme variances against torch.nn.init, ReLU moments against quadrature and Monte Carlo,
signal propagation against autograd and the variance recursion (statistically, over seeds)."""
import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from lib import init


# --------------------------------------------------------------------------- schemes against torch
def _torch_variance(fill, n_out=300, n_in=500, seed=0):
    w = torch.empty(n_out, n_in, dtype=torch.float64)
    torch.manual_seed(seed)
    fill(w)
    return w.var().item(), w


@pytest.mark.parametrize("n_out, n_in", [(300, 500), (700, 200)])
def test_scheme_variance_matches_torch_init(n_out, n_in):
    xav, _ = _torch_variance(torch.nn.init.xavier_normal_, n_out, n_in)
    he, _ = _torch_variance(lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu"), n_out, n_in)
    torch.manual_seed(1)
    default = torch.nn.Linear(n_in, n_out, dtype=torch.float64).weight.detach()
    # 1.5e5 draws: the sample variance is within about 0.4% of the truth; 3% is a loose band
    np.testing.assert_allclose(xav, init.scheme_variance("xavier", n_in, n_out), rtol=0.03)
    np.testing.assert_allclose(he, init.scheme_variance("he", n_in, n_out), rtol=0.03)
    np.testing.assert_allclose(default.var().item(), init.scheme_variance("torch_default", n_in), rtol=0.03)
    assert default.abs().max().item() <= 1 / math.sqrt(n_in)  # uniform on [-1/sqrt(n_in), 1/sqrt(n_in)]
    assert init.scheme_variance("torch_default", n_in) == pytest.approx(1 / (3 * n_in), rel=1e-15)
    assert init.scheme_variance("he", n_in) == 2 / n_in and init.scheme_variance("zero", n_in) == 0.0
    assert init.scheme_variance("normal", n_in, sigma=0.3) == pytest.approx(0.09)


@pytest.mark.parametrize("scheme", ["xavier", "he", "torch_default", "normal"])
def test_init_weight_has_the_scheme_variance_and_distribution(scheme):
    n_out, n_in = 400, 300
    w = init.init_weight(n_out, n_in, scheme, rng=3, sigma=0.05)
    assert w.shape == (n_out, n_in)
    var = init.scheme_variance(scheme, n_in, n_out, sigma=0.05)
    np.testing.assert_allclose(w.var(), var, rtol=0.03)
    bound = 1 / math.sqrt(n_in)
    if scheme == "torch_default":
        assert stats.kstest(w.ravel(), stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-4
    else:
        assert stats.kstest(w.ravel(), stats.norm(0, math.sqrt(var)).cdf).pvalue > 1e-4
    np.testing.assert_allclose(init.init_weight(50, 40, scheme, gain=2.0, rng=0, sigma=0.05),
                               2 * init.init_weight(50, 40, scheme, rng=0, sigma=0.05), rtol=1e-15)
    assert not np.any(init.init_weight(3, 4, "zero"))


# --------------------------------------------------------------------------- ReLU moments
@pytest.mark.parametrize("sigma", [1.0, 0.37, 2.9])
def test_relu_moments_closed_form_against_quadrature(sigma):
    mean, second, var = init.relu_moments(sigma)
    pdf = stats.norm(0, sigma).pdf
    q_mean = integrate.quad(lambda z: z * pdf(z), 0, np.inf, epsabs=1e-13)[0]
    q_second = integrate.quad(lambda z: z * z * pdf(z), 0, np.inf, epsabs=1e-13)[0]
    np.testing.assert_allclose([mean, second, var], [q_mean, q_second, q_second - q_mean ** 2], rtol=1e-10)
    assert second == pytest.approx(sigma ** 2 / 2) and var == pytest.approx(sigma ** 2 * (0.5 - 0.5 / np.pi))


def test_relu_moments_against_monte_carlo():
    z = np.random.default_rng(11).standard_normal(2_000_000)
    h = np.maximum(z, 0)
    mean, second, var = init.relu_moments(1.0)
    n = z.size  # five standard errors of each Monte Carlo estimate
    assert abs(h.mean() - mean) < 5 * h.std() / np.sqrt(n)
    assert abs((h ** 2).mean() - second) < 5 * (h ** 2).std() / np.sqrt(n)
    assert abs(h.var() - var) < 5 * np.sqrt(np.var((h - h.mean()) ** 2) / n)
    assert abs(h.var() - 0.5) > 0.15  # the variance is not half of Var z = 1; the second moment is


# --------------------------------------------------------------------------- signal propagation
def _reference(depth, width, scheme, act, n, seed, var_w):
    """Autograd reference built from the documented order of random draws."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, width, generator=gen, dtype=torch.float64)
    g = torch.randn(n, width, generator=gen, dtype=torch.float64)
    ws = []
    for _ in range(depth):
        if scheme == "torch_default":
            ws.append((2 * torch.rand(width, width, generator=gen, dtype=torch.float64) - 1) * math.sqrt(3 * var_w))
        else:
            ws.append(math.sqrt(var_w) * torch.randn(width, width, generator=gen, dtype=torch.float64))
    phi = dict(relu=torch.relu, tanh=torch.tanh, identity=lambda s: s)[act]
    hs = [x.requires_grad_()]
    for w in ws:
        hs.append(phi(hs[-1] @ w.T))
        hs[-1].retain_grad()
    (g * hs[-1]).sum().backward()
    return hs, [h.grad.pow(2).mean().sqrt().item() for h in hs]


@pytest.mark.parametrize("scheme, act", [("he", "relu"), ("torch_default", "tanh"), ("xavier", "identity")])
def test_signal_propagation_matches_autograd(scheme, act):
    depth, width, n = 6, 24, 50
    res = init.signal_propagation(depth, width, scheme, act, n, seed=5, dtype=torch.float64)
    hs, grads = _reference(depth, width, scheme, act, n, 5, res["layer_variance"])
    np.testing.assert_allclose(res["grad_norm"], grads, rtol=1e-10)
    np.testing.assert_allclose(res["second_moment"], [h.detach().pow(2).mean().item() for h in hs], rtol=1e-10)
    np.testing.assert_allclose(res["variance"], [h.detach().var(dim=0).mean().item() for h in hs], rtol=1e-10)
    for key in ("second_moment", "variance", "grad_norm", "pre_second_moment", "dead", "identical"):
        assert res[key].shape == (depth + 1,)


@pytest.fixture
def one_thread():
    """Small matrix products run fastest on one thread on a busy 2-core machine (as lib.setup does)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_signal_propagation_statistics_over_seeds(one_thread):
    """He keeps E[h^2] on average; Var W = 1/n halves it per ReLU layer. Averages over 20 draws, since a
    single draw of the depth-30 ratio fluctuates by a factor of about 10 (finite width)."""
    he = [init.signal_propagation(30, 256, "he", "relu", 200, seed=s)["second_moment"] for s in range(20)]
    ratio_he = np.array([m[30] / m[1] for m in he])
    assert 0.5 <= ratio_he.mean() <= 1.5
    assert ratio_he.max() / ratio_he.min() > 3  # single draws are far apart: do not test one seed tightly
    half = [init.signal_propagation(30, 256, "normal", "relu", 200, sigma_mult=1.0, seed=s)["second_moment"]
            for s in range(20, 40)]
    ratio_half = np.mean([m[30] / m[1] for m in half])
    assert 0.5 < ratio_half / 2.0 ** -29 < 2.0


def test_linear_network_factor_and_zero_init():
    res = init.signal_propagation(10, 512, "normal", "identity", 500, sigma_mult=1.5, seed=2)
    factor = (res["second_moment"][-1] / res["second_moment"][0]) ** (1 / 10)
    assert res["multiplier"] == pytest.approx(1.5) and factor == pytest.approx(1.5, rel=0.1)
    pre = res["pre_second_moment"][1:] / res["second_moment"][:-1]  # E[s^2] = n Var W E[h^2], layer by layer
    np.testing.assert_allclose(pre, 1.5, rtol=0.15)
    zero = init.signal_propagation(4, 32, "zero", "relu", 100)
    assert np.all(zero["second_moment"][1:] == 0) and np.all(zero["grad_norm"][:-1] == 0)
    assert zero["identical"][1:].all() and np.all(zero["dead"][1:] == 1) and zero["multiplier"] == 0
    he = init.signal_propagation(4, 32, "he", "relu", 100)
    assert not he["identical"].any() and he["dead"].max() < 0.5


def test_predicted_multiplier():
    assert init.predicted_multiplier("he", "relu", 100) == pytest.approx(1.0)
    assert init.predicted_multiplier("xavier", "identity", 64) == pytest.approx(1.0)
    assert init.predicted_multiplier("torch_default", "relu", 64) == pytest.approx(1 / 6)
    assert init.predicted_multiplier("normal", "relu", 64, sigma_mult=3.0) == pytest.approx(1.5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_signal_propagation_same_network_on_gpu():
    cpu = init.signal_propagation(10, 128, "he", "relu", 300, seed=4)
    gpu = init.signal_propagation(10, 128, "he", "relu", 300, seed=4, device="cuda")
    np.testing.assert_allclose(gpu["second_moment"], cpu["second_moment"], rtol=1e-3)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, match", [
    (lambda: init.scheme_variance("kaiming", 3), "scheme: expected one of"),
    (lambda: init.scheme_variance("he", 0), "n_in: expected an integer >= 1"),
    (lambda: init.scheme_variance("xavier", 3), "n_out: the 'xavier' scheme needs"),
    (lambda: init.scheme_variance("normal", 3), "sigma: the 'normal' scheme needs"),
    (lambda: init.scheme_variance("normal", 3, sigma=-1.0), "sigma: expected a positive"),
    (lambda: init.init_weight(2, 3, "he", gain=0), "gain: expected a positive"),
    (lambda: init.init_weight(2.5, 3, "he"), "n_out: expected an integer"),
    (lambda: init.relu_moments(0.0), "sigma: expected a positive"),
    (lambda: init.signal_propagation(0, 8), "depth: expected an integer >= 1"),
    (lambda: init.signal_propagation(3, 8, act="gelu"), "act: expected one of"),
    (lambda: init.signal_propagation(3, 8, n_samples=1), "n_samples: expected an integer >= 2"),
    (lambda: init.signal_propagation(3, 8, sigma_mult=0), "sigma_mult: expected a positive"),
    (lambda: init.signal_propagation(3, 8, seed=-1), "seed: expected an integer >= 0"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_dtype():
    with pytest.raises(TypeError, match="dtype: expected torch.float32 or torch.float64"):
        init.signal_propagation(2, 4, dtype=torch.int64)
