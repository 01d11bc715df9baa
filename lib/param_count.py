"""Counting a Transformer: parameters, training and inference FLOPs, KV-cache memory, the Noam schedule.

A decoder-only GPT with L layers of width d, MLP width d_ff (default 4d), vocabulary V and context n_ctx::

    embeddings   V d  (+ n_ctx d for learned positions)          unembedding: 0 if tied, else V d
    per layer    attention 4 d^2 (+ 4d biases)  +  MLP 2 d d_ff (+ d_ff + d)  +  two norms
    final norm   one more (LayerNorm with bias: 2d parameters; RMSNorm or bias-free LayerNorm: d)

so the bulk is ``12 L d^2`` when d_ff = 4d. With the GPT-2 conventions (LayerNorm with biases, learned
positions, tied unembedding) :func:`gpt_param_count` gives GPT-2 small's 124,439,808 exactly and every
row of the GPT-3 table (:data:`GPT3_TABLE`, Brown et al. 2020, Table 2.1) within 2 %.
:func:`encdec_param_count` counts the 2017 encoder-decoder (:data:`TRANSFORMER_2017`): 63.1M and 214.2M
against the reported 65M and 213M. Training costs about ``6 N D`` FLOPs (forward 2, backward 4 per
parameter and token), a forward pass ``2 N + 2 L n_ctx d`` per token, and the KV cache stores
``2 L d`` numbers per token.
"""
from __future__ import annotations

import numpy as np

PF_DAY = 1e15 * 86400  # FLOPs in one petaFLOP/s-day

# Brown et al. (2020), Table 2.1: all trained on 300B tokens with n_ctx = 2048, d_ff = 4 d_model, V = 50257.
# Two rows do not satisfy n_heads x d_head = d_model as printed: XL (24 x 128 = 3072, not 2048) and 13B
# (40 x 128 = 5120, while d_model is printed as 5140).
GPT3_TABLE: list[dict] = [
    dict(name="GPT-3 Small", n_params=125e6, n_layers=12, d_model=768, n_heads=12, d_head=64, batch=0.5e6, lr=6.0e-4),
    dict(name="GPT-3 Medium", n_params=350e6, n_layers=24, d_model=1024, n_heads=16, d_head=64, batch=0.5e6, lr=3.0e-4),
    dict(name="GPT-3 Large", n_params=760e6, n_layers=24, d_model=1536, n_heads=16, d_head=96, batch=0.5e6, lr=2.5e-4),
    dict(name="GPT-3 XL", n_params=1.3e9, n_layers=24, d_model=2048, n_heads=24, d_head=128, batch=1e6, lr=2.0e-4),
    dict(name="GPT-3 2.7B", n_params=2.7e9, n_layers=32, d_model=2560, n_heads=32, d_head=80, batch=1e6, lr=1.6e-4),
    dict(name="GPT-3 6.7B", n_params=6.7e9, n_layers=32, d_model=4096, n_heads=32, d_head=128, batch=2e6, lr=1.2e-4),
    dict(name="GPT-3 13B", n_params=13.0e9, n_layers=40, d_model=5140, n_heads=40, d_head=128, batch=2e6, lr=1.0e-4),
    dict(name="GPT-3 175B", n_params=175.0e9, n_layers=96, d_model=12288, n_heads=96, d_head=128, batch=3.2e6,
         lr=0.6e-4),
]
GPT3_VOCAB, GPT3_CTX, GPT3_TOKENS = 50257, 2048, 300e9

# Vaswani et al. (2017), Tables 3 and 4 and section 5: base and big, EN-DE with ~37k shared BPE tokens.
TRANSFORMER_2017: dict[str, dict] = {
    "base": dict(n_layers=6, d_model=512, d_ff=2048, n_heads=8, d_k=64, dropout=0.1, label_smoothing=0.1,
                 steps=100_000, reported_params=65e6, bleu_en_de=27.3),
    "big": dict(n_layers=6, d_model=1024, d_ff=4096, n_heads=16, d_k=64, dropout=0.3, dropout_en_fr=0.1,
                label_smoothing=0.1, steps=300_000, reported_params=213e6, bleu_en_de=28.4, bleu_en_fr=41.8),
    "adam": dict(beta1=0.9, beta2=0.98, eps=1e-9, warmup=4000),
    "vocab_en_de": 37_000,
}


def _check_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


def _norm_params(d: int, norm: str, bias: bool) -> int:
    if norm == "layer":
        return 2 * d if bias else d
    if norm == "rms":
        return d
    raise ValueError(f"norm: expected 'layer' or 'rms', got {norm!r}")


def _attention_params(d: int, bias: bool) -> int:
    return 4 * d * d + (4 * d if bias else 0)


