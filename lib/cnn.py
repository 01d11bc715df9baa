"""Small image classifiers and the symmetry tests that explain why convolutions generalise.

Two models for small grey images (``(N, 1, H, W)``, or flattened ``(N, H * W)`` rows, so that
:func:`lib.nn.train`, which takes 2-D ``X``, trains them unchanged):

* :class:`SmallCNN`: two 3x3 convolutions with ReLU, then a head that is either the fully connected
  layer of eq. (3.29), ``s = sum_{i,j} W_ij h_ij + b`` (= flatten + linear, ``pool="flatten"``), or a
  global max / average over positions followed by a linear map (``pool="gmax"`` / ``"gavg"``)::

      x (N, 1, H, W) -> conv 3x3 -> ReLU -> (N, w1, H, W) -> conv 3x3 -> ReLU -> (N, w2, H, W)
        flatten: -> (N, w2 H W) -> linear -> (N, n_classes)          w2 H W n_classes + n_classes weights
        gmax:    -> max over (i, j) -> (N, w2) -> linear -> (N, n_classes)     w2 n_classes + n_classes

* :class:`SmallMLP`: ``in_dim -> hidden -> n_classes`` with ReLU, the baseline without spatial structure.

The symmetry tests compare ``f(shift(x))`` with ``shift(f(x))``. With circular padding, stride 1 and a
circular shift the two are equal exactly (translation *equivariance*); with zero padding they agree
away from the border; a stride-2 layer only commutes with shifts by multiples of 2. A global pool over
positions turns equivariance into *invariance*: ``pool(f(shift(x))) = pool(f(x))``.

:func:`feature_maps` reads every conv layer's output with forward hooks.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

POOLS = ("flatten", "gmax", "gavg")
SHIFT_MODES = ("circular", "zeros")


# --------------------------------------------------------------------------- input checks
def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


def _check_shift(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected an integer number of pixels, got {value!r}")
    return value


def _check_mode(mode) -> str:
    if mode not in SHIFT_MODES:
        raise ValueError(f"mode: expected one of {SHIFT_MODES}, got {mode!r}")
    return mode


def _check_images(name: str, x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(f"{name}: expected a tensor whose last two dimensions are (H, W), got shape {tuple(x.shape)}")
    return x


def _seeded(build: Callable[[], nn.Module], seed: int) -> nn.Module:
    """Build a module with torch's default initialisation drawn from ``seed``, leaving the global RNG alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


