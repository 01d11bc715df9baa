"""lib.lora: LoRALinear against explicit matrices, merging, freezing, apply_lora, LoRA+ groups."""
import pytest
import torch
from torch import nn

from lib.lora import LoRALinear, apply_lora, lora_param_count, lora_plus_param_groups

f64 = dict(dtype=torch.float64)


def _base(d_in=7, d_out=5, bias=True, seed=0):
    torch.manual_seed(seed)
    return nn.Linear(d_in, d_out, bias=bias).double()


def test_initial_layer_equals_base_and_counts():
    base = _base()
    lora = LoRALinear(base, r=2)
    x = torch.randn(4, 3, 7, **f64)
    torch.testing.assert_close(lora(x), base(x), rtol=0, atol=0)
    trainable = sum(p.numel() for p in lora.parameters() if p.requires_grad)
    assert trainable == lora_param_count(7, 5, 2) == 2 * (7 + 5)
    assert not base.weight.requires_grad and not base.bias.requires_grad
    assert lora.A.std().item() == pytest.approx(1 / 7 ** 0.5, rel=0.6)


def test_forward_is_the_explicit_formula_and_merge_agrees():
    base = _base(bias=False, seed=1)
    lora = LoRALinear(base, r=3, alpha=6.0)
    with torch.no_grad():
        lora.B.normal_()
    x = torch.randn(10, 7, **f64)
    expected = x @ (base.weight + 2.0 * lora.B @ lora.A).T
    torch.testing.assert_close(lora(x), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(lora.merge()(x), lora(x), rtol=1e-12, atol=1e-12)
    assert torch.linalg.matrix_rank(lora.delta_weight()).item() <= 3
    torch.testing.assert_close(lora.merged_weight(), base.weight + lora.delta_weight())


def test_alpha_scales_the_update():
    base = _base()
    torch.manual_seed(3)
    l1 = LoRALinear(base, r=2, alpha=1.0)
    torch.manual_seed(3)
    l2 = LoRALinear(base, r=2, alpha=2.0)
    with torch.no_grad():
        l1.B.fill_(0.3)
        l2.B.fill_(0.3)
    torch.testing.assert_close(l2.delta_weight(), 2 * l1.delta_weight())


def test_training_moves_only_A_and_B():
    base = _base(seed=2)
    w0, b0 = base.weight.clone(), base.bias.clone()
    lora = LoRALinear(base, r=1)
    opt = torch.optim.SGD([p for p in lora.parameters() if p.requires_grad], lr=0.1)
    x, y = torch.randn(16, 7, **f64), torch.randn(16, 5, **f64)
    for _ in range(3):
        loss = ((lora(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.equal(base.weight, w0) and torch.equal(base.bias, b0)
    assert lora.B.abs().sum() > 0
    # B = 0 at the start, so the first step moves B only (dL/dA is proportional to B)
    fresh = LoRALinear(_base(seed=2), r=1)
    ((fresh(x) - y) ** 2).mean().backward()
    assert fresh.A.grad.abs().max() == 0 and fresh.B.grad.abs().max() > 0


def test_apply_lora_and_lora_plus():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x = torch.randn(5, 4)
    before = model(x)
    names = apply_lora(model, ["2"], r=2)
    assert names == ["2"] and isinstance(model[2], LoRALinear)
    torch.testing.assert_close(model(x), before)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"2.A", "2.B"}
    groups = lora_plus_param_groups(model, lr_A=1e-3, ratio=16)
    assert groups[0]["lr"] == 1e-3 and groups[1]["lr"] == pytest.approx(1.6e-2)
    assert groups[1]["params"][0] is model[2].B
    torch.optim.AdamW(groups)  # valid optimizer groups
    model2 = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    assert apply_lora(model2, lambda n, m: m.out_features == 8, r=1) == ["0"]


def test_bad_inputs():
    with pytest.raises(TypeError, match="base"):
        LoRALinear(nn.Conv1d(2, 2, 1), r=1)
    with pytest.raises(ValueError, match="r"):
        LoRALinear(_base(), r=6)
    with pytest.raises(ValueError, match="alpha"):
        LoRALinear(_base(), r=1, alpha=-1.0)
    with pytest.raises(ValueError, match="targets"):
        apply_lora(nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), ["0"], r=1)
    with pytest.raises(ValueError, match="targets"):
        apply_lora(nn.Sequential(nn.Linear(2, 2)), ["missing"], r=1)
    with pytest.raises(ValueError, match="model"):
        lora_plus_param_groups(nn.Linear(2, 2), lr_A=1e-3)
    with pytest.raises(ValueError, match="lr_A"):
        lora_plus_param_groups(nn.Linear(2, 2), lr_A=0)
    with pytest.raises(ValueError, match="d_in"):
        lora_param_count(0, 3, 1)
