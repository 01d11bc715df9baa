"""The Chapter 5 exercise checks (public and hidden) accept right answers and reject known-wrong ones.

Each check function is called directly with implementations written here: correct references (and alternative
correct formulations) must pass every check of their question; each known-wrong mutant must fail at least one
check of its question with a message. The mutants include the book's own slips (spec section 9 and the exercise
brief): attention without the 1/sqrt(d_k) scale, a mask applied after the softmax, a causal mask off by one,
heads merged in the wrong order, a forgotten W_O, parameter counts without biases, with an untied unembedding or
without the final norm, the book's 0.6/0.4 compute split, PPO with min and max swapped or without the clip for
A < 0, and the Bradley-Terry loss with the wrong sign. Stubs that return None score 0 everywhere, and junk return
values give assertion messages, never crashes.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lib.grading import load_checks, run_checks
from tests.checks_support import (JUNK, JUNK_IDS, assert_blank_scores_zero, assert_junk_explained, assert_named,
                                  assert_public_and_hidden, assert_rejected, call, failures as _failures)

torch.set_num_threads(1)
SPECS = load_checks("ch05_transformer", hidden=True)
QUESTIONS = [f"q{i}" for i in range(1, 11)]


# --------------------------------------------------------------------------- correct references
def causal_attention(q, k, v):
    T = q.shape[-2]
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    s = s.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    w = torch.softmax(s, dim=-1)
    return w @ v, w


def _attention_variant(kind):
    def attn(q, k, v):
        T, d = q.shape[-2], q.shape[-1]
        scale = {"no scale": 1.0, "1/d": 1 / d}.get(kind, 1 / math.sqrt(d))
        s = q @ k.transpose(-2, -1) * scale
        lower = torch.ones(T, T, dtype=torch.bool).tril(-1 if kind == "diagonal excluded" else 0)
        if kind == "mask after softmax":
            w = torch.softmax(s, -1) * lower
        elif kind == "naive exp":
            e = torch.exp(s) * lower
            w = e / e.sum(-1, keepdim=True)
        elif kind == "no mask":
            w = torch.softmax(s, -1)
        elif kind == "upper triangle":
            w = torch.softmax(s.masked_fill(torch.ones(T, T, dtype=torch.bool).tril(-1), float("-inf")), -1)
        elif kind == "sdpa":
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return out, torch.softmax(s.masked_fill(~lower, float("-inf")), -1)
        else:
            w = torch.softmax(s.masked_fill(~lower, float("-inf")), -1)
        return w @ v, w
    return attn


def _attention_additive(q, k, v):
    """An alternative correct form: an additive -inf mask and a stable softmax by hand."""
    T = q.shape[-2]
    M = torch.full((T, T), float("-inf"), dtype=q.dtype).triu(1)
    s = torch.einsum("...id,...jd->...ij", q, k) / q.shape[-1] ** 0.5 + M
    e = torch.exp(s - s.amax(-1, keepdim=True))
    w = e / e.sum(-1, keepdim=True)
    return torch.einsum("...ij,...jd->...id", w, v), w


def _make_mha(kind=""):
    class MHA(nn.Module):
        def __init__(self, d_model, n_heads, bias=False):
            super().__init__()
            self.n_heads = n_heads
            self.W_q, self.W_k, self.W_v, self.W_o = (nn.Linear(d_model, d_model, bias=bias) for _ in range(4))
            if kind == "extra params":
                self.extra = nn.Parameter(torch.zeros(d_model))

        def forward(self, x, causal=True):
            B, T, d = x.shape
            H = self.n_heads
            dh = d // H
            if kind == "split wrong":
                split = lambda t: t.view(B, T, dh, H).permute(0, 3, 1, 2)  # noqa: E731
            else:
                split = lambda t: t.view(B, T, H, dh).transpose(1, 2)  # noqa: E731
            q, k, v = split(self.W_q(x)), split(self.W_k(x)), split(self.W_v(x))
            scale = 1 / math.sqrt(d if kind == "scale d_model" else dh)
            s = q @ k.transpose(-2, -1) * scale
            if causal and kind != "ignores causal":
                s = s.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
            w = torch.softmax(s, -1)
            o = w @ v
            merged = o.reshape(B, T, d) if kind == "merge without transpose" else o.transpose(1, 2).reshape(B, T, d)
            out = merged if kind == "no W_o" else self.W_o(merged)
            return out, (w.mean(1) if kind == "averaged weights" else w)
    return MHA


MultiHeadSelfAttention = _make_mha()


# ---- q3: the notebook's provided model code, and the cached decoder
def rms_norm(h):
    return h / torch.sqrt((h * h).mean(-1, keepdim=True) + 1e-6)


def linear(x, W):
    return x @ W.T


def attend(q, k, v, n_heads, causal):
    Tq, d = q.shape
    Tk = k.shape[0]
    split = lambda t: t.view(t.shape[0], n_heads, d // n_heads).transpose(0, 1)  # noqa: E731
    s = split(q) @ split(k).transpose(-2, -1) / math.sqrt(d // n_heads)
    if causal:
        s = s.masked_fill(~torch.ones(Tq, Tk, dtype=torch.bool).tril(diagonal=Tk - Tq), float("-inf"))
    return (torch.softmax(s, dim=-1) @ split(v)).transpose(0, 1).reshape(Tq, d)


def mlp(x, layer):
    return linear(F.gelu(linear(x, layer["W1"]) + layer["b1"]), layer["W2"]) + layer["b2"]


def forward(model, tokens):
    T = len(tokens)
    h = model["wte"][torch.tensor(tokens)] + model["wpe"][:T]
    for layer in model["layers"]:
        x = rms_norm(h)
        q, k, v = linear(x, layer["Wq"]), linear(x, layer["Wk"]), linear(x, layer["Wv"])
        h = h + linear(attend(q, k, v, model["n_heads"], causal=True), layer["Wo"])
        h = h + mlp(rms_norm(h), layer)
    return linear(rms_norm(h), model["wout"])


def _make_generate(kind=""):
    def generate_with_cache(model, prompt, n_new):
        cache = [(None, None) for _ in model["layers"]]

        def run(tokens, start):
            pos = 0 if kind == "no position offset" else start
            h = model["wte"][torch.tensor(tokens)] + model["wpe"][pos:pos + len(tokens)]
            for i, layer in enumerate(model["layers"]):
                x = rms_norm(h)
                q, k, v = linear(x, layer["Wq"]), linear(x, layer["Wk"]), linear(x, layer["Wv"])
                K, V = cache[i]
                if kind == "cache not used":
                    K, V = k, v
                else:
                    K = k if K is None else torch.cat([K, k])
                    V = v if V is None else torch.cat([V, v])
                cache[i] = (K, V) if kind != "normed states cached" else (x if cache[i][0] is None else
                                                                          torch.cat([cache[i][0], x]), V)
                h = h + linear(attend(q, K, V, model["n_heads"], causal=True), layer["Wo"])
                h = h + mlp(rms_norm(h), layer)
            return linear(rms_norm(h[-1:]), model["wout"])[0]

        logits = [run(list(prompt), 0)]
        new = [int(logits[-1].argmax())]
        for s in range(1, n_new):
            logits.append(run([new[-1]], len(prompt) + s - 1))
            new.append(int(logits[-1].argmax()))
        if kind == "last token fed back":
            run([new[-1]], len(prompt) + n_new - 1)
        return new, torch.stack(logits), cache
    return generate_with_cache


generate_with_cache = _make_generate()


def _generate_full_recompute(model, prompt, n_new):
    """Right tokens and logits, but every step recomputes the whole prefix (and so projects it again)."""
    tokens, logits = list(prompt), []
    for _ in range(n_new):
        logits.append(forward(model, tokens)[-1])
        tokens.append(int(logits[-1].argmax()))
    d = model["wte"].shape[1]
    cache = [(torch.zeros(len(tokens) - 1, d, dtype=torch.float64),) * 2 for _ in model["layers"]]
    for i in range(len(model["layers"])):  # a correct cache, recomputed from scratch
        h = model["wte"][torch.tensor(tokens[:-1])] + model["wpe"][:len(tokens) - 1]
        for j, layer in enumerate(model["layers"]):
            x = rms_norm(h)
            q, k, v = linear(x, layer["Wq"]), linear(x, layer["Wk"]), linear(x, layer["Wv"])
            if j == i:
                cache[i] = (k, v)
            h = h + linear(attend(q, k, v, model["n_heads"], causal=True), layer["Wo"])
            h = h + mlp(rms_norm(h), layer)
    return tokens[len(prompt):], torch.stack(logits), cache


def _generate_fused(model, prompt, n_new):
    """An alternative correct form: F.linear, one token at a time from the start (also during the prefill)."""
    cache = [[[], []] for _ in model["layers"]]
    tokens, logits = list(prompt), []
    for t in range(len(prompt) + n_new - 1):
        h = model["wte"][tokens[t]][None] + model["wpe"][t][None]
        for i, layer in enumerate(model["layers"]):
            x = rms_norm(h)
            cache[i][0].append(F.linear(x, layer["Wk"]))
            cache[i][1].append(F.linear(x, layer["Wv"]))
            K, V = torch.cat(cache[i][0]), torch.cat(cache[i][1])
            h = h + F.linear(attend(F.linear(x, layer["Wq"]), K, V, model["n_heads"], causal=False), layer["Wo"])
            h = h + mlp(rms_norm(h), layer)
        if t >= len(prompt) - 1:
            logits.append(F.linear(rms_norm(h), model["wout"])[0])
            tokens.append(int(logits[-1].argmax()))
    return tokens[len(prompt):], torch.stack(logits), [(torch.cat(k), torch.cat(v)) for k, v in cache]


# ---- q4
def gpt_param_count(n_layers, d_model, vocab, n_ctx, *, bias=True, norm="layer", tied=True, mistake=""):
    d = d_model
    norm_params = 2 * d if (norm == "layer" and bias) else d
    if mistake == "layernorm d only":
        norm_params = d
    with_bias = bias and mistake != "no biases"
    per_layer = 12 * d * d + (9 * d if with_bias else 0) + 2 * norm_params
    if mistake == "attention bias only":
        per_layer = 12 * d * d + (4 * d if bias else 0) + 2 * norm_params
    total = vocab * d + (0 if mistake == "no positions" else n_ctx * d) + n_layers * per_layer
    total += 0 if mistake == "no final norm" else norm_params
    untied = (not tied) or mistake == "untied"
    return total + (vocab * d if untied else 0)


def _count_mutant(kind):
    return lambda L, d, V, n, *, bias=True, norm="layer", tied=True: gpt_param_count(
        L, d, V, n, bias=bias, norm=norm, tied=tied, mistake=kind)


def _count_12Ld2(L, d, V, n, *, bias=True, norm="layer", tied=True):
    return 12 * L * d * d


def _count_by_modules(L, d, V, n, *, bias=True, norm="layer", tied=True):
    """An alternative correct answer: count the parameters of an actual (small or meta) torch model."""
    Norm = (lambda: nn.LayerNorm(d, bias=bias, device="meta")) if norm == "layer" else \
        (lambda: nn.RMSNorm(d, device="meta"))
    lin = lambda a, b, bb=bias: nn.Linear(a, b, bias=bb, device="meta")  # noqa: E731
    per = sum(p.numel() for m in (Norm(), lin(d, d), lin(d, d), lin(d, d), lin(d, d), Norm(), lin(d, 4 * d),
                                  lin(4 * d, d)) for p in m.parameters())
    return V * d + n * d + L * per + sum(p.numel() for p in Norm().parameters()) + (0 if tied else V * d)


# ---- q5
def _make_lora(kind=""):
    class LoRA(nn.Module):
        def __init__(self, base, r, alpha=None):
            super().__init__()
            self.base, self.r = base, r
            a = r if alpha is None else alpha
            self.scale = {"r / alpha": r / a, "no scale": 1.0}.get(kind, a / r)
            if kind != "base not frozen":
                for p in self.base.parameters():
                    p.requires_grad_(False)
            W = base.weight
            self.A = nn.Parameter(torch.randn(r, base.in_features, dtype=W.dtype) / math.sqrt(base.in_features))
            if kind == "A = 0":
                self.A = nn.Parameter(torch.zeros(r, base.in_features, dtype=W.dtype))
            init = torch.randn if kind == "B random" else torch.zeros
            self.B = nn.Parameter(init(base.out_features, r, dtype=W.dtype))

        def delta_weight(self):
            return self.scale * self.B @ self.A

        def forward(self, x):
            return self.base(x) + self.scale * (x @ self.A.T) @ self.B.T

        def merge(self):
            out = nn.Linear(self.base.in_features, self.base.out_features, bias=self.base.bias is not None,
                            dtype=self.base.weight.dtype)
            with torch.no_grad():
                delta = self.B @ self.A if kind == "merge without scale" else self.delta_weight()
                if kind == "merge transposed":
                    delta = self.scale * (self.B @ self.A)
                    out.weight.copy_(self.base.weight + delta.flip(0))
                else:
                    out.weight.copy_(self.base.weight + delta)
                if self.base.bias is not None:
                    out.bias.copy_(self.base.bias)
            return out
    return LoRA


LoRALinear = _make_lora()


# ---- q6
def compute_optimal(C, E, A, B, alpha, beta, exponents=None):
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    a = beta / (alpha + beta) if exponents is None else exponents[0]
    N = G * (C / 6) ** a
    return N, C / (6 * N)


def _optimal_numeric(C, E, A, B, alpha, beta):
    """An alternative correct answer: Newton's method on the stationarity condition in log N."""
    u = math.log(C / 6) / 2
    for _ in range(100):
        D = C / 6 / math.exp(u)
        g = -alpha * A * math.exp(-alpha * u) + beta * B * D ** -beta
        h = alpha ** 2 * A * math.exp(-alpha * u) + beta ** 2 * B * D ** -beta
        u -= g / h
    N = math.exp(u)
    return N, C / (6 * N)


