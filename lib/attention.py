"""Scaled dot-product attention, masks, multi-head attention and sinusoidal positions.

One attention head reads from a set of keys and values::

    A = softmax(Q K^T / (sqrt(d_k) * temperature) + M)   (T, S) weights, each row sums to 1   (5.2x)
    out = A V                                             (T, d_v) convex combinations of values

``Q`` is (..., T, d_k), ``K`` is (..., S, d_k) and ``V`` is (..., S, d_v); any leading batch or head
dimensions are carried along. Masks follow one convention throughout the course library:

* a **boolean** mask is True where attention is **allowed** (as in ``F.scaled_dot_product_attention``;
  ``nn.MultiheadAttention`` uses the opposite: True = blocked);
* an **additive** (float) mask holds 0 where allowed and -inf where blocked, and is added to the scores.

:class:`MultiHeadAttention` keeps the four projections ``W_q, W_k, W_v, W_o`` as separate
``nn.Linear`` layers, so the code reads like the equations; its ``cache`` argument makes incremental
(token by token) decoding give the same outputs as a full causal pass. :func:`sinusoidal_positions` is
the position table of eqs. 5.46-5.47 and :func:`softmax_entropy` the entropy of each attention row.
"""
from __future__ import annotations

import math

import torch
from torch import nn


# --------------------------------------------------------------------------- input checks
def _check_tensor(name: str, x, min_ndim: int = 2) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {x.dtype}")
    if x.ndim < min_ndim:
        raise ValueError(f"{name}: expected at least {min_ndim} dimensions, got shape {tuple(x.shape)}")
    return x


def _check_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- masks and scores
def causal_mask(T: int, S: int | None = None, *, additive: bool = True, device=None,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The causal mask of shape (T, S): query i may see keys j <= i + (S - T).

    With ``S = T`` (the default) this is the lower triangle. With ``S > T`` the T queries are the last T
    positions of a sequence of length S, as when new tokens attend to a KV cache. ``additive=True``
    gives 0 (allowed) / -inf (blocked) in ``dtype``; ``additive=False`` a boolean mask, True = allowed.
    """
    T = _check_int("T", T)
    S = T if S is None else _check_int("S", S)
    if S < T:
        raise ValueError(f"S: expected S >= T = {T} (queries are the last T of S positions), got {S}")
    allowed = torch.ones(T, S, dtype=torch.bool, device=device).tril(diagonal=S - T)
    if not additive:
        return allowed
    if not dtype.is_floating_point:
        raise TypeError(f"dtype: expected a floating dtype for an additive mask, got {dtype}")
    zeros = torch.zeros(T, S, dtype=dtype, device=device)
    return zeros.masked_fill(~allowed, float("-inf"))


def attention_scores(q: torch.Tensor, k: torch.Tensor, *, scale: float | None = None) -> torch.Tensor:
    """Scores ``q k^T * scale`` of shape (..., T, S); ``scale`` defaults to 1/sqrt(d_k)."""
    q, k = _check_tensor("q", q), _check_tensor("k", k)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"k: expected the last dimension d_k = {q.shape[-1]} of q, got shape {tuple(k.shape)}")
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else _check_positive("scale", scale)
    return (q @ k.transpose(-2, -1)) * scale


def _apply_mask(scores: torch.Tensor, mask) -> torch.Tensor:
    if mask is None:
        return scores
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask: expected a torch.Tensor or None, got {type(mask).__name__}")
    fits = mask.ndim <= scores.ndim and all(m in (1, s) for m, s in zip(mask.shape[::-1], scores.shape[::-1]))
    if not fits:  # (torch.broadcast_shapes would import sympy, seconds on first use)
        raise ValueError(f"mask: shape {tuple(mask.shape)} does not broadcast to the scores' "
                         f"shape {tuple(scores.shape)}")
    mask = mask.to(scores.device)
    if mask.dtype == torch.bool:
        return scores.masked_fill(~mask, float("-inf"))
    if mask.is_floating_point():
        return scores + mask.to(scores.dtype)
    raise TypeError(f"mask: expected a boolean (True = allowed) or float (additive) mask, got dtype {mask.dtype}")


def attention_weights(q: torch.Tensor, k: torch.Tensor, mask=None, *, temperature: float = 1.0) -> torch.Tensor:
    """Softmax over keys of the scaled scores divided by ``temperature``, shape (..., T, S).

    ``mask`` is boolean (True = allowed) or additive, broadcastable to (..., T, S). A row whose keys
    are all blocked has no defined weights (NaN), as in torch.
    """
    temperature = _check_positive("temperature", temperature)
    scores = attention_scores(q, k) / temperature
    return torch.softmax(_apply_mask(scores, mask), dim=-1)


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask=None, *,
                                 causal: bool = False, temperature: float = 1.0
                                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(A V, A)`` with ``A = softmax(q k^T / (sqrt(d_k) temperature) + mask)``.

    Shapes: q (..., T, d_k), k (..., S, d_k), v (..., S, d_v) -> out (..., T, d_v), weights (..., T, S).
    ``causal=True`` adds :func:`causal_mask` (T, S) on top of ``mask``. Equal to
    ``torch.nn.functional.scaled_dot_product_attention`` (which returns only the output).
    """
    q, k, v = _check_tensor("q", q), _check_tensor("k", k), _check_tensor("v", v)
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"v: expected {k.shape[-2]} positions like k, got shape {tuple(v.shape)}")
    temperature = _check_positive("temperature", temperature)
    scores = _apply_mask(attention_scores(q, k) / temperature, mask)
    if causal:
        scores = _apply_mask(scores, causal_mask(q.shape[-2], k.shape[-2], additive=False, device=q.device))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


