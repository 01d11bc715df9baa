"""The Chapter 3 exercise checks (public and hidden) accept right answers and reject known-wrong ones.

Each check function is called directly with implementations written here: correct references (and alternative
correct formulations, numpy ones and the tensor method ``x.unfold`` among them) must pass every check of their
question; each known-wrong mutant must fail at least one check of its question with a message. The mutants
include the book's own slips (spec [3-9]): the channel sum of (3.30) running to r, a true (flipped) convolution,
the receptive field that "doubles", the missing bias gradient, the subsampling error that "spreads", and a
convolution called translation invariant. q2 and q4 also refuse torch's own convolution, unfold and autograd,
even behind an alias. Stubs that return None score 0 everywhere, and junk return values give assertion messages,
never crashes. q4's three gradients earn their points separately.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lib.grading import load_checks, run_checks
from tests.checks_support import (JUNK, JUNK_IDS, assert_blank_scores_zero, assert_junk_explained, assert_named,
                                  assert_public_and_hidden, assert_rejected, call, failures as _failures)

torch.set_num_threads(1)  # what the notebooks' setup does
SPECS = load_checks("ch03_cnn", hidden=True)
QUESTIONS = [f"q{i}" for i in range(1, 8)]


# --------------------------------------------------------------------------- correct references
def _out(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def conv2d_loop(x, w, b=None, stride=1, padding=0):
    N, C, H, W = x.shape
    C_out, _, k, _ = w.shape
    xp = F.pad(x, (padding,) * 4)
    out = torch.zeros(N, C_out, _out(H, k, stride, padding), _out(W, k, stride, padding), dtype=x.dtype)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = torch.einsum("ncab,ocab->no", xp[:, :, stride * i:stride * i + k, stride * j:stride * j + k], w)
    return out if b is None else out + b[:, None, None]


def im2col(x, k, stride=1, padding=0):
    N, C, H, W = x.shape
    xp = F.pad(x, (padding,) * 4)
    Ho, Wo = _out(H, k, stride, padding), _out(W, k, stride, padding)
    parts = [xp[:, :, a:a + stride * (Ho - 1) + 1:stride, c:c + stride * (Wo - 1) + 1:stride]
             for a in range(k) for c in range(k)]
    return torch.stack(parts, 2).reshape(N, C * k * k, Ho * Wo)


def conv2d_im2col(x, w, b=None, stride=1, padding=0):
    N, C, H, W = x.shape
    k = w.shape[-1]
    out = w.reshape(w.shape[0], -1) @ im2col(x, k, stride, padding)
    if b is not None:
        out = out + b[:, None]
    return out.reshape(N, w.shape[0], _out(H, k, stride, padding), _out(W, k, stride, padding))


def receptive_field(kernel_sizes, strides):
    rf, jump, out = 1, 1, []
    for k, s in zip(kernel_sizes, strides):
        rf, jump = rf + (k - 1) * jump, jump * s
        out.append((rf, jump))
    return out


def conv2d_backward(grad_out, x, w, stride=1, padding=0):
    H, W = x.shape[-2:]
    k = w.shape[-1]
    Ho, Wo = grad_out.shape[-2:]
    xp = F.pad(x, (padding,) * 4)
    gxp, gw = torch.zeros_like(xp), torch.zeros_like(w)
    for a in range(k):
        for c in range(k):
            rows, cols = slice(a, a + stride * (Ho - 1) + 1, stride), slice(c, c + stride * (Wo - 1) + 1, stride)
            gw[:, :, a, c] = torch.einsum("noij,ncij->oc", grad_out, xp[:, :, rows, cols])
            gxp[:, :, rows, cols] += torch.einsum("oc,noij->ncij", w[:, :, a, c], grad_out)
    return gxp[:, :, padding:padding + H, padding:padding + W], gw, grad_out.sum((0, 2, 3))


def subsample(h, s):
    return h[..., ::s, ::s]


def subsample_backward(grad_sub, s, full_shape):
    g = torch.zeros(full_shape, dtype=grad_sub.dtype)
    g[..., ::s, ::s] = grad_sub
    return g


def conv_params(c_in, c_out, k, bias=True):
    return c_in * c_out * k * k + (c_out if bias else 0)


def dense_equivalent_params(in_shape, out_shape):
    return math.prod(in_shape) * math.prod(out_shape) + math.prod(out_shape)


def conv1x1(x, w0, b=None):
    out = torch.einsum("oc,ncij->noij", w0, x)
    return out if b is None else out + b[:, None, None]


def shift(x, dy, dx, mode="circular"):  # given in the notebook
    out = torch.roll(x, (dy, dx), dims=(-2, -1))
    if mode == "zeros":
        out = out.clone()
        if dy > 0:
            out[..., :dy, :] = 0
        elif dy < 0:
            out[..., dy:, :] = 0
        if dx > 0:
            out[..., :, :dx] = 0
        elif dx < 0:
            out[..., :, dx:] = 0
    return out


def equivariance_error(f, x, dy, dx, mode="circular", crop=0):
    d = f(shift(x, dy, dx, mode)) - shift(f(x), dy, dx, mode)
    if crop > 0:
        d = d[..., crop:-crop, crop:-crop]
    return float(torch.linalg.vector_norm(d))


KEY = {"circular_conv": "equivariant", "zero_pad_conv_interior": "equivariant", "stride2_conv_1px_shift": "neither",
       "conv_global_max_pool": "invariant", "mlp": "neither"}

REFERENCE = dict(conv2d_loop=conv2d_loop, im2col=im2col, conv2d_im2col=conv2d_im2col, receptive_field=receptive_field,
                 doubles_per_stage="jump", conv2d_backward=conv2d_backward, subsample=subsample,
                 subsample_backward=subsample_backward, conv_params=conv_params,
                 dense_equivalent_params=dense_equivalent_params, conv1x1=conv1x1, bottleneck_params=70016,
                 equivariance_error=equivariance_error, layer_symmetry=dict(KEY))
FUNCTIONS = [name for name, v in REFERENCE.items() if callable(v)]


def failures(question, namespace, junk_only=False, only=None):
    return _failures(SPECS, question, namespace, junk_only, only)


def test_every_question_has_public_and_hidden_checks():
    assert_public_and_hidden(SPECS, QUESTIONS, (26, 26))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.question}-{s.name}")
def test_reference_passes(spec):
    call(spec, REFERENCE)


def test_checks_import_no_course_topic_module():
    """The checks are independent references: they must not use the lib modules they are meant to verify."""
    import lib.checks.ch03_cnn as public
    hidden = pathlib.Path(__file__).parent / "hidden" / "ch03_cnn.py"
    for text in (pathlib.Path(public.__file__).read_text(), hidden.read_text()):
        for module in ("lib.conv", "lib.cnn", "lib.conv_backward", "lib.data", "lib.train", "lib.nn"):
            assert f"from {module} " not in text and f"import {module}" not in text, module


def test_verified_numbers():
    """The spec's verified numbers, from this file's references (the checks compute theirs independently)."""
    assert [r for r, _ in receptive_field([3] * 4, [2] * 4)] == [3, 7, 15, 31]
    assert [r for r, _ in receptive_field([3] * 4, [1] * 4)] == [3, 5, 7, 9]
    assert dense_equivalent_params((3, 32, 32), (64, 32, 32)) == 201_392_128 and conv_params(3, 64, 3) == 1792
    assert REFERENCE["bottleneck_params"] == 16_448 + 36_928 + 16_640


# --------------------------------------------------------------------------- other correct answers
def _conv_loop_numpy(x, w, b=None, stride=1, padding=0):
    """Six nested loops over centred offsets (the book's indexing), numpy in and out."""
    x, w = x.numpy(), w.numpy()
    N, C, H, W = x.shape
    C_out, _, k, _ = w.shape
    r = k // 2
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((N, C_out, _out(H, k, stride, padding), _out(W, k, stride, padding)))
    for n in range(N):
        for o in range(C_out):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    ci, cj = stride * i + r, stride * j + r  # the window's centre (k odd) or its r-th pixel
                    total = 0.0 if b is None else float(b[o])
                    for c in range(C):
                        for a in range(-r, k - r):
                            for d in range(-r, k - r):
                                total += w[o, c, a + r, d + r] * xp[n, c, ci + a, cj + d]
                    out[n, o, i, j] = total
    return out


def _im2col_tensor_unfold(x, k, stride=1, padding=0):
    """The tensor method x.unfold (a sliding-window view) is allowed."""
    N, C = x.shape[:2]
    win = F.pad(x, (padding,) * 4).unfold(2, k, stride).unfold(3, k, stride)  # (N, C, Ho, Wo, k, k)
    Ho, Wo = win.shape[2:4]
    return win.permute(0, 1, 4, 5, 2, 3).reshape(N, C * k * k, Ho * Wo)


def _conv_im2col_einsum(x, w, b=None, stride=1, padding=0):
    cols = _im2col_tensor_unfold(x, w.shape[-1], stride, padding)
    out = torch.einsum("of,nfl->nol", w.flatten(1), cols) + (0 if b is None else b[:, None])
    Ho, Wo = _out(x.shape[2], w.shape[-1], stride, padding), _out(x.shape[3], w.shape[-1], stride, padding)
    return out.unflatten(-1, (Ho, Wo))


def _backward_numpy(grad_out, x, w, stride=1, padding=0):
    """Loops over output positions, numpy, lists returned."""
    g, x, w = grad_out.numpy(), x.numpy(), w.numpy()
    k = w.shape[-1]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    gxp, gw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(g.shape[2]):
        for j in range(g.shape[3]):
            win = xp[:, :, stride * i:stride * i + k, stride * j:stride * j + k]
            gw += np.einsum("no,ncab->ocab", g[:, :, i, j], win)
            gxp[:, :, stride * i:stride * i + k, stride * j:stride * j + k] += np.einsum("no,ocab->ncab", g[:, :, i, j], w)
    H, W = x.shape[-2:]
    return [gxp[:, :, padding:padding + H, padding:padding + W], gw, g.sum(axis=(0, 2, 3))]


def _subsample_backward_numpy(grad_sub, s, full_shape):
    out = np.zeros(full_shape)
    out[..., ::s, ::s] = np.asarray(grad_sub)
    return out


def _conv1x1_linear(x, w0, b=None):
    lin = torch.nn.Linear(w0.shape[1], w0.shape[0], bias=b is not None, dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(w0)
        if b is not None:
            lin.bias.copy_(b)
        return lin(x.movedim(1, -1)).movedim(-1, 1)


def _equivariance_norm_sqrt(f, x, dy, dx, mode="circular", crop=0):
    d = f(shift(x, dy, dx, mode)) - shift(f(x), dy, dx, mode)
    H, W = d.shape[-2:]
    d = d[..., crop:H - crop, crop:W - crop]
    return torch.sqrt((d ** 2).sum())  # a 0-d tensor


ALTERNATIVES = [
    ("q1", "numpy, six loops, centred offsets", dict(conv2d_loop=_conv_loop_numpy)),
    ("q2", "tensor method x.unfold and einsum", dict(im2col=_im2col_tensor_unfold, conv2d_im2col=_conv_im2col_einsum)),
    ("q3", "lists and numpy integers", dict(receptive_field=lambda ks, ss: [list(map(np.int64, p)) for p in
                                                                            receptive_field(ks, ss)],
                                            doubles_per_stage=" Jump ")),
    ("q4", "numpy loops over positions, a list", dict(conv2d_backward=_backward_numpy)),
    ("q5", "numpy", dict(subsample=lambda h, s: h.numpy()[..., ::s, ::s], subsample_backward=_subsample_backward_numpy)),
    ("q6", "numpy integers, nn.Linear", dict(conv_params=lambda *a: np.int64(conv_params(*a)),
                                            dense_equivalent_params=lambda i, o: np.int64(dense_equivalent_params(i, o)),
                                            conv1x1=_conv1x1_linear, bottleneck_params=np.int64(70016))),
    ("q7", "a 0-d tensor, capitals", dict(equivariance_error=_equivariance_norm_sqrt,
                                          layer_symmetry={k: v.upper() for k, v in KEY.items()})),
]


@pytest.mark.parametrize("question, label, overrides", ALTERNATIVES, ids=[a[1] for a in ALTERNATIVES])
def test_alternative_correct_answers_pass(question, label, overrides):
    assert failures(question, {**REFERENCE, **overrides}) == {}


# --------------------------------------------------------------------------- known-wrong answers
def _conv(flip=False, book_channels=False, bias=True, stride=True, padding=True, one_sided=False):
    def conv(x, w, b=None, stride_=1, padding_=0, **kw):
        s, p = kw.get("stride", stride_), kw.get("padding", padding_)
        w2 = w.flip(-2, -1) if flip else w
        if book_channels:
            w2 = w2.clone()
            w2[:, w.shape[-1] // 2:] = 0  # channels c = 1..r only
        if one_sided:
            x = F.pad(x, (2 * p, 0, 2 * p, 0))
            p = 0
        return conv2d_loop(x, w2, b if bias else None, stride=s if stride else 1, padding=p if padding else 0)
    return conv


def _conv_in_place(x, w, b=None, stride=1, padding=0):
    out = conv2d_loop(x, w, b, stride, padding)
    x.zero_()
    return out


def _im2col_offset_major(x, k, stride=1, padding=0):
    N, C = x.shape[:2]
    cols = im2col(x, k, stride, padding)
    return cols.reshape(N, C, k * k, -1).transpose(1, 2).reshape(N, C * k * k, -1)


def _conv_im2col_offset_major(x, w, b=None, stride=1, padding=0):
    """Consistent with the (di, dj, c) row order, so the convolution itself is right."""
    N, C, H, W = x.shape
    k = w.shape[-1]
    out = w.permute(0, 2, 3, 1).reshape(w.shape[0], -1) @ _im2col_offset_major(x, k, stride, padding)
    out = out + (0 if b is None else b[:, None])
    return out.reshape(N, w.shape[0], _out(H, k, stride, padding), _out(W, k, stride, padding))


def _im2col_by_unfold(x, k, stride=1, padding=0):
    return F.unfold(x, k, padding=padding, stride=stride)


def _conv_by_conv2d(x, w, b=None, stride=1, padding=0):
    return F.conv2d(x, w, b, stride=stride, padding=padding)


_hidden_conv = F.conv2d  # an alias in the notebook's globals


def _conv_by_alias(x, w, b=None, stride=1, padding=0):
    return _hidden_conv(x, w, b, stride=stride, padding=padding)


def _conv_by_module(x, w, b=None, stride=1, padding=0):
    layer = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[-1], stride=stride, padding=padding, bias=b is not None,
                            dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(w)
        if b is not None:
            layer.bias.copy_(b)
        return layer(x)


def _rf(kind):
    def rf(kernel_sizes, strides):
        out, r, j = [], 1, 1
        for k, s in zip(kernel_sizes, strides):
            if kind == "doubling":
                r = k if not out else 2 * r + 1
            elif kind == "no stride":
                r += k - 1
            elif kind == "jump first":
                j *= s
                r += (k - 1) * j
                out.append((r, j))
                continue
            elif kind == "product":
                r = r * k
            else:  # "rf only": the right recursion, but no jumps returned
                r += (k - 1) * j
            if kind != "jump first":
                j *= s
            out.append((r, j))
        return [p[0] for p in out] if kind == "rf only" else out
    return rf


def _backward_unflipped(grad_out, x, w, stride=1, padding=0):
    gx, _, _ = conv2d_backward(grad_out, x, w.flip(-2, -1), stride, padding)
    _, gw, gb = conv2d_backward(grad_out, x, w, stride, padding)
    return gx, gw, gb


def _backward_variant(part, value):
    def backward(grad_out, x, w, stride=1, padding=0):
        out = list(conv2d_backward(grad_out, x, w, stride, padding))
        out[part] = value(out[part], grad_out, x, w)
        return tuple(out)
    return backward


def _backward_uncropped(grad_out, x, w, stride=1, padding=0):
    gx, gw, gb = conv2d_backward(grad_out, F.pad(x, (padding,) * 4), w, stride, 0)
    return gx, gw, gb


def _backward_autograd(grad_out, x, w, stride=1, padding=0):
    x, w = x.clone().requires_grad_(), w.clone().requires_grad_()
    b = torch.zeros(w.shape[0], dtype=w.dtype, requires_grad=True)
    return torch.autograd.grad(F.conv2d(x, w, b, stride=stride, padding=padding), (x, w, b), grad_out)


def _backward_conv_transpose(grad_out, x, w, stride=1, padding=0):
    _, gw, gb = conv2d_backward(grad_out, x, w, stride, padding)
    op = (x.shape[-2] + 2 * padding - w.shape[-1]) % stride, (x.shape[-1] + 2 * padding - w.shape[-1]) % stride
    return F.conv_transpose2d(grad_out, w, stride=stride, padding=padding, output_padding=op), gw, gb


def _backward_no_stride_zeros(grad_out, x, w, stride=1, padding=0):
    """Stride handled by nearest upsampling of delta instead of zero-upsampling."""
    if stride == 1:
        return conv2d_backward(grad_out, x, w, 1, padding)
    up = grad_out.repeat_interleave(stride, -2).repeat_interleave(stride, -1)
    full = (x.shape[-2] + 2 * padding - w.shape[-1] + 1, x.shape[-1] + 2 * padding - w.shape[-1] + 1)
    up = F.pad(up, (0, max(0, full[1] - up.shape[-1]), 0, max(0, full[0] - up.shape[-2])))[..., :full[0], :full[1]]
    return conv2d_backward(up, x, w, 1, padding)


def _subsample_back(kind):
    def back(grad_sub, s, full_shape):
        H, W = full_shape[-2:]
        if kind in ("spread", "copy"):
            up = grad_sub.repeat_interleave(s, -2).repeat_interleave(s, -1)[..., :H, :W]
            return up / s ** 2 if kind == "spread" else up
        g = torch.zeros(full_shape, dtype=grad_sub.dtype)
        if kind == "offset":
            tail = g[..., s - 1::s, s - 1::s]
            tail[...] = grad_sub[..., :tail.shape[-2], :tail.shape[-1]]
        elif kind == "in place":
            g[..., ::s, ::s] = grad_sub
            grad_sub.zero_()
        return g
    return back


def _equivariance(kind):
    def err(f, x, dy, dx, mode="circular", crop=0):
        a = f(shift(x, dy, dx, mode))
        d = a - (f(x) if kind == "invariance" else shift(f(x), dy, dx, mode))
        if crop > 0 and kind != "no crop":
            d = d[..., crop:-crop, crop:-crop]
        if kind == "max":
            return float(d.abs().max())
        if kind == "squared":
            return float((d ** 2).sum())
        if kind == "circular always":
            d2 = f(shift(x, dy, dx)) - shift(f(x), dy, dx)
            return float(torch.linalg.vector_norm(d2[..., crop:-crop, crop:-crop] if crop else d2))
        return float(torch.linalg.vector_norm(d))
    return err


MUTANTS = [
    ("q1", "true convolution (kernel flipped)", dict(conv2d_loop=_conv(flip=True)), True),
    ("q1", "book (3.30): channels c = 1..r", dict(conv2d_loop=_conv(book_channels=True)), True),
    ("q1", "bias ignored", dict(conv2d_loop=_conv(bias=False)), True),
    ("q1", "stride ignored", dict(conv2d_loop=_conv(stride=False)), True),
    ("q1", "padding ignored", dict(conv2d_loop=_conv(padding=False)), True),
    ("q1", "all padding on one side", dict(conv2d_loop=_conv(one_sided=True)), True),
    ("q1", "input zeroed in place", dict(conv2d_loop=_conv_in_place), False),
    ("q2", "rows ordered (di, dj, c)", dict(im2col=_im2col_offset_major, conv2d_im2col=_conv_im2col_offset_major), True),
    ("q2", "patches as rows (transpose)", dict(im2col=lambda x, k, stride=1, padding=0:
                                               im2col(x, k, stride, padding).transpose(1, 2)), True),
    ("q2", "im2col by F.unfold", dict(im2col=_im2col_by_unfold), True),
    ("q2", "convolution by F.conv2d", dict(conv2d_im2col=_conv_by_conv2d), True),
    ("q2", "convolution by an alias of F.conv2d", dict(conv2d_im2col=_conv_by_alias), True),
    ("q2", "convolution by nn.Conv2d", dict(conv2d_im2col=_conv_by_module), True),
    ("q2", "bias ignored", dict(conv2d_im2col=lambda x, w, b=None, stride=1, padding=0:
                                conv2d_im2col(x, w, None, stride, padding)), True),
    ("q3", "book: the receptive field doubles", dict(receptive_field=_rf("doubling")), True),
    ("q3", "stride ignored", dict(receptive_field=_rf("no stride")), True),
    ("q3", "jump updated first", dict(receptive_field=_rf("jump first")), True),
    ("q3", "product of kernel sizes", dict(receptive_field=_rf("product")), True),
    ("q3", "receptive fields only, no jumps", dict(receptive_field=_rf("rf only")), True),
    ("q3", "book: the receptive field doubles (answer)", dict(doubles_per_stage="rf"), True),
    ("q4", "dJ/dx with the unflipped kernel", dict(conv2d_backward=_backward_unflipped), True),
    ("q4", "dJ/dx with the padding left on", dict(conv2d_backward=_backward_uncropped), True),
    ("q4", "stride by nearest upsampling of delta", dict(conv2d_backward=_backward_no_stride_zeros), True),
    ("q4", "dJ/dw offsets flipped", dict(conv2d_backward=_backward_variant(1, lambda g, *a: g.flip(-2, -1))), True),
    ("q4", "dJ/dw averaged over the batch", dict(conv2d_backward=_backward_variant(1, lambda g, go, x, w: g / x.shape[0])), True),
    ("q4", "book: no bias gradient", dict(conv2d_backward=_backward_variant(2, lambda g, *a: None)), True),
    ("q4", "dJ/db averaged", dict(conv2d_backward=_backward_variant(2, lambda g, go, x, w: go.mean((0, 2, 3)))), True),
    ("q4", "dJ/db not summed over positions", dict(conv2d_backward=_backward_variant(2, lambda g, go, x, w: go.sum(0))), True),
    ("q4", "autograd", dict(conv2d_backward=_backward_autograd), True),
    ("q4", "conv_transpose2d", dict(conv2d_backward=_backward_conv_transpose), True),
    ("q5", "book: the error spreads evenly over the block", dict(subsample_backward=_subsample_back("spread")), True),
    ("q5", "error copied to the whole block", dict(subsample_backward=_subsample_back("copy")), True),
    ("q5", "kept positions s - 1, 2s - 1, ...", dict(subsample_backward=_subsample_back("offset")), True),
    ("q5", "grad_sub zeroed in place", dict(subsample_backward=_subsample_back("in place")), False),
    ("q5", "subsample from offset 1", dict(subsample=lambda h, s: h[..., 1::s, 1::s]), True),
    ("q5", "subsample of rows only", dict(subsample=lambda h, s: h[..., ::s, :]), True),
    ("q6", "conv without bias", dict(conv_params=lambda ci, co, k, bias=True: ci * co * k * k), True),
    ("q6", "conv with k, not k^2", dict(conv_params=lambda ci, co, k, bias=True: ci * co * k + co * bias), True),
    ("q6", "conv bias counted always", dict(conv_params=lambda ci, co, k, bias=True: ci * co * k * k + co), True),
    ("q6", "conv count as a float", dict(conv_params=lambda *a, **kw: float(conv_params(*a, **kw))), True),
    ("q6", "dense without bias", dict(dense_equivalent_params=lambda i, o: math.prod(i) * math.prod(o)), True),
    ("q6", "dense with one bias per input", dict(dense_equivalent_params=lambda i, o: math.prod(i) * (math.prod(o) + 1)), True),
    ("q6", "conv1x1 without bias", dict(conv1x1=lambda x, w0, b=None: conv1x1(x, w0, None)), True),
    ("q6", "conv1x1 with W0 transposed", dict(conv1x1=lambda x, w0, b=None: torch.einsum("co,ncij->noij", w0, x)), True),
    ("q6", "bottleneck without biases", dict(bottleneck_params=69632), True),
    ("q6", "bottleneck as a plain 3x3", dict(bottleneck_params=590080), True),
    ("q7", "max absolute difference", dict(equivariance_error=_equivariance("max")), True),
    ("q7", "squared norm", dict(equivariance_error=_equivariance("squared")), True),
    ("q7", "crop ignored", dict(equivariance_error=_equivariance("no crop")), True),
    ("q7", "invariance error", dict(equivariance_error=_equivariance("invariance")), True),
    ("q7", "circular shift whatever the mode", dict(equivariance_error=_equivariance("circular always")), True),
    ("q7", "book (3.18): the conv layer is invariant", dict(layer_symmetry={**KEY, "circular_conv": "invariant"}), True),
    ("q7", "stride-2 conv equivariant", dict(layer_symmetry={**KEY, "stride2_conv_1px_shift": "equivariant"}), True),
    ("q7", "global max pool only equivariant", dict(layer_symmetry={**KEY, "conv_global_max_pool": "equivariant"}), True),
    ("q7", "zero padding: neither", dict(layer_symmetry={**KEY, "zero_pad_conv_interior": "neither"}), True),
    ("q7", "MLP invariant", dict(layer_symmetry={**KEY, "mlp": "invariant"}), True),
    ("q7", "a key missing", dict(layer_symmetry={k: v for k, v in KEY.items() if k != "mlp"}), True),
]


@pytest.mark.parametrize("question, label, overrides, public", MUTANTS, ids=[m[1] for m in MUTANTS])
def test_mutant_is_rejected(question, label, overrides, public):
    assert_rejected(SPECS, question, REFERENCE, overrides, label, public)


def test_book_mistakes_are_named_in_the_messages():
    cases = [("q1", dict(conv2d_loop=_conv(flip=True)), "true convolution"),
             ("q1", dict(conv2d_loop=_conv(book_channels=True)), "(3.30)"),
             ("q2", dict(im2col=_im2col_offset_major, conv2d_im2col=_conv_im2col_offset_major), "channel slowest"),
             ("q2", dict(conv2d_im2col=_conv_by_alias), "F.conv2d"),
             ("q3", dict(receptive_field=_rf("doubling")), "doubles"),
             ("q4", dict(conv2d_backward=_backward_unflipped), "(3.43)"),
             ("q4", dict(conv2d_backward=_backward_autograd), "autograd"),
             ("q5", dict(subsample_backward=_subsample_back("spread")), "spreading"),
             ("q6", dict(bottleneck_params=69632), "without biases"),
             ("q7", dict(layer_symmetry={**KEY, "circular_conv": "invariant"}), "(3.18)"),
             ("q7", dict(equivariance_error=_equivariance("no crop")), "without the crop")]
    assert_named(SPECS, REFERENCE, cases)


def test_backward_gradients_earn_points_separately():
    """q4's partial credit: a wrong bias gradient costs only the bias checks; autograd only the hand-written one."""
    def score(ns):
        (r,) = run_checks([s for s in SPECS if s.question == "q4"], ns, mask_hidden=False)
        return {c.name: c.passed for c in r.checks}
    no_bias = score({**REFERENCE, "conv2d_backward": _backward_variant(2, lambda g, *a: None)})
    assert {n for n, ok in no_bias.items() if not ok} == {"backward_grad_b", "hidden_backward_grad_b_random",
                                                          "backward_is_hand_written"}
    unflipped = score({**REFERENCE, "conv2d_backward": _backward_unflipped})
    assert unflipped["backward_grad_w"] and unflipped["backward_grad_b"] and not unflipped["backward_grad_x"]
    auto = score({**REFERENCE, "conv2d_backward": _backward_autograd})
    assert {n for n, ok in auto.items() if not ok} == {"backward_is_hand_written"}


# --------------------------------------------------------------------------- stubs and junk answers
def _namespace_returning(value):
    ns = {name: (lambda *args, **kwargs: value) for name in REFERENCE}
    ns["shift"] = shift  # given in the notebook
    return ns


def test_none_stubs_score_zero_on_every_question():
    assert_blank_scores_zero(SPECS, _namespace_returning(None), QUESTIONS)


def test_ellipsis_values_score_zero():
    ns = {**_namespace_returning(None), "doubles_per_stage": ..., "bottleneck_params": ...,
          "layer_symmetry": {k: ... for k in KEY}}
    for r in run_checks(SPECS, ns, mask_hidden=False):
        assert r.score == 0, r


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_junk_answers_fail_with_messages(junk):
    ns = _namespace_returning(junk)
    assert_junk_explained(SPECS, ns, QUESTIONS, junk)
