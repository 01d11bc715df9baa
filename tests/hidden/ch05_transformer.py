"""Hidden checks for the Chapter 5 exercises (grading only; a failure shows as "hidden check failed").

They use cases the notebook never shows (other shapes, widths and seeds, a single token, a value width that
differs from the key width, a three-layer model with four heads, a base layer without bias, other scaling-law
parameters) and verify that the student's functions leave their inputs unchanged. References come from torch,
scipy and closed forms, through the helpers of the public checks.
"""
from __future__ import annotations

import numpy as np
import torch

from lib.checks.ch05_transformer import (F64, HOFFMANN, _answered, _array, _base_linear, _bt_call, _bt_ref,
                                         _call_fit, _call_nce, _call_optimal, _call_ppo,
                                         _check_attention, _check_count, _check_mha, _check_reward_fit,
                                         _check_tokens_and_logits, _chinchilla_optimum, _close, _gen, _info_nce_loops,
                                         _lora, _patch_ref, _power_points, _ppo_ref, _randn, _randomise_lora,
                                         _tiny_model, _unchanged, _call_generate)
from lib.grading import check


def _same(a, b) -> bool:
    return torch.equal(a, b)


# --------------------------------------------------------------------------- q1
@check("q1", points=1)
def hidden_attention_shapes_and_inputs(causal_attention):
    gen = _gen(1501)
    for shape in [(1, 6), (4, 3, 5), (2, 3, 1, 2, 4), (1, 20, 16)]:
        q, k, v = (_randn(gen, *shape) for _ in range(3))
        _check_attention(causal_attention, q, k, v, f"causal_attention, hidden shape {shape}")
    q, k, v = _randn(gen, 2, 6, 4), _randn(gen, 2, 6, 4), _randn(gen, 2, 6, 7)  # value width differs
    _check_attention(causal_attention, q, k, v, "causal_attention with d_v = 7 != d_k = 4")
    q2, k2, v2 = q.clone(), k.clone(), v.clone()
    causal_attention(q2, k2, v2)
    assert _same(q, q2) and _same(k, k2) and _same(v, v2), "causal_attention changed its inputs in place"


# --------------------------------------------------------------------------- q2
@check("q2", points=1)
def hidden_mha_other_sizes(MultiHeadSelfAttention):
    _check_mha(MultiHeadSelfAttention, 30, 5, True, 2, 9, True, 1511, "MultiHeadSelfAttention(30, 5, bias=True)")
    _check_mha(MultiHeadSelfAttention, 8, 8, False, 1, 4, True, 1512, "MultiHeadSelfAttention(8, 8) (d_h = 1)")
    _check_mha(MultiHeadSelfAttention, 12, 2, False, 3, 1, True, 1513, "MultiHeadSelfAttention on one token")


# --------------------------------------------------------------------------- q3
@check("q3", points=1)
def hidden_kv_cache_bigger_model_and_edge_cases(generate_with_cache):
    model = _tiny_model(1531, vocab=17, d=24, n_layers=3, n_heads=4)
    _check_tokens_and_logits(generate_with_cache, model, [5, 16, 0, 2], 7, "generate_with_cache, 3 layers, 4 heads")
    model = _tiny_model(1532)
    _check_tokens_and_logits(generate_with_cache, model, [9], 1, "generate_with_cache(model, [9], 1)")
    prompt = [3, 1, 4]
    (_, _, cache), _ = _call_generate(generate_with_cache, model, prompt, 1, "generate_with_cache")
    for i, entry in enumerate(cache):
        n = _array(entry[0], f"cache[{i}][0]").shape[0]
        assert n == 3, f"with n_new = 1 the cache should hold the 3 prompt positions; cache[{i}] holds {n}"
    arg = list(prompt)
    generate_with_cache(model, arg, 3)
    assert arg == prompt, "generate_with_cache changed the prompt list in place"


# --------------------------------------------------------------------------- q4
@check("q4", points=1)
def hidden_param_count_more_configs(gpt_param_count):
    rng = np.random.default_rng(1541)
    for _ in range(8):
        cfg = (int(rng.integers(1, 7)), int(rng.integers(1, 9)) * 8, int(rng.integers(5, 300)),
               int(rng.integers(1, 130)), bool(rng.integers(2)), str(rng.choice(["layer", "rms"])),
               bool(rng.integers(2)))
        _check_count(gpt_param_count, cfg)


# --------------------------------------------------------------------------- q5
@check("q5", points=1)
def hidden_lora_no_bias_rank_one_float32(LoRALinear):
    base = _base_linear(9, 4, 1551, bias=False)
    m = _lora(LoRALinear, base, 1, 3.0)
    _randomise_lora(m, 1552)
    x = _randn(_gen(1553), 6, 9)
    with torch.no_grad():
        want = base(x) + 3.0 * x @ (m.B @ m.A).T
        _close(_answered(m(x.clone()), "LoRALinear(x)"), want, 1e-10, "LoRALinear(x) for a base without bias, r = 1")
        merged = _answered(m.merge(), "merge()")
        assert isinstance(merged, torch.nn.Linear), "merge() should return an nn.Linear"
        assert merged.bias is None, "merge() of a base without bias should have no bias"
        _close(merged(x), want, 1e-6, "merge()(x) for a base without bias")
        _close(m(x), want, 1e-10, "LoRALinear(x) after merge() (merge must not change the LoRA layer)")
    base32 = torch.nn.Linear(5, 3)
    m32 = _lora(LoRALinear, base32, 2)
    y = _answered(m32(torch.randn(4, 5, generator=_gen(1554))), "LoRALinear on a float32 base")
    assert y.dtype == torch.float32, f"a float32 base should give float32 outputs, got {y.dtype}"


