"""lib.transformer against torch: nn.TransformerEncoderLayer, nn.RMSNorm; TinyGPT's cache, counts, first loss."""
import math

import pytest
import torch
from torch import nn

from lib.transformer import MLP, Block, GPTConfig, RMSNorm, TinyGPT, count_parameters, get_batch, train_lm

D64 = torch.float64


def _copy_block_to_encoder_layer(block: Block, d: int, H: int, d_ff: int) -> nn.TransformerEncoderLayer:
    ref = nn.TransformerEncoderLayer(d, H, d_ff, dropout=0.0, activation="gelu", batch_first=True,
                                     norm_first=True).double().eval()
    a = block.attn
    with torch.no_grad():
        ref.self_attn.in_proj_weight.copy_(torch.cat([a.W_q.weight, a.W_k.weight, a.W_v.weight]))
        ref.self_attn.in_proj_bias.copy_(torch.cat([a.W_q.bias, a.W_k.bias, a.W_v.bias]))
        ref.self_attn.out_proj.weight.copy_(a.W_o.weight)
        ref.self_attn.out_proj.bias.copy_(a.W_o.bias)
        for mine, theirs in ((block.mlp.W1, ref.linear1), (block.mlp.W2, ref.linear2),
                             (block.ln1, ref.norm1), (block.ln2, ref.norm2)):
            theirs.weight.copy_(mine.weight)
            theirs.bias.copy_(mine.bias)
    return ref


@pytest.mark.parametrize("causal", [False, True])
def test_block_matches_transformer_encoder_layer(causal):
    torch.manual_seed(0)
    d, H, d_ff = 16, 4, 24
    block = Block(d, H, d_ff, causal=causal, norm="layer", bias=True).double()
    with torch.no_grad():  # non-trivial norm parameters and biases
        for p in block.parameters():
            p.add_(0.1 * torch.randn_like(p))
    ref = _copy_block_to_encoder_layer(block, d, H, d_ff)
    x = torch.randn(3, 7, d, dtype=D64)
    mask = nn.Transformer.generate_square_subsequent_mask(7, dtype=D64) if causal else None
    expected = ref(x, src_mask=mask, is_causal=causal)
    assert torch.allclose(block(x), expected, atol=1e-12, rtol=0)


def test_block_parts_add_up():
    torch.manual_seed(1)
    block = Block(8, 2).double()
    h = torch.randn(2, 5, 8, dtype=D64)
    out, parts = block(h, return_parts=True)
    assert torch.allclose(parts["h_half"], h + parts["attn"])
    assert torch.allclose(out, parts["h_half"] + parts["mlp"])


def test_rmsnorm_matches_torch():
    torch.manual_seed(2)
    mine = RMSNorm(10, eps=1e-6).double()
    ref = nn.RMSNorm(10, eps=1e-6).double()
    with torch.no_grad():
        mine.weight.copy_(torch.randn(10))
        ref.weight.copy_(mine.weight)
    x = 3 * torch.randn(4, 6, 10, dtype=D64)
    assert torch.allclose(mine(x), ref(x), atol=1e-14)


def test_mlp_shapes_and_names():
    mlp = MLP(8)
    assert mlp.W1.weight.shape == (32, 8) and mlp.W2.weight.shape == (8, 32)
    with pytest.raises(ValueError, match="act"):
        MLP(8, act="swish")


def _small(**kw):
    torch.manual_seed(3)
    cfg = GPTConfig(vocab_size=kw.pop("vocab_size", 30), d_model=32, n_layers=2, n_heads=4, max_len=12, **kw)
    return TinyGPT(cfg)


@pytest.mark.parametrize("pos", ["learned", "sinusoidal"])
def test_generate_with_cache_equals_without(pos):
    model = _small(pos=pos)
    idx = torch.randint(0, 30, (2, 3))
    greedy_cached = model.generate(idx, 15, greedy=True)  # 18 > max_len: the window slides
    assert greedy_cached.shape == (2, 18)
    assert torch.equal(greedy_cached, model.generate(idx, 15, greedy=True, use_cache=False))
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    sampled = model.generate(idx, 8, temperature=0.8, top_k=5, generator=g1)
    assert torch.equal(sampled, model.generate(idx, 8, temperature=0.8, top_k=5, generator=g2, use_cache=False))
    assert torch.equal(sampled[:, :3], idx)


