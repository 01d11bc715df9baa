"""A pre-norm Transformer block and TinyGPT, a small decoder-only language model, with its trainer.

One block updates the residual stream ``h`` (B, T, d) twice, each sublayer reading a normalised copy
and adding its output back::

    h_half = h + Attn(Norm_1(h))            (mix information across positions: context)
    h_out  = h_half + MLP(Norm_2(h_half))   (transform each position on its own: memory)

with ``MLP(x) = W2 GELU(W1 x)`` (d -> d_ff = 4d -> d) and ``RMSNorm(x) = x / sqrt(mean(x^2) + eps) * g``.

:class:`TinyGPT` embeds tokens (and positions, learned or sinusoidal), runs ``n_layers`` causal blocks,
normalises once more and unembeds with the transpose of the token embedding (tied weights). Every
Linear and Embedding weight starts from N(0, 0.02), so the first loss is close to ln V. Its
``generate`` decodes with a KV cache (each step feeds one token) or by recomputing the whole context;
the two give identical tokens. :func:`train_lm` trains any such model on random windows of a 1-D
token tensor with AdamW.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .attention import MultiHeadAttention, _check_int, _check_positive, sinusoidal_positions


# --------------------------------------------------------------------------- input checks
def _check_ids(name: str, idx, vocab_size: int | None = None) -> torch.Tensor:
    if not isinstance(idx, torch.Tensor) or idx.dtype != torch.long:
        raise TypeError(f"{name}: expected a LongTensor of token ids")
    if idx.ndim != 2 or idx.shape[1] == 0:
        raise ValueError(f"{name}: expected shape (B, T) with T >= 1, got {tuple(idx.shape)}")
    if vocab_size is not None and (idx.min() < 0 or idx.max() >= vocab_size):
        raise ValueError(f"{name}: expected ids in [0, {vocab_size})")
    return idx


# --------------------------------------------------------------------------- layers
class RMSNorm(nn.Module):
    """``x / sqrt(mean(x^2, last dim) + eps) * weight``; equal to ``torch.nn.RMSNorm(d, eps)``."""

    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        self.d, self.eps = _check_int("d", d), _check_positive("eps", eps)
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.d:
            raise ValueError(f"x: expected last dimension {self.d}, got shape {tuple(x.shape)}")
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class MLP(nn.Module):
    """``W2 act(W1 x)``: d -> d_ff (default 4d) -> d, applied at every position separately."""

    def __init__(self, d: int, d_ff: int | None = None, act: str = "gelu", bias: bool = True):
        super().__init__()
        d = _check_int("d", d)
        d_ff = 4 * d if d_ff is None else _check_int("d_ff", d_ff)
        acts = {"gelu": nn.GELU, "relu": nn.ReLU}
        if act not in acts:
            raise ValueError(f"act: expected one of {list(acts)}, got {act!r}")
        self.W1 = nn.Linear(d, d_ff, bias=bias)
        self.act = acts[act]()
        self.W2 = nn.Linear(d_ff, d, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.W2(self.act(self.W1(x)))


def _make_norm(kind: str, d: int, bias: bool) -> nn.Module:
    if kind == "rms":
        return RMSNorm(d)
    if kind == "layer":
        return nn.LayerNorm(d, bias=bias)
    raise ValueError(f"norm: expected 'rms' or 'layer', got {kind!r}")


class Block(nn.Module):
    """Pre-norm residual block: ``h + Attn(ln1(h))``, then ``+ MLP(ln2(.))``.

    Submodules: ``ln1``, ``attn`` (:class:`~lib.attention.MultiHeadAttention`), ``ln2``, ``mlp``
    (:class:`MLP` with ``W1``, ``W2``). ``norm="layer", bias=True`` equals
    ``nn.TransformerEncoderLayer(norm_first=True, activation="gelu", dropout=0, batch_first=True)``.
    """

    def __init__(self, d: int, n_heads: int, d_ff: int | None = None, *, causal: bool = True,
                 norm: str = "rms", bias: bool = False):
        super().__init__()
        self.ln1 = _make_norm(norm, _check_int("d", d), bias)
        self.attn = MultiHeadAttention(d, n_heads, bias=bias, causal=causal)
        self.ln2 = _make_norm(norm, d, bias)
        self.mlp = MLP(d, d_ff, bias=bias)

    def forward(self, h: torch.Tensor, cache: dict | None = None, return_parts: bool = False):
        """h (B, T, d) -> (B, T, d); with ``return_parts`` also ``{"attn", "h_half", "mlp"}``."""
        a = self.attn(self.ln1(h), cache=cache)
        h_half = h + a
        m = self.mlp(self.ln2(h_half))
        out = h_half + m
        return (out, {"attn": a, "h_half": h_half, "mlp": m}) if return_parts else out


# --------------------------------------------------------------------------- the model
@dataclass
class GPTConfig:
    """Sizes of a :class:`TinyGPT`. ``d_ff`` defaults to 4 d_model; ``pos`` is "learned" or "sinusoidal"."""
    vocab_size: int
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    max_len: int = 128
    d_ff: int | None = None
    tie_weights: bool = True
    norm: str = "rms"
    pos: str = "learned"
    bias: bool = False

    def __post_init__(self):
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "max_len"):
            _check_int(name, getattr(self, name))
        if self.d_ff is not None:
            _check_int("d_ff", self.d_ff)
        if self.d_model % self.n_heads:
            raise ValueError(f"n_heads: expected a divisor of d_model = {self.d_model}, got {self.n_heads}")
        if self.norm not in ("rms", "layer"):
            raise ValueError(f"norm: expected 'rms' or 'layer', got {self.norm!r}")
        if self.pos not in ("learned", "sinusoidal"):
            raise ValueError(f"pos: expected 'learned' or 'sinusoidal', got {self.pos!r}")


class TinyGPT(nn.Module):
    """Decoder-only Transformer: ids (B, T) -> next-token logits (B, T, V).

    ``tok_emb`` (V, d), ``pos_emb`` (max_len, d; a buffer ``pos_table`` if sinusoidal), ``blocks``
    (n_layers causal :class:`Block`), ``ln_f`` and ``lm_head`` (weight tied to ``tok_emb.weight`` unless
    ``tie_weights=False``). Weights start from N(0, 0.02), biases at 0, norm gains at 1.
    """

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        if not isinstance(cfg, GPTConfig):
            raise TypeError(f"cfg: expected a GPTConfig, got {type(cfg).__name__}")
        self.cfg = cfg
        d = cfg.d_model
        self.tok_emb = nn.Embedding(cfg.vocab_size, d)
        if cfg.pos == "learned":
            self.pos_emb = nn.Embedding(cfg.max_len, d)
        else:
            self.pos_emb = None
            self.register_buffer("pos_table", sinusoidal_positions(cfg.max_len, d), persistent=False)
        self.blocks = nn.ModuleList(Block(d, cfg.n_heads, cfg.d_ff, causal=True, norm=cfg.norm, bias=cfg.bias)
                                    for _ in range(cfg.n_layers))
        self.ln_f = _make_norm(cfg.norm, d, cfg.bias)
        self.lm_head = nn.Linear(d, cfg.vocab_size, bias=False)
        self.apply(self._init)
        if cfg.tie_weights:
            self.lm_head.weight = self.tok_emb.weight

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)

    # ----- pieces shared by forward, residual_stream and generate
    def embed(self, idx: torch.Tensor, start: int = 0) -> torch.Tensor:
        """Token plus position embedding of ids (B, T) placed at positions start ... start + T - 1."""
        T = idx.shape[1]
        if start + T > self.cfg.max_len:
            raise ValueError(f"idx: positions up to {start + T} exceed max_len = {self.cfg.max_len}")
        pos = torch.arange(start, start + T, device=idx.device)
        p = self.pos_emb(pos) if self.pos_emb is not None else self.pos_table[pos].to(self.tok_emb.weight.dtype)
        return self.tok_emb(idx) + p

    def unembed(self, h: torch.Tensor) -> torch.Tensor:
        """Final norm and unembedding: residual states (..., d) -> logits (..., V)."""
        return self.lm_head(self.ln_f(h))

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """Logits (B, T, V); with ``targets`` (B, T) also the mean next-token cross-entropy."""
        idx = _check_ids("idx", idx, self.cfg.vocab_size)
        h = self.embed(idx)
        for block in self.blocks:
            h = block(h)
        logits = self.unembed(h)
        if targets is None:
            return logits
        if not isinstance(targets, torch.Tensor) or targets.shape != idx.shape:
            raise ValueError(f"targets: expected a LongTensor of shape {tuple(idx.shape)}")
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss

    def residual_stream(self, idx: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
        """The stream after every half-layer: ("embed", h), ("L0.attn", h), ("L0.mlp", h), ... each (B, T, d)."""
        idx = _check_ids("idx", idx, self.cfg.vocab_size)
        h = self.embed(idx)
        states = [("embed", h)]
        for i, block in enumerate(self.blocks):
            h, parts = block(h, return_parts=True)
            states += [(f"L{i}.attn", parts["h_half"]), (f"L{i}.mlp", h)]
        return states

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, n_new: int, *, temperature: float = 1.0, top_k: int | None = None,
                 greedy: bool = False, use_cache: bool = True,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Append ``n_new`` tokens to ``idx`` (B, T) and return the (B, T + n_new) ids.

        Each step samples from ``softmax(logits / temperature)`` restricted to the ``top_k`` most likely
        tokens (or takes the argmax if ``greedy``). With ``use_cache`` every layer keeps its keys and
        values, so each step feeds only the newest token; without it the whole context is recomputed.
        Contexts longer than ``max_len`` keep their last ``max_len`` tokens (the cache is then rebuilt),
        so both ways give the same tokens.
        """
        idx = _check_ids("idx", idx, self.cfg.vocab_size)
        _check_int("n_new", n_new, 0)
        temperature = _check_positive("temperature", temperature)
        if top_k is not None:
            _check_int("top_k", top_k)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")
        was_training = self.training
        self.eval()
        L = self.cfg.max_len
        caches, n_cached = None, 0
        for _ in range(n_new):
            if use_cache and caches is not None and n_cached < L:
                h = self.embed(idx[:, -1:], start=n_cached)  # only the newest token
            else:
                context = idx[:, -L:]
                caches = [{} for _ in self.blocks] if use_cache else [None for _ in self.blocks]
                h = self.embed(context)
                n_cached = 0
            for block, cache in zip(self.blocks, caches):
                h = block(h, cache=cache)
            n_cached += h.shape[1]
            logits = self.unembed(h[:, -1]) / temperature
            if greedy:
                nxt = logits.argmax(-1, keepdim=True)
            else:
                if top_k is not None and top_k < logits.shape[-1]:
                    kth = logits.topk(top_k, dim=-1).values[:, -1:]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                probs = torch.softmax(logits.float(), dim=-1)
                nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(idx.device)
            idx = torch.cat([idx, nxt], dim=1)
            if not use_cache:
                caches = None
        self.train(was_training)
        return idx


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of distinct parameters (a tied weight counts once)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# --------------------------------------------------------------------------- training
def get_batch(data: torch.Tensor, batch_size: int, block_size: int, *, generator: torch.Generator | None = None,
              device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows of a 1-D token tensor: x = data[s:s+T], y = data[s+1:s+T+1], both (batch_size, T)."""
    if not isinstance(data, torch.Tensor) or data.dtype != torch.long or data.ndim != 1:
        raise TypeError("data: expected a 1-D LongTensor of token ids")
    batch_size, block_size = _check_int("batch_size", batch_size), _check_int("block_size", block_size)
    if data.numel() < block_size + 1:
        raise ValueError(f"block_size: expected at most len(data) - 1 = {data.numel() - 1}, got {block_size}")
    start = torch.randint(0, data.numel() - block_size, (batch_size,), generator=generator)
    offsets = torch.arange(block_size + 1)
    win = data.cpu()[start[:, None] + offsets]
    device = data.device if device is None else device
    return win[:, :-1].to(device), win[:, 1:].to(device)


def train_lm(model: nn.Module, data: torch.Tensor, *, steps: int, batch_size: int, block_size: int,
             lr: float = 3e-3, weight_decay: float = 0.0, device=None, seed: int = 0, log_every: int = 50,
             grad_clip: float | None = 1.0) -> dict:
    """AdamW on next-token cross-entropy over random windows of ``data`` (1-D LongTensor).

    ``model(x, y)`` must return ``(logits, loss)`` (as :class:`TinyGPT` does). ``device`` defaults to the
    model's. Returns ``{"losses": [loss of every step], "log": [(step, loss) every log_every steps],
    "seconds": wall time}``; the model is left in eval mode.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    _check_int("steps", steps, 0), _check_int("log_every", log_every)
    lr = _check_positive("lr", lr)
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or weight_decay < 0:
        raise ValueError(f"weight_decay: expected a number >= 0, got {weight_decay!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    device = next(model.parameters()).device if device is None else torch.device(device)
    model.to(device)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    losses, log = [], []
    t0 = time.perf_counter()
    model.train()
    for step in range(steps):
        x, y = get_batch(data, batch_size, block_size, generator=gen, device=device)
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        losses.append(loss.item())
        if step % log_every == 0 or step == steps - 1:
            log.append((step, losses[-1]))
    model.eval()
    return {"losses": losses, "log": log, "seconds": time.perf_counter() - t0}
