"""lib.conv against torch: F.conv2d, F.unfold, nn.Linear, nn.Conv2d, and autograd gradient supports."""
import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F
from torch import nn

from lib import conv

DT = torch.float64


def _case(gen, n, c, k_out, h, w, kh, kw):
    x = torch.randn(n, c, h, w, generator=gen, dtype=DT)
    wt = torch.randn(k_out, c, kh, kw, generator=gen, dtype=DT)
    b = torch.randn(k_out, generator=gen, dtype=DT)
    return x, wt, b


def _random_configs(n_cases=12, seed=123):
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        kh, kw = int(rng.choice([1, 2, 3, 5])), int(rng.choice([1, 3, 4]))
        yield dict(n=int(rng.integers(1, 3)), c=int(rng.integers(1, 5)), k_out=int(rng.integers(1, 6)),
                   h=int(rng.integers(kh, 10)), w=int(rng.integers(kw, 11)), kh=kh, kw=kw,
                   stride=int(rng.integers(1, 4)), padding=int(rng.integers(0, 3)),
                   bias=bool(rng.integers(0, 2)))


@pytest.mark.parametrize("cfg", list(_random_configs()))
def test_three_forwards_equal_f_conv2d(cfg):
    gen = torch.Generator().manual_seed(7)
    x, w, b = _case(gen, cfg["n"], cfg["c"], cfg["k_out"], cfg["h"], cfg["w"], cfg["kh"], cfg["kw"])
    b = b if cfg["bias"] else None
    s, p = cfg["stride"], cfg["padding"]
    ref = F.conv2d(x, w, b, stride=s, padding=p)
    for fn in (conv.conv2d_loop, conv.conv2d_im2col, conv.conv2d_forward):
        out = fn(x, w, b, stride=s, padding=p)
        assert out.shape == ref.shape
        torch.testing.assert_close(out, ref, atol=1e-12, rtol=1e-12)
    assert ref.shape[2] == (cfg["h"] + 2 * p - cfg["kh"]) // s + 1 == conv.output_size(cfg["h"], cfg["kh"], s, p)


@pytest.mark.parametrize("cfg", list(_random_configs(8, seed=5)))
def test_im2col_equals_unfold(cfg):
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(cfg["n"], cfg["c"], cfg["h"], cfg["w"], generator=gen, dtype=DT)
    k = (cfg["kh"], cfg["kw"])
    ours = conv.im2col(x, k, cfg["stride"], cfg["padding"])
    ref = F.unfold(x, k, stride=cfg["stride"], padding=cfg["padding"])
    assert ours.shape == ref.shape
    assert torch.equal(ours, ref)


def test_single_channel_matches_scipy_correlate2d():
    rng = np.random.default_rng(0)
    img, ker = rng.standard_normal((9, 11)), rng.standard_normal((3, 3))
    t = lambda a: torch.tensor(a)[None, None]
    valid = conv.conv2d_loop(t(img), t(ker))[0, 0].numpy()
    same = conv.conv2d_im2col(t(img), t(ker), padding=1)[0, 0].numpy()
    np.testing.assert_allclose(valid, scipy.signal.correlate2d(img, ker, mode="valid"), atol=1e-12)
    np.testing.assert_allclose(same, scipy.signal.correlate2d(img, ker, mode="same"), atol=1e-12)
    # and it is not a true convolution: the flipped kernel gives something else
    assert not np.allclose(valid, scipy.signal.convolve2d(img, ker, mode="valid"))


def test_circular_padding_mode_matches_nn_conv2d():
    torch.manual_seed(0)
    layer = nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular").double()
    x = torch.randn(2, 2, 7, 8, dtype=DT)
    out = conv.conv2d_forward(x, layer.weight, layer.bias, padding=1, padding_mode="circular")
    torch.testing.assert_close(out, layer(x), atol=1e-12, rtol=0)
    for mode in ("reflect", "replicate"):
        ref = nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode).double()
        with torch.no_grad():
            ref.weight.copy_(layer.weight); ref.bias.copy_(layer.bias)
        torch.testing.assert_close(conv.conv2d_forward(x, layer.weight, layer.bias, padding=1, padding_mode=mode),
                                   ref(x), atol=1e-12, rtol=0)


