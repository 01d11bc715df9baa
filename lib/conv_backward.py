"""Backpropagation through a convolutional layer, written out by hand (book section 3.3).

Shapes follow torch: inputs ``x`` are (N, C_in, H, W), weights ``w`` are (C_out, C_in, kh, kw) with
``w[k, c, a, b]`` the book's :math:`W_{k,c,\\Delta i,\\Delta j}` at offset ``(a, b)`` from the top-left
corner of the window, and the layer computes the cross-correlation (what ``F.conv2d`` computes)::

    s[n, k, i, j] = sum_{c, a, b} w[k, c, a, b] * xp[n, c, s*i + a, s*j + b] + bias[k]       (3.41)

where ``xp`` is ``x`` zero-padded by ``padding`` on each side and ``s`` is the stride. Given the error
``delta = dJ/ds`` of shape (N, C_out, H_out, W_out), the three gradients are

* ``dJ/dx``: every window that read a pixel sends back its error times the weight it used,
  ``dJ/dxp[n, c, i + a, j + b] += w[k, c, a, b] * delta[n, k, i, j]``                      (3.43)
* ``dJ/dw[k, c, a, b] = sum_{n, i, j} delta[n, k, i, j] * xp[n, c, i + a, j + b]``          (3.44)
* ``dJ/dbias[k] = sum_{n, i, j} delta[n, k, i, j]``

For a stride ``s > 1`` the strided layer is the stride-1 layer followed by keeping every ``s``-th
position (3.45), whose backward puts each error back where it was taken and zero elsewhere (3.46);
so ``delta`` is first zero-upsampled to the stride-1 grid and then (3.43)/(3.44) run at stride 1.

The loops below run over the ``kh * kw`` kernel offsets only; positions, channels and the batch are
handled in parallel by one ``einsum`` per offset (the position, channel and batch parallelism of 3.3.5).
``Conv2dFn`` plugs this backward into autograd and ``HandConv2d`` is a drop-in ``nn.Conv2d``.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


# --------------------------------------------------------------------------- input checks
def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


def _check_tensor(name: str, t, ndim: int) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(t).__name__}")
    if t.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D tensor, got shape {tuple(t.shape)}")
    if not t.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got {t.dtype}")
    return t


def _check_shape4(name: str, shape) -> tuple[int, int, int, int]:
    shape = tuple(shape)
    if len(shape) != 4 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in shape):
        raise ValueError(f"{name}: expected 4 positive integers (N, C, H, W), got {shape!r}")
    return shape


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output length of a convolution along one axis: floor((size + 2 padding - kernel) / stride) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


# --------------------------------------------------------------------------- subsampling (3.45)/(3.46)
def subsample(h: torch.Tensor, s: int) -> torch.Tensor:
    """Keep every ``s``-th position, h_sub[..., i, j] = h[..., s i, s j] (3.45); (N, C, H, W) -> ceil(H/s)."""
    _check_tensor("h", h, 4)
    _check_int("s", s, 1)
    return h[..., ::s, ::s]


def subsample_backward(grad_sub: torch.Tensor, s: int, full_shape) -> torch.Tensor:
    """Backward of :func:`subsample` (3.46): each error goes back to the position it was taken from.

    ``grad_sub`` is (N, C, ceil(H/s), ceil(W/s)) and ``full_shape`` is (N, C, H, W). The result has the
    errors at positions (s i, s j) and *exact zeros* everywhere else: nothing "spreads" to the
    positions that subsampling dropped, since they did not influence the output.
    """
    _check_tensor("grad_sub", grad_sub, 4)
    _check_int("s", s, 1)
    n, c, h, w = _check_shape4("full_shape", full_shape)
    expected = (n, c, -(-h // s), -(-w // s))
    if tuple(grad_sub.shape) != expected:
        raise ValueError(f"grad_sub: expected shape {expected} for full_shape {(n, c, h, w)} and s = {s}, "
                         f"got {tuple(grad_sub.shape)}")
    grad = grad_sub.new_zeros((n, c, h, w))
    grad[..., ::s, ::s] = grad_sub
    return grad


# --------------------------------------------------------------------------- pooling (not in the book)
def avgpool_backward(grad_out: torch.Tensor, s: int, full_shape) -> torch.Tensor:
    """Backward of ``F.avg_pool2d(x, s)`` (s x s windows, stride s): each window's error is shared
    evenly, ``grad_out / s^2`` to each of its ``s^2`` inputs. Rows/columns beyond the last full window get 0."""
    _check_tensor("grad_out", grad_out, 4)
    _check_int("s", s, 1)
    n, c, h, w = _check_shape4("full_shape", full_shape)
    expected = (n, c, h // s, w // s)
    if tuple(grad_out.shape) != expected or min(expected) < 1:
        raise ValueError(f"grad_out: expected shape {expected} for full_shape {(n, c, h, w)} and s = {s}, "
                         f"got {tuple(grad_out.shape)}")
    ho, wo = expected[2], expected[3]
    spread = grad_out.repeat_interleave(s, dim=2).repeat_interleave(s, dim=3) / (s * s)
    grad = grad_out.new_zeros((n, c, h, w))
    grad[..., : ho * s, : wo * s] = spread
    return grad


def maxpool_backward(grad_out: torch.Tensor, x: torch.Tensor, s: int) -> torch.Tensor:
    """Backward of ``F.max_pool2d(x, s)`` (s x s windows, stride s): each window's error goes entirely
    to the input that held the window's maximum (the first one on a tie), all other inputs get 0."""
    _check_tensor("x", x, 4)
    _check_tensor("grad_out", grad_out, 4)
    _check_int("s", s, 1)
    n, c, h, w = x.shape
    ho, wo = h // s, w // s
    if tuple(grad_out.shape) != (n, c, ho, wo) or min(ho, wo) < 1:
        raise ValueError(f"grad_out: expected shape {(n, c, ho, wo)} for x of shape {tuple(x.shape)} and s = {s}, "
                         f"got {tuple(grad_out.shape)}")
    windows = x[..., : ho * s, : wo * s].reshape(n, c, ho, s, wo, s).transpose(3, 4).reshape(n, c, ho, wo, s * s)
    winner = windows.argmax(dim=-1, keepdim=True)                      # index inside each window
    routed = torch.zeros_like(windows).scatter(-1, winner, grad_out.unsqueeze(-1))
    grad = x.new_zeros(x.shape)
    grad[..., : ho * s, : wo * s] = routed.reshape(n, c, ho, wo, s, s).transpose(3, 4).reshape(n, c, ho * s, wo * s)
    return grad