def _optimal_kaplan_book(C, E, A, B, alpha, beta):
    """The book's Kaplan-style split N ~ C^0.6, D ~ C^0.4 (with the right constant at one budget)."""
    N0, _ = compute_optimal(1e22, E, A, B, alpha, beta)
    N = N0 * (C / 1e22) ** 0.6
    return N, C / (6 * N)


def fit_power_law(x, y):
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    return -slope, math.exp(intercept / -slope)


def _fit_lstsq(x, y):
    X = np.stack([np.ones(len(x)), -np.log10(x)], axis=1)
    c, *_ = np.linalg.lstsq(X, np.log10(y), rcond=None)
    return c[1], 10 ** (c[0] / c[1])


# ---- q7
def bradley_terry_loss(r_chosen, r_rejected):
    return -F.logsigmoid(r_chosen - r_rejected).mean()


def fit_linear_reward(X_chosen, X_rejected, loss=None, sign=1.0):
    loss = loss or bradley_terry_loss
    w = torch.zeros(X_chosen.shape[1], dtype=X_chosen.dtype, requires_grad=True)
    for _ in range(300):
        (g,) = torch.autograd.grad(loss(X_chosen @ w, X_rejected @ w), w)
        with torch.no_grad():
            w -= 2.0 * g
    return sign * w.detach()


