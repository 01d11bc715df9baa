"""Public checks for the Chapter 5 exercises (``exercises/ch05_transformer.ipynb``).

Questions: q1 causal attention from matmul, softmax and a mask; q2 multi-head self-attention against
``torch.nn.MultiheadAttention``; q3 greedy decoding with a KV cache; q4 counting the parameters of a GPT;
q5 a LoRA layer; q6 the compute-optimal model size and a power-law fit; q7 the Bradley-Terry loss and a linear
reward model; q8 PPO's clipped objective; q9 the symmetric InfoNCE (CLIP) loss; q10 cutting an image into
patches for a ViT.

Every reference is computed here, independently of the course's topic modules: ``torch.nn.functional``,
``torch.nn.MultiheadAttention``, models built from ``torch.nn`` modules (on the meta device, so even GPT-3
costs nothing), ``scipy.optimize`` and closed forms, in float64 on the CPU. A wrong answer fails with a message
that says what is off and by how much, and names the mistake when it is a known one (the book's own slips among
them). The underscore helpers are shared with ``tests/hidden/ch05_transformer.py``.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np
import scipy.optimize
import scipy.stats
import torch
import torch.nn.functional as F

from lib.grading import check
from lib.grading.answers import (answered as _answered, as_array as _array, as_number as _number, close as _close,
                                 looks_like as _looks_like, unchanged as _unchanged)

F64 = torch.float64


# --------------------------------------------------------------------------- helpers
def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(gen, *shape, scale=1.0) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=F64) * scale


def _pair(got, name: str, what: str = "(out, weights)"):
    _answered(got, name)
    assert isinstance(got, (tuple, list)) and len(got) == 2, \
        f"{name}: expected a pair {what}, got {type(got).__name__}"
    return got


@contextlib.contextmanager
def _forbid_sdpa():
    """Replace torch's fused attention by a function that raises, for the duration of a student call."""
    saved = F.scaled_dot_product_attention

    def blocked(*args, **kwargs):
        raise AssertionError("you called F.scaled_dot_product_attention: compute the scores, the mask and the "
                             "softmax yourself (the check compares with it)")
    F.scaled_dot_product_attention = blocked
    try:
        yield
    finally:
        F.scaled_dot_product_attention = saved


