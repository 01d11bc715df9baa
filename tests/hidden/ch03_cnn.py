"""Hidden checks for the Chapter 3 exercises (grading only; a failure shows as "hidden check failed").

They use cases the notebook never shows: many random shapes, strides and paddings (kernels of size 1, 2 and 5
among them), receptive fields measured on a network rather than computed, odd image sizes, stride 3, and whether
the student's functions leave their inputs unchanged. References come from torch and closed forms, through the
helpers of the public checks.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from lib.checks.ch03_cnn import (F64, _array, _backward_part, _check_conv, _check_count, _check_equivariance,
                                 _check_im2col, _check_rf, _check_subsample_backward, _close, _conv1x1_reference,
                                 _conv_count, _conv_count_mistakes, _dense_count, _gen, _layers, _out_size, _randn)
from lib.grading import check


def _random_conv_configs(seed: int, count: int, kernels=(1, 3, 5)) -> list:
    """(n, c_in, c_out, h, w, k, stride, padding) with H != W and at least one output position."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        n, c_in, c_out = int(rng.integers(1, 3)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
        h, w = (int(v) for v in rng.choice(np.arange(3, 9), 2, replace=False))
        k, s, p = int(rng.choice(kernels)), int(rng.integers(1, 3)), int(rng.integers(0, 3))
        if k <= min(h, w) + 2 * p and p <= k // 2 + 1:
            out.append((n, c_in, c_out, h, w, k, s, p))
    return out


def _unchanged(tensors: dict, originals: dict, func: str) -> None:
    for name, t in tensors.items():
        assert torch.equal(t, originals[name]), f"{func} changed its input `{name}` in place; work on a copy"


# --------------------------------------------------------------------------- q1
@check("q1", points=1.5)
def hidden_conv_loop_random_shapes(conv2d_loop):
    for i, (n, c_in, c_out, h, w_, k, s, p) in enumerate(_random_conv_configs(1301, 10)):
        gen = _gen(1310 + i)
        x, w, b = _randn(gen, n, c_in, h, w_), _randn(gen, c_out, c_in, k, k), _randn(gen, c_out)
        _check_conv(conv2d_loop, x, w, b if i % 3 else None, s, p, f"conv2d_loop, hidden case {i + 1}")
    gen = _gen(1320)
    x, w, b = _randn(gen, 1, 2, 5, 4), _randn(gen, 3, 2, 3, 3), _randn(gen, 3)
    xc, wc, bc = x.clone(), w.clone(), b.clone()
    conv2d_loop(xc, wc, bc, stride=1, padding=1)
    _unchanged({"x": xc, "w": wc, "b": bc}, {"x": x, "w": w, "b": b}, "conv2d_loop")


# --------------------------------------------------------------------------- q2
@check("q2", points=1)
def hidden_im2col_random_shapes(im2col, conv2d_im2col):
    for i, (n, c_in, c_out, h, w_, k, s, p) in enumerate(_random_conv_configs(1401, 8, kernels=(1, 2, 3, 5))):
        gen = _gen(1410 + i)
        x, w, b = _randn(gen, n, c_in, h, w_), _randn(gen, c_out, c_in, k, k), _randn(gen, c_out)
        _check_im2col(im2col, x, k, s, p, f"im2col, hidden case {i + 1}")
        _check_conv(conv2d_im2col, x, w, b if i % 2 else None, s, p, f"conv2d_im2col, hidden case {i + 1}")
    x = _randn(_gen(1420), 1, 2, 5, 6)
    xc = x.clone()
    im2col(xc, 3, stride=1, padding=1)
    _unchanged({"x": xc}, {"x": x}, "im2col")


# --------------------------------------------------------------------------- q3
def _measured_rf(kernels, strides, length: int = 400) -> list:
    """(rf, jump) of each layer, measured: the input support of d out[m] / d x in a stack of 1-D convolutions with
    positive weights (no cancellation), and the distance between the supports of two neighbouring outputs."""
    table = []
    for depth in range(1, len(kernels) + 1):
        x = torch.zeros(1, 1, length, dtype=F64, requires_grad=True)
        h = x
        for k, s in zip(kernels[:depth], strides[:depth]):
            h = F.conv1d(h, torch.ones(1, 1, k, dtype=F64), stride=s)
        m = h.shape[-1] // 2
        supports = []
        for j in (m, m + 1):
            (g,) = torch.autograd.grad(h[0, 0, j], x, retain_graph=True)
            nz = torch.nonzero(g[0, 0]).flatten()
            supports.append((int(nz.min()), int(nz.max())))
        table.append((supports[0][1] - supports[0][0] + 1, supports[1][0] - supports[0][0]))
    return table


@check("q3", points=1)
def hidden_receptive_fields_match_gradient_support(receptive_field):
    rng = np.random.default_rng(1501)
    for _ in range(6):
        depth = int(rng.integers(1, 6))
        kernels = [int(k) for k in rng.choice([1, 2, 3, 5, 7], depth)]
        strides = [int(s) for s in rng.integers(1, 4, depth)]
        want = _measured_rf(kernels, strides)
        from lib.checks.ch03_cnn import _rf_table
        assert want == _rf_table(kernels, strides), "the grader's measurement disagrees with the recursion"
        _check_rf(receptive_field, kernels, strides, f"receptive_field({kernels}, {strides})")
    _check_rf(receptive_field, [3], [1], "receptive_field([3], [1])")
    got = receptive_field([], [])
    assert got is not None and len(list(got)) == 0, "receptive_field([], []) should be an empty list"