def test_cached_logits_equal_full_pass_float64():
    model = _small().double()
    idx = torch.randint(0, 30, (2, 10))
    full = model(idx)
    caches = [{} for _ in model.blocks]
    outs = []
    for t in range(10):
        h = model.embed(idx[:, t:t + 1], start=t)
        for block, cache in zip(model.blocks, caches):
            h = block(h, cache=cache)
        outs.append(model.unembed(h))
    assert torch.allclose(torch.cat(outs, 1), full, atol=1e-12)


def test_count_parameters_by_hand():
    V, d, L, T = 30, 32, 2, 12
    per_block = 4 * d * d + 2 * d * 4 * d + 2 * d  # attention, MLP, two RMSNorm gains
    expected = V * d + T * d + L * per_block + d
    assert count_parameters(_small()) == expected
    assert count_parameters(_small(tie_weights=False)) == expected + V * d
    assert count_parameters(_small(pos="sinusoidal")) == expected - T * d
    biased = _small(norm="layer", bias=True)
    assert count_parameters(biased) == expected + L * (4 * d + 4 * d + d + 2 * d) + d
    model = _small()
    model.tok_emb.weight.requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == expected - V * d


def test_init_and_first_loss_near_ln_v():
    model = _small(vocab_size=50)
    assert model.lm_head.weight is model.tok_emb.weight
    assert abs(model.tok_emb.weight.std().item() - 0.02) < 0.003
    x = torch.randint(0, 50, (8, 12))
    _, loss = model(x, torch.randint(0, 50, (8, 12)))
    assert abs(loss.item() - math.log(50)) < 0.05


def test_residual_stream_names_and_final_state():
    model = _small()
    idx = torch.randint(0, 30, (1, 6))
    stream = model.residual_stream(idx)
    assert [name for name, _ in stream] == ["embed", "L0.attn", "L0.mlp", "L1.attn", "L1.mlp"]
    assert torch.allclose(model.unembed(stream[-1][1]), model(idx), atol=1e-6)


def test_get_batch_and_train_lm_learns_a_cycle():
    data = torch.arange(200) % 7
    x, y = get_batch(data, 4, 5, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (4, 5) and torch.equal(y, (x + 1) % 7)
    torch.manual_seed(4)
    model = TinyGPT(GPTConfig(vocab_size=7, d_model=16, n_layers=1, n_heads=2, max_len=8))
    out = train_lm(model, data, steps=25, batch_size=8, block_size=8, lr=3e-2)
    assert len(out["losses"]) == 25 and out["seconds"] > 0
    assert out["losses"][0] > 1.5 and out["losses"][-1] < 0.2  # ln 7 = 1.95 -> a deterministic cycle


def test_bad_inputs():
    with pytest.raises(ValueError, match="n_heads"):
        GPTConfig(vocab_size=10, d_model=10, n_heads=3)
    with pytest.raises(ValueError, match="norm"):
        GPTConfig(vocab_size=10, norm="batch")
    with pytest.raises(ValueError, match="pos"):
        GPTConfig(vocab_size=10, pos="rotary")
    with pytest.raises(TypeError, match="cfg"):
        TinyGPT({"vocab_size": 10})
    model = _small()
    with pytest.raises(TypeError, match="idx"):
        model(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="idx"):
        model(torch.full((1, 3), 30))
    with pytest.raises(ValueError, match="max_len"):
        model(torch.zeros(1, 13, dtype=torch.long))
    with pytest.raises(ValueError, match="temperature"):
        model.generate(torch.zeros(1, 2, dtype=torch.long), 3, temperature=0)
    with pytest.raises(ValueError, match="block_size"):
        get_batch(torch.arange(5), 2, 5)
    with pytest.raises(TypeError, match="data"):
        get_batch(torch.arange(5.0), 2, 2)
    with pytest.raises(ValueError, match="steps"):
        train_lm(model, torch.arange(50) % 30, steps=-1, batch_size=2, block_size=4)