# --------------------------------------------------------------------------- q1: causal attention
def _attention_reference(q, k, v, causal=True, scale=None):
    """(out, weights) computed stably: softmax(q k^T / sqrt(d) + mask) v."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ k.transpose(-2, -1) * scale
    if causal:
        T, S = s.shape[-2:]
        s = s.masked_fill(~torch.ones(T, S, dtype=torch.bool).tril(), float("-inf"))
    w = torch.softmax(s, dim=-1)
    return w @ v, w


def _attention_mistakes(q, k, v) -> dict:
    T = q.shape[-2]
    d = q.shape[-1]
    s = q @ k.transpose(-2, -1) / math.sqrt(d)
    lower = torch.ones(T, T, dtype=torch.bool).tril()
    after = torch.softmax(s, -1) * lower
    return {"attention without the 1/sqrt(d_k) scale": _attention_reference(q, k, v, scale=1.0),
            "attention scaled by 1/d_k instead of 1/sqrt(d_k)": _attention_reference(q, k, v, scale=1 / d),
            "the mask applied after the softmax (the masked weights are zeroed but the rows no longer sum to 1)":
            (after @ v, after),
            "attention without the causal mask": _attention_reference(q, k, v, causal=False)}


def _call_attention(causal_attention, q, k, v, name):
    with _forbid_sdpa():
        got = causal_attention(q.clone(), k.clone(), v.clone())
    _pair(got, name)
    w = got[1]
    if isinstance(w, torch.Tensor) and w.dim() >= 2 and w.shape[-1] >= 2 and w.shape[-2] >= 2:
        w = w.detach()
        assert not (torch.isnan(w[..., 0, :]).all() and (w[..., 1, 1] == 0).all()), \
            (f"{name}: the first row of the weights is nan and the diagonal is 0: a mask off by one (the diagonal "
             "excluded). Query i must see keys j <= i, itself included")
    return got


def _check_attention(causal_attention, q, k, v, name, tol=1e-10) -> None:
    out, w = _call_attention(causal_attention, q, k, v, name)
    want = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    _, want_w = _attention_reference(q, k, v)
    mistakes = _attention_mistakes(q, k, v)
    _close(w, want_w, tol, f"{name}: weights (shape {tuple(want_w.shape)})", {m: x[1] for m, x in mistakes.items()})
    _close(out, want, tol, f"{name}: out (shape {tuple(want.shape)}; compared with "
                           "F.scaled_dot_product_attention(q, k, v, is_causal=True))",
           {m: x[0] for m, x in mistakes.items()})


ATTN_SHAPES = [(1, 1, 7, 8), (3, 4, 16, 32), (1, 4, 1, 8), (3, 1, 16, 8), (2, 2, 5, 32)]


@check("q1", points=1.5, hint="s = q @ k.transpose(-2, -1) / sqrt(d); put -inf above the diagonal "
                              "(torch.ones(T, T, dtype=torch.bool).tril()); softmax over the last axis; w @ v")
def causal_attention_matches_sdpa(causal_attention):
    gen = _gen(501)
    for shape in ATTN_SHAPES:
        q, k, v = (_randn(gen, *shape) for _ in range(3))
        _check_attention(causal_attention, q, k, v, f"causal_attention on shape {shape}")


@check("q1", points=1, hint="the weights of one query (one row) are a probability vector over the keys it may see")
def causal_attention_weights_are_causal_rows(causal_attention):
    gen = _gen(502)
    q, k, v = (_randn(gen, 2, 3, 9, 8) for _ in range(3))
    _, w = _call_attention(causal_attention, q, k, v, "causal_attention")
    w = _array(w, "weights", shape=(2, 3, 9, 9))
    upper = np.triu(np.ones((9, 9), dtype=bool), 1)
    assert np.all(w[..., upper] == 0), (f"weights above the diagonal must be exactly 0 (query i may not look at key "
                                        f"j > i); the largest is {np.abs(w[..., upper]).max():.2e}")
    diag = w[..., np.arange(9), np.arange(9)]
    assert np.all(diag > 0), ("a weight on the diagonal is 0: each query must see its own key. This looks like a "
                              "mask off by one (the diagonal excluded)")
    sums = w.sum(-1)
    assert np.allclose(sums, 1, atol=1e-12), (f"each row of the weights must sum to 1; sums range from "
                                              f"{sums.min():.6f} "
                                              f"to {sums.max():.6f} (a mask applied after the softmax?)")
    assert np.all(w >= 0), "weights must be non-negative"


@check("q1", points=1, hint="out[i] may depend only on keys and values at positions j <= i")
def causal_attention_ignores_the_future(causal_attention):
    gen = _gen(503)
    q, k, v = (_randn(gen, 1, 2, 10, 8) for _ in range(3))
    out, _ = _call_attention(causal_attention, q, k, v, "causal_attention")
    out = _array(out, "out", shape=(1, 2, 10, 8))
    for i in (0, 4, 8):
        k2, v2 = k.clone(), v.clone()
        k2[..., i + 1:, :] = _randn(gen, 1, 2, 9 - i, 8) * 3
        v2[..., i + 1:, :] = _randn(gen, 1, 2, 9 - i, 8) * 3
        out2, _ = _call_attention(causal_attention, q, k2, v2, "causal_attention")
        out2 = _array(out2, "out", shape=(1, 2, 10, 8))
        diff = np.abs(out2[..., : i + 1, :] - out[..., : i + 1, :]).max()
        assert diff < 1e-12, (f"changing the keys and values after position {i} changed out[..., :{i + 1}, :] by "
                              f"{diff:.2e}: the output leaks information from the future (check the mask)")


@check("q1", points=0.5, hint="subtract the row maximum before exp (torch.softmax does it for you)")
def causal_attention_is_stable_for_large_logits(causal_attention):
    gen = _gen(504)
    q, k, v = (_randn(gen, 2, 2, 12, 8) for _ in range(3))
    q = q * 1e3  # logits of the order of 1e3 to 1e4: exp overflows unless the maximum is subtracted
    out, w = _call_attention(causal_attention, q, k, v, "causal_attention with logits ~1e4")
    _close(w, _attention_reference(q, k, v)[1], 1e-9, "weights for q scaled by 1e3 (logits ~1e4)")
    _close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), 1e-9, "out for q scaled by 1e3")


# --------------------------------------------------------------------------- q2: multi-head self-attention
def _build(cls, name, *args, **kwargs):
    _answered(cls, name)
    obj = cls(*args, **kwargs)
    _answered(obj, f"{name}{args}")
    assert isinstance(obj, torch.nn.Module), f"{name}(...) must be a torch.nn.Module, got {type(obj).__name__}"
    return obj


def _mha(MultiHeadSelfAttention, d, H, bias, seed):
    m = _build(MultiHeadSelfAttention, "MultiHeadSelfAttention", d, H, bias=bias).double()
    for attr in ("W_q", "W_k", "W_v", "W_o"):
        lin = getattr(m, attr, None)
        assert isinstance(lin, torch.nn.Linear), f"MultiHeadSelfAttention needs an nn.Linear attribute `{attr}`"
        assert tuple(lin.weight.shape) == (d, d), \
            f"{attr}.weight: expected shape {(d, d)}, got {tuple(lin.weight.shape)}"
        assert (lin.bias is not None) == bias, f"{attr} should {'have' if bias else 'have no'} bias (bias={bias})"
    gen = _gen(seed)
    with torch.no_grad():  # random weights (not the default init), so that biases matter too
        for attr in ("W_q", "W_k", "W_v", "W_o"):
            lin = getattr(m, attr)
            lin.weight.copy_(_randn(gen, d, d, scale=1 / math.sqrt(d)))
            if bias:
                lin.bias.copy_(_randn(gen, d, scale=0.3))
    return m


def _torch_mha(m, d, H, bias):
    ref = torch.nn.MultiheadAttention(d, H, bias=bias, batch_first=True, dtype=F64)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([m.W_q.weight, m.W_k.weight, m.W_v.weight]))
        ref.out_proj.weight.copy_(m.W_o.weight)
        if bias:
            ref.in_proj_bias.copy_(torch.cat([m.W_q.bias, m.W_k.bias, m.W_v.bias]))
            ref.out_proj.bias.copy_(m.W_o.bias)
    return ref.eval()


def _mha_mistakes(m, x, H, causal) -> dict:
    with torch.no_grad():
        B, T, d = x.shape
        dh = d // H
        q, k, v = m.W_q(x), m.W_k(x), m.W_v(x)
        split = lambda t: t.view(B, T, H, dh).transpose(1, 2)  # noqa: E731
        o, w = _attention_reference(split(q), split(k), split(v), causal=causal)
        wrong_merge = o.reshape(B, T, d)  # (B, H, T, dh) flattened without moving the head axis back
        o, _ = _attention_reference(split(q), split(k), split(v), causal=causal, scale=1 / math.sqrt(d))
        return {"heads merged in the wrong order (reshape (B, H, T, d_h) to (B, T, d) without transpose(1, 2))":
                m.W_o(wrong_merge),
                "the output without W_O (the heads are concatenated but never mixed)":
                _attention_reference(split(q), split(k), split(v), causal=causal)[0].transpose(1, 2).reshape(B, T, d),
                "scores scaled by 1/sqrt(d_model) instead of 1/sqrt(d_head)": m.W_o(o.transpose(1, 2).reshape(B, T, d))}


def _check_mha(MultiHeadSelfAttention, d, H, bias, B, T, causal, seed, name, tol=1e-10):
    m = _mha(MultiHeadSelfAttention, d, H, bias, seed)
    x = _randn(_gen(seed + 1), B, T, d)
    with _forbid_sdpa():
        got = _pair(m(x.clone(), causal=causal), name)
    ref = _torch_mha(m, d, H, bias)
    mask = torch.ones(T, T, dtype=torch.bool).triu(1) if causal else None  # nn.MHA: True = blocked
    with torch.no_grad():
        want, want_w = ref(x, x, x, attn_mask=mask, need_weights=True, average_attn_weights=False)
    _close(got[0], want, tol, f"{name}: output (shape {tuple(want.shape)}; compared with nn.MultiheadAttention "
                              "holding your weights)", _mha_mistakes(m, x, H, causal))
    _close(got[1], want_w, tol, f"{name}: per-head weights (shape {tuple(want_w.shape)} = (B, H, T, T))")


@check("q2", points=1.5, hint="q = self.W_q(x).view(B, T, H, d_h).transpose(1, 2); attention per head with "
                              "scale 1/sqrt(d_h); o.transpose(1, 2).reshape(B, T, d); then self.W_o")
def mha_matches_torch_causal(MultiHeadSelfAttention):
    _check_mha(MultiHeadSelfAttention, 16, 4, False, 2, 7, True, 511, "MultiHeadSelfAttention(16, 4), causal")


@check("q2", points=1)
def mha_matches_torch_with_bias_and_no_mask(MultiHeadSelfAttention):
    _check_mha(MultiHeadSelfAttention, 12, 3, True, 3, 5, False, 512,
               "MultiHeadSelfAttention(12, 3, bias=True), causal=False")


@check("q2", points=1, hint="four d x d matrices, plus four bias vectors of length d when bias=True")
def mha_parameter_count(MultiHeadSelfAttention):
    for d, H, bias in [(16, 4, False), (24, 3, True), (8, 1, True)]:
        m = _build(MultiHeadSelfAttention, "MultiHeadSelfAttention", d, H, bias=bias)
        n = sum(p.numel() for p in m.parameters())
        want = 4 * d * d + (4 * d if bias else 0)
        assert n == want, f"MultiHeadSelfAttention({d}, {H}, bias={bias}) has {n} parameters; expected 4 d^2" + \
            (" + 4 d" if bias else "") + f" = {want}"


@check("q2", points=1, hint="with one head, d_h = d and the layer is W_O applied to q1's attention")
def mha_one_head_is_q1(MultiHeadSelfAttention):
    d, T = 10, 6
    m = _mha(MultiHeadSelfAttention, d, 1, False, 513)
    x = _randn(_gen(514), 2, T, d)
    got = _pair(m(x.clone(), causal=True), "MultiHeadSelfAttention(10, 1)")
    with torch.no_grad():
        o, w = _attention_reference(m.W_q(x), m.W_k(x), m.W_v(x))
        want = m.W_o(o)
    _close(got[0], want, 1e-10, "MultiHeadSelfAttention with H = 1: output (should be W_O applied to causal attention)")
    _close(got[1], w[:, None], 1e-10, "MultiHeadSelfAttention with H = 1: weights, shape (B, 1, T, T)")


# --------------------------------------------------------------------------- q3: greedy decoding with a KV cache
def _tiny_model(seed=0, vocab=13, d=16, n_layers=2, n_heads=2, n_ctx=40) -> dict:
    """A random causal transformer in the notebook's format (a dict of float64 tensors and two integers)."""
    g = _gen(seed)
    s = 1 / math.sqrt(d)
    layers = [{"Wq": _randn(g, d, d, scale=s * 1.5), "Wk": _randn(g, d, d, scale=s * 1.5),
               "Wv": _randn(g, d, d, scale=s), "Wo": _randn(g, d, d, scale=s),
               "W1": _randn(g, 4 * d, d, scale=s), "b1": _randn(g, 4 * d, scale=0.1),
               "W2": _randn(g, d, 4 * d, scale=0.5 * s), "b2": _randn(g, d, scale=0.1)} for _ in range(n_layers)]
    return {"wte": _randn(g, vocab, d), "wpe": _randn(g, n_ctx, d, scale=0.5), "layers": layers,
            "wout": _randn(g, vocab, d), "n_heads": n_heads, "n_ctx": n_ctx}


