"""lib.interp: attention maps, the logit lens and ablations, against direct computations on a random TinyGPT."""
import pytest
import torch

from lib.attention import scaled_dot_product_attention, split_heads
from lib.interp import ablate, ablation, attention_maps, logit_lens
from lib.transformer import GPTConfig, TinyGPT

D64 = torch.float64


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = TinyGPT(GPTConfig(vocab_size=20, d_model=16, n_layers=2, n_heads=2, max_len=10)).double().eval()
    with torch.no_grad():  # larger weights, so that attention is far from uniform
        for p in m.parameters():
            p.mul_(20)
    return m


def test_attention_maps_match_direct_attention(model):
    idx = torch.randint(0, 20, (7,), generator=torch.Generator().manual_seed(1))
    maps = attention_maps(model, idx)
    assert maps.shape == (2, 2, 7, 7)
    assert torch.allclose(maps.sum(-1), torch.ones(2, 2, 7, dtype=D64))
    assert (maps.triu(1) == 0).all()
    # layer 0 by hand: q and k from the normalised embedding
    x = model.blocks[0].ln1(model.embed(idx[None]))
    attn = model.blocks[0].attn
    _, w = scaled_dot_product_attention(split_heads(attn.W_q(x), 2), split_heads(attn.W_k(x), 2),
                                        split_heads(attn.W_v(x), 2), causal=True)
    assert torch.allclose(maps[0], w[0].detach(), atol=1e-12)
    assert not torch.allclose(maps[0, 0], maps[0, 1])  # the heads differ


def test_logit_lens_ends_at_the_output(model):
    idx = torch.randint(0, 20, (1, 6), generator=torch.Generator().manual_seed(2))
    lens = logit_lens(model, idx)
    assert [n for n, _ in lens] == ["embed", "L0.attn", "L0.mlp", "L1.attn", "L1.mlp"]
    final = torch.softmax(model(idx)[0, -1], -1)
    assert torch.allclose(lens[-1][1], final, atol=1e-12)
    first = logit_lens(model, idx, position=0)
    assert torch.allclose(first[-1][1], torch.softmax(model(idx)[0, 0], -1), atol=1e-12)
    # the embedding read-out at position 0 does not depend on later tokens
    other = idx.clone()
    other[0, 3:] = (other[0, 3:] + 1) % 20
    assert torch.allclose(logit_lens(model, other, position=0)[0][1], first[0][1])


def test_ablate_equals_manual_forward(model):
    idx = torch.randint(0, 20, (1, 8), generator=torch.Generator().manual_seed(3))
    b0, b1 = model.blocks
    h = model.embed(idx)
    h = h + b0.mlp(b0.ln2(h))  # layer-0 attention removed
    h = b1(h)
    expected = model.unembed(h)
    assert torch.allclose(ablate(model, idx, component="attn", layer=0), expected, atol=1e-12)
    h = b0(model.embed(idx))
    h = h + b1.attn(b1.ln1(h))  # layer-1 MLP removed
    assert torch.allclose(ablate(model, idx, component="mlp", layer=1), model.unembed(h), atol=1e-12)
    # the hook is gone afterwards, and the ablation changes the output
    assert torch.allclose(model(idx), model.unembed(model.blocks[1](model.blocks[0](model.embed(idx)))))
    assert not torch.allclose(ablate(model, idx, component="mlp", layer=0), model(idx))
    with ablation(model, "attn", 1):
        lens = logit_lens(model, idx)
    assert torch.allclose(lens[3][1], lens[2][1])  # the ablated half-layer adds nothing


def test_bad_inputs(model):
    idx = torch.zeros(1, 4, dtype=torch.long)
    with pytest.raises(ValueError, match="component"):
        ablate(model, idx, component="norm", layer=0)
    with pytest.raises(ValueError, match="layer"):
        ablate(model, idx, component="mlp", layer=2)
    with pytest.raises(ValueError, match="idx"):
        attention_maps(model, torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="idx"):
        logit_lens(model, idx.float())
    with pytest.raises(ValueError, match="position"):
        logit_lens(model, idx, position=4)
    with pytest.raises(TypeError, match="model"):
        attention_maps(torch.nn.Linear(2, 2), idx)
