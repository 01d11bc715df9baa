"""Convolution as a shared local linear map: three equal implementations and the bookkeeping around them.

The layer of Chapter 3 recomputes the vector at every location ``(i, j)`` from its neighbourhood with
one matrix per offset, the same matrices at every location. Per channel (the corrected eq. 3.30)::

    out[n, k, i, j] = b[k] + sum_{c < C} sum_{a < kh} sum_{e < kw} w[k, c, a, e] * xp[n, c, s*i + a, s*j + e]

where ``xp`` is the input padded with ``padding`` zeros on every side and ``s`` is the stride. For an
odd kernel ``2r + 1`` and ``padding = r`` the offsets ``a = dI + r``, ``e = dJ + r`` run over
``dI, dJ in [-r, r]``, which is the book's ``W_{dI, dJ} h_{i + dI, j + dJ}``: a cross-correlation
(no kernel flip), the convention of ``torch.nn.functional.conv2d``. Shapes, throughout::

    x (N, C, H, W),  w (K, C, kh, kw),  b (K,),  out (N, K, H_out, W_out)
    H_out = floor((H + 2 * padding - kh) / stride) + 1   (and the same for W)

* :func:`conv2d_loop` is the formula as loops over positions and offsets (teaching only, tiny inputs);
* :func:`im2col` stacks every patch into one column (eq. 3.15), so :func:`conv2d_im2col` is one matmul;
* :func:`conv2d_forward` calls ``F.conv2d``: the single entry point models use;
* :func:`conv1x1` is the ``r = 0`` case (eq. 3.31), a per-pixel linear map;
* :func:`receptive_field` is the closed-form recursion ``RF_l = RF_{l-1} + (k_l - 1) d_l J_{l-1}``,
  ``J_l = J_{l-1} s_l``; :func:`effective_receptive_field` measures ``|d out_centre / d x|`` by autograd;
* :func:`param_count`, :func:`conv_params` and :func:`dense_equivalent_params` count weights.

Every function works on any device and dtype; the input's device and dtype are kept.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

PADDING_MODES = ("zeros", "circular", "reflect", "replicate")


# --------------------------------------------------------------------------- input checks
def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


def _check_tensor(name: str, x, ndim: int) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {x.dtype}")
    if x.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D tensor, got shape {tuple(x.shape)}")
    return x


def _check_kernel_size(kernel_size) -> tuple[int, int]:
    if isinstance(kernel_size, (tuple, list)) and len(kernel_size) == 2:
        return _check_int("kernel_size", kernel_size[0], 1), _check_int("kernel_size", kernel_size[1], 1)
    if isinstance(kernel_size, (tuple, list)):
        raise ValueError(f"kernel_size: expected an int or a pair (kh, kw), got {kernel_size!r}")
    k = _check_int("kernel_size", kernel_size, 1)
    return k, k


def _check_conv_args(x, w, b, stride, padding) -> tuple[int, int, int, int]:
    """Validate a conv call; return (kh, kw, H_out, W_out)."""
    _check_tensor("x", x, 4)
    _check_tensor("w", w, 4)
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w: expected {x.shape[1]} input channels to match x of shape {tuple(x.shape)}, "
                         f"got w of shape {tuple(w.shape)}")
    if w.dtype != x.dtype or w.device != x.device:
        raise TypeError(f"w: expected dtype {x.dtype} on {x.device} like x, got {w.dtype} on {w.device}")
    if b is not None:
        _check_tensor("b", b, 1)
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"b: expected shape ({w.shape[0]},), one bias per output channel, got {tuple(b.shape)}")
        if b.dtype != x.dtype or b.device != x.device:
            raise TypeError(f"b: expected dtype {x.dtype} on {x.device} like x, got {b.dtype} on {b.device}")
    _check_int("stride", stride, 1)
    _check_int("padding", padding, 0)
    kh, kw = w.shape[2], w.shape[3]
    h_out = output_size(x.shape[2], kh, stride, padding)
    w_out = output_size(x.shape[3], kw, stride, padding)
    if h_out < 1 or w_out < 1:
        raise ValueError(f"w: kernel {kh}x{kw} does not fit input {x.shape[2]}x{x.shape[3]} with padding {padding}")
    return kh, kw, h_out, w_out


def output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """``floor((n + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1``; may be <= 0 if nothing fits."""
    n = _check_int("n", n, 1)
    k = _check_int("kernel_size", kernel_size, 1)
    s = _check_int("stride", stride, 1)
    p = _check_int("padding", padding, 0)
    d = _check_int("dilation", dilation, 1)
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


# --------------------------------------------------------------------------- three equal forward passes
def conv2d_loop(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None,
                stride: int = 1, padding: int = 0) -> torch.Tensor:
    """Eq. (3.14)/(3.30) as literal loops over output positions (i, j) and kernel offsets (a, e).

    Each term is the book's ``W_{dI, dJ} h_{i+dI, j+dJ}``: the (K, C) matrix ``w[:, :, a, e]`` applied
    to the C-vector at one neighbour, for all N images at once. Slow; use it on tiny inputs only.
    x (N, C, H, W), w (K, C, kh, kw), b (K,) -> (N, K, H_out, W_out).
    """
    kh, kw, h_out, w_out = _check_conv_args(x, w, b, stride, padding)
    xp = F.pad(x, (padding, padding, padding, padding))
    out = x.new_zeros((x.shape[0], w.shape[0], h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            for a in range(kh):
                for e in range(kw):
                    neighbour = xp[:, :, stride * i + a, stride * j + e]   # (N, C)
                    out[:, :, i, j] += neighbour @ w[:, :, a, e].T         # (N, C) @ (C, K)
            if b is not None:
                out[:, :, i, j] += b
    return out


def im2col(x: torch.Tensor, kernel_size, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """The patch matrix of eq. (3.15): column ``l = i * W_out + j`` is the patch under output (i, j).

    Built from strided slices, one per kernel offset (a, e). Rows are ordered channel first, then
    kernel row, then kernel column (row ``c * kh * kw + a * kw + e``), the layout of ``F.unfold`` and of
    ``w.reshape(K, -1)``. x (N, C, H, W) -> (N, C * kh * kw, H_out * W_out).
    """
    _check_tensor("x", x, 4)
    kh, kw = _check_kernel_size(kernel_size)
    _check_int("stride", stride, 1)
    _check_int("padding", padding, 0)
    h_out = output_size(x.shape[2], kh, stride, padding)
    w_out = output_size(x.shape[3], kw, stride, padding)
    if h_out < 1 or w_out < 1:
        raise ValueError(f"kernel_size: {kh}x{kw} does not fit input {x.shape[2]}x{x.shape[3]} with padding {padding}")
    xp = F.pad(x, (padding, padding, padding, padding))
    shifted = [xp[:, :, a:a + stride * (h_out - 1) + 1:stride, e:e + stride * (w_out - 1) + 1:stride]
               for a in range(kh) for e in range(kw)]                      # kh*kw of (N, C, H_out, W_out)
    cols = torch.stack(shifted, dim=2)                                     # (N, C, kh*kw, H_out, W_out)
    return cols.reshape(x.shape[0], x.shape[1] * kh * kw, h_out * w_out)


def conv2d_im2col(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None,
                  stride: int = 1, padding: int = 0) -> torch.Tensor:
    """Eq. (3.15): one matrix ``[W_{-r,-r} ... W_{r,r}]`` of shape (K, C kh kw) times the patch matrix."""
    kh, kw, h_out, w_out = _check_conv_args(x, w, b, stride, padding)
    cols = im2col(x, (kh, kw), stride, padding)                           # (N, C*kh*kw, L)
    out = w.reshape(w.shape[0], -1) @ cols                                 # (N, K, L)
    if b is not None:
        out = out + b[:, None]
    return out.reshape(x.shape[0], w.shape[0], h_out, w_out)


def conv2d_forward(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None,
                   stride: int = 1, padding: int = 0, padding_mode: str = "zeros") -> torch.Tensor:
    """The production forward, ``F.conv2d``; ``padding_mode`` may also be circular, reflect or replicate.

    With a mode other than zeros the input is padded first (``F.pad``) and the convolution runs unpadded.
    """
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode: expected one of {PADDING_MODES}, got {padding_mode!r}")
    _check_conv_args(x, w, b, stride, padding)
    if padding_mode == "zeros" or padding == 0:
        return F.conv2d(x, w, b, stride=stride, padding=padding)
    if padding_mode != "circular" and padding >= min(x.shape[2], x.shape[3]):
        raise ValueError(f"padding: {padding_mode} padding needs padding < the input size, got {padding}")
    xp = F.pad(x, (padding, padding, padding, padding), mode=padding_mode)
    return F.conv2d(xp, w, b, stride=stride)


def conv1x1(x: torch.Tensor, w0: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. (3.31), the ``r = 0`` case: ``out[n, :, i, j] = W_0 x[n, :, i, j] + b`` at every pixel.

    x (N, C, H, W), w0 (K, C) or (K, C, 1, 1), b (K,) -> (N, K, H, W). No spatial mixing at all.
    """
    _check_tensor("x", x, 4)
    if isinstance(w0, torch.Tensor) and w0.ndim == 4:
        if w0.shape[2:] != (1, 1):
            raise ValueError(f"w0: expected shape (K, C) or (K, C, 1, 1), got {tuple(w0.shape)}")
        w0 = w0[:, :, 0, 0]
    _check_tensor("w0", w0, 2)
    if w0.shape[1] != x.shape[1]:
        raise ValueError(f"w0: expected {x.shape[1]} input channels (shape (K, {x.shape[1]})), got {tuple(w0.shape)}")
    out = torch.einsum("kc,nchw->nkhw", w0, x)
    if b is not None:
        _check_tensor("b", b, 1)
        if b.shape[0] != w0.shape[0]:
            raise ValueError(f"b: expected shape ({w0.shape[0]},), got {tuple(b.shape)}")
        out = out + b[None, :, None, None]
    return out


# --------------------------------------------------------------------------- receptive fields
def _per_layer(name: str, values, n_layers: int, minimum: int) -> list[int]:
    if isinstance(values, int) and not isinstance(values, bool):
        values = [values] * n_layers
    if not isinstance(values, (list, tuple)) or len(values) != n_layers:
        raise ValueError(f"{name}: expected an int or a sequence of {n_layers} ints (one per layer), got {values!r}")
    return [_check_int(name, v, minimum) for v in values]


def receptive_field(kernel_sizes: Sequence[int], strides=1, dilations=None) -> list[dict]:
    """Theoretical receptive field and jump after each layer of a plain conv stack.

    ``RF_0 = J_0 = 1``; layer ``l`` with kernel ``k``, stride ``s``, dilation ``d`` spans
    ``d (k - 1) + 1`` input samples of the previous map, which are ``J_{l-1}`` pixels apart, so::

        RF_l = RF_{l-1} + d_l (k_l - 1) J_{l-1},     J_l = J_{l-1} s_l.

    ``strides`` and ``dilations`` are an int (all layers) or one int per layer. Returns one dict per
    layer: ``layer`` (1-based), ``kernel``, ``stride``, ``dilation``, ``rf`` and ``jump``.
    """
    if isinstance(kernel_sizes, int) or not isinstance(kernel_sizes, (list, tuple)) or len(kernel_sizes) == 0:
        raise ValueError(f"kernel_sizes: expected a non-empty sequence of ints, got {kernel_sizes!r}")
    ks = [_check_int("kernel_sizes", k, 1) for k in kernel_sizes]
    ss = _per_layer("strides", strides, len(ks), 1)
    ds = _per_layer("dilations", 1 if dilations is None else dilations, len(ks), 1)
    rf, jump, rows = 1, 1, []
    for layer, (k, s, d) in enumerate(zip(ks, ss, ds), start=1):
        rf += d * (k - 1) * jump
        jump *= s
        rows.append(dict(layer=layer, kernel=k, stride=s, dilation=d, rf=rf, jump=jump))
    return rows


def effective_receptive_field(model: nn.Module, in_shape, device=None, seed: int = 0,
                              n_inputs: int = 1) -> torch.Tensor:
    """``|d out_centre / d x|``: how strongly each input pixel moves the centre output, by autograd.

    ``in_shape`` is (C, H, W). ``model`` maps (N, C, H, W) to (N, K, H', W'); the centre output is the
    sum over channels at ``(H' // 2, W' // 2)``. The gradient is taken at ``n_inputs`` standard-normal
    inputs (seeded) and its absolute value summed over inputs and channels: an (H, W) tensor on
    ``device`` (default: the model's). Its nonzero support can never exceed the theoretical field.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(in_shape, (tuple, list, torch.Size)) or len(in_shape) != 3:
        raise ValueError(f"in_shape: expected (C, H, W), got {in_shape!r}")
    c, h, w = (_check_int("in_shape", v, 1) for v in in_shape)
    _check_int("n_inputs", n_inputs, 1)
    params = list(model.parameters())
    dtype = params[0].dtype if params else torch.get_default_dtype()
    if device is None:
        device = params[0].device if params else torch.device("cpu")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn((n_inputs, c, h, w), generator=gen, dtype=dtype).to(device).requires_grad_(True)
    with torch.enable_grad():
        out = model(x)
        if out.ndim != 4:
            raise ValueError(f"model: expected a (N, K, H', W') output, got shape {tuple(out.shape)}")
        out[:, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    return x.grad.abs().sum(dim=(0, 1)).detach()


def support_size(grad_map: torch.Tensor, tol: float = 0.0) -> tuple[int, int]:
    """Height and width of the bounding box of the entries of a 2-D map with ``|value| > tol``."""
    _check_tensor("grad_map", grad_map, 2)
    rows = torch.nonzero(grad_map.abs().amax(dim=1) > tol).flatten()
    cols = torch.nonzero(grad_map.abs().amax(dim=0) > tol).flatten()
    if rows.numel() == 0:
        return 0, 0
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


# --------------------------------------------------------------------------- parameter counts
def param_count(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters, ``sum(p.numel())`` (only those with ``requires_grad`` by default)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def conv_params(c_in: int, c_out: int, k, bias: bool = True) -> int:
    """Parameters of one conv layer: ``c_out c_in kh kw + c_out`` (eq. 3.15's matrix plus the bias)."""
    c_in = _check_int("c_in", c_in, 1)
    c_out = _check_int("c_out", c_out, 1)
    kh, kw = _check_kernel_size(k)
    return c_out * c_in * kh * kw + (c_out if bias else 0)


def dense_equivalent_params(in_shape, out_shape, bias: bool = True) -> int:
    """Parameters of a fully connected map between the same tensors: ``prod(in) prod(out) + prod(out)``."""
    dims = []
    for name, shape in (("in_shape", in_shape), ("out_shape", out_shape)):
        if not isinstance(shape, (tuple, list, torch.Size)) or len(shape) == 0:
            raise ValueError(f"{name}: expected a non-empty shape tuple, got {shape!r}")
        dims.append(math.prod(_check_int(name, v, 1) for v in shape))
    return dims[0] * dims[1] + (dims[1] if bias else 0)
