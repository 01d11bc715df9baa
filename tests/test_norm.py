"""lib.norm: RMSNorm against torch.nn.RMSNorm and autograd, dropout against torch.nn.Dropout and
against exhaustive enumeration of masks."""
import itertools

import numpy as np
import pytest
import torch

from lib import norm


# --------------------------------------------------------------------------- RMSNorm
@pytest.mark.parametrize("shape, eps", [((7,), 1e-6), ((4, 16), 1e-3), ((2, 3, 33), 0.5)])
def test_rms_norm_matches_torch(shape, eps):
    h = torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(len(shape)))
    d = shape[-1]
    ref = torch.nn.RMSNorm(d, eps=eps, elementwise_affine=False, dtype=torch.float64)(h)
    torch.testing.assert_close(norm.rms_norm(h, eps), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(norm.rms_norm(h.numpy(), eps), ref.numpy(), rtol=1e-12, atol=1e-12)
    # torch's default eps=None means the machine epsilon of the dtype
    default = torch.nn.RMSNorm(d, elementwise_affine=False, dtype=torch.float64)(h)
    torch.testing.assert_close(norm.rms_norm(h, torch.finfo(torch.float64).eps), default, rtol=1e-12, atol=1e-12)
    # the learnable gain gamma
    layer = torch.nn.RMSNorm(d, eps=eps, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.linspace(-2, 3, d, dtype=torch.float64))
    torch.testing.assert_close(norm.rms_norm(h, eps, gamma=layer.weight.detach()), layer(h).detach(),
                               rtol=1e-12, atol=1e-12)


def test_rms_norm_geometry_sphere_sign_and_axis():
    rng = np.random.default_rng(0)
    h = rng.normal(size=(5, 12))
    out = norm.rms_norm(h)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), np.sqrt(12), rtol=1e-14)
    np.testing.assert_allclose(norm.rms_norm(3.7 * h), out, rtol=1e-13)
    np.testing.assert_allclose(norm.rms_norm(-3 * h), -out, rtol=1e-13)  # alpha < 0 flips the sign
    np.testing.assert_allclose(norm.rms_norm(h.T, axis=0), out.T, rtol=1e-14)
    cos = (h[0] @ h[1]) / np.linalg.norm(h[0]) / np.linalg.norm(h[1])
    assert out[0] @ out[1] == pytest.approx(12 * cos, rel=1e-12)  # inner product is d cos, not cos


@pytest.mark.parametrize("eps", [0.0, 1e-2])
def test_rms_norm_jacobian_against_autograd(eps):
    h = torch.randn(9, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    J = norm.rms_norm_jacobian(h.numpy(), eps)
    J_ref = torch.autograd.functional.jacobian(lambda v: norm.rms_norm(v, eps), h)
    np.testing.assert_allclose(J, J_ref.numpy(), rtol=1e-10, atol=1e-12)
    r = np.sqrt(np.mean(h.numpy() ** 2) + eps)
    assert np.linalg.norm(J, 2) == pytest.approx(1 / r, rel=1e-12)
    np.testing.assert_allclose(J @ h.numpy(), eps * h.numpy() / r ** 3, atol=1e-12)


def test_rms_norm_jacobian_unbounded_without_eps():
    u = np.random.default_rng(1).normal(size=16)
    u /= np.linalg.norm(u)
    for scale in (1.0, 1e-3, 1e-6):
        assert np.linalg.norm(norm.rms_norm_jacobian(scale * u), 2) == pytest.approx(4 / scale, rel=1e-10)
    assert np.linalg.norm(norm.rms_norm_jacobian(1e-6 * u, eps=1e-4), 2) <= 100 + 1e-9  # eps caps it at 1/sqrt(eps)


def test_scale_invariant_loss_has_gradient_orthogonal_to_h():
    h = torch.randn(20, dtype=torch.float64, generator=torch.Generator().manual_seed(4), requires_grad=True)
    target = torch.randn(20, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    loss = ((norm.rms_norm(h) - target) ** 2).sum()
    (grad,) = torch.autograd.grad(loss, h)
    assert abs(grad @ h.detach()) < 1e-12 * grad.norm() * h.norm()


@pytest.mark.parametrize("call, exc, match", [
    (lambda: norm.rms_norm(np.zeros(4)), ValueError, "h: a zero vector has no direction"),
    (lambda: norm.rms_norm(np.ones(4), eps=-1.0), ValueError, "eps: expected a finite number >= 0"),
    (lambda: norm.rms_norm(np.ones((2, 4)), axis=2), ValueError, "axis: expected an axis"),
    (lambda: norm.rms_norm(np.ones(4), gamma=np.ones(3)), ValueError, r"gamma: expected shape \(4,\)"),
    (lambda: norm.rms_norm(np.array(["a", "b"])), TypeError, "h: expected a numeric array"),
    (lambda: norm.rms_norm(torch.ones(3, dtype=torch.int64)), TypeError, "h: expected a floating-point tensor"),
    (lambda: norm.rms_norm(np.ones((3, 0))), ValueError, "non-empty last axis"),
    (lambda: norm.rms_norm_jacobian(np.ones((2, 2))), ValueError, r"h: expected one vector of shape \(d,\)"),
    (lambda: norm.rms_norm_jacobian(np.zeros(3)), ValueError, "h: a zero vector"),
])
def test_rms_norm_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
    assert np.all(np.isfinite(norm.rms_norm(np.zeros(4), eps=1e-6)))  # with eps a zero vector maps to 0


# --------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("rho", [0.2, 0.5])
def test_inverted_dropout_matches_torch_dropout(rho):
    h = torch.randn(30, 40, dtype=torch.float64)
    layer = torch.nn.Dropout(rho)
    torch.manual_seed(7)
    ref = layer.train()(h)
    torch.manual_seed(7)
    out, mask = norm.dropout(h, rho, inverted=True)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-15)  # same random stream: the same mask
    torch.testing.assert_close(mask, (ref != 0).to(h.dtype))
    out2, _ = norm.dropout(h.numpy(), rho, inverted=True, mask=mask.numpy())
    np.testing.assert_allclose(out2, mask.numpy() * h.numpy() / (1 - rho), rtol=1e-15)
    torch.testing.assert_close(norm.dropout(h, rho, train=False, inverted=True)[0], layer.eval()(h))
    np.testing.assert_allclose(norm.dropout(h.numpy(), rho, train=False)[0], (1 - rho) * h.numpy())


def test_dropout_moments_monte_carlo():
    rho, h = 0.3, np.array([1.0, -2.0, 0.5, 3.0])
    outs = np.stack([norm.dropout(h, rho, rng)[0] for rng in range(20_000)])
    n = len(outs)
    se = outs.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(outs.mean(axis=0) - (1 - rho) * h) < 5 * se)
    np.testing.assert_allclose(outs.var(axis=0), rho * (1 - rho) * h ** 2, rtol=0.05)
    keep = np.mean(norm.dropout(np.ones(100_000), rho, 0)[1])
    assert abs(keep - (1 - rho)) < 5 * np.sqrt(rho * (1 - rho) / 100_000)


