"""Time-conditioned denoising networks: a sinusoidal time embedding, an MLP denoiser and a tiny DiT.

Every network here is one function ``f_theta(x_t, t)`` shared by all noise levels (6.5.1): the time
enters through a sinusoidal embedding (6.5.8, in the standard interleaved form)::

    emb(t)_{2j} = sin(t / P^{2j/D}),   emb(t)_{2j+1} = cos(t / P^{2j/D}),   j = 0 .. D/2 - 1,   P = 10000

followed by a small MLP. What the output means (a score, a noise, a clean image, a velocity) is decided
by the loss that trains it (:mod:`lib.diffusion.losses`, :mod:`lib.diffusion.flow_matching`).

``t`` may be an integer step index (a discrete chain, t = 0..T) or a float in [0, 1] (a continuous
process). Floats are multiplied by ``t_scale`` (1000) before the embedding, so a DDPM index t and the
continuous time t / 1000 give the same features; without the scale the frequencies are too low to
tell nearby times apart.

* :class:`MLPDenoiser`: ``[x, emb(t)] -> hidden -> ... -> data_dim`` with SiLU, for 2-D toys and
  flattened 8x8 images;
* :class:`TinyDiT`: patchify an image into tokens, run Transformer blocks (``lib.attention``'s
  multi-head attention, ``lib.transformer``'s MLP) whose LayerNorms are modulated by the time embedding
  (adaLN-Zero, Peebles & Xie 2023), unpatchify.

Weights are drawn from a generator seeded with ``seed``, so the same seed gives the same network on
every device and the global random state is left alone.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import torch
from torch import nn

from ..attention import MultiHeadAttention
from ..transformer import MLP, count_parameters  # noqa: F401  (re-exported for the notebooks)

ACTIVATIONS = {"silu": nn.SiLU, "relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


# --------------------------------------------------------------------------- input checks
def _check_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


def _check_x(x, shape_tail: tuple[int, ...]) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x: expected a floating tensor, got dtype {x.dtype}")
    if x.ndim != 1 + len(shape_tail) or tuple(x.shape[1:]) != shape_tail:
        raise ValueError(f"x: expected shape (n, {', '.join(map(str, shape_tail))}), got {tuple(x.shape)}")
    return x


def _time_vector(t, n: int, device) -> torch.Tensor:
    """``t`` as a (n,) tensor: a python number, a 0-d tensor or a (n,) tensor (kept integer or float)."""
    if isinstance(t, bool):
        raise TypeError("t: expected a number or a tensor of times, got a bool")
    if isinstance(t, (int, float)):
        t = torch.tensor(t)
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"t: expected a number or a torch.Tensor, got {type(t).__name__}")
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"t: expected integer indices or float times, got dtype {t.dtype}")
    if t.ndim == 0:
        t = t.expand(n)
    if t.ndim != 1 or t.shape[0] != n:
        raise ValueError(f"t: expected a scalar or shape ({n},), got {tuple(t.shape)}")
    return t.to(device)


# --------------------------------------------------------------------------- time embedding
class SinusoidalTimeEmbedding(nn.Module):
    """``t (n,) -> (n, dim)``: interleaved sin/cos features of ``t`` (or of ``t_scale * t`` for float t).

    Column ``2j`` is ``sin(t / max_period^(2j/dim))`` and column ``2j+1`` the matching cosine: the first
    pair turns once every 2 pi steps, the last about once every ``max_period`` steps. It has no
    parameters; the networks follow it with a Linear-SiLU-Linear MLP.
    """

    def __init__(self, dim: int = 32, max_period: float = 10000.0, t_scale: float = 1000.0):
        super().__init__()
        self.dim = _check_int("dim", dim, 2)
        if dim % 2:
            raise ValueError(f"dim: expected an even number (sin and cos come in pairs), got {dim}")
        for name, v in (("max_period", max_period), ("t_scale", t_scale)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"{name}: expected a positive number, got {v!r}")
        self.max_period, self.t_scale = float(max_period), float(t_scale)
        freqs = self.max_period ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
        self.register_buffer("freqs", freqs.float(), persistent=False)

    def forward(self, t) -> torch.Tensor:
        n = t.shape[0] if isinstance(t, torch.Tensor) and t.ndim == 1 else 1
        t = _time_vector(t, n, self.freqs.device)
        steps = t.to(self.freqs.dtype) * (1.0 if not t.is_floating_point() else self.t_scale)
        angles = steps[:, None] * self.freqs[None, :]
        return torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1).flatten(1)


@contextmanager
def _seeded(seed: int):
    """Build layers with torch's CPU generator seeded with ``seed``; the global state is restored after."""
    _check_int("seed", seed, 0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


# --------------------------------------------------------------------------- MLP denoiser
class MLPDenoiser(nn.Module):
    """``f(x, t)`` for vectors: ``x (n, data_dim), t -> (n, data_dim)``.

    ``h_0 = act(W_0 [x, MLP(emb(t))])``, then ``depth - 1`` layers ``h = act(W h)``, then a linear
    read-out. With the defaults (2-D data, 3 x 128 SiLU, 32-dim embedding) it has 39,874 parameters.
    """

    def __init__(self, data_dim: int = 2, hidden: int = 128, depth: int = 3, temb_dim: int = 32,
                 act: str = "silu", t_scale: float = 1000.0, seed: int = 0, device=None):
        super().__init__()
        self.data_dim = _check_int("data_dim", data_dim)
        hidden, depth = _check_int("hidden", hidden), _check_int("depth", depth)
        if act not in ACTIVATIONS:
            raise ValueError(f"act: expected one of {list(ACTIVATIONS)}, got {act!r}")
        with _seeded(seed):
            self.embed = SinusoidalTimeEmbedding(temb_dim, t_scale=t_scale)
            self.time_mlp = nn.Sequential(nn.Linear(temb_dim, temb_dim), ACTIVATIONS[act](),
                                          nn.Linear(temb_dim, temb_dim))
            layers: list[nn.Module] = [nn.Linear(data_dim + temb_dim, hidden), ACTIVATIONS[act]()]
            for _ in range(depth - 1):
                layers += [nn.Linear(hidden, hidden), ACTIVATIONS[act]()]
            layers.append(nn.Linear(hidden, data_dim))
            self.net = nn.Sequential(*layers)
        if device is not None:
            self.to(device)

    def forward(self, x: torch.Tensor, t) -> torch.Tensor:
        x = _check_x(x, (self.data_dim,))
        dtype = self.net[0].weight.dtype  # float64 samplers may call a float32 network: cast in and back
        emb = self.time_mlp(self.embed(_time_vector(t, x.shape[0], x.device)).to(dtype))
        return self.net(torch.cat([x.to(dtype), emb], dim=1)).to(x.dtype)


# --------------------------------------------------------------------------- tiny DiT
def patchify(img: torch.Tensor, patch: int) -> torch.Tensor:
    """``(n, C, H, W) -> (n, (H/p)(W/p), C p p)``: non-overlapping p x p patches in row-major order."""
    n, C, H, W = img.shape
    if H % patch or W % patch:
        raise ValueError(f"patch: expected a divisor of the image size {H}x{W}, got {patch}")
    x = img.reshape(n, C, H // patch, patch, W // patch, patch)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(n, (H // patch) * (W // patch), C * patch * patch)


def unpatchify(tokens: torch.Tensor, patch: int, channels: int, size: int) -> torch.Tensor:
    """The inverse of :func:`patchify` for a square image of side ``size``."""
    n, g = tokens.shape[0], size // patch
    x = tokens.reshape(n, g, g, channels, patch, patch).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(n, channels, size, size)


class AdaLNBlock(nn.Module):
    """A Transformer block whose norms are set by the conditioning vector ``c`` (adaLN-Zero)::

        (shift_1, scale_1, gate_1, shift_2, scale_2, gate_2) = W c + b          (W, b start at zero)
        h = h + gate_1 * Attn(LN(h) * (1 + scale_1) + shift_1)
        h = h + gate_2 * MLP(LN(h) * (1 + scale_2) + shift_2)

    Zero gates make every block the identity at initialisation. Attention is bidirectional.
    """

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim, elementwise_affine=False)
        self.attn = MultiHeadAttention(dim, heads, bias=True, causal=False)
        self.ln2 = nn.LayerNorm(dim, elementwise_affine=False)
        self.mlp = MLP(dim, 4 * dim, bias=True)
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        nn.init.zeros_(self.modulation[1].weight)
        nn.init.zeros_(self.modulation[1].bias)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        sh1, sc1, g1, sh2, sc2, g2 = self.modulation(c)[:, None, :].chunk(6, dim=-1)
        h = h + g1 * self.attn(self.ln1(h) * (1 + sc1) + sh1)
        return h + g2 * self.mlp(self.ln2(h) * (1 + sc2) + sh2)


class TinyDiT(nn.Module):
    """A diffusion Transformer for small square images: ``x (n, C, img, img) or (n, C img img), t -> same``.

    Patchify into ``(img/patch)^2`` tokens, embed them linearly and add sinusoidal positions, run
    ``depth`` :class:`AdaLNBlock` conditioned on the time embedding, apply a final modulated LayerNorm
    and a linear map back to patch pixels (zero-initialised, so the first output is 0), unpatchify.
    """

    def __init__(self, img: int = 8, patch: int = 2, channels: int = 1, dim: int = 64, depth: int = 2,
                 heads: int = 4, t_scale: float = 1000.0, seed: int = 0, device=None):
        super().__init__()
        self.img, self.patch = _check_int("img", img), _check_int("patch", patch)
        self.channels, dim = _check_int("channels", channels), _check_int("dim", dim, 2)
        if img % patch:
            raise ValueError(f"patch: expected a divisor of img = {img}, got {patch}")
        if dim % 2:
            raise ValueError(f"dim: expected an even width, got {dim}")
        n_tokens, patch_dim = (img // patch) ** 2, channels * patch * patch
        with _seeded(seed):
            self.embed = SinusoidalTimeEmbedding(dim, t_scale=t_scale)
            self.time_mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
            self.proj_in = nn.Linear(patch_dim, dim)
            self.blocks = nn.ModuleList(AdaLNBlock(dim, heads) for _ in range(_check_int("depth", depth)))
            self.ln_out = nn.LayerNorm(dim, elementwise_affine=False)
            self.mod_out = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))
            self.proj_out = nn.Linear(dim, patch_dim)
            for lin in (self.mod_out[1], self.proj_out):
                nn.init.zeros_(lin.weight)
                nn.init.zeros_(lin.bias)
        pos = torch.arange(n_tokens, dtype=torch.float64)[:, None]
        freq = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
        table = torch.stack([torch.sin(pos * freq), torch.cos(pos * freq)], dim=-1).flatten(1)
        self.register_buffer("pos", table.float(), persistent=False)
        if device is not None:
            self.to(device)

    def forward(self, x: torch.Tensor, t) -> torch.Tensor:
        flat = isinstance(x, torch.Tensor) and x.ndim == 2
        shape = (self.channels * self.img * self.img,) if flat else (self.channels, self.img, self.img)
        x = _check_x(x, shape)
        n, dtype = x.shape[0], self.proj_in.weight.dtype
        img = x.reshape(n, self.channels, self.img, self.img).to(dtype)
        c = self.time_mlp(self.embed(_time_vector(t, n, x.device)).to(dtype))
        h = self.proj_in(patchify(img, self.patch)) + self.pos
        for block in self.blocks:
            h = block(h, c)
        shift, scale = self.mod_out(c)[:, None, :].chunk(2, dim=-1)
        out = unpatchify(self.proj_out(self.ln_out(h) * (1 + scale) + shift), self.patch, self.channels, self.img)
        return out.reshape(x.shape).to(x.dtype)