def _mlp_params(d: int, d_ff: int, bias: bool) -> int:
    return 2 * d * d_ff + (d_ff + d if bias else 0)


def non_embedding_params(n_layers: int, d_model: int, d_ff: int | None = None, *, bias: bool = True,
                         norm: str = "layer", final_norm: bool = True) -> int:
    """Parameters outside the token and position embeddings (Kaplan's N): ``~12 L d^2``."""
    L, d = _check_int("n_layers", n_layers), _check_int("d_model", d_model)
    d_ff = 4 * d if d_ff is None else _check_int("d_ff", d_ff)
    per_layer = _attention_params(d, bias) + _mlp_params(d, d_ff, bias) + 2 * _norm_params(d, norm, bias)
    return L * per_layer + (_norm_params(d, norm, bias) if final_norm else 0)


def gpt_param_count(n_layers: int, d_model: int, vocab_size: int, n_ctx: int, d_ff: int | None = None, *,
                    bias: bool = True, norm: str = "layer", tied: bool = True, learned_pos: bool = True,
                    final_norm: bool = True) -> int:
    """Exact parameter count of a GPT-2-style decoder (see the module docstring for the terms).

    The defaults are GPT-2's; ``bias=False, norm="rms"`` is :class:`lib.transformer.TinyGPT`'s default.
    """
    V, T = _check_int("vocab_size", vocab_size), _check_int("n_ctx", n_ctx)
    body = non_embedding_params(n_layers, d_model, d_ff, bias=bias, norm=norm, final_norm=final_norm)
    d = int(d_model)
    return body + V * d + (T * d if learned_pos else 0) + (0 if tied else V * d)


def encdec_param_count(n_layers: int, d_model: int, d_ff: int, vocab_size: int, *, bias: bool = True,
                       shared_embeddings: bool = True) -> int:
    """The 2017 encoder-decoder: encoder layers (self-attention, MLP, 2 LayerNorms), decoder layers
    (self-attention, cross-attention, MLP, 3 LayerNorms), sinusoidal positions (no parameters) and one
    embedding matrix shared by source, target and output projection (else three)."""
    L, d = _check_int("n_layers", n_layers), _check_int("d_model", d_model)
    d_ff, V = _check_int("d_ff", d_ff), _check_int("vocab_size", vocab_size)
    ln = _norm_params(d, "layer", bias)
    enc = _attention_params(d, bias) + _mlp_params(d, d_ff, bias) + 2 * ln
    dec = 2 * _attention_params(d, bias) + _mlp_params(d, d_ff, bias) + 3 * ln
    return L * (enc + dec) + V * d * (1 if shared_embeddings else 3)


def train_flops(n_params: float, n_tokens: float) -> float:
    """Training compute ``C ~ 6 N D``: 2 FLOPs per parameter and token forward, 4 backward."""
    return 6.0 * _check_positive("n_params", n_params) * _check_positive("n_tokens", n_tokens)


def forward_flops_per_token(n_params: float, n_layers: int, d_model: int, n_ctx: int) -> float:
    """Forward FLOPs per token ``2 N + 2 L n_ctx d``: the matrix products plus the attention scores and sums."""
    N = _check_positive("n_params", n_params)
    L, d, T = _check_int("n_layers", n_layers), _check_int("d_model", d_model), _check_int("n_ctx", n_ctx)
    return 2.0 * N + 2.0 * L * T * d


def kv_cache_bytes(n_layers: int, d_model: int, n_tokens: int, *, bytes_per_value: int = 2, batch: int = 1) -> int:
    """Memory of the keys and values of ``n_tokens`` tokens: ``2 L d`` numbers per token (fp16: 2 bytes each)."""
    L, d = _check_int("n_layers", n_layers), _check_int("d_model", d_model)
    T, b = _check_int("n_tokens", n_tokens, 0), _check_int("bytes_per_value", bytes_per_value)
    return 2 * L * d * T * b * _check_int("batch", batch)


def noam_lr(step, d_model: int = 512, warmup: int = 4000):
    """The 2017 schedule ``d^-0.5 min(step^-0.5, step warmup^-1.5)`` (step >= 1; scalar or array).

    It rises linearly for ``warmup`` steps, peaks at ``(d warmup)^-0.5`` and then decays as step^-0.5.
    """
    d, w = _check_int("d_model", d_model), _check_int("warmup", warmup)
    s = np.asarray(step, dtype=np.float64)
    if s.size == 0 or not np.all(np.isfinite(s)) or np.any(s < 1):
        raise ValueError("step: expected step numbers >= 1")
    out = d ** -0.5 * np.minimum(s ** -0.5, s * w ** -1.5)
    return float(out) if out.ndim == 0 else out
