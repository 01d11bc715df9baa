"""Public checks for the Chapter 3 exercises (``exercises/ch03_cnn.ipynb``).

Questions: q1 a convolution layer by loops (stride, padding, several channels), q2 im2col and convolution as one
matrix product (without torch's convolution or unfold), q3 the receptive-field recursion, q4 the backward pass of
a convolution (input, weight and bias gradients scored separately), q5 subsampling and its backward pass, q6
parameter accounting and the 1x1 convolution, q7 translation equivariance: measuring it, and which layers have it.

Every reference is computed here, independently of the course's topic modules: ``torch.nn.functional.conv2d`` and
``unfold``, torch autograd, ``nn.Conv2d`` / ``nn.Linear`` parameter counts, the gradient support of a measured
network and closed forms, all in float64 on the CPU. Each check calls the student's functions on fresh copies of
its inputs; a wrong answer fails with a message that says which value is off and by how much, and names the
mistake when it is a common one (the book's own slips among them: the channel sum of (3.30) running to r, a
convolution layer called translation invariant, the receptive field that "doubles", the subsampling error that
"spreads"). The underscore helpers are shared with ``tests/hidden/ch03_cnn.py``.
"""
from __future__ import annotations

import ast
import inspect
import math
import textwrap

import numpy as np
import torch
import torch.nn.functional as F

from lib.grading import assert_allclose, check
from lib.grading.answers import answered as _answered, as_array as _array, close as _close, looks_like as _looks_like

F64 = torch.float64

# The first backward pass of a convolution makes torch import sympy and friends (3-4 s on a busy machine): pay
# that once here, when the checks are loaded, rather than inside a check that runs under a time limit.
# (A contiguous output gradient takes that path; `.sum().backward()` does not.)
_warm = torch.zeros(1, 1, 3, 3, dtype=F64, requires_grad=True)
torch.autograd.grad(F.conv2d(_warm, torch.ones(1, 1, 2, 2, dtype=F64)), _warm, torch.ones(1, 1, 2, 2, dtype=F64))
del _warm


# --------------------------------------------------------------------------- helpers
def _np(t) -> np.ndarray:
    return t.detach().cpu().to(F64).numpy() if hasattr(t, "detach") else np.asarray(t, dtype=float)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(gen: torch.Generator, *shape) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=F64)


def _conv_case(seed: int, n: int, c_in: int, c_out: int, h: int, w: int, k: int):
    gen = _gen(seed)
    return _randn(gen, n, c_in, h, w), _randn(gen, c_out, c_in, k, k), _randn(gen, c_out)


