"""lib.vision: patchify = stride-P convolution, round trip, PatchEmbed/TinyViT shapes, bidirectional
attention, a short training run, bad input."""
import pytest
import torch
from torch import nn

from lib import vision


@pytest.mark.parametrize("C, H, P", [(1, 8, 2), (3, 12, 4), (2, 6, 3)])
def test_patchify_linear_equals_conv(C, H, P):
    g = torch.Generator().manual_seed(C * 10 + P)
    x = torch.randn(2, C, H, H, generator=g, dtype=torch.float64)
    lin = nn.Linear(C * P * P, 5, dtype=torch.float64)
    conv = nn.Conv2d(C, 5, kernel_size=P, stride=P, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(lin.weight.view(5, C, P, P))
        conv.bias.copy_(lin.bias)
    out_lin = lin(vision.patchify(x, P))                       # (B, N, 5)
    out_conv = conv(x).flatten(2).transpose(1, 2)              # (B, N, 5), row-major patches
    assert out_lin.shape == (2, (H // P) ** 2, 5)
    assert torch.allclose(out_lin, out_conv, atol=1e-12)
    assert torch.equal(vision.unpatchify(vision.patchify(x, P), P, C, H, H), x)


def test_patch_contents():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    p = vision.patchify(x, 2)
    assert p[0, 0].tolist() == [0, 1, 4, 5] and p[0, 1].tolist() == [2, 3, 6, 7] and p[0, 2].tolist() == [8, 9, 12, 13]


def test_patch_embed_and_vit_shapes():
    torch.manual_seed(0)
    pe = vision.PatchEmbed(8, 2, 1, 16)
    assert pe(torch.zeros(3, 1, 8, 8)).shape == (3, 17, 16)
    assert vision.PatchEmbed(8, 4, 1, 16, cls_token=False)(torch.zeros(1, 1, 8, 8)).shape == (1, 4, 16)
    vit = vision.TinyViT()
    assert vit(torch.randn(5, 1, 8, 8)).shape == (5, 10)
    assert all(not b.attn.causal for b in vit.blocks)


def test_vit_is_bidirectional():
    """Changing the last patch changes the [CLS] features (a causal model could not see it from position 0)."""
    torch.manual_seed(1)
    vit = vision.TinyViT().double()
    x = torch.randn(1, 1, 8, 8, dtype=torch.float64)
    y = x.clone()
    y[..., 6:, 6:] += 1.0
    assert not torch.allclose(vit.features(x), vit.features(y))


def test_vit_learns_a_simple_task():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    X = torch.rand(256, 1, 8, 8, generator=g) * 0.2
    y = torch.randint(0, 2, (256,), generator=g)
    X[y == 1, :, :4, :] += 0.8  # class 1: bright top half
    vit = vision.TinyViT(n_classes=2, d=16, n_layers=1, n_heads=2)
    opt = torch.optim.Adam(vit.parameters(), lr=1e-2)
    for _ in range(40):
        loss = nn.functional.cross_entropy(vit(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert (vit(X).argmax(1) == y).float().mean() > 0.95


@pytest.mark.parametrize("call, msg", [
    (lambda: vision.patchify(torch.zeros(1, 1, 8, 8), 3), "P"),
    (lambda: vision.patchify(torch.zeros(8, 8), 2), "img"),
    (lambda: vision.unpatchify(torch.zeros(1, 3, 4), 2, 1, 4, 4), "patches"),
    (lambda: vision.PatchEmbed(8, 3, 1, 16), "patch"),
    (lambda: vision.PatchEmbed(8, 2, 1, 16)(torch.zeros(1, 1, 6, 6)), "img"),
    (lambda: vision.TinyViT(n_classes=1), "n_classes"),
])
def test_bad_input(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()