def _bt_softplus(r_chosen, r_rejected):
    return F.softplus(r_rejected - r_chosen).sum() / len(r_chosen)


# ---- q8
def ppo_clip_objective(logp_new, logp_old, adv, eps=0.2):
    rho = torch.exp(logp_new - logp_old)
    return torch.minimum(rho * adv, torch.clamp(rho, 1 - eps, 1 + eps) * adv)


def _ppo_where(logp_new, logp_old, adv, eps=0.2):
    """An alternative correct form, written by cases."""
    rho = torch.exp(logp_new - logp_old)
    pos = torch.where(rho > 1 + eps, (1 + eps) * adv, rho * adv)
    neg = torch.where(rho < 1 - eps, (1 - eps) * adv, rho * adv)
    return torch.where(adv >= 0, pos, neg)


def _ppo_mutant(kind):
    def f(logp_new, logp_old, adv, eps=0.2):
        rho = torch.exp(logp_new - logp_old) if kind != "ratio of logs" else logp_new / logp_old
        clipped = torch.clamp(rho, 1 - eps, 1 + eps) * adv
        if kind == "max":
            return torch.maximum(rho * adv, clipped)
        if kind == "no clip for A < 0":
            return torch.where(adv > 0, torch.minimum(rho * adv, clipped), rho * adv)
        if kind == "clip only":
            return clipped
        if kind == "loss sign":
            return -torch.minimum(rho * adv, clipped)
        if kind == "mean":
            return torch.minimum(rho * adv, clipped).mean()
        return torch.minimum(rho * adv, clipped)
    return f