def _out_size(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def _describe(x, w, s, p) -> str:
    return f"x {tuple(x.shape)}, w {tuple(w.shape)}, stride={s}, padding={p}"


def _conv_mistakes(x, w, b, s, p) -> dict:
    """Outputs of the usual wrong convolutions (same shape as the right one)."""
    r = (w.shape[-1] - 1) // 2
    few = w.clone()
    few[:, r:] = 0.0  # the book's (3.30): input channels c = 1..r only (r = 0 for a 1x1 kernel: none)
    mistakes = {"a true convolution (kernel flipped); (3.14) is a cross-correlation, index i + di":
                F.conv2d(x, w.flip(-2, -1), b, stride=s, padding=p),
                "the output without the bias b": F.conv2d(x, w, None, stride=s, padding=p),
                "the channel sum of the book's (3.30), c = 1..r; it must run over all d_(l-1) input channels":
                F.conv2d(x, few, b, stride=s, padding=p) if w.shape[1] > r else torch.full((1,), math.nan)}
    if s > 1:
        mistakes["stride ignored"] = F.conv2d(x, w, b, padding=p)
    return mistakes


def _check_conv(func, x, w, b, s, p, name: str, tol: float = 1e-10) -> None:
    want = F.conv2d(x, w, b, stride=s, padding=p)
    got = _answered(func(x.clone(), w.clone(), None if b is None else b.clone(), stride=s, padding=p), name)
    _close(got, want, tol, f"{name} ({_describe(x, w, s, p)}; compared with F.conv2d)",
           _conv_mistakes(x, w, b, s, p) if b is not None else {})


# --------------------------------------------------------------------------- q1: conv2d_loop
@check("q1", points=2, hint="out[n, k, i, j] = b[k] + sum over c, di, dj of w[k, c, di, dj] * xp[n, c, s*i + di, s*j + dj], "
                            "with xp the input padded by p zeros on every side")
def conv_loop_matches_conv2d(conv2d_loop):
    for seed, (n, c_in, c_out, h, w_, k), s, p in [(301, (1, 3, 2, 6, 5, 3), 1, 1), (302, (2, 2, 3, 7, 6, 3), 2, 1)]:
        x, w, b = _conv_case(seed, n, c_in, c_out, h, w_, k)
        _check_conv(conv2d_loop, x, w, b, s, p, "conv2d_loop(x, w, b, stride, padding)")


@check("q1", points=0.5, hint="H_out = floor((H + 2p - k) / s) + 1: use integer division //")
def conv_loop_output_shape(conv2d_loop):
    x, w, _ = _conv_case(303, 1, 1, 2, 8, 5, 3)
    for s, p in [(2, 0), (3, 1)]:
        got = _array(_answered(conv2d_loop(x.clone(), w.clone(), None, stride=s, padding=p), "conv2d_loop"), "conv2d_loop")
        want = (1, 2, _out_size(8, 3, s, p), _out_size(5, 3, s, p))
        assert got.shape == want, (f"conv2d_loop on x (1, 1, 8, 5), a 3x3 kernel, stride={s}, padding={p}: expected output "
                                   f"shape {want} (floor((H + 2p - k)/s) + 1 per side), got {got.shape}")
        _close(got, F.conv2d(x, w, stride=s, padding=p), 1e-10, f"conv2d_loop with b=None, stride={s}, padding={p}")


# --------------------------------------------------------------------------- q2: im2col and conv2d_im2col
FORBIDDEN_ATTRS = {"conv2d", "Conv2d", "conv_transpose2d", "ConvTranspose2d", "Unfold", "convolution",
                   "_convolution", "conv1d", "conv3d", "fold", "Fold"}


def _forbidden_objects() -> dict:
    objs = {F.conv2d: "F.conv2d", F.unfold: "F.unfold", F.conv_transpose2d: "F.conv_transpose2d",
            torch.conv2d: "torch.conv2d", torch.nn.Conv2d: "nn.Conv2d", torch.nn.Unfold: "nn.Unfold",
            torch.conv_transpose2d: "torch.conv_transpose2d", torch.autograd.grad: "torch.autograd.grad",
            torch.autograd.backward: "torch.autograd.backward"}
    return {id(k): v for k, v in objs.items()}


def _code_names(code) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _code_names(const)
    return names


def _library_calls(func, attrs: set, seen: set | None = None, allow_unfold_method: bool = True) -> list:
    """The forbidden library functions that ``func`` (or a function of its notebook it calls) uses: attributes
    named in ``attrs`` (F.conv2d, nn.Conv2d ...; read from the source when it is available), ``F.unfold`` and
    ``torch.nn.functional.unfold`` (not the tensor method ``x.unfold``), and globals bound to forbidden objects."""
    seen = set() if seen is None else seen
    if not inspect.isfunction(func) or id(func) in seen:
        return []
    seen.add(id(func))
    found, forbidden = [], _forbidden_objects()
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        tree = None
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                base = node.value
                base_name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else ""
                if node.attr in attrs or (node.attr == "unfold" and base_name in ("F", "functional")):
                    found.append(f"{base_name + '.' if base_name else ''}{node.attr}")
                elif node.attr == "unfold" and not allow_unfold_method:
                    found.append(f"{base_name + '.' if base_name else ''}unfold")
    else:
        found += sorted(_code_names(func.__code__) & attrs)
    for name in _code_names(func.__code__):
        obj = func.__globals__.get(name)
        if obj is None:
            continue
        if id(obj) in forbidden:
            found.append(f"{name} (= {forbidden[id(obj)]})")
        elif inspect.isfunction(obj) and obj.__module__ == func.__module__:
            found += _library_calls(obj, attrs, seen, allow_unfold_method)
    return sorted(set(found))


def _im2col_mistakes(x, k, s, p) -> dict:
    n, c = x.shape[:2]
    ref = F.unfold(x, k, padding=p, stride=s)  # (N, C k k, L), rows ordered (c, di, dj)
    L = ref.shape[-1]
    offset_major = ref.reshape(n, c, k * k, L).transpose(1, 2).reshape(n, c * k * k, L)
    return {"rows ordered (di, dj, c); F.unfold's row index is c k^2 + di k + dj (channel slowest)": offset_major,
            "the transpose, (N, L, C k^2); the patches are the columns": ref.transpose(1, 2),
            "the patches of a flipped kernel window": F.unfold(x, k, padding=p, stride=s).reshape(n, c, k, k, L)
            .flip(2, 3).reshape(n, c * k * k, L)}


def _check_im2col(func, x, k, s, p, name: str) -> None:
    want = F.unfold(x, k, padding=p, stride=s)
    got = _answered(func(x.clone(), k, stride=s, padding=p), name)
    _close(got, want, 1e-12, f"{name} (x {tuple(x.shape)}, k={k}, stride={s}, padding={p}; compared with F.unfold)",
           _im2col_mistakes(x, k, s, p))


@check("q2", points=1.5, hint="column l = (i, j) of the output holds xp[n, :, s*i : s*i + k, s*j : s*j + k] flattened "
                              "in the order (c, di, dj); the columns run over (i, j) row by row")
def im2col_matches_unfold(im2col):
    for seed, shape, k, s, p in [(311, (1, 2, 5, 4), 3, 1, 1), (312, (2, 3, 7, 6), 3, 2, 0)]:
        x = _randn(_gen(seed), *shape)
        _check_im2col(im2col, x, k, s, p, "im2col(x, k, stride, padding)")


@check("q2", points=1, hint="reshape w to (C_out, C_in k^2), multiply by im2col(x, ...), add b, then reshape the "
                            "columns back to (H_out, W_out)")
def conv_im2col_matches_conv2d(conv2d_im2col):
    for seed, (n, c_in, c_out, h, w_, k), s, p in [(313, (1, 3, 4, 6, 6, 3), 1, 1), (314, (2, 2, 3, 7, 5, 3), 2, 2)]:
        x, w, b = _conv_case(seed, n, c_in, c_out, h, w_, k)
        _check_conv(conv2d_im2col, x, w, b, s, p, "conv2d_im2col(x, w, b, stride, padding)")


@check("q2", points=0.5, hint="build the patches by slicing (or with the tensor method x.unfold) and do one matmul")
def no_library_convolution(im2col, conv2d_im2col):
    x, w, b = _conv_case(315, 1, 2, 3, 5, 5, 3)
    _check_conv(conv2d_im2col, x, w, b, 1, 1, "conv2d_im2col(x, w, b, stride=1, padding=1)")
    _check_im2col(im2col, x, 3, 1, 1, "im2col(x, 3, stride=1, padding=1)")
    for name, func in (("im2col", im2col), ("conv2d_im2col", conv2d_im2col)):
        used = _library_calls(func, FORBIDDEN_ATTRS)
        assert not used, (f"{name} uses {', '.join(used)}: this exercise builds the convolution itself, from slicing "
                          f"and one matrix product (F.conv2d, F.unfold and nn.Conv2d are what it is compared with)")


# --------------------------------------------------------------------------- q3: receptive fields
def _rf_table(kernels, strides) -> list:
    rf, jump, out = 1, 1, []
    for k, s in zip(kernels, strides):
        rf, jump = rf + (k - 1) * jump, jump * s
        out.append((rf, jump))
    return out


def _rf_mistakes(kernels, strides) -> dict:
    rf, doubling, nostride, late = 1, [], [], []
    for k, s in zip(kernels, strides):
        rf = k if not doubling else 2 * doubling[-1][0] + 1
        doubling.append((rf, 0))
    rf = 1
    for k in kernels:
        rf += k - 1
        nostride.append(rf)
    rf, jump = 1, 1
    for k, s in zip(kernels, strides):
        jump *= s
        rf += (k - 1) * jump
        late.append(rf)
    return {"the book's 'the receptive field doubles' (RF_l = 2 RF_(l-1) + 1); what doubles is the jump":
            [d[0] for d in doubling],
            "RF_l = RF_(l-1) + k_l - 1, the stride ignored (true only at stride 1)": nostride,
            "the jump updated before the receptive field; RF_l uses J_(l-1), the jump of the layer below": late}


def _as_pairs(got, n: int, name: str) -> list:
    _answered(got, name)
    try:
        pairs = [tuple(p) for p in got]
    except TypeError:
        raise AssertionError(f"{name}: expected a list of (rf, jump) pairs, one per layer, got "
                             f"{type(got).__name__} {got!r:.60}") from None
    assert len(pairs) == n, f"{name}: expected {n} (rf, jump) pairs, one per layer, got {len(pairs)}"
    for i, p in enumerate(pairs):
        assert len(p) == 2, f"{name}: entry {i} should be a pair (rf, jump), got {p!r:.60}"
        for v in p:
            assert isinstance(v, (int, np.integer)) and not isinstance(v, bool), (
                f"{name}: entry {i} = {p!r:.60} should hold two integers (number of pixels), got {type(v).__name__}")
    return [(int(a), int(b)) for a, b in pairs]


def _check_rf(func, kernels, strides, name: str) -> None:
    want = _rf_table(kernels, strides)
    got = _as_pairs(func(list(kernels), list(strides)), len(kernels), name)
    if got != want:
        rfs = [g[0] for g in got]
        why = next((f" This looks like {label}." for label, wrong in _rf_mistakes(kernels, strides).items()
                    if rfs == list(wrong)), "")
        bad = next(i for i in range(len(want)) if got[i] != want[i])
        raise AssertionError(f"{name}: layer {bad + 1} should have (rf, jump) = {want[bad]}, got {got[bad]}; the whole "
                             f"table should be {want}.{why}")


@check("q3", points=1.5, hint="RF_l = RF_(l-1) + (k_l - 1) J_(l-1) and J_l = J_(l-1) s_l, starting from RF_0 = J_0 = 1")
def receptive_field_tables(receptive_field):
    for kernels, strides in [((3, 3, 3, 3), (1, 1, 1, 1)), ((3, 3, 3, 3), (2, 2, 2, 2)), ((7, 3, 3, 3), (2, 2, 1, 2)),
                             ((5, 1, 3), (1, 2, 2))]:
        _check_rf(receptive_field, kernels, strides, f"receptive_field({list(kernels)}, {list(strides)})")


@check("q3", points=0.5)
def what_doubles_per_stride2_stage(doubles_per_stage):
    assert isinstance(doubles_per_stage, str), f"doubles_per_stage: expected a string, got {type(doubles_per_stage).__name__}"
    answer = doubles_per_stage.strip().lower()
    assert answer in ("rf", "jump"), f"doubles_per_stage: expected 'rf' or 'jump', got {doubles_per_stage!r}"
    assert answer == "jump", ("doubles_per_stage: with k = 3 and stride 2 the receptive fields 3, 7, 15, 31 grow by "
                              "2, 4, 8, 16: 2 J_(l-1). Which quantity is multiplied by exactly 2 at every stage?")


# --------------------------------------------------------------------------- q4: conv2d_backward
def _conv_grads(grad_out, x, w, s, p) -> tuple:
    """(dJ/dx, dJ/dw, dJ/db) of J = sum(grad_out * conv2d(x, w, b)), by autograd."""
    xr, wr = x.clone().requires_grad_(), w.clone().requires_grad_()
    br = torch.zeros(w.shape[0], dtype=F64, requires_grad=True)
    return torch.autograd.grad(F.conv2d(xr, wr, br, stride=s, padding=p), (xr, wr, br), grad_out)


def _backward_case(seed: int, n, c_in, c_out, h, w_, k, s, p):
    x, w, _ = _conv_case(seed, n, c_in, c_out, h, w_, k)
    ho, wo = _out_size(h, k, s, p), _out_size(w_, k, s, p)
    return _randn(_gen(seed + 1000), n, c_out, ho, wo), x, w


def _backward_mistakes(grad_out, x, w, s, p, which: int) -> dict:
    flipped = _conv_grads(grad_out, x, w.flip(-2, -1), s, p)
    if which == 0:
        return {"dJ/dx with an unflipped kernel; (3.43) indexes delta at i - di, a true convolution": flipped[0]}
    if which == 1:
        gw = _conv_grads(grad_out, x, w, s, p)[1]
        return {"dJ/dw with the offsets flipped": gw.flip(-2, -1),
                "dJ/dw with the channel axes swapped": gw.transpose(0, 1) if gw.shape[0] != gw.shape[1] else gw * math.nan,
                "dJ/dw averaged over the batch": gw / x.shape[0]}
    return {"dJ/db averaged over positions and batch; it is the plain sum of delta": grad_out.mean((0, 2, 3)),
            "dJ/db summed over the batch only": grad_out.sum(0)}


def _backward_part(func, grad_out, x, w, s, p, which: int, name: str) -> None:
    out = _answered(func(grad_out.clone(), x.clone(), w.clone(), stride=s, padding=p), name)
    try:
        parts = tuple(out)
    except TypeError:
        raise AssertionError(f"{name}: expected the triple (grad_x, grad_w, grad_b), got {type(out).__name__}") from None
    assert len(parts) == 3, f"{name}: expected the triple (grad_x, grad_w, grad_b), got {len(parts)} items"
    label = ("grad_x", "grad_w", "grad_b")[which]
    want = _conv_grads(grad_out, x, w, s, p)[which]
    _close(parts[which], want, 1e-10, f"{name}[{which}] = {label} ({_describe(x, w, s, p)}; compared with autograd)",
           _backward_mistakes(grad_out, x, w, s, p, which))


BACKWARD_CASES = [(321, (2, 2, 3, 6, 5, 3), 1, 1), (322, (1, 3, 2, 7, 6, 3), 2, 1)]  # 7 + 2 - 3 = 6 even, 6 + 2 - 3 odd


def _backward_check(func, which: int, cases=BACKWARD_CASES) -> None:
    for seed, shape, s, p in cases:
        g, x, w = _backward_case(seed, *shape, s, p)
        _backward_part(func, g, x, w, s, p, which, "conv2d_backward(grad_out, x, w, stride, padding)")


@check("q4", points=1, hint="dJ/dx_pad[:, c, s*i + di, s*j + dj] += sum_k w[k, c, di, dj] delta[:, k, i, j]; then crop "
                            "the padding. With stride s, zero rows and columns of x past the last window get 0")
def backward_grad_x(conv2d_backward):
    _backward_check(conv2d_backward, 0)


@check("q4", points=1, hint="dJ/dw[k, c, di, dj] = sum over n, i, j of delta[n, k, i, j] xp[n, c, s*i + di, s*j + dj]")
def backward_grad_w(conv2d_backward):
    _backward_check(conv2d_backward, 1)


@check("q4", points=0.5, hint="dJ/db[k] = sum over n, i, j of delta[n, k, i, j] (the book's (3.44) leaves the bias out)")
def backward_grad_b(conv2d_backward):
    _backward_check(conv2d_backward, 2)


BACKWARD_ATTRS = FORBIDDEN_ATTRS | {"grad", "backward", "conv2d_input", "conv2d_weight", "vjp", "jacobian"}


@check("q4", points=0.5, hint="write the sums of (3.43) and (3.44) with slicing and einsum (or matmul); no autograd")
def backward_is_hand_written(conv2d_backward):
    for which in range(3):
        _backward_check(conv2d_backward, which, BACKWARD_CASES[:1])
    used = _library_calls(conv2d_backward, BACKWARD_ATTRS)
    assert not used, (f"conv2d_backward uses {', '.join(used)}: write the gradients by hand (autograd and torch's "
                      f"convolutions are what they are compared with)")


# --------------------------------------------------------------------------- q5: subsampling
def _subsample_grad(grad_sub, s, full_shape) -> torch.Tensor:
    h = torch.zeros(full_shape, dtype=F64, requires_grad=True)
    (g,) = torch.autograd.grad(h[..., ::s, ::s], h, grad_sub)
    return g


def _subsample_mistakes(grad_sub, s, full_shape) -> dict:
    H, W = full_shape[-2:]
    spread = grad_sub.repeat_interleave(s, -2).repeat_interleave(s, -1)[..., :H, :W]
    late = torch.zeros(full_shape, dtype=F64)
    tail = late[..., s - 1::s, s - 1::s]
    tail[...] = grad_sub[..., :tail.shape[-2], :tail.shape[-1]]
    return {"the book's 'spreading' of the error over each s x s block, divided evenly (the average-pool backward); "
            "subsampling passes it only to the kept positions": spread / s ** 2,
            "the error copied to every position of its s x s block (nearest-neighbour upsampling)": spread,
            "the kept positions taken as s - 1, 2s - 1, ...; subsampling keeps 0, s, 2s, ...": late}


def _check_subsample_backward(func, grad_sub, s, full_shape, name: str) -> np.ndarray:
    want = _subsample_grad(grad_sub, s, full_shape)
    got = _answered(func(grad_sub.clone(), s, tuple(full_shape)), name)
    return _close(got, want, 1e-14, f"{name} (grad_sub {tuple(grad_sub.shape)}, s={s}, full_shape={tuple(full_shape)}; "
                  f"compared with autograd of h[..., ::s, ::s])", _subsample_mistakes(grad_sub, s, full_shape))


@check("q5", points=0.5, hint="keep rows and columns 0, s, 2s, ...: h[..., ::s, ::s]")
def subsample_is_stride(subsample):
    x, w, b = _conv_case(331, 1, 2, 3, 9, 8, 3)
    full = F.conv2d(x, w, b, padding=1)
    _close(subsample(full.clone(), 2), F.conv2d(x, w, b, stride=2, padding=1), 1e-12,
           "subsample(conv2d(x, w, b, padding=1), 2) (compared with conv2d(..., stride=2))")
    _close(subsample(full.clone(), 3), full[..., ::3, ::3], 1e-15, "subsample(h, 3)")


@check("q5", points=1, hint="start from zeros of full_shape and write grad_sub into [..., ::s, ::s]")
def subsample_backward_matches_autograd(subsample_backward):
    for seed, full_shape, s in [(332, (2, 3, 8, 6), 2), (333, (1, 2, 7, 9), 2)]:
        H, W = full_shape[-2:]
        grad_sub = _randn(_gen(seed), *full_shape[:2], -(-H // s), -(-W // s))
        _check_subsample_backward(subsample_backward, grad_sub, s, full_shape, "subsample_backward(grad_sub, s, full_shape)")


@check("q5", points=0.5)
def unkept_positions_get_exactly_zero(subsample_backward):
    grad_sub = _randn(_gen(334), 1, 2, 3, 3) + 5.0
    got = _array(subsample_backward(grad_sub.clone(), 2, (1, 2, 6, 5)), "subsample_backward(grad_sub, 2, (1, 2, 6, 5))",
                 (1, 2, 6, 5))
    kept = np.zeros(got.shape, dtype=bool)
    kept[..., ::2, ::2] = True
    nonzero = np.argwhere((got != 0) & ~kept)
    assert not len(nonzero), (f"subsample_backward: {len(nonzero)} positions that were not kept got a nonzero gradient "
                              f"(the first at index {nonzero[0].tolist()}: {got[tuple(nonzero[0])]:.3g}); a position the "
                              f"forward pass dropped has no effect on J, so its gradient is exactly 0, not a share of the "
                              f"error as the book's 'spreading' suggests")


# --------------------------------------------------------------------------- q6: parameter accounting
def _integer(value, name: str) -> int:
    _answered(value, name)
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    assert isinstance(value, (int, np.integer)) and not isinstance(value, bool), (
        f"{name}: expected an integer (a count of parameters), got {type(value).__name__} {value!r:.40}")
    return int(value)


def _numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _conv_count(c_in, c_out, k, bias=True) -> int:
    return _numel(torch.nn.Conv2d(c_in, c_out, k, bias=bias, device="meta"))


def _dense_count(in_shape, out_shape, bias=True) -> int:
    return _numel(torch.nn.Linear(math.prod(in_shape), math.prod(out_shape), bias=bias, device="meta"))


def _check_count(got, want: int, name: str, mistakes: dict) -> None:
    got = _integer(got, name)
    if got != want:
        why = next((f" This looks like {label}." for label, wrong in mistakes.items() if got == wrong), "")
        raise AssertionError(f"{name} should be {want:,}, got {got:,} (off by {got - want:+,}).{why}")


def _conv_count_mistakes(c_in, c_out, k, bias) -> dict:
    b = c_out if bias else 0
    return {"the bias forgotten": c_in * c_out * k * k if bias else -1,
            "k instead of k^2 weights per channel pair": c_in * c_out * k + b,
            "one bias per input channel": c_in * c_out * k * k + (c_in if bias else 0) if c_in != c_out else -1,
            "the bias counted although bias=False": c_in * c_out * k * k + c_out if not bias else -1}


@check("q6", points=0.5, hint="d_l d_(l-1) k^2 weights, plus d_l biases when bias=True")
def conv_params_match_nn_conv2d(conv_params):
    for c_in, c_out, k, bias in [(3, 64, 3, True), (64, 128, 3, True), (16, 8, 5, False), (7, 3, 1, True)]:
        _check_count(conv_params(c_in, c_out, k, bias), _conv_count(c_in, c_out, k, bias),
                     f"conv_params({c_in}, {c_out}, {k}, bias={bias}) (compared with nn.Conv2d's parameters)",
                     _conv_count_mistakes(c_in, c_out, k, bias))


@check("q6", points=0.5, hint="a dense layer maps all C H W inputs to all C' H' W' outputs: one weight per pair, plus "
                              "one bias per output")
def dense_equivalent_params_match_nn_linear(dense_equivalent_params):
    for in_shape, out_shape in [((3, 32, 32), (64, 32, 32)), ((1, 8, 8), (16, 8, 8)), ((2, 5, 3), (4, 3, 2))]:
        n_in, n_out = math.prod(in_shape), math.prod(out_shape)
        _check_count(dense_equivalent_params(in_shape, out_shape), _dense_count(in_shape, out_shape),
                     f"dense_equivalent_params({in_shape}, {out_shape}) (compared with nn.Linear({n_in}, {n_out}))",
                     {"the bias forgotten": n_in * n_out, "one bias per input": n_in * n_out + n_in,
                      "only the channels multiplied (a 1x1 convolution)": in_shape[0] * out_shape[0] + out_shape[0]})


def _conv1x1_reference(x, w0, b) -> torch.Tensor:
    """nn.Linear applied to every pixel of the channels-last tensor."""
    lin = torch.nn.Linear(w0.shape[1], w0.shape[0], bias=b is not None, dtype=F64)
    with torch.no_grad():
        lin.weight.copy_(w0)
        if b is not None:
            lin.bias.copy_(b)
        return lin(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


@check("q6", points=1, hint="out[n, k, i, j] = sum_c W0[k, c] x[n, c, i, j] + b[k]: torch.einsum('kc,ncij->nkij', ...)")
def conv1x1_matches_linear_per_pixel(conv1x1):
    gen = _gen(341)
    x, w0, b = _randn(gen, 2, 3, 4, 5), _randn(gen, 6, 3), _randn(gen, 6)
    for bias in (b, None):
        got = _answered(conv1x1(x.clone(), w0.clone(), None if bias is None else bias.clone()), "conv1x1(x, w0, b)")
        _close(got, _conv1x1_reference(x, w0, bias), 1e-12,
               f"conv1x1(x {tuple(x.shape)}, w0 {tuple(w0.shape)}, b={'None' if bias is None else 'b'}) (compared with "
               f"nn.Linear on each pixel)",
               {"the output without the bias": _conv1x1_reference(x, w0, None) if bias is not None else x[:0],
                "W0 transposed: W0 is (d_l, d_(l-1)), out = W0 x": x[:0]})


@check("q6", points=0.5, hint="three convolutions with biases: 256 -> 64 (1x1), 64 -> 64 (3x3), 64 -> 256 (1x1)")
def bottleneck_count(bottleneck_params):
    want = _conv_count(256, 64, 1) + _conv_count(64, 64, 3) + _conv_count(64, 256, 1)
    _check_count(bottleneck_params, want, "bottleneck_params (1x1 -> 3x3 -> 1x1, 256 -> 64 -> 64 -> 256, with biases)",
                 {"the count without biases": want - 64 - 64 - 256, "a plain 3x3 convolution 256 -> 256":
                  _conv_count(256, 256, 3), "the middle convolution taken as 1x1": want - 64 * 64 * 8})


# --------------------------------------------------------------------------- q7: equivariance
def _shift(x, dy: int, dx: int, mode: str = "circular") -> torch.Tensor:
    """The notebook's `shift`: roll the last two axes by (dy, dx); with mode 'zeros' the rows and columns that
    wrap around are set to 0."""
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


def _equivariance_reference(f, x, dy, dx, mode, crop) -> float:
    d = f(_shift(x, dy, dx, mode)) - _shift(f(x), dy, dx, mode)
    if crop:
        d = d[..., crop:-crop, crop:-crop]
    return float(torch.linalg.vector_norm(d))


def _equivariance_mistakes(f, x, dy, dx, mode, crop) -> dict:
    d = f(_shift(x, dy, dx, mode)) - _shift(f(x), dy, dx, mode)
    dc = d[..., crop:-crop, crop:-crop] if crop else d
    return {"the error without the crop": float(torch.linalg.vector_norm(d)) if crop else math.nan,
            "the largest absolute difference, not the norm": float(dc.abs().max()),
            "the squared norm": float(torch.linalg.vector_norm(dc)) ** 2,
            "f(shift(x)) - f(x), the invariance error": float(torch.linalg.vector_norm(
                (f(_shift(x, dy, dx, mode)) - f(x))[..., crop:-crop, crop:-crop] if crop else f(_shift(x, dy, dx, mode)) - f(x)))}


def _check_equivariance(func, f, x, dy, dx, mode, crop, name: str) -> None:
    want = _equivariance_reference(f, x, dy, dx, mode, crop)
    got = _answered(func(f, x.clone(), dy, dx, mode, crop), name)
    got_arr = _array(got, name)
    assert got_arr.size == 1, f"{name}: expected one number, got an array of shape {got_arr.shape}"
    got_v = float(got_arr.reshape(()))
    if not abs(got_v - want) <= 1e-9 * max(1.0, want):
        mistakes = _equivariance_mistakes(f, x, dy, dx, mode, crop)
        why = next((f" This looks like {label}." for label, v in mistakes.items()
                    if abs(v - got_v) <= 1e-9 * max(1.0, abs(v)) and abs(v - want) > 1e-9 * max(1.0, want)), "")
        raise AssertionError(f"{name}: expected {want:.10g}, got {got_v:.10g}.{why}")


def _layers(seed: int, c_in: int = 2, c_out: int = 3, k: int = 3) -> dict:
    gen = _gen(seed)
    w, b = _randn(gen, c_out, c_in, k, k), _randn(gen, c_out)
    r = k // 2
    return {"circular": lambda x: torch.relu(F.conv2d(F.pad(x, (r, r, r, r), mode="circular"), w, b)),
            "zeros": lambda x: torch.relu(F.conv2d(x, w, b, padding=r)),
            "stride2": lambda x: F.conv2d(x, w, b, stride=2, padding=r),
            "square": lambda x: x ** 2 - x}


@check("q7", points=1.5, hint="d = f(shift(x, dy, dx, mode)) - shift(f(x), dy, dx, mode); drop `crop` rows and columns "
                              "on every side when crop > 0; return the Euclidean norm of what is left as a float")
def equivariance_error_matches_reference(equivariance_error):
    x = _randn(_gen(351), 2, 2, 9, 8)
    L = _layers(352)
    for f, dy, dx, mode, crop, what in [(L["circular"], 2, -1, "circular", 0, "a circular-padding conv + ReLU"),
                                        (L["zeros"], 1, 2, "zeros", 3, "a zero-padding conv + ReLU, crop 3"),
                                        (L["zeros"], 1, 2, "zeros", 0, "a zero-padding conv + ReLU, no crop"),
                                        (L["stride2"], 1, 0, "circular", 0, "a stride-2 conv"),
                                        (lambda x: x.flip(-1), 0, 1, "circular", 1, "a mirror image, crop 1")]:
        _check_equivariance(equivariance_error, f, x, dy, dx, mode, crop,
                            f"equivariance_error(f = {what}, x {tuple(x.shape)}, dy={dy}, dx={dx}, mode={mode!r}, crop={crop})")


ANSWER_KEY = {"circular_conv": "equivariant", "zero_pad_conv_interior": "equivariant", "stride2_conv_1px_shift": "neither",
              "conv_global_max_pool": "invariant", "mlp": "neither"}


@check("q7", points=1.5, hint="measure: equivariance_error for the first three, and f(shift(x)) - f(x) for the last two")
def layer_symmetries(layer_symmetry):
    _answered(layer_symmetry, "layer_symmetry")
    assert isinstance(layer_symmetry, dict), f"layer_symmetry: expected a dict, got {type(layer_symmetry).__name__}"
    missing = [k for k in ANSWER_KEY if k not in layer_symmetry]
    assert not missing, f"layer_symmetry: no answer for {missing}; expected the keys {list(ANSWER_KEY)}"
    answers = {k: str(layer_symmetry[k]).strip().lower() for k in ANSWER_KEY}
    odd = {k: v for k, v in answers.items() if v not in ("equivariant", "invariant", "neither")}
    assert not odd, f"layer_symmetry: answers must be 'equivariant', 'invariant' or 'neither', got {odd}"
    wrong = [k for k in ANSWER_KEY if answers[k] != ANSWER_KEY[k]]
    note = (" A convolution layer is not translation invariant, whatever the book's (3.18) calls it: shifting its "
            "input shifts its output." if answers["circular_conv"] == "invariant" else "")
    assert not wrong, f"layer_symmetry: {len(wrong)} of 5 answers are not right: {wrong}.{note}"
