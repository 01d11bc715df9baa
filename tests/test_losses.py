"""lib.losses against torch.nn.functional and scipy.special, including extreme logits."""
import numpy as np
import pytest
import scipy.special as sp
import torch
from torch.nn import functional as F

from lib import losses


@pytest.fixture
def logits():
    return np.random.default_rng(3).normal(scale=4.0, size=(7, 5))


@pytest.mark.parametrize("shift", [0.0, 1e3, -1e3])
def test_softmax_family_matches_scipy_and_torch_under_large_shifts(logits, shift):
    s = logits + shift
    t = torch.tensor(s)
    np.testing.assert_allclose(losses.logsumexp(s), sp.logsumexp(s, axis=-1), rtol=1e-14)
    np.testing.assert_allclose(losses.softmax(s), sp.softmax(s, axis=-1), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(losses.log_softmax(s), F.log_softmax(t, dim=-1).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(losses.logsumexp(s, axis=0), sp.logsumexp(s, axis=0), rtol=1e-14)
    for f in (losses.logsumexp, losses.softmax, losses.log_softmax):
        assert np.all(np.isfinite(f(s)))


def test_shift_invariance_and_hardmax(logits):
    c = 17.25
    np.testing.assert_allclose(losses.softmax(logits + c), losses.softmax(logits), rtol=1e-12)
    np.testing.assert_allclose(losses.logsumexp(logits + c), losses.logsumexp(logits) + c, rtol=1e-14)
    H = losses.hardmax(logits)
    np.testing.assert_array_equal(H, np.eye(5)[logits.argmax(1)])
    np.testing.assert_array_equal(losses.hardmax([[1.0, 3.0, 3.0]]), [[0.0, 1.0, 0.0]])  # first maximum
    # softmax(s / T) -> hardmax(s) as T -> 0
    np.testing.assert_allclose(losses.softmax(logits / 1e-4), H, atol=1e-12)


def test_logsumexp_all_minus_inf_row():
    out = losses.logsumexp([[-np.inf, -np.inf], [0.0, -np.inf]])
    assert out[0] == -np.inf and out[1] == 0.0


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_cross_entropy_equals_torch(logits, reduction, scale):
    y = np.random.default_rng(4).integers(0, 5, size=7)
    s = logits * scale
    ours = losses.cross_entropy(s, y, reduction=reduction)
    ref = F.cross_entropy(torch.tensor(s), torch.tensor(y), reduction=reduction).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)


def test_one_hot():
    np.testing.assert_array_equal(losses.one_hot([2, 0, 1], 4), F.one_hot(torch.tensor([2, 0, 1]), 4).numpy())
    assert losses.one_hot(np.array([[1, 0]]), 2).shape == (1, 2, 2)


def _autograd(kind, s, y):
    t = torch.tensor(s, requires_grad=True)
    yt = torch.tensor(y)
    if kind == "gaussian":
        J = torch.distributions.Normal(t, 1.0).log_prob(yt).sum()
    elif kind == "bernoulli":
        J = -F.binary_cross_entropy_with_logits(t, yt, reduction="sum")
    else:
        J = -F.cross_entropy(t, yt, reduction="sum")
    J.backward()
    return J.item(), t.grad.numpy()


@pytest.mark.parametrize("kind", ["gaussian", "bernoulli", "categorical"])
def test_loglik_and_error_is_target_minus_prediction(kind, logits):
    rng = np.random.default_rng(5)
    if kind == "categorical":
        s, y = logits, rng.integers(0, 5, size=7)
        pred = sp.softmax(s, axis=1)
        target = np.eye(5)[y]
    else:
        s = logits[:, 0]
        y = rng.normal(size=7) if kind == "gaussian" else rng.integers(0, 2, size=7).astype(float)
        pred = s if kind == "gaussian" else sp.expit(s)
        target = y
    J, e = losses.loglik_and_error(s, y, kind=kind)
    J_ref, g_ref = _autograd(kind, s, y)
    np.testing.assert_allclose(J, J_ref, rtol=1e-12)
    np.testing.assert_allclose(e, g_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(e, target - pred, rtol=1e-12, atol=1e-14)
    if kind == "categorical":  # one-hot targets give the same
        J2, e2 = losses.loglik_and_error(s, np.eye(5)[y], kind=kind)
        np.testing.assert_allclose([J2, *e2.ravel()], [J, *e.ravel()], rtol=1e-14)


def test_gaussian_error_scales_with_noise_variance():
    s, y = np.array([0.5, -1.0]), np.array([2.0, 0.0])
    J, e = losses.loglik_and_error(s, y, kind="gaussian", sigma=2.0)
    t = torch.tensor(s, requires_grad=True)
    Jt = torch.distributions.Normal(t, 2.0).log_prob(torch.tensor(y)).sum()
    Jt.backward()
    np.testing.assert_allclose(J, Jt.item(), rtol=1e-12)
    np.testing.assert_allclose(e, t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(e, (y - s) / 4, rtol=1e-14)


def test_binary_is_softmax_over_zero_and_s():
    s = np.linspace(-30, 30, 13)
    two = np.column_stack([np.zeros_like(s), s])
    np.testing.assert_allclose(losses.softmax(two)[:, 1], sp.expit(s), rtol=1e-12)
    y = (s > 3).astype(int)
    J2, e2 = losses.loglik_and_error(two, y, kind="categorical")
    J1, e1 = losses.loglik_and_error(s, y.astype(float), kind="bernoulli")
    np.testing.assert_allclose(J2, J1, rtol=1e-12)
    np.testing.assert_allclose(e2[:, 1], e1, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: losses.softmax([[1.0, np.nan]]), ValueError, "s: expected finite"),
    (lambda: losses.softmax(np.zeros((0,))), ValueError, "non-empty"),
    (lambda: losses.softmax(np.array(["a"])), TypeError, "numeric"),
    (lambda: losses.logsumexp(np.zeros((2, 3)), axis=2), ValueError, "axis"),
    (lambda: losses.one_hot([0, 3], 3), ValueError, "idx"),
    (lambda: losses.one_hot([0, 1], 0), ValueError, "C"),
    (lambda: losses.cross_entropy(np.zeros((2, 3)), [0, 1, 2]), ValueError, "y_idx: expected 2"),
    (lambda: losses.cross_entropy(np.zeros((2, 3)), [0, 1.5]), ValueError, "y_idx"),
    (lambda: losses.cross_entropy(np.zeros(3), [0]), ValueError, r"s: expected scores of shape \(N, C\)"),
    (lambda: losses.cross_entropy(np.zeros((2, 3)), [0, 1], reduction="avg"), ValueError, "reduction"),
    (lambda: losses.loglik_and_error(np.zeros(2), np.zeros(2), kind="poisson"), ValueError, "kind"),
    (lambda: losses.loglik_and_error(np.zeros(2), np.array([0.0, 0.5]), kind="bernoulli"), ValueError, "y"),
    (lambda: losses.loglik_and_error(np.zeros(2), np.zeros(3), kind="gaussian"), ValueError, "y"),
    (lambda: losses.loglik_and_error(np.zeros(2), np.zeros(2), sigma=0.0, kind="gaussian"), ValueError, "sigma"),
    (lambda: losses.loglik_and_error(np.zeros((2, 2)), np.full((2, 2), 0.5)), ValueError, "one-hot"),
])
def test_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