def _rms(h):
    return h / torch.sqrt((h * h).mean(-1, keepdim=True) + 1e-6)


def _full_forward(model, tokens):
    """logits (T, V) and the per-layer keys and values (T, d), recomputing everything (the check's reference)."""
    T, H = len(tokens), model["n_heads"]
    h = model["wte"][torch.tensor(tokens)] + model["wpe"][:T]
    d = h.shape[-1]
    keys, values = [], []
    for L in model["layers"]:
        x = _rms(h)
        q, k, v = x @ L["Wq"].T, x @ L["Wk"].T, x @ L["Wv"].T
        keys.append(k)
        values.append(v)
        split = lambda t: t.view(T, H, d // H).transpose(0, 1)  # noqa: E731
        o, _ = _attention_reference(split(q), split(k), split(v))
        h = h + o.transpose(0, 1).reshape(T, d) @ L["Wo"].T
        h = h + F.gelu(_rms(h) @ L["W1"].T + L["b1"]) @ L["W2"].T + L["b2"]
    return _rms(h) @ model["wout"].T, keys, values


def _greedy_reference(model, prompt, n_new):
    tokens, logits = list(prompt), []
    for _ in range(n_new):
        lg = _full_forward(model, tokens)[0][-1]
        logits.append(lg)
        tokens.append(int(lg.argmax()))
    return tokens[len(prompt):], torch.stack(logits), tokens


class _RowCounter(torch.overrides.TorchFunctionMode):
    """Counts the rows multiplied by each watched weight matrix (any torch call with that matrix, or a view of
    it, as an argument: @, matmul, F.linear, einsum, ...)."""

    def __init__(self, weights: dict):
        super().__init__()
        self.ptrs = {w.data_ptr(): name for name, w in weights.items()}
        self.rows = {name: 0 for name in weights}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        flat = [a for a in list(args) + list(kwargs.values()) if isinstance(a, torch.Tensor)]
        for a in args:
            if isinstance(a, (list, tuple)):
                flat += [b for b in a if isinstance(b, torch.Tensor)]
        hit = [self.ptrs[t.data_ptr()] for t in flat if t.data_ptr() in self.ptrs and t.dim() == 2]
        if hit and func not in (torch.Tensor.__getitem__,):
            others = [t for t in flat if t.data_ptr() not in self.ptrs]
            d = next(t for t in flat if t.data_ptr() in self.ptrs).shape[-1]
            rows = sum(t.numel() // d for t in others if t.numel() and t.shape[-1] == d)
            for name in set(hit):
                self.rows[name] += rows
        return func(*args, **kwargs)


def _call_generate(generate_with_cache, model, prompt, n_new, name, count=False):
    counter = None
    if count:
        watched = {f"L{i}.{w}": L[w] for i, L in enumerate(model["layers"]) for w in ("Wq", "Wk", "Wv")}
        counter = _RowCounter(watched)
        with counter:
            got = generate_with_cache(model, list(prompt), n_new)
    else:
        got = generate_with_cache(model, list(prompt), n_new)
    _answered(got, name)
    assert isinstance(got, (tuple, list)) and len(got) == 3, \
        f"{name}: expected a triple (new_tokens, logits, cache), got {type(got).__name__}"
    return got, counter


def _check_tokens_and_logits(generate_with_cache, model, prompt, n_new, name, tol=1e-10):
    want_new, want_logits, _ = _greedy_reference(model, prompt, n_new)
    (new, logits, _), _ = _call_generate(generate_with_cache, model, prompt, n_new, name)
    new = _array(new, f"{name}: new_tokens", dtype=float)
    assert new.shape == (n_new,), f"{name}: expected {n_new} new tokens, got shape {new.shape}"
    _close(logits, want_logits, tol, f"{name}: per-step logits, shape (n_new, V) (compared with a full "
                                     "recomputation of the prefix at every step)")
    assert new.astype(int).tolist() == want_new, f"{name}: tokens {new.astype(int).tolist()}, expected {want_new}"


@check("q3", points=1.5, hint="prefill: run the prompt once, storing each layer's K and V; then per step run only the "
                              "new token at position t, append its k and v, and attend over the whole cache")
def kv_cache_matches_full_recomputation(generate_with_cache):
    model = _tiny_model(531)
    for prompt, n_new in [([1, 5, 2], 6), ([7], 5), ([3, 3, 8, 0, 11, 4], 4)]:
        _check_tokens_and_logits(generate_with_cache, model, prompt, n_new,
                                 f"generate_with_cache(model, {prompt}, {n_new})")


@check("q3", points=1, hint="the cache is a list with one (K, V) pair per layer, each of shape (positions, d_model)")
def kv_cache_length_and_contents(generate_with_cache):
    model = _tiny_model(532)
    prompt, n_new = [2, 9, 4, 1], 5
    (_, _, cache), _ = _call_generate(generate_with_cache, model, prompt, n_new, "generate_with_cache")
    assert isinstance(cache, (list, tuple)) and len(cache) == len(model["layers"]), \
        f"the cache should be a list with one (K, V) pair per layer ({len(model['layers'])} layers)"
    _, _, tokens = _greedy_reference(model, prompt, n_new)
    _, keys, values = _full_forward(model, tokens[:-1])
    n = len(prompt) + n_new - 1
    for i, entry in enumerate(cache):
        assert isinstance(entry, (list, tuple)) and len(entry) == 2, f"cache[{i}] should be a pair (K, V)"
        K = _array(entry[0], f"cache[{i}][0] (K)")
        assert K.shape[0] == n, (f"cache[{i}] holds {K.shape[0]} positions; after a prompt of {len(prompt)} and "
                                 f"{n_new} new tokens it should hold {n} (the last token is never fed back)")
        _close(K, keys[i], 1e-10, f"cache[{i}][0] (the keys of layer {i}, shape (positions, d_model))",
               {"normalised hidden states instead of keys": _rms(keys[i])})
        _close(entry[1], values[i], 1e-10, f"cache[{i}][1] (the values of layer {i})",
               {"the keys stored as values": keys[i]})


@check("q3", points=1.5, hint="after the prompt, each step must project only the one new token with W_q, W_k, W_v")
def kv_cache_projects_one_token_per_step(generate_with_cache):
    model = _tiny_model(533)
    prompt, n_new = [4, 0, 7, 7, 2], 6
    (_, logits, _), counter = _call_generate(generate_with_cache, model, prompt, n_new, "generate_with_cache",
                                             count=True)
    _close(logits, _greedy_reference(model, prompt, n_new)[1], 1e-10, "generate_with_cache: per-step logits")
    want = len(prompt) + n_new - 1
    full = sum(len(prompt) + t for t in range(n_new))
    for name, rows in counter.rows.items():
        assert rows > 0, (f"no call with {name} was seen: project with linear(x, layer['Wq']) (or x @ W.T), "
                          "the weight itself, not a copy")
        assert rows == want, (f"{name} was applied to {rows} rows in total; a cache needs {want} (the {len(prompt)} "
                              f"prompt positions once, then one row per new token)" +
                              (". This looks like full recomputation at every step" if rows >= full else ""))


# --------------------------------------------------------------------------- q4: parameter counts
def _torch_gpt(n_layers, d, vocab, n_ctx, bias, norm, tied):
    """A GPT-2-style model from torch.nn modules on the meta device (no memory); returns its parameter count."""
    nn = torch.nn
    meta = dict(device="meta")
    Norm = (lambda: nn.LayerNorm(d, bias=bias, **meta)) if norm == "layer" else (lambda: nn.RMSNorm(d, **meta))
    Emb = lambda n: nn.Embedding(n, d, _weight=torch.empty(n, d, **meta))  # noqa: E731  (skips a slow meta init)
    blocks = nn.ModuleList(nn.ModuleDict({"ln1": Norm(), "qkv": nn.Linear(d, 3 * d, bias=bias, **meta),
                                          "proj": nn.Linear(d, d, bias=bias, **meta), "ln2": Norm(),
                                          "fc": nn.Linear(d, 4 * d, bias=bias, **meta),
                                          "out": nn.Linear(4 * d, d, bias=bias, **meta)}) for _ in range(n_layers))
    model = nn.ModuleDict({"wte": Emb(vocab), "wpe": Emb(n_ctx), "blocks": blocks, "ln_f": Norm(),
                           "head": nn.Linear(d, vocab, bias=False, **meta)})
    if tied:
        model["head"].weight = model["wte"].weight
    return sum(p.numel() for p in model.parameters())  # parameters() lists a shared tensor once


GPT3_ROWS = [("GPT-3 Small", 125e6, 12, 768), ("GPT-3 Medium", 350e6, 24, 1024), ("GPT-3 Large", 760e6, 24, 1536),
             ("GPT-3 XL", 1.3e9, 24, 2048), ("GPT-3 2.7B", 2.7e9, 32, 2560), ("GPT-3 6.7B", 6.7e9, 32, 4096),
             ("GPT-3 13B", 13.0e9, 40, 5140), ("GPT-3 175B", 175.0e9, 96, 12288)]

COUNT_CONFIGS = [(2, 64, 42, 16, True, "layer", True), (2, 64, 42, 16, False, "rms", True),
                 (3, 32, 50, 24, True, "layer", False), (1, 48, 17, 8, False, "layer", False),
                 (4, 16, 11, 64, True, "rms", False), (2, 40, 30, 12, False, "rms", False)]


def _count_mistakes(L, d, V, n, bias, norm, tied, full) -> dict:
    """Counts with one known slip each, from the right count ``full`` (to name a wrong answer)."""
    norm_bias = d if (norm == "layer" and bias) else 0
    nparam = d + norm_bias
    out = {"a count without the biases of the linear maps (9 d per layer)": full - L * 9 * d if bias else full,
           "a count without any biases (linear maps and norms)": full - L * 9 * d - (2 * L + 1) * norm_bias
           if bias else full,
           "LayerNorm counted with d parameters instead of 2 d": full - (2 * L + 1) * norm_bias,
           "a count with an untied (separate) unembedding": full + V * d if tied else full,
           "a count without the final norm": full - nparam,
           "a count without the position embedding": full - n * d,
           "12 L d^2 only": 12 * L * d * d}
    return {k: v for k, v in out.items() if v != full}


def _name_count(got, cfg, want) -> str:
    label = next((k for k, v in _count_mistakes(*cfg, want).items() if v == got), None)
    return f" This looks like {label}." if label else ""


def _call_count(gpt_param_count, L, d, V, n, bias, norm, tied):
    got = gpt_param_count(L, d, V, n, bias=bias, norm=norm, tied=tied)
    return _number(got, f"gpt_param_count({L}, {d}, {V}, {n}, bias={bias}, norm={norm!r}, tied={tied})")


def _check_count(gpt_param_count, cfg) -> None:
    got = _call_count(gpt_param_count, *cfg)
    want = _torch_gpt(*cfg)
    if got != want:
        raise AssertionError(f"gpt_param_count{cfg[:4]} with bias={cfg[4]}, norm={cfg[5]!r}, tied={cfg[6]} gives "
                             f"{got:,.0f}; a torch model of that shape has {want:,} parameters (off by "
                             f"{got - want:+,.0f})." + _name_count(got, cfg, want))


@check("q4", points=1.5, hint="embeddings V d + n_ctx d; per layer 12 d^2 (+ 9 d biases) and two norms; a final "
                              "norm; an unembedding V d unless tied. LayerNorm has d weights (+ d biases)")
def param_count_matches_torch_models(gpt_param_count):
    for cfg in COUNT_CONFIGS:
        _check_count(gpt_param_count, cfg)


@check("q4", points=1)
def param_count_gpt2_small(gpt_param_count):
    got = _call_count(gpt_param_count, 12, 768, 50257, 1024, True, "layer", True)
    assert got == 124_439_808, (f"GPT-2 small (12 layers, d = 768, V = 50257, n_ctx = 1024, LayerNorm, biases, tied) "
                                f"has 124,439,808 parameters; you get {got:,.0f} (off by {got - 124_439_808:+,.0f})."
                                + _name_count(got, (12, 768, 50257, 1024, True, "layer", True), 124_439_808))


@check("q4", points=1)
def param_count_gpt3_175b(gpt_param_count):
    got = _call_count(gpt_param_count, 96, 12288, 50257, 2048, True, "layer", True)
    want = 174_604_259_328
    assert got == want, f"GPT-3 175B in the GPT-2 layout has {want:,} parameters; you get {got:,.0f} (off by " \
                        f"{got - want:+,.0f})." + _name_count(got, (96, 12288, 50257, 2048, True, "layer", True), want)


@check("q4", points=1, hint="the table's n_params are rounded; the formula should land within 2 % of each")
def param_count_gpt3_table(gpt_param_count):
    for label, published, L, d in GPT3_ROWS:
        got = _call_count(gpt_param_count, L, d, 50257, 2048, True, "layer", True)
        rel = got / published - 1
        assert abs(rel) <= 0.02, f"{label} (L = {L}, d = {d}): you get {got:,.0f}, {100 * rel:+.1f} % from the " \
                                 f"published {published:,.0f}; expected within 2 %"


# --------------------------------------------------------------------------- q5: LoRA
def _base_linear(d_in, d_out, seed, bias=True):
    lin = torch.nn.Linear(d_in, d_out, bias=bias, dtype=F64)
    g = _gen(seed)
    with torch.no_grad():
        lin.weight.copy_(_randn(g, d_out, d_in, scale=1 / math.sqrt(d_in)))
        if bias:
            lin.bias.copy_(_randn(g, d_out, scale=0.2))
    return lin


def _lora(LoRALinear, base, r, alpha=None):
    kwargs = {} if alpha is None else {"alpha": alpha}
    m = _build(LoRALinear, "LoRALinear", base, r, **kwargs)
    for attr, shape in (("A", (r, base.in_features)), ("B", (base.out_features, r))):
        p = getattr(m, attr, None)
        assert isinstance(p, torch.nn.Parameter), f"LoRALinear needs an nn.Parameter `{attr}` of shape {shape}"
        assert tuple(p.shape) == shape, f"LoRALinear.{attr}: expected shape {shape}, got {tuple(p.shape)}"
    return m


def _randomise_lora(m, seed):
    g = _gen(seed)
    with torch.no_grad():
        m.A.copy_(_randn(g, *m.A.shape))
        m.B.copy_(_randn(g, *m.B.shape, scale=0.5))


def _call_module(m, x, name):
    got = m(x.clone())
    return _answered(got, name)


@check("q5", points=1, hint="B starts at zero, so B A = 0 and the layer starts as the base layer")
def lora_starts_as_the_base_layer(LoRALinear):
    base = _base_linear(10, 6, 541)
    m = _lora(LoRALinear, base, 2)
    x = _randn(_gen(542), 5, 10)
    with torch.no_grad():
        _close(_call_module(m, x, "LoRALinear(base, 2)(x)"), base(x), 1e-12,
               "LoRALinear(base, r=2)(x) at initialisation (should equal base(x))")
    A = _array(m.A, "LoRALinear.A")
    assert np.abs(A).max() > 0, "A should start random (only B starts at zero); with both zero, B never gets a gradient"


@check("q5", points=1, hint="freeze the base: base.weight.requires_grad_(False) (and its bias)")
def lora_trains_only_A_and_B(LoRALinear):
    for d_in, d_out, r in [(10, 6, 2), (32, 20, 4)]:
        base = _base_linear(d_in, d_out, 543)
        m = _lora(LoRALinear, base, r)
        n = sum(p.numel() for p in m.parameters() if p.requires_grad)
        assert n == r * (d_in + d_out), (f"LoRALinear(Linear({d_in}, {d_out}), r={r}) has {n} trainable parameters; "
                                         f"expected r (d_in + d_out) = {r * (d_in + d_out)}")
    W0, b0 = base.weight.detach().clone(), base.bias.detach().clone()
    x = _randn(_gen(544), 8, d_in)
    out = _call_module(m, x, "LoRALinear(x)")
    (out ** 2).sum().backward()
    with torch.no_grad():  # one plain gradient step on whatever is trainable (torch.optim is slow to import)
        for p in m.parameters():
            if p.requires_grad and p.grad is not None:
                p -= 0.1 * p.grad
    assert torch.equal(m.base.weight, W0) and torch.equal(m.base.bias, b0), "the base layer changed in a training step"
    assert _array(m.B, "LoRALinear.B").any(), "B did not move in a training step: is B trainable?"


@check("q5", points=1.5, hint="delta_weight() = (alpha / r) * B @ A; merge() returns an nn.Linear with weight "
                              "base.weight + delta_weight() and the base bias")
def lora_delta_and_merge(LoRALinear):
    base = _base_linear(12, 7, 545)
    r, alpha = 3, 6.0
    m = _lora(LoRALinear, base, r, alpha)
    _randomise_lora(m, 546)
    want = (alpha / r) * (m.B @ m.A).detach()
    with torch.no_grad():
        delta = _answered(m.delta_weight(), "delta_weight()")
        _close(delta, want, 1e-12, "delta_weight() with r = 3, alpha = 6",
               {"B A without the alpha / r scale": want * r / alpha, "scaled by r / alpha": want * (r / alpha) ** 2,
                "A^T B^T (the transpose)": want.T})
        rank = np.linalg.matrix_rank(_array(delta, "delta_weight()"))
        assert rank <= r, f"delta_weight() has rank {rank} > r = {r}"
        x = _randn(_gen(547), 9, 12)
        y = _call_module(m, x, "LoRALinear(x)")
        _close(y, base(x) + x @ want.T, 1e-10, "LoRALinear(x) with random A, B",
               {"x (B A)^T without the alpha / r scale": base(x) + x @ want.T * r / alpha})
        merged = _answered(m.merge(), "merge()")
        assert isinstance(merged, torch.nn.Linear), f"merge() should return an nn.Linear, got {type(merged).__name__}"
        _close(merged(x), y, 1e-6, "merge()(x) (should equal LoRALinear(x))")


@check("q5", points=0.5, hint="the scale is alpha / r; with no alpha given, alpha = r (scale 1)")
def lora_alpha_scaling(LoRALinear):
    base = _base_linear(8, 5, 548)
    ms = [_lora(LoRALinear, base, 2, alpha) for alpha in (None, 2.0, 4.0)]
    for m in ms:
        _randomise_lora(m, 549)
    with torch.no_grad():
        deltas = [_array(_answered(m.delta_weight(), "delta_weight()"), "delta_weight()") for m in ms]
    BA = (ms[0].B @ ms[0].A).detach().numpy()
    _close(deltas[0], BA, 1e-12, "delta_weight() with alpha omitted (alpha = r, so scale 1)")
    _close(deltas[2], 2 * deltas[1], 1e-12, "delta_weight() with alpha = 4 (should be twice that with alpha = 2)")


# --------------------------------------------------------------------------- q6: compute-optimal allocation
BESIROGLU = dict(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)
HOFFMANN = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)


def _chinchilla_optimum(C, E, A, B, alpha, beta):
    """argmin over N of E + A N^-alpha + B (C / 6N)^-beta, numerically (the reference)."""
    f = lambda u: A * math.exp(-alpha * u) + B * (C / 6 / math.exp(u)) ** -beta  # noqa: E731
    res = scipy.optimize.minimize_scalar(f, bounds=(math.log(1e3), math.log(C / 6) - math.log(1e3)),
                                         method="bounded", options={"xatol": 1e-12})
    N = math.exp(res.x)
    return N, C / (6 * N)


def _call_optimal(compute_optimal, C, p, name="compute_optimal"):
    got = compute_optimal(C, p["E"], p["A"], p["B"], p["alpha"], p["beta"])
    _answered(got, name)
    assert isinstance(got, (tuple, list)) and len(got) == 2, f"{name}: expected a pair (N_opt, D_opt)"
    return _number(got[0], f"{name}: N_opt"), _number(got[1], f"{name}: D_opt")


@check("q6", points=1, hint="D = C / (6 N): put it into L(N, D) and set dL/dN = 0")
def compute_optimal_budget_and_optimum(compute_optimal):
    for C, p in [(5.76e23, BESIROGLU), (1e21, HOFFMANN), (3.1e24, BESIROGLU)]:
        N, D = _call_optimal(compute_optimal, C, p)
        assert abs(6 * N * D / C - 1) < 1e-9, f"at C = {C:.3g}: 6 N D = {6 * N * D:.6g}, should equal C (rel 1e-9)"
        Nr, _ = _chinchilla_optimum(C, **p)
        assert abs(N / Nr - 1) < 1e-4, (f"at C = {C:.3g}: N_opt = {N:.5g}, but the loss is smallest at N = {Nr:.5g} "
                                        f"on the budget C = 6 N D ({100 * (N / Nr - 1):+.2f} %)")


@check("q6", points=1, hint="N_opt grows like C^(beta/(alpha+beta)), D_opt like C^(alpha/(alpha+beta))")
def compute_optimal_exponents(compute_optimal):
    p = HOFFMANN
    N1, D1 = _call_optimal(compute_optimal, 1e22, p)
    N2, D2 = _call_optimal(compute_optimal, 1e24, p)
    a, b = math.log(N2 / N1) / 2, math.log(D2 / D1) / 2  # log10 of the ratio over two decades
    a_want, b_want = p["beta"] / (p["alpha"] + p["beta"]), p["alpha"] / (p["alpha"] + p["beta"])
    a, b = a / math.log(10), b / math.log(10)
    kaplan = " This looks like the book's 0.6 / 0.4 split (Kaplan's own fit is 0.73 / 0.27)" \
        if abs(a - 0.6) < 1e-6 else ""
    swapped = " The exponents are swapped" if abs(a - b_want) < 1e-6 else ""
    assert abs(a - a_want) < 1e-6, (f"d log N_opt / d log C = {a:.4f}; expected beta / (alpha + beta) = "
                                    f"{a_want:.4f}.{kaplan}{swapped}")
    assert abs(b - b_want) < 1e-6, f"d log D_opt / d log C = {b:.4f}; expected alpha / (alpha + beta) = {b_want:.4f}"


@check("q6", points=0.5, hint="at the optimum the Lagrange condition reads alpha A N^-alpha = beta B D^-beta")
def compute_optimal_lagrange_and_besiroglu(compute_optimal):
    p = BESIROGLU
    N, D = _call_optimal(compute_optimal, 5.76e23, p)
    lhs, rhs = p["alpha"] * p["A"] * N ** -p["alpha"], p["beta"] * p["B"] * D ** -p["beta"]
    assert abs(lhs / rhs - 1) < 1e-8, f"N dL/dN = {-lhs:.6g} but D dL/dD = {-rhs:.6g}; at the optimum they are equal"
    assert abs(N / 72.2e9 - 1) < 0.01, f"Besiroglu et al.'s fit at C = 5.76e23 gives N ~ 72.2e9; you get {N:.4g}"
    assert abs(D / N - 18.4) < 0.1, f"Besiroglu et al.'s fit at C = 5.76e23 gives D / N ~ 18.4; you get {D / N:.3f}"


def _power_points(alpha, x_c, noise, seed, lo=1e5, hi=1e13, n=9):
    rng = np.random.default_rng(seed)
    x = np.logspace(math.log10(lo), math.log10(hi), n)
    return x, (x_c / x) ** alpha * np.exp(noise * rng.standard_normal(n))


def _call_fit(fit_power_law, x, y, name="fit_power_law"):
    got = fit_power_law(x.copy(), y.copy())
    _answered(got, name)
    assert isinstance(got, (tuple, list)) and len(got) == 2, f"{name}: expected a pair (alpha, x_c)"
    return _number(got[0], f"{name}: alpha"), _number(got[1], f"{name}: x_c")


@check("q6", points=1, hint="log y = alpha log x_c - alpha log x is a straight line in log-log: np.polyfit")
def fit_power_law_recovers_kaplan(fit_power_law):
    x, y = _power_points(0.076, 8.8e13, 0.0, 561)
    a, xc = _call_fit(fit_power_law, x, y)
    sign = " (the sign: y = (x_c / x)^alpha falls with x, alpha > 0)" if abs(a + 0.076) < 1e-6 else ""
    assert abs(a - 0.076) < 1e-8, f"exact points from (8.8e13 / N)^0.076: alpha = {a:.6g}, expected 0.076{sign}"
    assert abs(xc / 8.8e13 - 1) < 1e-6, f"exact points from (8.8e13 / N)^0.076: x_c = {xc:.6g}, expected 8.8e13"
    x, y = _power_points(0.076, 8.8e13, 0.01, 562)
    a, _ = _call_fit(fit_power_law, x, y)
    assert abs(a - 0.076) < 0.003, f"9 points with 1 % noise: alpha = {a:.4f}, expected 0.076 +- 0.003"


# --------------------------------------------------------------------------- q7: Bradley-Terry
def _bt_call(bradley_terry_loss, rc, rr, name="bradley_terry_loss"):
    got = bradley_terry_loss(rc, rr)
    _answered(got, name)
    assert isinstance(got, torch.Tensor), f"{name}: return a torch scalar tensor (so it can be differentiated)"
    assert got.numel() == 1, f"{name}: expected the mean loss (one number), got shape {tuple(got.shape)}"
    return got


def _bt_ref(rc, rr):
    return F.softplus(-(rc - rr)).mean()


def _bt_mistakes(rc, rr):
    d = rc - rr
    return {"the sign flipped (the book's J_RM = sum log sigma(dr) is maximised; the loss is -log sigma(dr))":
            (-F.softplus(-d)).mean(),
            "the sum instead of the mean": F.softplus(-d).sum(),
            "sigma(r_rejected - r_chosen): chosen and rejected swapped": F.softplus(d).mean()}


@check("q7", points=1, hint="loss = mean(-log sigmoid(r_chosen - r_rejected)); use F.logsigmoid (stable)")
def bt_loss_values(bradley_terry_loss):
    z = torch.zeros(5, dtype=F64)
    got = _number(_bt_call(bradley_terry_loss, z, z).detach(), "bradley_terry_loss at equal rewards")
    assert abs(got - math.log(2)) < 1e-12, (f"equal rewards: loss {got:.6f}, expected ln 2 = 0.693147" +
                                            (" (the sign is flipped)" if abs(got + math.log(2)) < 1e-12 else ""))
    g = _gen(571)
    rc, rr = _randn(g, 10, scale=2), _randn(g, 10, scale=2)
    _close(_bt_call(bradley_terry_loss, rc, rr).detach(), _bt_ref(rc, rr), 1e-12,
           "bradley_terry_loss on 10 random pairs", {k: v for k, v in _bt_mistakes(rc, rr).items()})
    big = torch.tensor([800.0, -800.0, 0.0], dtype=F64)
    got = _bt_call(bradley_terry_loss, big, -big).detach()
    _close(got, _bt_ref(big, -big), 1e-12, "bradley_terry_loss with reward gaps of +-1600 (log(sigmoid) overflows; "
                                          "use F.logsigmoid or softplus)")


@check("q7", points=1, hint="d loss / d r_chosen = -(1 - sigmoid(r_chosen - r_rejected)) / n")
def bt_loss_gradient_and_shift(bradley_terry_loss):
    g = _gen(572)
    rc, rr = _randn(g, 12).requires_grad_(), _randn(g, 12).requires_grad_()
    _bt_call(bradley_terry_loss, rc, rr).backward()
    assert rc.grad is not None, "no gradient reached r_chosen: compute the loss with torch operations"
    d = (rc - rr).detach()
    _close(rc.grad, -(1 - torch.sigmoid(d)) / 12, 1e-12, "d loss / d r_chosen",
           {"the gradient of the sum (no 1 / n)": -(1 - torch.sigmoid(d)),
            "the flipped sign": (1 - torch.sigmoid(d)) / 12})
    _close(rr.grad, (1 - torch.sigmoid(d)) / 12, 1e-12, "d loss / d r_rejected")
    base = _bt_call(bradley_terry_loss, rc.detach(), rr.detach()).detach()
    shifted = _bt_call(bradley_terry_loss, rc.detach() + 7.5, rr.detach() + 7.5).detach()
    assert abs(float(base) - float(shifted)) < 1e-12, "adding the same constant to every reward changed the loss"


def _preferences(seed, n_items=200, d=8, n_pairs=3000):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_items, d))
    w = rng.standard_normal(d)
    w *= 2.0 / np.linalg.norm(w)
    i, j = rng.integers(0, n_items, n_pairs), rng.integers(0, n_items, n_pairs)
    p = 1 / (1 + np.exp(-(X[i] - X[j]) @ w))
    first = rng.random(n_pairs) < p
    chosen, rejected = np.where(first, i, j), np.where(first, j, i)
    return X, w, torch.tensor(X[chosen]), torch.tensor(X[rejected])