# --------------------------------------------------------------------------- convolution backward
def conv2d_backward(grad_out: torch.Tensor, x: torch.Tensor, w: torch.Tensor, stride: int = 1,
                    padding: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of a convolution ``F.conv2d(x, w, b, stride, padding)`` by (3.43), (3.44) and the bias.

    ``grad_out``: (N, C_out, H_out, W_out), the error dJ/ds at the layer's output (already multiplied
    by the activation derivative, (3.42)); ``x``: (N, C_in, H, W); ``w``: (C_out, C_in, kh, kw).
    Returns ``(grad_x, grad_w, grad_b)`` with the shapes of ``x``, ``w`` and (C_out,).
    """
    _check_tensor("grad_out", grad_out, 4)
    _check_tensor("x", x, 4)
    _check_tensor("w", w, 4)
    _check_int("stride", stride, 1)
    _check_int("padding", padding, 0)
    if not (grad_out.dtype == x.dtype == w.dtype):
        raise TypeError(f"grad_out, x, w: expected one dtype, got {grad_out.dtype}, {x.dtype}, {w.dtype}")
    if not (grad_out.device == x.device == w.device):
        raise ValueError(f"grad_out, x, w: expected one device, got {grad_out.device}, {x.device}, {w.device}")
    n, c_in, h, wd = x.shape
    c_out, c_w, kh, kw = w.shape
    if c_w != c_in:
        raise ValueError(f"w: expected {c_in} input channels (x has {c_in}), got w of shape {tuple(w.shape)}")
    h1, w1 = h + 2 * padding - kh + 1, wd + 2 * padding - kw + 1      # the stride-1 output grid
    if h1 < 1 or w1 < 1:
        raise ValueError(f"w: kernel {kh}x{kw} is larger than the padded input {h + 2 * padding}x{wd + 2 * padding}")
    expected = (n, c_out, output_size(h, kh, stride, padding), output_size(wd, kw, stride, padding))
    if tuple(grad_out.shape) != expected:
        raise ValueError(f"grad_out: expected shape {expected} (the layer's output), got {tuple(grad_out.shape)}")

    # (3.46): a stride-s layer is the stride-1 layer subsampled, so its error is zero-upsampled first
    delta = subsample_backward(grad_out, stride, (n, c_out, h1, w1)) if stride > 1 else grad_out
    xp = F.pad(x, (padding, padding, padding, padding))
    grad_xp = torch.zeros_like(xp)
    grad_w = torch.empty_like(w)
    for a in range(kh):
        for b in range(kw):
            window = xp[:, :, a: a + h1, b: b + w1]          # the inputs that offset (a, b) reads
            # (3.43): each output position returns its error through the weight W_ab it used
            grad_xp[:, :, a: a + h1, b: b + w1] += torch.einsum("nkij,kc->ncij", delta, w[:, :, a, b])
            # (3.44): error at (i, j) times the input that offset (a, b) read at (i, j), summed over positions
            grad_w[:, :, a, b] = torch.einsum("nkij,ncij->kc", delta, window)
    grad_x = grad_xp[:, :, padding: padding + h, padding: padding + wd]
    grad_b = grad_out.sum(dim=(0, 2, 3))
    return grad_x, grad_w, grad_b


# --------------------------------------------------------------------------- autograd plumbing
class Conv2dFn(torch.autograd.Function):
    """``F.conv2d`` forward, hand-written :func:`conv2d_backward` backward.

    ``Conv2dFn.apply(x, w, b, stride, padding)``; ``b`` may be None.
    """

    @staticmethod
    def forward(ctx, x, w, b, stride: int = 1, padding: int = 0):
        ctx.save_for_backward(x, w)
        ctx.stride, ctx.padding, ctx.has_bias = stride, padding, b is not None
        return F.conv2d(x, w, b, stride=stride, padding=padding)

    @staticmethod
    def backward(ctx, grad_out):
        x, w = ctx.saved_tensors
        grad_x, grad_w, grad_b = conv2d_backward(grad_out.contiguous(), x, w, ctx.stride, ctx.padding)
        need = ctx.needs_input_grad
        return (grad_x if need[0] else None, grad_w if need[1] else None,
                grad_b if ctx.has_bias and need[2] else None, None, None)


class HandConv2d(nn.Conv2d):
    """An ``nn.Conv2d`` (same parameters, same initialisation, same state dict) whose backward pass is
    :func:`conv2d_backward`. Square integer stride and padding, zero padding, no dilation or groups."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride: int = 1, padding: int = 0,
                 bias: bool = True, device=None, dtype=None):
        _check_int("in_channels", in_channels, 1)
        _check_int("out_channels", out_channels, 1)
        _check_int("stride", stride, 1)
        _check_int("padding", padding, 0)
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias,
                         device=device, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_tensor("x", x, 4)
        return Conv2dFn.apply(x, self.weight, self.bias, self.stride[0], self.padding[0])
