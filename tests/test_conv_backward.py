"""lib.conv_backward: the hand-written convolution backward against torch's autograd and its adjoints."""
import numpy as np
import pytest
import torch
from scipy import signal
from torch import nn
from torch.nn import functional as F

from lib import conv_backward as cb

D = torch.float64


def random_case(rng: np.random.Generator):
    """A random layer: channels, kernel (possibly not square), H != W, stride, padding."""
    n, c_in, c_out = (int(v) for v in rng.integers(1, 4, size=3))
    kh, kw = int(rng.choice([1, 2, 3, 5])), int(rng.choice([1, 3, 4]))
    stride, padding = int(rng.integers(1, 3)), int(rng.integers(0, 3))
    h, w = int(rng.integers(max(kh, 3), 11)), int(rng.integers(max(kw, 3), 11))
    gen = torch.Generator().manual_seed(int(rng.integers(1 << 30)))
    x = torch.randn(n, c_in, h, w, dtype=D, generator=gen)
    wt = torch.randn(c_out, c_in, kh, kw, dtype=D, generator=gen)
    b = torch.randn(c_out, dtype=D, generator=gen)
    return x, wt, b, stride, padding, gen


@pytest.mark.parametrize("seed", range(12))
def test_conv2d_backward_matches_autograd(seed):
    x, w, b, stride, padding, gen = random_case(np.random.default_rng(seed))
    xr, wr, br = (t.clone().requires_grad_() for t in (x, w, b))
    out = F.conv2d(xr, wr, br, stride=stride, padding=padding)
    g = torch.randn(out.shape, dtype=D, generator=gen)
    ref = torch.autograd.grad(out, (xr, wr, br), g)
    mine = cb.conv2d_backward(g, x, w, stride=stride, padding=padding)
    for name, r, m in zip(("grad_x", "grad_w", "grad_b"), ref, mine):
        assert m.shape == r.shape, name
        torch.testing.assert_close(m, r, rtol=0, atol=1e-10, msg=name)


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 2), (2, 1), (2, 0)])
def test_grad_x_is_transposed_convolution_and_grad_w_is_torch_nn_grad(stride, padding):
    gen = torch.Generator().manual_seed(7)
    x, w = torch.randn(2, 3, 9, 9, dtype=D, generator=gen), torch.randn(4, 3, 3, 3, dtype=D, generator=gen)
    g = torch.randn(F.conv2d(x, w, stride=stride, padding=padding).shape, dtype=D, generator=gen)
    gx, gw, _ = cb.conv2d_backward(g, x, w, stride, padding)
    # odd leftover rows that the stride skipped are restored by output_padding
    extra = (9 + 2 * padding - 3) % stride
    torch.testing.assert_close(gx, F.conv_transpose2d(g, w, stride=stride, padding=padding, output_padding=extra),
                               rtol=0, atol=1e-10)
    torch.testing.assert_close(gx, torch.nn.grad.conv2d_input(x.shape, w, g, stride=stride, padding=padding),
                               rtol=0, atol=1e-10)
    torch.testing.assert_close(gw, torch.nn.grad.conv2d_weight(x, w.shape, g, stride=stride, padding=padding),
                               rtol=0, atol=1e-10)