def _check_reward_fit(fit_linear_reward, seed, tol=0.98):
    X, w_true, Xc, Xr = _preferences(seed)
    w = _array(fit_linear_reward(Xc.clone(), Xr.clone()), "fit_linear_reward(X_chosen, X_rejected)",
               shape=w_true.shape)
    cos = w @ w_true / (np.linalg.norm(w) * np.linalg.norm(w_true) + 1e-300)
    assert cos >= tol, f"cos(w, w_true) = {cos:.4f} on synthetic preferences; expected >= {tol}" + \
        (" (the sign is flipped: the chosen item should get the higher reward)" if cos < -tol else "")
    scores_fit, scores_true = X @ w, X @ w_true
    tau = float(scipy.stats.kendalltau(scores_fit, scores_true).statistic)
    assert tau >= 0.9, f"Kendall tau between fitted and true item rewards = {tau:.3f}; expected >= 0.9"


@check("q7", points=1.5, hint="minimise bradley_terry_loss(X_chosen @ w, X_rejected @ w) over w, e.g. 300 steps "
                              "of gradient descent with step size 2 from w = 0")
def reward_model_recovers_direction(fit_linear_reward):
    _check_reward_fit(fit_linear_reward, 573)


# --------------------------------------------------------------------------- q8: PPO
HAND_RHO = [1.5, 0.5, 1.1, 0.7, 1.5, 0.5]
HAND_ADV = [1.0, -1.0, 1.0, -1.0, -1.0, 1.0]
HAND_L = [1.2, -0.8, 1.1, -0.8, -1.5, 0.5]
HAND_GRAD = [0.0, 0.0, 1.1, 0.0, -1.5, 0.5]