# --------------------------------------------------------------------------- heads
def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """(B, T, D) -> (B, H, T, D / H): head h gets the columns h*D/H ... (h+1)*D/H - 1."""
    x = _check_tensor("x", x, 3)
    n_heads = _check_int("n_heads", n_heads)
    if x.ndim != 3:
        raise ValueError(f"x: expected shape (B, T, D), got {tuple(x.shape)}")
    B, T, D = x.shape
    if D % n_heads:
        raise ValueError(f"n_heads: expected a divisor of D = {D}, got {n_heads}")
    return x.view(B, T, n_heads, D // n_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, T, d_head) -> (B, T, H * d_head), the inverse of :func:`split_heads`."""
    x = _check_tensor("x", x, 4)
    if x.ndim != 4:
        raise ValueError(f"x: expected shape (B, H, T, d_head), got {tuple(x.shape)}")
    B, H, T, dh = x.shape
    return x.transpose(1, 2).reshape(B, T, H * dh)


class MultiHeadAttention(nn.Module):
    """H heads of width d_model / H in parallel, concatenated and mixed by ``W_o``::

        Q = x W_q^T, K = kv W_k^T, V = kv W_v^T   (split into H heads)
        out = concat_h(softmax(Q_h K_h^T / sqrt(d_head) + M) V_h) W_o^T

    ``causal=True`` blocks the future in self-attention (``kv is None``); cross-attention (``kv`` given,
    shape (B, S, d_model)) sees every key. ``mask`` (boolean True = allowed, or additive) broadcasts
    to (B, H, T, S) and is combined with the causal mask.

    ``cache``: a dict, empty at the start (or ``{"k": None, "v": None}``). Each call appends the new
    keys and values, shape (B, H, S, d_head), in place, so feeding a sequence in pieces gives the same
    outputs as one causal pass over the whole of it (self-attention only).
    """

    def __init__(self, d_model: int, n_heads: int, *, bias: bool = False, causal: bool = True):
        super().__init__()
        d_model, n_heads = _check_int("d_model", d_model), _check_int("n_heads", n_heads)
        if d_model % n_heads:
            raise ValueError(f"n_heads: expected a divisor of d_model = {d_model}, got {n_heads}")
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
        self.causal = bool(causal)
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x: torch.Tensor, kv: torch.Tensor | None = None, mask=None, cache: dict | None = None,
                return_weights: bool = False):
        """x (B, T, d_model) -> out (B, T, d_model), and the weights (B, H, T, S) if ``return_weights``."""
        x = _check_tensor("x", x, 3)
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"x: expected shape (B, T, {self.d_model}), got {tuple(x.shape)}")
        if kv is not None:
            kv = _check_tensor("kv", kv, 3)
            if kv.ndim != 3 or kv.shape[-1] != self.d_model or kv.shape[0] != x.shape[0]:
                raise ValueError(f"kv: expected shape ({x.shape[0]}, S, {self.d_model}), got {tuple(kv.shape)}")
            if cache is not None:
                raise ValueError("cache: only self-attention (kv=None) is cached")
        if cache is not None and not isinstance(cache, dict):
            raise TypeError(f"cache: expected a dict or None, got {type(cache).__name__}")
        source = x if kv is None else kv
        q = split_heads(self.W_q(x), self.n_heads)
        k = split_heads(self.W_k(source), self.n_heads)
        v = split_heads(self.W_v(source), self.n_heads)
        if cache is not None:
            if cache.get("k") is not None:
                if cache["k"].shape[0] != x.shape[0]:
                    raise ValueError(f"cache: holds batch size {cache['k'].shape[0]}, x has {x.shape[0]}")
                k = torch.cat([cache["k"], k], dim=-2)
                v = torch.cat([cache["v"], v], dim=-2)
            cache["k"], cache["v"] = k, v
        out, weights = scaled_dot_product_attention(q, k, v, mask, causal=self.causal and kv is None)
        out = self.W_o(merge_heads(out))
        return (out, weights) if return_weights else out


# --------------------------------------------------------------------------- positions and entropy
def sinusoidal_positions(T: int, d: int, base: float = 10000.0, *, device=None,
                         dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The (T, d) table ``P[t, 2i] = sin(t / base^(2i/d))``, ``P[t, 2i+1] = cos(t / base^(2i/d))`` (5.46-5.47)."""
    T, d = _check_int("T", T), _check_int("d", d, 2)
    if d % 2:
        raise ValueError(f"d: expected an even width (sin and cos columns in pairs), got {d}")
    base = _check_positive("base", base)
    pos = torch.arange(T, dtype=torch.float64, device=device)[:, None]
    freq = base ** (-torch.arange(0, d, 2, dtype=torch.float64, device=device) / d)
    table = torch.empty(T, d, dtype=torch.float64, device=device)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)
    return table.to(dtype)


def softmax_entropy(weights: torch.Tensor) -> torch.Tensor:
    """Entropy ``-sum_j a_j log a_j`` (nats) of each row of ``weights`` (..., S) -> (...); 0 log 0 = 0."""
    weights = _check_tensor("weights", weights, 1)
    if (weights < 0).any():
        raise ValueError("weights: expected non-negative probabilities")
    logs = torch.where(weights > 0, torch.log(weights.clamp_min(torch.finfo(weights.dtype).tiny)),
                       torch.zeros_like(weights))
    return -(weights * logs).sum(-1)
