"""lib.diffusion.nets: the time embedding against lib.attention's sinusoidal table, shapes, seeding,
patchify against torch's unfold, adaLN-Zero's identity start, bad input."""
import pytest
import torch
from torch.nn import functional as F

from lib.attention import sinusoidal_positions
from lib.diffusion.nets import MLPDenoiser, SinusoidalTimeEmbedding, TinyDiT, count_parameters, patchify, unpatchify


def test_embedding_matches_positional_table_and_float_scaling():
    emb = SinusoidalTimeEmbedding(32)
    t = torch.arange(0, 1000, 7)
    table = sinusoidal_positions(1000, 32)[t]  # the Transformer's position code: the same formula
    torch.testing.assert_close(emb(t), table, atol=2e-4, rtol=0)
    torch.testing.assert_close(emb(t.float() / 1000), emb(t), atol=2e-4, rtol=0)  # float t is scaled by 1000
    e = emb(torch.tensor([3]))
    assert torch.allclose(e[0, 0::2] ** 2 + e[0, 1::2] ** 2, torch.ones(16))  # sin/cos pairs


def test_mlp_shapes_params_and_time_forms():
    m = MLPDenoiser()
    x = torch.randn(7, 2)
    assert m(x, torch.arange(7)).shape == (7, 2)
    # 34*128 + 2*128*128 + 128*2 weights + biases, plus the 32 -> 32 -> 32 time MLP
    assert count_parameters(m) == (34 * 128 + 128) + 2 * (128 * 128 + 128) + (128 * 2 + 2) + 2 * (32 * 32 + 32)
    torch.testing.assert_close(m(x, 5), m(x, torch.full((7,), 5)))
    torch.testing.assert_close(m(x, 0.25), m(x, torch.full((7,), 250)), atol=1e-5, rtol=0)
    assert not torch.allclose(m(x, 10), m(x, 900))  # the output depends on t
    big = MLPDenoiser(data_dim=64, hidden=256)
    assert big(torch.randn(3, 64), 1).shape == (3, 64)


def test_seeded_and_global_state_untouched():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b, c = MLPDenoiser(seed=0), MLPDenoiser(seed=0), MLPDenoiser(seed=1)
    assert torch.rand(1) == before
    pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)


def test_patchify_matches_unfold_and_inverts():
    x = torch.randn(3, 2, 8, 8)
    tokens = patchify(x, 2)
    ref = F.unfold(x, kernel_size=2, stride=2).transpose(1, 2)  # (n, L, C*p*p), row-major patches
    assert torch.equal(tokens, ref)
    assert torch.equal(unpatchify(tokens, 2, 2, 8), x)


def test_dit_starts_at_zero_and_depends_on_t_after_training_step():
    dit = TinyDiT()
    x = torch.randn(4, 1, 8, 8)
    assert torch.equal(dit(x, 3), torch.zeros_like(x))  # adaLN-Zero: zero read-out at initialisation
    assert dit(x.reshape(4, 64), 3).shape == (4, 64)
    opt = torch.optim.SGD(dit.parameters(), lr=0.1)
    for _ in range(2):
        loss = (dit(x, torch.tensor([1, 200, 400, 900])) - x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert not torch.allclose(dit(x, 10), dit(x, 900))
    y = dit(x, 10)
    perm = torch.randperm(64)
    assert not torch.allclose(dit(x.reshape(4, 64)[:, perm].reshape(4, 1, 8, 8), 10).reshape(4, 64)[:, perm.argsort()],
                              y.reshape(4, 64))  # positions matter


@pytest.mark.parametrize("call, exc, name", [
    (lambda: SinusoidalTimeEmbedding(7), ValueError, "dim"),
    (lambda: SinusoidalTimeEmbedding(8, t_scale=0), ValueError, "t_scale"),
    (lambda: MLPDenoiser(hidden=0), ValueError, "hidden"),
    (lambda: MLPDenoiser(act="swish"), ValueError, "act"),
    (lambda: MLPDenoiser(seed=-1), ValueError, "seed"),
    (lambda: MLPDenoiser()(torch.randn(5, 3), 1), ValueError, "x"),
    (lambda: MLPDenoiser()(torch.randn(5, 2).numpy(), 1), TypeError, "x"),
    (lambda: MLPDenoiser()(torch.ones(5, 2, dtype=torch.long), 1), TypeError, "x"),
    (lambda: MLPDenoiser()(torch.randn(5, 2), torch.ones(4)), ValueError, "t"),
    (lambda: MLPDenoiser()(torch.randn(5, 2), True), TypeError, "t"),
    (lambda: MLPDenoiser()(torch.randn(5, 2), "0.5"), TypeError, "t"),
    (lambda: TinyDiT(img=8, patch=3), ValueError, "patch"),
    (lambda: TinyDiT()(torch.randn(2, 1, 7, 7), 1), ValueError, "x"),
])
def test_bad_input(call, exc, name):
    with pytest.raises(exc, match=name):
        call()