def _ppo_ref(logp_new, logp_old, adv, eps):
    rho = torch.exp(logp_new - logp_old)
    return torch.minimum(rho * adv, torch.clamp(rho, 1 - eps, 1 + eps) * adv)


def _ppo_mistakes(logp_new, logp_old, adv, eps):
    rho = torch.exp(logp_new - logp_old)
    clipped = torch.clamp(rho, 1 - eps, 1 + eps) * adv
    return {"max instead of min (the optimistic bound)": torch.maximum(rho * adv, clipped),
            "no clipping when A < 0": torch.where(adv > 0, torch.minimum(rho * adv, clipped), rho * adv),
            "the clipped term alone (no min)": clipped,
            "the loss (minus the objective); here the objective is to be maximised": -_ppo_ref(logp_new, logp_old,
                                                                                                adv, eps),
            "rho = logp_new / logp_old instead of exp(logp_new - logp_old)":
            torch.minimum(logp_new / logp_old * adv, torch.clamp(logp_new / logp_old, 1 - eps, 1 + eps) * adv)}


def _call_ppo(ppo_clip_objective, logp_new, logp_old, adv, eps, name):
    got = ppo_clip_objective(logp_new, logp_old.clone(), adv.clone(), eps)
    _answered(got, name)
    assert isinstance(got, torch.Tensor), f"{name}: return a torch tensor (one value per sample)"
    assert tuple(got.shape) == tuple(adv.shape), f"{name}: expected one value per sample, shape {tuple(adv.shape)}, " \
                                                 f"got {tuple(got.shape)}"
    return got