# --------------------------------------------------------------------------- q4
def _hidden_backward(func, which: int) -> None:
    for i, (n, c_in, c_out, h, w_, k, s, p) in enumerate(_random_conv_configs(1601, 6, kernels=(1, 2, 3, 5))):
        gen = _gen(1610 + i)
        x, w = _randn(gen, n, c_in, h, w_), _randn(gen, c_out, c_in, k, k)
        s = s + (i == 5)  # one case with stride 3 (or 2)
        if _out_size(h, k, s, p) < 1 or _out_size(w_, k, s, p) < 1:
            continue
        g = _randn(gen, n, c_out, _out_size(h, k, s, p), _out_size(w_, k, s, p))
        _backward_part(func, g, x, w, s, p, which, f"conv2d_backward, hidden case {i + 1}")
    gen = _gen(1620)
    g, x, w = _randn(gen, 1, 2, 4, 3), _randn(gen, 1, 3, 6, 5), _randn(gen, 2, 3, 3, 3)
    gc, xc, wc = g.clone(), x.clone(), w.clone()
    func(gc, xc, wc, stride=1, padding=0)
    _unchanged({"grad_out": gc, "x": xc, "w": wc}, {"grad_out": g, "x": x, "w": w}, "conv2d_backward")


@check("q4", points=0.5)
def hidden_backward_grad_x_random(conv2d_backward):
    _hidden_backward(conv2d_backward, 0)


@check("q4", points=0.5)
def hidden_backward_grad_w_random(conv2d_backward):
    _hidden_backward(conv2d_backward, 1)


@check("q4", points=0.5)
def hidden_backward_grad_b_random(conv2d_backward):
    _hidden_backward(conv2d_backward, 2)


# --------------------------------------------------------------------------- q5
@check("q5", points=1)
def hidden_subsample_odd_sizes_and_stride_3(subsample, subsample_backward):
    for seed, full_shape, s in [(1701, (1, 1, 7, 7), 3), (1702, (3, 2, 5, 8), 2), (1703, (2, 1, 4, 4), 4),
                                (1704, (1, 3, 6, 5), 1)]:
        H, W = full_shape[-2:]
        h = _randn(_gen(seed), *full_shape)
        _close(subsample(h.clone(), s), h[..., ::s, ::s], 1e-15, f"subsample(h {full_shape}, {s})")
        grad_sub = _randn(_gen(seed + 50), *full_shape[:2], -(-H // s), -(-W // s))
        _check_subsample_backward(subsample_backward, grad_sub, s, full_shape,
                                  f"subsample_backward, s={s}, full_shape={full_shape}")
        gc = grad_sub.clone()
        subsample_backward(gc, s, full_shape)
        _unchanged({"grad_sub": gc}, {"grad_sub": grad_sub}, "subsample_backward")


# --------------------------------------------------------------------------- q6
@check("q6", points=1)
def hidden_counts_and_conv1x1_random(conv_params, dense_equivalent_params, conv1x1):
    rng = np.random.default_rng(1801)
    for _ in range(6):
        c_in, c_out, k = int(rng.integers(1, 300)), int(rng.integers(1, 300)), int(rng.choice([1, 3, 5, 7]))
        bias = bool(rng.integers(0, 2))
        _check_count(conv_params(c_in, c_out, k, bias), _conv_count(c_in, c_out, k, bias),
                     f"conv_params({c_in}, {c_out}, {k}, bias={bias})", _conv_count_mistakes(c_in, c_out, k, bias))
        in_shape = tuple(int(v) for v in rng.integers(1, 40, 3))
        out_shape = tuple(int(v) for v in rng.integers(1, 40, 3))
        _check_count(dense_equivalent_params(in_shape, out_shape), _dense_count(in_shape, out_shape),
                     f"dense_equivalent_params({in_shape}, {out_shape})", {})
    for seed, (n, c_in, c_out, h, w) in [(1810, (1, 1, 1, 1, 1)), (1811, (3, 5, 2, 2, 7)), (1812, (2, 4, 4, 3, 3))]:
        gen = _gen(seed)
        x, w0, b = _randn(gen, n, c_in, h, w), _randn(gen, c_out, c_in), _randn(gen, c_out)
        xc = x.clone()
        _close(conv1x1(xc, w0.clone(), b.clone()), _conv1x1_reference(x, w0, b), 1e-12,
               f"conv1x1(x {tuple(x.shape)}, w0 {tuple(w0.shape)}, b)")
        _close(conv1x1(xc, w0.clone(), b.clone()), F.conv2d(x, w0[:, :, None, None], b), 1e-12,
               "conv1x1 compared with F.conv2d and a 1x1 kernel")
        assert torch.equal(xc, x), "conv1x1 changed its input `x` in place; work on a copy"


# --------------------------------------------------------------------------- q7
@check("q7", points=1)
def hidden_equivariance_error_random(equivariance_error):
    rng = np.random.default_rng(1901)
    for i in range(8):
        L = _layers(1910 + i, c_in=1, c_out=2, k=int(rng.choice([1, 3, 5])))
        name = ["circular", "zeros", "stride2", "square"][i % 4]
        x = _randn(_gen(1920 + i), 1, 1, int(rng.integers(6, 11)), int(rng.integers(6, 11)))
        dy, dx = (int(v) for v in rng.integers(-3, 4, 2))
        mode, crop = ("circular", "zeros")[i % 2], int(rng.integers(0, 3))
        _check_equivariance(equivariance_error, L[name], x, dy, dx, mode, crop,
                            f"equivariance_error, hidden case {i + 1} ({name} layer, dy={dy}, dx={dx}, mode={mode!r}, crop={crop})")
    L = _layers(1930)
    x = _randn(_gen(1931), 1, 2, 8, 8)
    val = _array(equivariance_error(L["circular"], x.clone(), 0, 0, "circular", 0), "equivariance_error with no shift")
    assert float(val.reshape(())) == 0.0, "equivariance_error with dy = dx = 0 should be exactly 0"