# --------------------------------------------------------------------------- q6
@check("q6", points=1)
def hidden_scaling_other_parameters(compute_optimal, fit_power_law):
    for C in (1e19, 5.76e23, 1e26):
        N, D = _call_optimal(compute_optimal, C, HOFFMANN)
        Nr, Dr = _chinchilla_optimum(C, **HOFFMANN)
        assert abs(N / Nr - 1) < 1e-4 and abs(6 * N * D / C - 1) < 1e-9, \
            f"Hoffmann et al.'s fit at C = {C:.3g}: got N = {N:.5g}, D = {D:.5g}; expected N = {Nr:.5g}, D = {Dr:.5g}"
    x, y = _power_points(0.095, 5.4e13, 0.0, 1561, lo=1e7, hi=1e12, n=6)
    x0, y0 = x.copy(), y.copy()
    a, xc = _call_fit(fit_power_law, x, y)
    assert abs(a - 0.095) < 1e-8 and abs(xc / 5.4e13 - 1) < 1e-6, \
        f"exact points from (5.4e13 / D)^0.095: got alpha = {a:.6g}, x_c = {xc:.6g}"
    fit_power_law(x, y)
    _unchanged({"x": x, "y": y}, {"x": x0, "y": y0}, "fit_power_law")


# --------------------------------------------------------------------------- q7
@check("q7", points=1)
def hidden_bt_other_seed_and_inputs(bradley_terry_loss, fit_linear_reward):
    rc, rr = torch.tensor([2.0], dtype=F64), torch.tensor([-1.0], dtype=F64)
    _close(_bt_call(bradley_terry_loss, rc, rr).detach(), _bt_ref(rc, rr), 1e-12, "bradley_terry_loss on one pair")
    rc, rr = _randn(_gen(1571), 30), _randn(_gen(1572), 30)
    c1, c2 = rc.clone(), rr.clone()
    bradley_terry_loss(c1, c2)
    assert torch.equal(c1, rc) and torch.equal(c2, rr), "bradley_terry_loss changed its inputs in place"
    _check_reward_fit(fit_linear_reward, 1573)


# --------------------------------------------------------------------------- q8
@check("q8", points=1)
def hidden_ppo_other_eps_and_shapes(ppo_clip_objective):
    g = _gen(1581)
    logp_old = torch.log(torch.rand(4, 6, generator=g, dtype=F64) * 0.9 + 0.05)
    logp_new = logp_old + 0.5 * _randn(g, 4, 6)
    adv = _randn(g, 4, 6)
    copies = [logp_new.clone(), logp_old.clone(), adv.clone()]
    got = _call_ppo(ppo_clip_objective, copies[0], copies[1], copies[2], 0.1, "ppo_clip_objective, eps = 0.1, (4, 6)")
    _close(got.detach(), _ppo_ref(logp_new, logp_old, adv, 0.1), 1e-12, "ppo_clip_objective with eps = 0.1")
    assert all(torch.equal(a, b) for a, b in zip(copies, (logp_new, logp_old, adv))), \
        "ppo_clip_objective changed its inputs in place"
    zero = _call_ppo(ppo_clip_objective, logp_new, logp_old, torch.zeros_like(adv), 0.2, "ppo_clip_objective, A = 0")
    assert torch.all(zero.detach() == 0), "with A = 0 the objective must be 0"


# --------------------------------------------------------------------------- q9
@check("q9", points=0.5)
def hidden_info_nce_edge_cases(info_nce_loss):
    g = _gen(1591)
    zi, zt = _randn(g, 1, 3), _randn(g, 1, 3)
    assert abs(_call_nce(info_nce_loss, zi, zt, 0.1)) < 1e-12, "with one pair (N = 1) the loss is 0"
    zi, zt = _randn(g, 16, 8), _randn(g, 16, 8)
    _close(_call_nce(info_nce_loss, zi, zt, 0.03), _info_nce_loops(zi, zt, 0.03), 1e-10,
           "info_nce_loss with N = 16, tau = 0.03")


# --------------------------------------------------------------------------- q10
@check("q10", points=0.5)
def hidden_patchify_edge_cases(patchify):
    g = _gen(1601)
    for shape, P in [((2, 3, 4, 6), 1), ((1, 2, 6, 6), 6), ((2, 1, 10, 4), 2)]:
        img = _randn(g, *shape)
        copy = img.clone()
        got = _answered(patchify(copy, P), f"patchify(img of shape {shape}, {P})")
        _close(got, _patch_ref(img, P), 1e-14, f"patchify(img of shape {shape}, P = {P})")
        assert torch.equal(copy, img), "patchify changed its input in place"