@check("q8", points=1.5, hint="rho = exp(logp_new - logp_old); min(rho A, clip(rho, 1 - eps, 1 + eps) A)")
def ppo_hand_table_values(ppo_clip_objective):
    logp_old = torch.full((6,), math.log(0.5), dtype=F64)
    logp_new = torch.log(0.5 * torch.tensor(HAND_RHO, dtype=F64))
    adv = torch.tensor(HAND_ADV, dtype=F64)
    got = _call_ppo(ppo_clip_objective, logp_new, logp_old, adv, 0.2, "ppo_clip_objective on the hand table")
    _close(got.detach(), torch.tensor(HAND_L, dtype=F64), 1e-6,
           "ppo_clip_objective on the six cases (rho = 1.5, 0.5, 1.1, 0.7, 1.5, 0.5; A = +1, -1, +1, -1, -1, +1)",
           _ppo_mistakes(logp_new, logp_old, adv, 0.2))


@check("q8", points=1, hint="clipped samples have zero gradient; unclipped ones have d(rho A)/d logp_new = rho A")
def ppo_hand_table_gradients(ppo_clip_objective):
    logp_old = torch.full((6,), math.log(0.5), dtype=F64)
    logp_new = torch.log(0.5 * torch.tensor(HAND_RHO, dtype=F64)).requires_grad_()
    adv = torch.tensor(HAND_ADV, dtype=F64)
    got = _call_ppo(ppo_clip_objective, logp_new, logp_old, adv, 0.2, "ppo_clip_objective")
    got.sum().backward()
    assert logp_new.grad is not None, "no gradient reached logp_new: compute with torch operations"
    _close(logp_new.grad, torch.tensor(HAND_GRAD, dtype=F64), 1e-6, "d L^CLIP / d logp_new on the six cases",
           {"the gradient of the unclipped rho A": torch.tensor(HAND_RHO) * torch.tensor(HAND_ADV)})