# ---- q9, q10
def info_nce_loss(z_img, z_txt, tau):
    S = F.normalize(z_img, dim=1) @ F.normalize(z_txt, dim=1).T / tau
    lab = torch.arange(len(S))
    return (F.cross_entropy(S, lab) + F.cross_entropy(S.T, lab)) / 2


def _nce_mutant(kind):
    def f(z_img, z_txt, tau):
        a, b = (z_img, z_txt) if kind == "no normalisation" else (F.normalize(z_img, dim=1), F.normalize(z_txt, dim=1))
        S = a @ b.T / (1.0 if kind == "no tau" else tau)
        lab = torch.arange(len(S))
        if kind == "one direction":
            return F.cross_entropy(S, lab)
        return (F.cross_entropy(S, lab) + F.cross_entropy(S.T, lab)) / 2
    return f


def patchify(img, P):
    B, C, H, W = img.shape
    x = img.reshape(B, C, H // P, P, W // P, P).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(B, (H // P) * (W // P), C * P * P)


def _patchify_unfold(img, P):
    return F.unfold(img, kernel_size=P, stride=P).transpose(1, 2)


def _patch_mutant(kind):
    def f(img, P):
        B, C, H, W = img.shape
        x = img.reshape(B, C, H // P, P, W // P, P)
        perm = {"PPC": (0, 2, 4, 3, 5, 1), "column-major": (0, 4, 2, 1, 3, 5)}[kind]
        return x.permute(*perm).reshape(B, -1, C * P * P)
    return f


REFERENCE = dict(causal_attention=causal_attention, MultiHeadSelfAttention=MultiHeadSelfAttention,
                 generate_with_cache=generate_with_cache, gpt_param_count=gpt_param_count, LoRALinear=LoRALinear,
                 compute_optimal=compute_optimal, fit_power_law=fit_power_law, bradley_terry_loss=bradley_terry_loss,
                 fit_linear_reward=fit_linear_reward, ppo_clip_objective=ppo_clip_objective,
                 info_nce_loss=info_nce_loss, patchify=patchify)


def failures(question, namespace, junk_only=False, only=None):
    return _failures(SPECS, question, namespace, junk_only, only)


def test_every_question_has_public_and_hidden_checks():
    assert_public_and_hidden(SPECS, QUESTIONS, (30, 50))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.question}-{s.name}")
def test_reference_passes(spec):
    call(spec, REFERENCE)


def test_checks_import_no_course_topic_module():
    import lib.checks.ch05_transformer as public
    hidden = pathlib.Path(__file__).parent / "hidden" / "ch05_transformer.py"
    for text in (pathlib.Path(public.__file__).read_text(), hidden.read_text()):
        for module in ("lib.attention", "lib.transformer", "lib.lora", "lib.scaling", "lib.rlhf", "lib.rl",
                       "lib.contrastive", "lib.vision", "lib.text", "lib.interp", "lib.moe"):
            assert f"from {module}" not in text and f"import {module}" not in text, module


# --------------------------------------------------------------------------- other correct answers
ALTERNATIVES = [
    ("q1", "additive mask, softmax by hand, einsum", dict(causal_attention=_attention_additive)),
    ("q3", "token-by-token prefill with F.linear", dict(generate_with_cache=_generate_fused)),
    ("q4", "counted from torch modules", dict(gpt_param_count=_count_by_modules)),
    ("q6", "Newton on the stationarity condition; lstsq in log10",
     dict(compute_optimal=_optimal_numeric, fit_power_law=_fit_lstsq)),
    ("q7", "softplus form", dict(bradley_terry_loss=_bt_softplus,
                                 fit_linear_reward=lambda a, b: fit_linear_reward(a, b, loss=_bt_softplus))),
    ("q8", "written by cases", dict(ppo_clip_objective=_ppo_where)),
    ("q10", "F.unfold", dict(patchify=_patchify_unfold)),
]


@pytest.mark.parametrize("question, label, overrides", ALTERNATIVES, ids=[a[1] for a in ALTERNATIVES])
def test_alternative_correct_answers_pass(question, label, overrides):
    failed = failures(question, {**REFERENCE, **overrides})
    assert not failed, f"{label}: {failed}"


# --------------------------------------------------------------------------- known-wrong answers
MUTANTS = [  # (question, label, overrides, caught by a public check)
    ("q1", "no 1/sqrt(d_k) scale (book)", dict(causal_attention=_attention_variant("no scale")), True),
    ("q1", "scale 1/d_k", dict(causal_attention=_attention_variant("1/d")), True),
    ("q1", "mask after the softmax (book)", dict(causal_attention=_attention_variant("mask after softmax")), True),
    ("q1", "mask off by one: diagonal excluded", dict(causal_attention=_attention_variant("diagonal excluded")), True),
    ("q1", "no mask", dict(causal_attention=_attention_variant("no mask")), True),
    ("q1", "mask on the wrong triangle", dict(causal_attention=_attention_variant("upper triangle")), True),
    ("q1", "naive exp overflows", dict(causal_attention=_attention_variant("naive exp")), True),
    ("q1", "calls F.scaled_dot_product_attention", dict(causal_attention=_attention_variant("sdpa")), True),
    ("q2", "heads merged in the wrong order", dict(MultiHeadSelfAttention=_make_mha("merge without transpose")), True),
    ("q2", "W_O forgotten", dict(MultiHeadSelfAttention=_make_mha("no W_o")), True),
    ("q2", "scale 1/sqrt(d_model)", dict(MultiHeadSelfAttention=_make_mha("scale d_model")), True),
    ("q2", "heads split as (d_h, H)", dict(MultiHeadSelfAttention=_make_mha("split wrong")), True),
    ("q2", "causal flag ignored", dict(MultiHeadSelfAttention=_make_mha("ignores causal")), True),
    ("q2", "weights averaged over heads", dict(MultiHeadSelfAttention=_make_mha("averaged weights")), True),
    ("q2", "an extra parameter", dict(MultiHeadSelfAttention=_make_mha("extra params")), True),
    ("q3", "full recomputation at every step", dict(generate_with_cache=_generate_full_recompute), True),
    ("q3", "new token at position 0", dict(generate_with_cache=_make_generate("no position offset")), True),
    ("q3", "cache not used", dict(generate_with_cache=_make_generate("cache not used")), True),
    ("q3", "normalised states cached as keys", dict(generate_with_cache=_make_generate("normed states cached")), True),
    ("q3", "last token fed back too", dict(generate_with_cache=_make_generate("last token fed back")), True),
    ("q4", "no biases", dict(gpt_param_count=_count_mutant("no biases")), True),
    ("q4", "untied unembedding", dict(gpt_param_count=_count_mutant("untied")), True),
    ("q4", "no final norm", dict(gpt_param_count=_count_mutant("no final norm")), True),
    ("q4", "LayerNorm with d parameters", dict(gpt_param_count=_count_mutant("layernorm d only")), True),
    ("q4", "no position embedding", dict(gpt_param_count=_count_mutant("no positions")), True),
    ("q4", "attention biases only", dict(gpt_param_count=_count_mutant("attention bias only")), True),
    ("q4", "12 L d^2 only", dict(gpt_param_count=_count_12Ld2), True),
    ("q5", "scale r / alpha", dict(LoRALinear=_make_lora("r / alpha")), True),
    ("q5", "no alpha / r scale", dict(LoRALinear=_make_lora("no scale")), True),
    ("q5", "B initialised at random", dict(LoRALinear=_make_lora("B random")), True),
    ("q5", "A initialised at zero", dict(LoRALinear=_make_lora("A = 0")), True),
    ("q5", "base not frozen", dict(LoRALinear=_make_lora("base not frozen")), True),
    ("q5", "merge without the scale", dict(LoRALinear=_make_lora("merge without scale")), True),
    ("q5", "merge with a scrambled delta", dict(LoRALinear=_make_lora("merge transposed")), True),
    ("q6", "the book's 0.6 / 0.4 exponents", dict(compute_optimal=_optimal_kaplan_book), True),
    ("q6", "exponents swapped", dict(compute_optimal=lambda C, E, A, B, a, b: compute_optimal(
        C, E, A, B, a, b, exponents=(a / (a + b),))), True),
    ("q6", "G inverted", dict(compute_optimal=lambda C, E, A, B, a, b: compute_optimal(
        C, E, B * b * b, A * a * a, a, b)), True),
    ("q6", "N = D = sqrt(C / 6)", dict(compute_optimal=lambda C, *args: (math.sqrt(C / 6), math.sqrt(C / 6))), True),
    ("q6", "power-law exponent with the wrong sign", dict(fit_power_law=lambda x, y: (-fit_power_law(x, y)[0],
                                                                                      fit_power_law(x, y)[1])), True),
    ("q6", "power law fitted in natural scale", dict(fit_power_law=lambda x, y: (
        -np.polyfit(x, y, 1)[0], 1.0)), True),
    ("q7", "BT loss with the wrong sign (book's J_RM)",
     dict(bradley_terry_loss=lambda a, b: F.logsigmoid(a - b).mean()), True),
    ("q7", "BT loss summed", dict(bradley_terry_loss=lambda a, b: -F.logsigmoid(a - b).sum()), True),
    ("q7", "chosen and rejected swapped", dict(bradley_terry_loss=lambda a, b: -F.logsigmoid(b - a).mean()), True),
    ("q7", "log(sigmoid) overflows", dict(bradley_terry_loss=lambda a, b: -torch.log(torch.sigmoid(a - b)).mean()),
     True),
    ("q7", "reward fitted with the flipped sign", dict(fit_linear_reward=lambda a, b: fit_linear_reward(a, b, sign=-1)),
     True),
    ("q8", "min and max swapped", dict(ppo_clip_objective=_ppo_mutant("max")), True),
    ("q8", "no clip for A < 0", dict(ppo_clip_objective=_ppo_mutant("no clip for A < 0")), True),
    ("q8", "clipped term only", dict(ppo_clip_objective=_ppo_mutant("clip only")), True),
    ("q8", "the loss instead of the objective", dict(ppo_clip_objective=_ppo_mutant("loss sign")), True),
    ("q8", "ratio of log-probabilities", dict(ppo_clip_objective=_ppo_mutant("ratio of logs")), True),
    ("q8", "averaged", dict(ppo_clip_objective=_ppo_mutant("mean")), True),
    ("q9", "one direction only", dict(info_nce_loss=_nce_mutant("one direction")), True),
    ("q9", "no normalisation", dict(info_nce_loss=_nce_mutant("no normalisation")), True),
    ("q9", "no temperature", dict(info_nce_loss=_nce_mutant("no tau")), True),
    ("q10", "patch flattened (P, P, C)", dict(patchify=_patch_mutant("PPC")), True),
    ("q10", "patches in column-major order", dict(patchify=_patch_mutant("column-major")), True),
]


@pytest.mark.parametrize("question, label, overrides, public", MUTANTS, ids=[m[1] for m in MUTANTS])
def test_mutant_is_rejected(question, label, overrides, public):
    assert_rejected(SPECS, question, REFERENCE, overrides, label, public)


def test_book_mistakes_are_named_in_the_messages():
    cases = [("q1", dict(causal_attention=_attention_variant("no scale")), "without the 1/sqrt(d_k) scale"),
             ("q1", dict(causal_attention=_attention_variant("mask after softmax")), "after the softmax"),
             ("q1", dict(causal_attention=_attention_variant("diagonal excluded")), "off by one"),
             ("q1", dict(causal_attention=_attention_variant("sdpa")), "scaled_dot_product_attention"),
             ("q2", dict(MultiHeadSelfAttention=_make_mha("merge without transpose")), "wrong order"),
             ("q2", dict(MultiHeadSelfAttention=_make_mha("no W_o")), "without W_O"),
             ("q3", dict(generate_with_cache=_generate_full_recompute), "full recomputation"),
             ("q4", dict(gpt_param_count=_count_mutant("no biases")), "without the biases"),
             ("q4", dict(gpt_param_count=_count_mutant("untied")), "untied"),
             ("q4", dict(gpt_param_count=_count_mutant("no final norm")), "final norm"),
             ("q6", dict(compute_optimal=_optimal_kaplan_book), "0.6 / 0.4"),
             ("q7", dict(bradley_terry_loss=lambda a, b: F.logsigmoid(a - b).mean()), "sign"),
             ("q8", dict(ppo_clip_objective=_ppo_mutant("max")), "max instead of min"),
             ("q8", dict(ppo_clip_objective=_ppo_mutant("no clip for A < 0")), "no clipping when A < 0")]
    assert_named(SPECS, REFERENCE, cases)


# --------------------------------------------------------------------------- stubs and junk answers
def _namespace_returning(value):
    return {name: (lambda *args, **kwargs: value) for name in REFERENCE}


def test_none_stubs_score_zero_on_every_question():
    assert_blank_scores_zero(SPECS, _namespace_returning(None), QUESTIONS)


def test_blank_classes_score_zero():
    class Blank(nn.Module):  # what the student notebook's class looks like before it is filled in
        def __init__(self, *args, **kwargs):
            super().__init__()

        def forward(self, *args, **kwargs):
            ...

        def delta_weight(self):
            ...

        def merge(self):
            ...
    results = run_checks(SPECS, {**_namespace_returning(None), "MultiHeadSelfAttention": Blank, "LoRALinear": Blank},
                         questions=["q2", "q5"], mask_hidden=False)
    for r in results:
        assert r.score == 0, f"{r.question}: a blank class scored {r.score}"


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_junk_answers_fail_with_messages(junk):
    ns = _namespace_returning(junk)
    assert_junk_explained(SPECS, ns, QUESTIONS, junk)


def test_references_reproduce_the_quoted_numbers():
    """Numbers the notebook quotes, from this file's references (the checks compute theirs independently)."""
    assert gpt_param_count(12, 768, 50257, 1024) == 124_439_808
    assert gpt_param_count(96, 12288, 50257, 2048) == 174_604_259_328
    N, D = compute_optimal(5.76e23, 1.8172, 482.01, 2085.43, 0.3478, 0.3658)
    assert N == pytest.approx(72.2e9, rel=0.01) and D / N == pytest.approx(18.4, abs=0.05)
    rho = torch.tensor([1.5, 0.5, 1.1, 0.7, 1.5, 0.5], dtype=torch.float64)
    adv = torch.tensor([1, -1, 1, -1, -1, 1], dtype=torch.float64)
    got = ppo_clip_objective(torch.log(0.5 * rho), torch.full((6,), math.log(0.5), dtype=torch.float64), adv)
    assert torch.allclose(got, torch.tensor([1.2, -0.8, 1.1, -0.8, -1.5, 0.5], dtype=torch.float64))