# --------------------------------------------------------------------------- models
class SmallCNN(nn.Module):
    """Two 3x3 conv layers (stride 1, ``padding_mode`` zeros or circular) and a flatten or global-pool head.

    ``forward`` takes ``(N, in_ch, in_hw, in_hw)`` images or the same flattened to ``(N, in_ch in_hw^2)``
    and returns ``(N, n_classes)`` logits. The weights use torch's default initialisation drawn from
    ``seed`` (the global random state is left untouched).
    """

    def __init__(self, in_ch: int = 1, widths=(16, 32), n_classes: int = 10, pool: str = "flatten",
                 in_hw: int = 8, padding_mode: str = "zeros", seed: int = 0, dtype: torch.dtype = torch.float32,
                 device=None):
        super().__init__()
        self.in_ch = _check_int("in_ch", in_ch, 1)
        if isinstance(widths, (str, bytes)) or not isinstance(widths, (tuple, list)) or len(widths) != 2:
            raise ValueError(f"widths: expected two channel counts like (16, 32), got {widths!r}")
        w1, w2 = (_check_int(f"widths[{i}]", w, 1) for i, w in enumerate(widths))
        n_classes = _check_int("n_classes", n_classes, 1)
        self.in_hw = _check_int("in_hw", in_hw, 1)
        if pool not in POOLS:
            raise ValueError(f"pool: expected one of {POOLS}, got {pool!r}")
        if padding_mode not in SHIFT_MODES:
            raise ValueError(f"padding_mode: expected one of {SHIFT_MODES}, got {padding_mode!r}")
        _check_int("seed", seed, 0)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype: expected a floating torch.dtype, got {dtype!r}")
        self.pool = pool
        head_in = w2 * self.in_hw ** 2 if pool == "flatten" else w2

        def build():
            return (nn.Conv2d(in_ch, w1, 3, padding=1, padding_mode=padding_mode, dtype=dtype),
                    nn.Conv2d(w1, w2, 3, padding=1, padding_mode=padding_mode, dtype=dtype),
                    nn.Linear(head_in, n_classes, dtype=dtype))
        self.conv1, self.conv2, self.head = _seeded(build, seed)
        if device is not None:
            self.to(device)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last conv layer's maps after ReLU, ``(N, w2, in_hw, in_hw)``: translation equivariant."""
        if x.ndim == 2:
            x = x.reshape(x.shape[0], self.in_ch, self.in_hw, self.in_hw)
        if x.shape[1:] != (self.in_ch, self.in_hw, self.in_hw):
            raise ValueError(f"x: expected shape (N, {self.in_ch}, {self.in_hw}, {self.in_hw}) or "
                             f"(N, {self.in_ch * self.in_hw ** 2}), got {tuple(x.shape)}")
        return torch.relu(self.conv2(torch.relu(self.conv1(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        if self.pool == "flatten":   # eq. (3.29): one weight block W_ij per position
            h = h.flatten(1)
        elif self.pool == "gmax":    # the same weights whatever the position of the maximum
            h = h.amax(dim=(2, 3))
        else:
            h = h.mean(dim=(2, 3))
        return self.head(h)


class SmallMLP(nn.Module):
    """``in_dim -> hidden -> n_classes`` with ReLU; images are flattened first. Default torch init from ``seed``."""

    def __init__(self, in_dim: int, hidden: int = 128, n_classes: int = 10, seed: int = 0,
                 dtype: torch.dtype = torch.float32, device=None):
        super().__init__()
        self.in_dim = _check_int("in_dim", in_dim, 1)
        hidden = _check_int("hidden", hidden, 1)
        n_classes = _check_int("n_classes", n_classes, 1)
        _check_int("seed", seed, 0)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype: expected a floating torch.dtype, got {dtype!r}")
        self.net = _seeded(lambda: nn.Sequential(nn.Linear(in_dim, hidden, dtype=dtype), nn.ReLU(),
                                                 nn.Linear(hidden, n_classes, dtype=dtype)), seed)
        if device is not None:
            self.to(device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        if x.shape[1] != self.in_dim:
            raise ValueError(f"x: expected {self.in_dim} features per example, got {x.shape[1]}")
        return self.net(x)


def feature_maps(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The output of every ``nn.Conv2d`` in ``model`` (before its activation) for input ``x``, in call order.

    Each entry is detached, shape ``(N, K_l, H_l, W_l)``. Uses forward hooks, removed afterwards.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    _check_images("x", x)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("model: expected a network with nn.Conv2d layers")
    maps: list[torch.Tensor] = []
    handles = [m.register_forward_hook(lambda _m, _inp, out: maps.append(out.detach())) for m in convs]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return maps


# --------------------------------------------------------------------------- shifts and symmetry tests
def shift(x: torch.Tensor, dy: int, dx: int, mode: str = "circular") -> torch.Tensor:
    """Move the content of the last two axes ``dy`` pixels down and ``dx`` pixels right.

    ``mode="circular"``: what leaves one side re-enters on the other (``torch.roll``).
    ``mode="zeros"``: what leaves is lost and the vacated rows/columns are 0.
    """
    _check_images("x", x)
    dy, dx = _check_shift("dy", dy), _check_shift("dx", dx)
    _check_mode(mode)
    if mode == "circular":
        return torch.roll(x, shifts=(dy, dx), dims=(-2, -1))
    h, w = x.shape[-2:]
    out = torch.zeros_like(x)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    src_r, dst_r = slice(max(-dy, 0), h - max(dy, 0)), slice(max(dy, 0), h - max(-dy, 0))
    src_c, dst_c = slice(max(-dx, 0), w - max(dx, 0)), slice(max(dx, 0), w - max(-dx, 0))
    out[..., dst_r, dst_c] = x[..., src_r, src_c]
    return out


def _crop(t: torch.Tensor, b: int) -> torch.Tensor:
    return t[..., b:t.shape[-2] - b, b:t.shape[-1] - b] if b > 0 else t


def equivariance_error(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, dy: int, dx: int,
                       mode: str = "circular", border: int | None = None, relative: bool = False) -> float:
    """``|| f(shift(x, dy, dx)) - shift(f(x), dy / s, dx / s) ||`` (Frobenius norm over everything).

    ``f`` maps ``(..., H, W)`` to ``(..., H / s, W / s)``; the output stride ``s`` is read off the shapes.
    If ``dy`` or ``dx`` is not a multiple of ``s`` no output shift is the natural match, and the error is
    the smallest one over the neighbouring integer output shifts (floor and ceil of ``dy / s``,
    ``dx / s``): a positive value means that *no* shift of ``f(x)`` reproduces ``f(shift(x))``.
    ``border`` pixels are cropped from every side of the output before comparing; the default is 0 for
    ``mode="circular"`` and ``max(1, |dy|, |dx|)`` for ``"zeros"``. With zero padding and a zero-filled
    shift the two maps differ only within ``R`` pixels of the side the content leaves by and within
    ``|d|`` pixels of the side it enters from, ``R`` being the radius of ``f``'s receptive field (1 for one
    3x3 layer; pass ``max(R, |dy|, |dx|)`` for a wider or deeper ``f``). ``relative`` divides by
    ``||f(shift(x))||`` on the same crop.
    """
    if not callable(f):
        raise TypeError(f"f: expected a callable tensor -> tensor, got {type(f).__name__}")
    _check_images("x", x)
    dy, dx = _check_shift("dy", dy), _check_shift("dx", dx)
    _check_mode(mode)
    if border is None:
        border = 0 if mode == "circular" else max(1, abs(dy), abs(dx))
    border = _check_int("border", border, 0)
    with torch.no_grad():
        fx, fsx = f(x), f(shift(x, dy, dx, mode))
    if not (isinstance(fx, torch.Tensor) and fx.ndim >= 2 and fx.shape == fsx.shape):
        raise ValueError("f: expected an image-shaped output (..., H', W'), the same shape for x and its shift")
    (h, w), (ho, wo) = x.shape[-2:], fx.shape[-2:]
    if h % ho or w % wo or h // ho != w // wo:
        raise ValueError(f"f: expected an output size H / s x W / s for one integer stride s, got "
                         f"{tuple(x.shape[-2:])} -> {tuple(fx.shape[-2:])}")
    s = h // ho
    if 2 * border >= min(ho, wo):
        raise ValueError(f"border: cropping {border} pixels per side leaves nothing of a {ho} x {wo} output")
    best = math.inf
    for oy in {math.floor(dy / s), math.ceil(dy / s)}:
        for ox in {math.floor(dx / s), math.ceil(dx / s)}:
            diff = _crop(fsx - shift(fx, oy, ox, mode), border)
            best = min(best, torch.linalg.vector_norm(diff).item())
    if relative:
        best /= max(torch.linalg.vector_norm(_crop(fsx, border)).item(), 1e-300)
    return best


def invariance_error(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, dy: int, dx: int,
                     mode: str = "circular", relative: bool = False) -> float:
    """``|| f(shift(x, dy, dx)) - f(x) ||``: zero when ``f`` ignores where the content is (e.g. after a
    global pool). ``relative`` divides by ``||f(x)||``."""
    if not callable(f):
        raise TypeError(f"f: expected a callable tensor -> tensor, got {type(f).__name__}")
    _check_images("x", x)
    with torch.no_grad():
        fx, fsx = f(x), f(shift(x, _check_shift("dy", dy), _check_shift("dx", dx), _check_mode(mode)))
    if fx.shape != fsx.shape:
        raise ValueError("f: expected outputs of the same shape for x and its shift")
    err = torch.linalg.vector_norm(fsx - fx).item()
    return err / max(torch.linalg.vector_norm(fx).item(), 1e-300) if relative else err