@check("q8", points=1, hint="as eps grows the clip never binds, and the objective is rho A")
def ppo_limits_and_stop_gradient_form(ppo_clip_objective):
    g = _gen(581)
    logp_old = torch.log(torch.rand(50, generator=g, dtype=F64) * 0.9 + 0.05)
    logp_new = (logp_old + 0.4 * _randn(g, 50)).requires_grad_()
    adv = _randn(g, 50)
    rho = torch.exp(logp_new - logp_old).detach()
    wide = _call_ppo(ppo_clip_objective, logp_new.detach(), logp_old, adv, 1e9, "ppo_clip_objective with eps = 1e9")
    _close(wide.detach(), rho * adv, 1e-12, "ppo_clip_objective with eps = 1e9 (should be rho A, the IS objective)")
    got = _call_ppo(ppo_clip_objective, logp_new, logp_old, adv, 0.2, "ppo_clip_objective")
    _close(got.detach(), _ppo_ref(logp_new.detach(), logp_old, adv, 0.2), 1e-12, "ppo_clip_objective on 50 samples",
           _ppo_mistakes(logp_new.detach(), logp_old, adv, 0.2))
    got.sum().backward()
    active = ((adv > 0) & (rho < 1.2)) | ((adv < 0) & (rho > 0.8))
    _close(logp_new.grad, torch.where(active, rho * adv, torch.zeros_like(rho)), 1e-12,
           "d L^CLIP / d logp_new (should equal the stop-gradient form: rho A where the clip is inactive, else 0)")