def _exact_ensemble(forward, x, rho, d):
    """E_m[forward(x, m)] by enumerating all 2^d masks of one dropout site of width d."""
    total = 0.0
    for bits in itertools.product((0.0, 1.0), repeat=d):
        m = np.array(bits)
        total = total + rho ** (d - m.sum()) * (1 - rho) ** m.sum() * forward(x, m)
    return total


def test_weight_scaling_exact_for_linear_readout_approximate_deeper():
    rng = np.random.default_rng(0)
    d, rho = 8, 0.5
    x = rng.normal(size=d)
    w, W2, v = rng.normal(size=d), rng.normal(size=(6, d)), rng.normal(size=6)
    linear = lambda X, drop: drop(np.maximum(X, 0)) @ w                       # readout right after dropout
    deeper = lambda X, drop: np.maximum(drop(np.maximum(X, 0)) @ W2.T, 0) @ v  # a ReLU layer in between
    exact_lin = _exact_ensemble(lambda x_, m: (m * np.maximum(x_, 0)) @ w, x, rho, d)
    exact_deep = _exact_ensemble(lambda x_, m: np.maximum((m * np.maximum(x_, 0)) @ W2.T, 0) @ v, x, rho, d)

    res = norm.dropout_ensemble_mc(linear, x, rho, n_masks=20_000, seed=1)
    assert res["scaled"] == pytest.approx(exact_lin, rel=1e-12)   # weight scaling is exact here
    assert abs(res["mean"] - exact_lin) < 5 * res["sem"]
    res = norm.dropout_ensemble_mc(deeper, x, rho, n_masks=20_000, seed=2)
    assert abs(res["mean"] - exact_deep) < 5 * res["sem"]          # the Monte Carlo mean is right ...
    assert abs(res["scaled"] - exact_deep) > 20 * res["sem"]       # ... weight scaling is not
    inv = norm.dropout_ensemble_mc(linear, x, rho, n_masks=20_000, seed=1, inverted=True)
    assert inv["scaled"] == pytest.approx(exact_lin / (1 - rho), rel=1e-12) and inv["n_masks"] == 20_000


@pytest.mark.parametrize("call, exc, match", [
    (lambda: norm.dropout(np.ones(3), 1.0), ValueError, r"rho: expected a drop rate in \[0, 1\)"),
    (lambda: norm.dropout(np.ones(3), -0.1), ValueError, "rho: expected"),
    (lambda: norm.dropout(np.ones(3), 0.5, mask=np.ones(4)), ValueError, "mask: expected the shape of h"),
    (lambda: norm.dropout(np.ones(3), 0.5, mask=np.array([0, 2, 1])), ValueError, "mask: expected only 0s and 1s"),
    (lambda: norm.dropout(torch.ones(3), 0.5, rng=3), TypeError, "rng: expected a torch.Generator"),
    (lambda: norm.dropout_ensemble_mc(None, np.ones(3), 0.5), TypeError, "forward_fn: expected a callable"),
    (lambda: norm.dropout_ensemble_mc(lambda X, d: X, np.ones(3), 0.5, n_masks=1), ValueError, "n_masks"),
])
def test_dropout_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
