"""lib.cnn: models against hand counts and torch, shifts against numpy, the symmetry tests."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lib import nn as libnn
from lib.cnn import SmallCNN, SmallMLP, equivariance_error, feature_maps, invariance_error, shift

F64 = torch.float64


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def conv_layer(padding_mode="circular", stride=1, k=3, c_in=2, c_out=3, seed=1):
    torch.manual_seed(seed)
    return nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, padding_mode=padding_mode, dtype=F64)


# --------------------------------------------------------------------------- shift
@pytest.mark.parametrize("dy, dx", [(0, 0), (2, -1), (-3, 4), (7, 0), (0, -6)])
def test_shift_matches_numpy(dy, dx):
    x = rand(2, 3, 5, 7)
    np.testing.assert_array_equal(shift(x, dy, dx, "circular").numpy(), np.roll(x.numpy(), (dy, dx), axis=(-2, -1)))
    # zero fill: pad, roll, crop is the same move with the content that leaves discarded
    p = 8
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (p, p), (p, p)))
    ref = np.roll(padded, (dy, dx), axis=(-2, -1))[..., p:p + 5, p:p + 7] if abs(dy) < 5 and abs(dx) < 7 else 0 * x
    np.testing.assert_array_equal(shift(x, dy, dx, "zeros").numpy(), ref)


def test_shift_zero_fill_loses_content_and_inverts_on_the_rest():
    x = rand(4, 4)
    back = shift(shift(x, 1, 2, "zeros"), -1, -2, "zeros")
    assert torch.equal(back[:3, :2], x[:3, :2]) and back[3:].abs().sum() == 0 and back[:, 2:].abs().sum() == 0
    assert torch.equal(shift(x, 5, 0, "zeros"), torch.zeros_like(x))


# --------------------------------------------------------------------------- equivariance
@pytest.mark.parametrize("dy, dx", [(1, 0), (0, -2), (3, 5), (-4, -1)])
def test_circular_conv_is_exactly_equivariant_at_stride_1(dy, dx):
    conv = conv_layer("circular")
    x = rand(2, 2, 9, 11, seed=dy + 10 * dx + 40)
    assert equivariance_error(conv, x, dy, dx, "circular") < 1e-12
    deep = nn.Sequential(conv, nn.ReLU(), conv_layer("circular", k=5, c_in=3, c_out=2))
    assert equivariance_error(deep, x, dy, dx, "circular") < 1e-12


def test_zero_padding_is_equivariant_only_in_the_interior():
    conv = conv_layer("zeros")
    x = rand(1, 2, 12, 12, seed=3)  # content up to the border
    assert equivariance_error(conv, x, 1, 2, "zeros", border=0) > 0.1
    assert equivariance_error(conv, x, 1, 2, "zeros") < 1e-12          # default crop: max(1, |dy|, |dx|)
    assert equivariance_error(conv, x, 1, 2, "zeros", border=1) > 0.01  # one pixel too little
    assert equivariance_error(conv, x, 1, 1, "zeros", border=1) < 1e-12
    five = conv_layer("zeros", k=5)  # radius 2 needs max(2, shift)
    assert equivariance_error(five, x, 1, 1, "zeros") > 0.01
    assert equivariance_error(five, x, 1, 1, "zeros", border=2) < 1e-12
    assert equivariance_error(five, x, 3, -1, "zeros", border=3) < 1e-12
    # content away from the border: zero padding and zero fill never see it, so no error at all
    # (without a bias: a vacated zero region maps to b, while shift(f(x)) fills it with 0)
    x_small = F.pad(rand(1, 2, 4, 4, seed=4), (4, 4, 4, 4))
    assert equivariance_error(conv, x_small, 1, 2, "zeros", border=0) > 0.1
    with torch.no_grad():
        conv.bias.zero_()
    assert equivariance_error(conv, x_small, 1, 2, "zeros", border=0) < 1e-12


def test_stride_2_breaks_equivariance_for_odd_shifts_only():
    conv = conv_layer("circular", stride=2)
    x = rand(1, 2, 12, 12, seed=5)
    assert conv(x).shape[-2:] == (6, 6)
    assert equivariance_error(conv, x, 2, 4, "circular") < 1e-12
    assert equivariance_error(conv, x, -2, 0, "circular") < 1e-12
    for dy, dx in [(1, 0), (0, 1), (1, 1), (3, -2)]:
        assert equivariance_error(conv, x, dy, dx, "circular", relative=True) > 0.1
    # the same strided map is a stride-1 conv followed by keeping every second position (eq. 3.24)
    dense = conv_layer("circular", stride=1)
    assert torch.allclose(dense(x)[..., ::2, ::2], conv(x), atol=1e-12)


def test_global_pooling_gives_invariance():
    conv = conv_layer("circular")
    x = rand(3, 2, 10, 10, seed=6)
    gmax = lambda t: torch.relu(conv(t)).amax(dim=(2, 3))  # noqa: E731
    gavg = lambda t: conv(t).mean(dim=(2, 3))  # noqa: E731
    flat = lambda t: torch.relu(conv(t)).flatten(1)  # noqa: E731
    for dy, dx in [(1, 0), (3, -4)]:
        assert invariance_error(gmax, x, dy, dx) < 1e-12
        assert invariance_error(gavg, x, dy, dx) < 1e-12
        assert invariance_error(flat, x, dy, dx, relative=True) > 0.1
    model = SmallCNN(in_ch=2, widths=(4, 6), pool="gmax", in_hw=10, padding_mode="circular", dtype=F64)
    assert invariance_error(model, x, 2, 3) < 1e-12
    assert invariance_error(SmallCNN(in_ch=2, pool="flatten", in_hw=10, padding_mode="circular", dtype=F64),
                            x, 2, 3, relative=True) > 0.01


# --------------------------------------------------------------------------- models
@pytest.mark.parametrize("pool, widths, hw", [("flatten", (16, 32), 8), ("gmax", (16, 32), 12),
                                              ("gavg", (8, 16), 12), ("flatten", (4, 5), 6)])
def test_small_cnn_parameter_count(pool, widths, hw):
    m = SmallCNN(widths=widths, pool=pool, in_hw=hw)
    w1, w2 = widths
    head_in = w2 * hw * hw if pool == "flatten" else w2
    expected = (w1 * 9 + w1) + (w2 * w1 * 9 + w2) + (head_in * 10 + 10)
    assert sum(p.numel() for p in m.parameters()) == expected
    assert m(torch.rand(3, 1, hw, hw)).shape == (3, 10)
    assert torch.equal(m(torch.rand(3, hw * hw) * 0), m(torch.zeros(3, 1, hw, hw)))  # flattened input accepted


def test_spec_counts_and_mlp_count():
    assert sum(p.numel() for p in SmallCNN(pool="gmax", in_hw=12).parameters()) == 5130
    assert sum(p.numel() for p in SmallMLP(144).parameters()) == 144 * 128 + 128 + 128 * 10 + 10


def test_small_cnn_matches_functional_forward():
    m = SmallCNN(widths=(3, 4), pool="flatten", in_hw=6, dtype=F64, seed=2)
    x = rand(5, 1, 6, 6, seed=7)
    h = F.relu(F.conv2d(F.relu(F.conv2d(x, m.conv1.weight, m.conv1.bias, padding=1)), m.conv2.weight,
                        m.conv2.bias, padding=1))
    ref = h.reshape(5, -1) @ m.head.weight.T + m.head.bias
    assert torch.allclose(m(x), ref, atol=1e-12)
    maps = feature_maps(m, x)
    assert [t.shape for t in maps] == [(5, 3, 6, 6), (5, 4, 6, 6)]
    assert torch.allclose(maps[0], F.conv2d(x, m.conv1.weight, m.conv1.bias, padding=1), atol=1e-12)


def test_seeded_init_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = SmallCNN(seed=4)
    assert torch.equal(torch.rand(1), before)
    b, c = SmallCNN(seed=4), SmallCNN(seed=5)
    assert torch.equal(a.conv2.weight, b.conv2.weight) and not torch.equal(a.conv2.weight, c.conv2.weight)
    assert torch.equal(SmallMLP(10, seed=1).net[0].weight, SmallMLP(10, seed=1).net[0].weight)


def test_models_train_with_lib_nn_train():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(64, 1, 6, 6, generator=g)
    y = (X[:, 0, :, :3].sum((1, 2)) > X[:, 0, :, 3:].sum((1, 2))).long()  # which half is brighter
    for model in (SmallCNN(widths=(4, 4), pool="flatten", in_hw=6, n_classes=2), SmallMLP(36, 16, 2)):
        hist = libnn.train(model, X.flatten(1), y, loss="ce", lr=1e-2, epochs=60, batch_size=32)
        assert hist.loss[-1] < 0.5 * hist.loss[0]


def test_bad_inputs():
    with pytest.raises(ValueError, match="pool"):
        SmallCNN(pool="avg")
    with pytest.raises(ValueError, match="widths"):
        SmallCNN(widths=(16,))
    with pytest.raises(ValueError, match="in_hw"):
        SmallCNN(in_hw=0)
    with pytest.raises(ValueError, match="padding_mode"):
        SmallCNN(padding_mode="reflect")
    with pytest.raises(ValueError, match="x: expected shape"):
        SmallCNN(in_hw=8)(torch.rand(2, 1, 12, 12))
    with pytest.raises(ValueError, match="x: expected 64"):
        SmallMLP(64)(torch.rand(2, 100))
    with pytest.raises(ValueError, match="hidden"):
        SmallMLP(64, hidden=0)
    with pytest.raises(ValueError, match="mode"):
        shift(torch.rand(3, 3), 1, 1, mode="reflect")
    with pytest.raises(TypeError, match="dy"):
        shift(torch.rand(3, 3), 1.5, 0)
    with pytest.raises(TypeError, match="x"):
        shift(np.zeros((3, 3)), 1, 0)
    with pytest.raises(TypeError, match="f"):
        equivariance_error("conv", torch.rand(1, 1, 4, 4), 1, 0)
    with pytest.raises(ValueError, match="f"):
        equivariance_error(lambda t: t.sum(-1, keepdim=True), torch.rand(1, 1, 4, 4), 1, 0)
    with pytest.raises(ValueError, match="border"):
        equivariance_error(lambda t: t, torch.rand(1, 1, 4, 4), 1, 0, "zeros", border=2)
    with pytest.raises(TypeError, match="model"):
        feature_maps(lambda t: t, torch.rand(1, 1, 4, 4))
    with pytest.raises(ValueError, match="model"):
        feature_maps(SmallMLP(16), torch.rand(1, 1, 4, 4))