def test_single_channel_backward_is_a_true_convolution_scipy():
    """Forward = scipy correlate2d (no flip); backward to the input = scipy convolve2d (flipped kernel)."""
    rng = np.random.default_rng(3)
    x, k, g = rng.normal(size=(7, 6)), rng.normal(size=(3, 3)), rng.normal(size=(5, 4))
    out = cb.F.conv2d(torch.tensor(x)[None, None], torch.tensor(k)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(out, signal.correlate2d(x, k, mode="valid"), atol=1e-12)
    gx, gw, _ = cb.conv2d_backward(torch.tensor(g)[None, None], torch.tensor(x)[None, None], torch.tensor(k)[None, None])
    np.testing.assert_allclose(gx[0, 0].numpy(), signal.convolve2d(g, k, mode="full"), atol=1e-12)
    np.testing.assert_allclose(gw[0, 0].numpy(), signal.correlate2d(x, g, mode="valid"), atol=1e-12)


def test_stride_two_equals_zero_upsampled_stride_one():
    gen = torch.Generator().manual_seed(1)
    x, w = torch.randn(1, 2, 8, 8, dtype=D, generator=gen), torch.randn(3, 2, 3, 3, dtype=D, generator=gen)
    g2 = torch.randn(1, 3, 4, 4, dtype=D, generator=gen)     # stride 2, padding 1 on 8x8 -> 4x4
    g1 = torch.zeros(1, 3, 8, 8, dtype=D)
    g1[..., ::2, ::2] = g2
    for a, b in zip(cb.conv2d_backward(g2, x, w, 2, 1), cb.conv2d_backward(g1, x, w, 1, 1)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("s, hw", [(2, (7, 8)), (3, (9, 5)), (1, (4, 4))])
def test_subsample_and_backward_match_slicing_autograd(s, hw):
    gen = torch.Generator().manual_seed(s)
    h = torch.randn(2, 3, *hw, dtype=D, generator=gen, requires_grad=True)
    sub = cb.subsample(h, s)
    assert torch.equal(sub, h[..., ::s, ::s])
    g = torch.randn(sub.shape, dtype=D, generator=gen)
    ref, = torch.autograd.grad(h[..., ::s, ::s], h, g)
    mine = cb.subsample_backward(g, s, h.shape)
    assert torch.equal(mine, ref)
    dropped = torch.ones(hw, dtype=torch.bool)
    dropped[::s, ::s] = False
    assert (mine[..., dropped] == 0).all()  # exact zeros where nothing was kept
    if s > 1:
        assert dropped.any()


def test_subsample_equals_strided_convolution():
    gen = torch.Generator().manual_seed(5)
    x, w = torch.randn(2, 3, 9, 9, dtype=D, generator=gen), torch.randn(4, 3, 3, 3, dtype=D, generator=gen)
    torch.testing.assert_close(cb.subsample(F.conv2d(x, w, padding=1), 2), F.conv2d(x, w, padding=1, stride=2))


@pytest.mark.parametrize("s, hw", [(2, (6, 7)), (3, (9, 10))])
def test_pool_backwards_match_autograd(s, hw):
    gen = torch.Generator().manual_seed(11)
    x = torch.randn(2, 3, *hw, dtype=D, generator=gen, requires_grad=True)
    for pool, backward in ((F.avg_pool2d, lambda g: cb.avgpool_backward(g, s, x.shape)),
                           (F.max_pool2d, lambda g: cb.maxpool_backward(g, x.detach(), s))):
        out = pool(x, s)
        g = torch.randn(out.shape, dtype=D, generator=gen)
        ref, = torch.autograd.grad(out, x, g)
        torch.testing.assert_close(backward(g), ref, rtol=0, atol=1e-14)
    # max pool: exactly one nonzero per window
    g = torch.ones(F.max_pool2d(x, s).shape, dtype=D)
    assert int((cb.maxpool_backward(g, x.detach(), s) != 0).sum()) == g.numel()


def test_conv2dfn_gradcheck_and_no_bias():
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(1, 2, 6, 5, dtype=D, generator=gen, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=D, generator=gen, requires_grad=True)
    b = torch.randn(3, dtype=D, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: cb.Conv2dFn.apply(x, w, b, 2, 1), (x, w, b))
    assert torch.autograd.gradcheck(lambda x, w: cb.Conv2dFn.apply(x, w, None, 1, 0), (x, w))


def test_hand_conv2d_has_nn_conv2d_init_and_parameters():
    torch.manual_seed(0)
    ref = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    torch.manual_seed(0)
    hand = cb.HandConv2d(3, 5, 3, stride=2, padding=1)
    assert isinstance(hand, nn.Conv2d)
    assert ref.state_dict().keys() == hand.state_dict().keys()
    for k in ref.state_dict():
        assert torch.equal(ref.state_dict()[k], hand.state_dict()[k])
    x = torch.randn(2, 3, 8, 8)
    assert torch.equal(hand(x), ref(x))


def _net(conv_cls):
    torch.manual_seed(123)
    return nn.Sequential(conv_cls(1, 4, 3, padding=1), nn.Tanh(), conv_cls(4, 6, 3, stride=2, padding=1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(6 * 4 * 4, 10)).double()


def test_training_with_hand_conv2d_equals_nn_conv2d():
    gen = torch.Generator().manual_seed(9)
    X, y = torch.rand(96, 1, 8, 8, dtype=D, generator=gen), torch.randint(0, 10, (96,), generator=gen)
    curves = []
    for cls in (nn.Conv2d, cb.HandConv2d):
        net = _net(cls)
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        losses = []
        for i in range(0, 96, 16):
            loss = F.cross_entropy(net(X[i:i + 16]), y[i:i + 16])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        curves.append(np.array(losses))
    np.testing.assert_allclose(curves[1], curves[0], rtol=0, atol=1e-10)
    assert curves[0][-1] != curves[0][0]  # the network did move


def test_bad_inputs_raise_named_errors():
    x, w = torch.randn(1, 2, 5, 5, dtype=D), torch.randn(3, 2, 3, 3, dtype=D)
    g = torch.randn(1, 3, 3, 3, dtype=D)
    with pytest.raises(TypeError, match="x"):
        cb.conv2d_backward(g, x.numpy(), w)
    with pytest.raises(ValueError, match="w"):
        cb.conv2d_backward(g, x, torch.randn(3, 4, 3, 3, dtype=D))
    with pytest.raises(ValueError, match="grad_out"):
        cb.conv2d_backward(torch.randn(1, 3, 5, 5, dtype=D), x, w)
    with pytest.raises(ValueError, match="stride"):
        cb.conv2d_backward(g, x, w, stride=0)
    with pytest.raises(ValueError, match="padding"):
        cb.conv2d_backward(g, x, w, padding=-1)
    with pytest.raises(TypeError, match="dtype"):
        cb.conv2d_backward(g.float(), x, w)
    with pytest.raises(ValueError, match="x"):
        cb.conv2d_backward(g, x[0], w)
    with pytest.raises(ValueError, match="kernel"):
        cb.conv2d_backward(g, torch.randn(1, 2, 2, 2, dtype=D), w)
    with pytest.raises(ValueError, match="grad_sub"):
        cb.subsample_backward(torch.zeros(1, 1, 2, 2), 2, (1, 1, 5, 5))
    with pytest.raises(ValueError, match="full_shape"):
        cb.subsample_backward(torch.zeros(1, 1, 2, 2), 2, (1, 1, 4))
    with pytest.raises(ValueError, match="s"):
        cb.subsample(x, 0)
    with pytest.raises(ValueError, match="grad_out"):
        cb.avgpool_backward(torch.zeros(1, 2, 3, 3, dtype=D), 2, x.shape)
    with pytest.raises(ValueError, match="grad_out"):
        cb.maxpool_backward(torch.zeros(1, 2, 3, 3, dtype=D), x, 2)
    with pytest.raises(ValueError, match="stride"):
        cb.HandConv2d(2, 3, 3, stride=(1, 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_conv2d_backward_on_gpu_matches_cpu():
    gen = torch.Generator().manual_seed(13)
    x, w = torch.randn(2, 3, 9, 9, dtype=D, generator=gen), torch.randn(4, 3, 3, 3, dtype=D, generator=gen)
    g = torch.randn(2, 4, 5, 5, dtype=D, generator=gen)
    cpu = cb.conv2d_backward(g, x, w, stride=2, padding=1)
    gpu = cb.conv2d_backward(g.cuda(), x.cuda(), w.cuda(), stride=2, padding=1)
    for a, b in zip(cpu, gpu):
        assert b.is_cuda
        torch.testing.assert_close(b.cpu(), a, rtol=0, atol=1e-10)