def test_conv1x1_equals_linear_channels_last_and_conv2d():
    torch.manual_seed(1)
    x = torch.randn(3, 5, 4, 6, dtype=DT)
    lin = nn.Linear(5, 7).double()
    ref = lin(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    torch.testing.assert_close(conv.conv1x1(x, lin.weight, lin.bias), ref, atol=1e-12, rtol=0)
    w4 = lin.weight[:, :, None, None]
    torch.testing.assert_close(conv.conv1x1(x, w4), F.conv2d(x, w4), atol=1e-12, rtol=0)


def test_conv_runs_on_float32_and_keeps_dtype_device():
    x = torch.randn(1, 2, 6, 6)
    w = torch.randn(4, 2, 3, 3)
    for fn in (conv.conv2d_loop, conv.conv2d_im2col, conv.conv2d_forward):
        out = fn(x, w, padding=1)
        assert out.dtype == torch.float32 and out.device == x.device
        torch.testing.assert_close(out, F.conv2d(x, w, padding=1), atol=1e-5, rtol=1e-5)


def test_im2col_is_differentiable():
    x = torch.randn(1, 2, 5, 5, dtype=DT, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=DT)
    conv.conv2d_im2col(x, w, padding=1).square().sum().backward()
    g_ours = x.grad.clone()
    x.grad = None
    F.conv2d(x, w, padding=1).square().sum().backward()
    torch.testing.assert_close(g_ours, x.grad, atol=1e-10, rtol=0)


# --------------------------------------------------------------------------- receptive fields
def test_receptive_field_book_sequences():
    assert [r["rf"] for r in conv.receptive_field([3] * 4, 1)] == [3, 5, 7, 9]
    rows = conv.receptive_field([3] * 4, 2)
    assert [r["rf"] for r in rows] == [3, 7, 15, 31] == [2 ** (l + 1) - 1 for l in range(1, 5)]
    assert [r["jump"] for r in rows] == [2, 4, 8, 16]
    assert [r["rf"] for r in conv.receptive_field([3, 3], [1, 1], dilations=[1, 2])] == [3, 7]


def _stack(ks, ss, ds):
    layers = []
    c = 1
    for k, s, d in zip(ks, ss, ds):
        layers += [nn.Conv2d(c, 2, k, stride=s, dilation=d), nn.ReLU()]
        c = 2
    return nn.Sequential(*layers[:-1]).double()


@pytest.mark.parametrize("seed", range(6))
def test_receptive_field_equals_gradient_support(seed):
    """The gradient of the centre output is nonzero exactly on the theoretical field (no ReLU dead zones
    with a linear net, so the support is the full square)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    ks = [int(v) for v in rng.choice([1, 2, 3, 5], n)]
    ss = [int(v) for v in rng.integers(1, 3, n)]
    ds = [int(v) for v in rng.integers(1, 3, n)]
    torch.manual_seed(seed)
    model = nn.Sequential(*[m for m in _stack(ks, ss, ds) if not isinstance(m, nn.ReLU)])
    rf = conv.receptive_field(ks, ss, ds)[-1]["rf"]
    size = 2 * rf + 9
    erf = conv.effective_receptive_field(model, (1, size, size))
    assert erf.shape == (size, size)
    # (dilation leaves holes inside the field, but the bounding box of the support is still rf x rf)
    assert conv.support_size(erf, 1e-12) == (rf, rf)


def test_effective_rf_relu_net_is_within_theory_and_peaks_in_the_middle():
    torch.manual_seed(0)
    model = nn.Sequential(*[m for i in range(4) for m in (nn.Conv2d(1 if i == 0 else 8, 8, 3, padding=1), nn.ReLU())])
    erf = conv.effective_receptive_field(model, (1, 31, 31), n_inputs=8)
    h, w = conv.support_size(erf)
    assert h <= 9 and w <= 9
    centre = erf[13:18, 13:18].sum()
    assert centre > 0.5 * erf.sum()


# --------------------------------------------------------------------------- counts
def test_param_counts_match_modules():
    for c_in, c_out, k, bias in [(3, 64, 3, True), (64, 128, 3, False), (5, 7, (1, 3), True)]:
        layer = nn.Conv2d(c_in, c_out, k, bias=bias)
        assert conv.conv_params(c_in, c_out, k, bias) == conv.param_count(layer)
    assert conv.conv_params(3, 64, 3) == 1792
    assert conv.dense_equivalent_params((3, 32, 32), (64, 32, 32)) == 201_392_128
    lin = nn.Linear(3 * 32 * 32, 10)
    assert conv.dense_equivalent_params((3, 32, 32), (10,)) == conv.param_count(lin)
    frozen = nn.Linear(4, 2)
    frozen.bias.requires_grad_(False)
    assert conv.param_count(frozen) == 8 and conv.param_count(frozen, trainable_only=False) == 10


# --------------------------------------------------------------------------- bad inputs
def test_bad_inputs_raise():
    x, w = torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)
    with pytest.raises(TypeError, match="x"):
        conv.conv2d_loop(x.numpy(), w)
    with pytest.raises(ValueError, match="x"):
        conv.conv2d_im2col(x[0], w)
    with pytest.raises(ValueError, match="w"):
        conv.conv2d_forward(x, torch.randn(3, 4, 3, 3))
    with pytest.raises(TypeError, match="w"):
        conv.conv2d_forward(x, w.double())
    with pytest.raises(TypeError, match="x"):
        conv.conv2d_forward(x.long(), w)
    with pytest.raises(ValueError, match="b"):
        conv.conv2d_loop(x, w, torch.randn(2))
    with pytest.raises(ValueError, match="stride"):
        conv.conv2d_forward(x, w, stride=0)
    with pytest.raises(ValueError, match="padding"):
        conv.conv2d_forward(x, w, padding=-1)
    with pytest.raises(ValueError, match="padding_mode"):
        conv.conv2d_forward(x, w, padding=1, padding_mode="mirror")
    with pytest.raises(ValueError, match="w"):
        conv.conv2d_forward(torch.randn(1, 2, 2, 2), w)
    with pytest.raises(ValueError, match="kernel_size"):
        conv.im2col(x, (3, 3, 3))
    with pytest.raises(ValueError, match="kernel_size"):
        conv.im2col(x, 7)
    with pytest.raises(ValueError, match="w0"):
        conv.conv1x1(x, torch.randn(3, 5))
    with pytest.raises(ValueError, match="kernel_sizes"):
        conv.receptive_field([])
    with pytest.raises(ValueError, match="strides"):
        conv.receptive_field([3, 3], [1, 2, 2])
    with pytest.raises(ValueError, match="dilations"):
        conv.receptive_field([3, 3], 1, dilations=[0, 1])
    with pytest.raises(TypeError, match="model"):
        conv.effective_receptive_field(lambda t: t, (1, 5, 5))
    with pytest.raises(ValueError, match="in_shape"):
        conv.effective_receptive_field(nn.Conv2d(1, 1, 3), (5, 5))
    with pytest.raises(ValueError, match="c_in"):
        conv.conv_params(0, 3, 3)
    with pytest.raises(ValueError, match="out_shape"):
        conv.dense_equivalent_params((3, 4), ())


@pytest.mark.parametrize("device", ["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
def test_every_function_runs_on_the_device_of_its_input(device):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 9, 8, device=device)
    w = torch.randn(4, 3, 3, 3, device=device)
    b = torch.randn(4, device=device)
    ref = F.conv2d(x, w, b, stride=2, padding=1)
    for fn in (conv.conv2d_loop, conv.conv2d_im2col, conv.conv2d_forward):
        out = fn(x, w, b, stride=2, padding=1)
        assert out.device == ref.device
        torch.testing.assert_close(out, ref, atol=1e-4, rtol=1e-4)
    assert conv.im2col(x, 3).device == ref.device
    assert conv.conv1x1(x, w[:, :, 1, 1]).device == ref.device
    model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Conv2d(2, 2, 3)).to(device)   # linear: full support
    erf = conv.effective_receptive_field(model, (3, 11, 11))
    assert erf.device == ref.device and conv.support_size(erf) == (5, 5)