# --------------------------------------------------------------------------- q9: InfoNCE
def _info_nce_loops(z_img, z_txt, tau):
    a = z_img / z_img.norm(dim=1, keepdim=True)
    b = z_txt / z_txt.norm(dim=1, keepdim=True)
    N = len(a)
    total = 0.0
    for i in range(N):
        s_row = torch.stack([a[i] @ b[j] / tau for j in range(N)])
        s_col = torch.stack([a[j] @ b[i] / tau for j in range(N)])
        total = total - torch.log_softmax(s_row, 0)[i] - torch.log_softmax(s_col, 0)[i]
    return total / (2 * N)


def _nce_mistakes(z_img, z_txt, tau):
    S = (z_img / z_img.norm(dim=1, keepdim=True)) @ (z_txt / z_txt.norm(dim=1, keepdim=True)).T / tau
    lab = torch.arange(len(S))
    raw = z_img @ z_txt.T / tau
    return {"only the image-to-text direction": F.cross_entropy(S, lab),
            "no normalisation of the embeddings": (F.cross_entropy(raw, lab) + F.cross_entropy(raw.T, lab)) / 2,
            "no temperature": (F.cross_entropy(S * tau, lab) + F.cross_entropy(S.T * tau, lab)) / 2}


def _call_nce(info_nce_loss, z_img, z_txt, tau, name="info_nce_loss"):
    got = info_nce_loss(z_img.clone(), z_txt.clone(), tau)
    return _number(_answered(got, name), name)


@check("q9", points=1, hint="normalise the rows, S = z_img z_txt^T / tau, then the mean of the row-wise and "
                            "column-wise cross-entropies with the diagonal as the target")
def info_nce_matches_loops(info_nce_loss):
    g = _gen(591)
    for N, d, tau in [(6, 5, 0.1), (9, 3, 0.5)]:
        zi, zt = _randn(g, N, d), _randn(g, N, d)
        got = _call_nce(info_nce_loss, zi, zt, tau)
        _close(got, _info_nce_loops(zi, zt, tau), 1e-10, f"info_nce_loss on N = {N} pairs, tau = {tau}",
               _nce_mistakes(zi, zt, tau))


@check("q9", points=1, hint="the loss is symmetric in the two encoders and uses only the directions of the embeddings")
def info_nce_symmetry_and_invariances(info_nce_loss):
    g = _gen(592)
    zi, zt = _randn(g, 7, 4), _randn(g, 7, 4)
    a = _call_nce(info_nce_loss, zi, zt, 0.2)
    b = _call_nce(info_nce_loss, zt, zi, 0.2)
    assert abs(a - b) < 1e-10, f"swapping images and texts changed the loss from {a:.6f} to {b:.6f}"
    c = _call_nce(info_nce_loss, zi * (torch.rand(7, 1, generator=g, dtype=F64) * 5 + 0.1), zt * 3, 0.2)
    assert abs(a - c) < 1e-10, f"rescaling the embeddings changed the loss from {a:.6f} to {c:.6f} (normalise them)"
    same = torch.ones(8, 4, dtype=F64)
    u = _call_nce(info_nce_loss, same, same, 0.07)
    assert abs(u - math.log(8)) < 1e-10, f"identical embeddings: loss {u:.6f}, expected ln N = {math.log(8):.6f}"


# --------------------------------------------------------------------------- q10: patchify
def _patch_ref(img, P):
    B, C, H, W = img.shape
    return F.unfold(img, kernel_size=P, stride=P).transpose(1, 2)  # (B, HW/P^2, C P P), row-major patches


def _patch_mistakes(img, P):
    B, C, H, W = img.shape
    x = img.reshape(B, C, H // P, P, W // P, P)
    return {"each patch flattened as (P, P, C) instead of (C, P, P)":
            x.permute(0, 2, 4, 3, 5, 1).reshape(B, -1, C * P * P),
            "patches in column-major order (down the columns first)":
            x.permute(0, 4, 2, 1, 3, 5).reshape(B, -1, C * P * P)}


@check("q10", points=1, hint="reshape to (B, C, H/P, P, W/P, P), permute to (B, H/P, W/P, C, P, P), flatten")
def patchify_layout(patchify):
    g = _gen(601)
    for shape, P in [((2, 3, 8, 8), 2), ((1, 1, 12, 6), 3), ((3, 2, 4, 4), 4)]:
        img = _randn(g, *shape)
        got = _answered(patchify(img.clone(), P), f"patchify(img of shape {shape}, {P})")
        _close(got, _patch_ref(img, P), 1e-14, f"patchify(img of shape {shape}, P = {P})", _patch_mistakes(img, P))


@check("q10", points=1, hint="Conv2d(C, d, kernel_size=P, stride=P) has weight (d, C, P, P): flatten it the same way")
def patchify_then_linear_is_a_strided_conv(patchify):
    g = _gen(602)
    img, P, d = _randn(g, 2, 3, 8, 8), 4, 5
    conv = torch.nn.Conv2d(3, d, kernel_size=P, stride=P, dtype=F64)
    got = _answered(patchify(img.clone(), P), "patchify(img, 4)")
    got = torch.as_tensor(_array(got, "patchify(img, 4)", shape=(2, 4, 48)))
    with torch.no_grad():
        lin = got @ conv.weight.reshape(d, -1).T + conv.bias
        want = conv(img).flatten(2).transpose(1, 2)
    _close(lin, want, 1e-10, "Linear(patchify(img)) with the Conv2d weight reshaped to (d, C P P)")
