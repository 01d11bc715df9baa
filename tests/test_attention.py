"""lib.attention against torch: F.scaled_dot_product_attention, nn.MultiheadAttention, nn.Transformer's mask."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lib.attention import (MultiHeadAttention, attention_scores, attention_weights, causal_mask, merge_heads,
                           scaled_dot_product_attention, sinusoidal_positions, softmax_entropy, split_heads)

D64 = torch.float64


def _qkv(B=2, H=3, T=5, S=5, dk=4, dv=6, seed=1):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, H, T, dk, generator=g, dtype=D64), torch.randn(B, H, S, dk, generator=g, dtype=D64),
            torch.randn(B, H, S, dv, generator=g, dtype=D64))


@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_matches_torch(causal):
    q, k, v = _qkv()
    out, w = scaled_dot_product_attention(q, k, v, causal=causal)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    assert torch.allclose(out, ref, atol=1e-13)
    assert torch.allclose(w.sum(-1), torch.ones(2, 3, 5, dtype=D64))
    if causal:
        assert (w.triu(1) == 0).all()


def test_sdpa_bool_and_additive_masks_match_torch():
    q, k, v = _qkv(T=4, S=7, seed=2)
    g = torch.Generator().manual_seed(3)
    allowed = torch.rand(4, 7, generator=g) < 0.6
    allowed[:, 0] = True  # no empty rows
    additive = torch.zeros(4, 7, dtype=D64).masked_fill(~allowed, float("-inf"))
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    out_bool, w = scaled_dot_product_attention(q, k, v, allowed)
    out_add, _ = scaled_dot_product_attention(q, k, v, additive)
    assert torch.allclose(out_bool, ref, atol=1e-13) and torch.allclose(out_add, ref, atol=1e-13)
    assert (w[..., ~allowed] == 0).all()
    # a general (finite) additive bias, too
    bias = torch.randn(4, 7, generator=g, dtype=D64)
    assert torch.allclose(scaled_dot_product_attention(q, k, v, bias)[0],
                          F.scaled_dot_product_attention(q, k, v, attn_mask=bias), atol=1e-13)


def test_temperature_and_scores():
    q, k, _ = _qkv(seed=4)
    s = attention_scores(q, k)
    assert torch.allclose(s, q @ k.transpose(-1, -2) / 2.0)  # d_k = 4
    w = attention_weights(q, k, temperature=0.5)
    assert torch.allclose(w, torch.softmax(2 * s, -1))
    assert torch.allclose(attention_scores(q, k, scale=1.0), q @ k.transpose(-1, -2))


def test_causal_mask_matches_nn_transformer_and_offset():
    for T in (1, 4, 9):
        assert torch.equal(causal_mask(T), nn.Transformer.generate_square_subsequent_mask(T))
        assert torch.equal(causal_mask(T, additive=False), torch.ones(T, T, dtype=torch.bool).tril())
    m = causal_mask(2, 5, additive=False)  # the last two of five positions
    assert m.tolist() == [[True, True, True, True, False], [True] * 5]


def test_split_merge_roundtrip():
    x = torch.randn(2, 5, 12, dtype=D64)
    h = split_heads(x, 3)
    assert h.shape == (2, 3, 5, 4)
    assert torch.equal(h[:, 1], x[..., 4:8])
    assert torch.equal(merge_heads(h), x)


def _copy_to_torch(mha: MultiHeadAttention, bias: bool) -> nn.MultiheadAttention:
    ref = nn.MultiheadAttention(mha.d_model, mha.n_heads, bias=bias, batch_first=True).double()
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([mha.W_q.weight, mha.W_k.weight, mha.W_v.weight]))
        ref.out_proj.weight.copy_(mha.W_o.weight)
        if bias:
            ref.in_proj_bias.copy_(torch.cat([mha.W_q.bias, mha.W_k.bias, mha.W_v.bias]))
            ref.out_proj.bias.copy_(mha.W_o.bias)
    return ref


@pytest.mark.parametrize("bias,causal", [(False, True), (True, False), (True, True)])
def test_mha_matches_nn_multihead_attention(bias, causal):
    torch.manual_seed(5)
    mha = MultiHeadAttention(12, 3, bias=bias, causal=causal).double()
    ref = _copy_to_torch(mha, bias)
    x = torch.randn(2, 6, 12, dtype=D64)
    out, w = mha(x, return_weights=True)
    blocked = torch.ones(6, 6, dtype=torch.bool).triu(1) if causal else None  # torch: True = blocked
    ref_out, ref_w = ref(x, x, x, attn_mask=blocked, average_attn_weights=False)
    assert torch.allclose(out, ref_out, atol=1e-13)
    assert torch.allclose(w, ref_w, atol=1e-13)  # per-head weights (2, 3, 6, 6)


def test_mha_cross_attention_matches_torch():
    torch.manual_seed(6)
    mha = MultiHeadAttention(8, 2, causal=True).double()  # causal is ignored for cross-attention
    ref = _copy_to_torch(mha, False)
    x, mem = torch.randn(2, 3, 8, dtype=D64), torch.randn(2, 7, 8, dtype=D64)
    out, w = mha(x, kv=mem, return_weights=True)
    assert w.shape == (2, 2, 3, 7)
    assert torch.allclose(out, ref(x, mem, mem)[0], atol=1e-13)


def test_kv_cache_incremental_equals_full():
    torch.manual_seed(7)
    mha = MultiHeadAttention(16, 4).double()
    x = torch.randn(3, 9, 16, dtype=D64)
    full = mha(x)
    cache = {}
    pieces = [mha(x[:, :4], cache=cache)] + [mha(x[:, t:t + 1], cache=cache) for t in range(4, 9)]
    assert cache["k"].shape == (3, 4, 9, 4)
    assert torch.allclose(torch.cat(pieces, 1), full, atol=1e-13)


def test_sinusoidal_positions_formula_and_relative_offsets():
    P = sinusoidal_positions(50, 16, dtype=D64)
    t, i = 7, 3
    assert math.isclose(P[t, 2 * i].item(), math.sin(t / 10000 ** (2 * i / 16)), rel_tol=1e-12)
    assert math.isclose(P[t, 2 * i + 1].item(), math.cos(t / 10000 ** (2 * i / 16)), rel_tol=1e-12)
    G = P @ P.T  # depends only on the offset
    assert torch.allclose(G[3, 8], G[20, 25]) and torch.allclose(G[10, 4], G[30, 24])


def test_softmax_entropy():
    w = torch.tensor([[0.25] * 4, [1.0, 0, 0, 0]], dtype=D64)
    assert torch.allclose(softmax_entropy(w), torch.tensor([math.log(4), 0.0], dtype=D64))


def test_bad_inputs():
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="k"):
        attention_scores(q, k[..., :3])
    with pytest.raises(TypeError, match="q"):
        scaled_dot_product_attention(q.numpy(), k, v)
    with pytest.raises(TypeError, match="q"):
        attention_scores(q.long(), k)
    with pytest.raises(ValueError, match="v"):
        scaled_dot_product_attention(q, k, v[..., :4, :])
    with pytest.raises(ValueError, match="mask"):
        scaled_dot_product_attention(q, k, v, torch.ones(3, 3, dtype=torch.bool))
    with pytest.raises(TypeError, match="mask"):
        scaled_dot_product_attention(q, k, v, torch.ones(5, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="temperature"):
        attention_weights(q, k, temperature=0)
    with pytest.raises(ValueError, match="S"):
        causal_mask(5, 3)
    with pytest.raises(ValueError, match="n_heads"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="n_heads"):
        split_heads(torch.randn(1, 2, 10), 4)
    with pytest.raises(ValueError, match="d"):
        sinusoidal_positions(4, 5)
    mha = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match="x"):
        mha(torch.randn(1, 3, 7))
    with pytest.raises(ValueError, match="cache"):
        mha(torch.randn(1, 3, 8), kv=torch.randn(1, 4, 8), cache={})
    with pytest.raises(ValueError, match="weights"):
        softmax_entropy(torch.tensor([-0.1, 1.1]))
