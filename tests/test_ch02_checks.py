"""The Chapter 2 exercise checks (public and hidden) accept right answers and reject known-wrong ones.

Each check function is called directly with implementations written here: correct references (and
alternative correct formulations) must pass every check of their question; each known-wrong mutant must fail
at least one check of its question with a message. The mutants include the book's own slips (spec Ch2-9):
Algorithm 3 taken for Adam, Var[ReLU(z)] = Var[z]/2, the garbled tied-memory gradients, scale invariance for
negative factors, and the book's (non-inverted) dropout convention. Stubs that return None score 0
everywhere, and junk return values give assertion messages, never crashes.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special
import torch
from scipy.special import expit

from lib.grading import load_checks
from tests.checks_support import (JUNK, JUNK_IDS, assert_blank_scores_zero, assert_junk_explained, assert_named,
                                  assert_public_and_hidden, assert_rejected, call, failures as _failures)

torch.set_num_threads(1)  # what the notebooks' setup does; several threads on a busy 2-core machine are far slower
SPECS = load_checks("ch02_mlp", hidden=True)
QUESTIONS = [f"q{i}" for i in range(1, 10)]  # q9 is the optional E2.9


# --------------------------------------------------------------------------- correct references
def one_hidden_layer_grads(x, y, W1, b1, w2, b2, kind):
    z = W1 @ x + b1
    h = np.maximum(z, 0.0)
    s = w2 @ h + b2
    e = y - s if kind == "gaussian" else y - expit(s)
    delta = e * w2 * (z > 0)
    return {"W1": np.outer(delta, x), "b1": delta, "w2": e * h, "b2": e}


def mlp_forward(params, X):  # given in the notebook
    cache, h = [], X
    for l, (W, b) in enumerate(params):
        z = h @ W.T + b
        cache.append((h, z))
        h = np.maximum(z, 0.0) if l < len(params) - 1 else z
    return h, cache


def mlp_backward(params, cache, dJ_ds):
    grads, delta = [None] * len(params), dJ_ds
    for l in reversed(range(len(params))):
        h_prev, z = cache[l]
        if l < len(params) - 1:
            delta = delta * (z > 0)
        grads[l] = (delta.T @ h_prev, delta.sum(axis=0))
        delta = delta @ params[l][0]
    return grads


def log_softmax(S):
    shifted = S - S.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy(S, y):
    return float(-log_softmax(S)[np.arange(len(y)), y].mean())


def ce_grad(S, y):
    p = np.exp(log_softmax(S))
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


def minibatch_variance(g, B, replace):
    N = len(g)
    S2 = np.sum((g - g.mean(axis=0)) ** 2) / N
    return S2 / B if replace else S2 / B * (N - B) / (N - 1)


def adam_step(state, g, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    t = state["t"] + 1
    m = b1 * state["m"] + (1 - b1) * g
    v = b2 * state["v"] + (1 - b2) * g * g
    theta = state["theta"] - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return {"theta": theta, "m": m, "v": v, "t": t}


def algorithm3_as_adam(eta, betas, eps):
    b1, b2 = betas
    return eta * math.sqrt(1 - b2) / (1 - b1), eps * (1 - b2)


def he_variance(n_in):
    return 2 / n_in


def relu_second_moment(sigma):
    return sigma ** 2 / 2


def relu_variance(sigma):
    return sigma ** 2 * (0.5 - 0.5 / math.pi)


def propagate(depth, width, batch, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(batch, width, generator=gen, dtype=torch.float64)
    out = [(h ** 2).mean().item()]
    for _ in range(depth):
        W = torch.randn(width, width, generator=gen, dtype=torch.float64) * math.sqrt(scale / width)
        h = torch.relu(h @ W.T)
        out.append((h ** 2).mean().item())
    return np.array(out)


def tied_assoc_grads(We, Wa, x_idx, y_idx):
    h1 = We[:, x_idx]
    h2 = Wa @ h1
    s = We.T @ h2
    p = np.exp(s - s.max())
    p /= p.sum()
    e = -p
    e[y_idx] += 1
    dWe = np.outer(Wa.T @ (We @ e), np.eye(We.shape[1])[x_idx]) + np.outer(h2, e)
    return dWe, np.outer(We @ e, h1)


def pinv_memory(A, B):
    return B @ np.linalg.pinv(A)


def rms_norm(h, eps=0.0):
    return h / np.sqrt(np.mean(h ** 2, axis=-1, keepdims=True) + eps)


def rms_jacobian(h):
    r = np.linalg.norm(h)
    u = h / r
    return np.sqrt(len(h)) / r * (np.eye(len(h)) - np.outer(u, u))


def inverted_dropout(h, rho, mask=None, train=True):
    if not train:
        return h
    if mask is None:
        mask = torch.empty_like(h).bernoulli_(1 - rho)
    return h * mask / (1 - rho)


def als_update_users(R, mask, B, lam):
    k = B.shape[1]
    A = np.zeros((R.shape[0], k))
    for i in range(R.shape[0]):
        Bi = B[mask[i]]
        A[i] = np.linalg.solve(Bi.T @ Bi + lam * np.eye(k), Bi.T @ R[i, mask[i]])
    return A


def als(R, mask, k, lam, iters, seed):
    B = np.random.default_rng(seed).standard_normal((R.shape[1], k))
    for _ in range(iters):
        A = als_update_users(R, mask, B, lam)
        B = als_update_users(R.T, mask.T, A, lam)
    return A, B


REFERENCE = dict(one_hidden_layer_grads=one_hidden_layer_grads, mlp_forward=mlp_forward, mlp_backward=mlp_backward,
                 log_softmax=log_softmax, cross_entropy=cross_entropy, ce_grad=ce_grad,
                 minibatch_variance=minibatch_variance, adam_step=adam_step, algorithm3_as_adam=algorithm3_as_adam,
                 he_variance=he_variance, relu_second_moment=relu_second_moment, relu_variance=relu_variance,
                 propagate=propagate, tied_assoc_grads=tied_assoc_grads, pinv_memory=pinv_memory, rms_norm=rms_norm,
                 rms_jacobian=rms_jacobian, inverted_dropout=inverted_dropout, als_update_users=als_update_users,
                 als=als)


def failures(question, namespace, junk_only=False, only=None):
    return _failures(SPECS, question, namespace, junk_only, only)


def test_every_question_has_public_and_hidden_checks():
    assert_public_and_hidden(SPECS, QUESTIONS, (30, 40))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.question}-{s.name}")
def test_reference_passes(spec):
    call(spec, REFERENCE)


def test_checks_import_no_course_topic_module():
    """The checks are independent references: they must not use the lib modules they are meant to verify."""
    import lib.checks.ch02_mlp as public
    import pathlib
    hidden = pathlib.Path(__file__).parent / "hidden" / "ch02_mlp.py"
    for text in (pathlib.Path(public.__file__).read_text(), hidden.read_text()):
        for module in ("lib.nn", "lib.losses", "lib.mlp_numpy", "lib.optim", "lib.init", "lib.norm", "lib.memory"):
            assert f"from {module} " not in text and f"import {module}" not in text, module


def test_adam_reference_is_torch_optim_adam():
    """The checks run torch's single-tensor Adam kernel (to skip the import of torch._dynamo that any
    torch.optim optimizer triggers); it must take exactly the steps of torch.optim.Adam."""
    from lib.checks.ch02_mlp import _quadratic, _torch_adam_path
    grad, x0 = _quadratic(9, 4, 0.1, 10.0)
    for lr, betas, eps in [(0.05, (0.9, 0.999), 1e-8), (0.02, (0.5, 0.9), 0.1)]:
        kernel = _torch_adam_path(grad, x0, lr, betas, eps, 200)
        optimizer = _torch_adam_path(grad, x0, lr, betas, eps, 200, use_optimizer=True)
        assert np.array_equal(kernel, optimizer)


def test_torch_dropout_draws_its_mask_like_bernoulli():
    """The statement tells students to draw the mask with bernoulli_(1 - rho): that is nn.Dropout's own draw."""
    for seed, shape, rho in [(0, (7,), 0.5), (3, (4, 9), 0.2), (11, (2, 3, 5), 0.7)]:
        h = torch.randn(shape, dtype=torch.float64)
        torch.manual_seed(seed)
        want = torch.nn.Dropout(rho).train()(h)
        torch.manual_seed(seed)
        got = inverted_dropout(h, rho)
        assert torch.equal(want != 0, got != 0) and torch.allclose(got, want, rtol=1e-14, atol=0)


# --------------------------------------------------------------------------- other correct answers
def _one_hidden_relu_prime_at_zero_is_one(x, y, W1, b1, w2, b2, kind):
    z = W1 @ x + b1
    h = np.maximum(z, 0.0)
    s = float(w2 @ h + b2)
    e = y - s if kind == "gaussian" else y - 0.5 * (1 + math.tanh(s / 2))
    delta = e * w2 * (z >= 0)
    return {"W1": delta[:, None] * x[None, :], "b1": delta, "w2": e * h, "b2": np.array([e])}


def _one_hidden_by_autograd(x, y, W1, b1, w2, b2, kind):
    P = {k: torch.tensor(np.asarray(v, dtype=float), requires_grad=True)
         for k, v in dict(W1=W1, b1=b1, w2=w2, b2=b2).items()}
    s = P["w2"] @ torch.relu(P["W1"] @ torch.tensor(x) + P["b1"]) + P["b2"]
    J = -0.5 * (y - s) ** 2 if kind == "gaussian" else -torch.nn.functional.binary_cross_entropy_with_logits(
        s, torch.tensor(float(y), dtype=torch.float64))
    J.backward()
    return {k: v.grad for k, v in P.items()}  # torch tensors are fine


def _forward_activations(params, X):
    """Another cache layout: the list of layer inputs plus the masks."""
    acts, masks, h = [X], [], X
    for l, (W, b) in enumerate(params):
        z = h @ W.T + b
        if l < len(params) - 1:
            masks.append(z > 0)
            h = np.where(z > 0, z, 0.0)
            acts.append(h)
        else:
            h = z
    return h, {"acts": acts, "masks": masks}


def _backward_activations(params, cache, dJ_ds):
    out, delta = [], dJ_ds
    for l in range(len(params) - 1, -1, -1):
        out.insert(0, (np.einsum("bi,bj->ij", delta, cache["acts"][l]), np.einsum("bi->i", delta)))
        if l:
            delta = (delta @ params[l][0]) * cache["masks"][l - 1]
    return tuple(out)


def _variance_by_formula(g, B, replace):
    N = len(g)
    S2 = np.var(g, axis=0).sum()
    return S2 / B * (1.0 if replace else (N - B) / (N - 1))


def _adam_with_torch_state(state, g, lr, betas, eps):
    t = int(state["t"]) + 1
    m = torch.as_tensor(state["m"]) * betas[0] + (1 - betas[0]) * torch.as_tensor(g)
    v = torch.as_tensor(state["v"]) * betas[1] + (1 - betas[1]) * torch.as_tensor(g) ** 2
    step = lr / (1 - betas[0] ** t) * m / ((v / (1 - betas[1] ** t)).sqrt() + eps)
    return {**state, "theta": torch.as_tensor(state["theta"]) - step, "m": m, "v": v, "t": float(t), "extra": 1}


def _rms_norm_torch(h, eps=0.0):
    return torch.nn.functional.rms_norm(torch.as_tensor(h), (np.shape(h)[-1],), eps=eps)


def _dropout_functional(h, rho, mask=None, train=True):
    if mask is None:
        return torch.nn.functional.dropout(h, rho, training=train)
    return h * mask / (1 - rho) if train else h


ALTERNATIVES = [
    ("q1", "ReLU'(0) = 1, tanh sigmoid, b2 as a 1-array", dict(one_hidden_layer_grads=_one_hidden_relu_prime_at_zero_is_one)),
    ("q1", "torch autograd, tensors returned", dict(one_hidden_layer_grads=_one_hidden_by_autograd)),
    ("q2", "own cache layout, einsum, a tuple", dict(mlp_forward=_forward_activations, mlp_backward=_backward_activations)),
    ("q3", "scipy.special", dict(log_softmax=lambda S: scipy.special.log_softmax(S, axis=1),
                                 cross_entropy=lambda S, y: -np.mean(scipy.special.log_softmax(S, axis=1)[range(len(y)), y]),
                                 ce_grad=lambda S, y: (scipy.special.softmax(S, axis=1) - np.eye(S.shape[1])[y]) / len(y))),
    ("q4", "np.var", dict(minibatch_variance=_variance_by_formula)),
    ("q5", "torch tensors in the state, extra keys", dict(adam_step=_adam_with_torch_state,
                                                          algorithm3_as_adam=lambda eta, b, eps: np.array(
                                                              algorithm3_as_adam(eta, b, eps)))),
    ("q7", "np.linalg.lstsq memory", dict(pinv_memory=lambda A, B: np.linalg.lstsq(A.T, B.T, rcond=None)[0].T)),
    ("q8", "torch rms_norm and F.dropout", dict(rms_norm=_rms_norm_torch, inverted_dropout=_dropout_functional)),
    ("q9", "weighted normal equations with a 0/1 mask, lists returned", dict(
        als_update_users=lambda R, mask, B, lam: [np.linalg.lstsq(
            (B * mask[i][:, None]).T @ B + lam * np.eye(B.shape[1]), (B * mask[i][:, None]).T @ R[i], rcond=None)[0]
            for i in range(len(R))])),
]


@pytest.mark.parametrize("question, label, overrides", ALTERNATIVES, ids=[a[1] for a in ALTERNATIVES])
def test_alternative_correct_answers_pass(question, label, overrides):
    assert failures(question, {**REFERENCE, **overrides}) == {}


# --------------------------------------------------------------------------- known-wrong answers
def _one_hidden(relu_prime=lambda z: z > 0, error=None, sign=1.0, use_w2=True, transpose_W1=False):
    def grads(x, y, W1, b1, w2, b2, kind):
        z = W1 @ x + b1
        h = np.maximum(z, 0.0)
        s = w2 @ h + b2
        e = (y - s if kind == "gaussian" else y - expit(s)) if error is None else error(y, s, kind)
        delta = e * (w2 if use_w2 else 1.0) * relu_prime(z)
        dW1 = np.outer(x, delta) if transpose_W1 else np.outer(delta, x)
        return {k: sign * v for k, v in dict(W1=dW1, b1=delta, w2=e * h, b2=e).items()}
    return grads


def _backward(transpose=False, relu_mask=True, mean=False, sum_bias=True, mask_last=False):
    def backward(params, cache, dJ_ds):
        grads, delta = [None] * len(params), dJ_ds
        for l in reversed(range(len(params))):
            h_prev, z = cache[l]
            if (l < len(params) - 1 and relu_mask) or mask_last and l == len(params) - 1:
                delta = delta * (z > 0)
            dW = h_prev.T @ delta if transpose else delta.T @ h_prev
            db = delta.sum(axis=0) if sum_bias else delta
            grads[l] = (dW / len(h_prev), db / len(h_prev)) if mean else (dW, db)
            delta = delta @ params[l][0]
        return grads
    return backward


def _backward_in_place(params, cache, dJ_ds):
    grads = mlp_backward(params, cache, dJ_ds)
    for (W, b), (dW, db) in zip(params, grads):
        W += 0.1 * dW  # a "helpful" update of the parameters
    return grads


def _naive_log_softmax(S):
    return np.log(np.exp(S) / np.exp(S).sum(axis=-1, keepdims=True))


def _global_shift_log_softmax(S):
    shifted = S - S.max()
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _variance(factor):
    def var(g, B, replace):
        N = len(g)
        S2 = np.sum((g - g.mean(axis=0)) ** 2) / N
        return S2 / B * factor(N, B, replace)
    return var


def _adam(correct_m=True, correct_v=True, eps_inside=False, book=False):
    def step(state, g, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        b1, b2 = betas
        t = state["t"] + 1
        if book:  # Algorithm 3
            m, v = b1 * state["m"] + g, b2 * state["v"] + g * g
            return {"theta": state["theta"] - lr * m / np.sqrt(v + eps), "m": m, "v": v, "t": t}
        m = b1 * state["m"] + (1 - b1) * g
        v = b2 * state["v"] + (1 - b2) * g * g
        mh = m / (1 - b1 ** t) if correct_m else m
        vh = v / (1 - b2 ** t) if correct_v else v
        denom = np.sqrt(vh + eps) if eps_inside else np.sqrt(vh) + eps
        return {"theta": state["theta"] - lr * mh / denom, "m": m, "v": v, "t": t}
    return step


def _adam_in_place(state, g, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    new = adam_step(state, g, lr, betas, eps)
    state.update(new)  # changes the caller's dict
    return state


def _propagate(order="x first", transpose=False, sqrt=True, stat="second moment", include_input=True, act=torch.relu):
    def prop(depth, width, batch, scale, seed):
        gen = torch.Generator().manual_seed(seed)
        Ws = []
        if order == "W first":
            Ws = [torch.randn(width, width, generator=gen, dtype=torch.float64) for _ in range(depth)]
        h = torch.randn(batch, width, generator=gen, dtype=torch.float64)
        if order != "W first":
            Ws = [torch.randn(width, width, generator=gen, dtype=torch.float64) for _ in range(depth)]
        measure = (lambda u: (u ** 2).mean().item()) if stat == "second moment" else (lambda u: u.var().item())
        out = [measure(h)]
        for W in Ws:
            W = W * (math.sqrt(scale / width) if sqrt else scale / width)
            h = act(h @ W if transpose else h @ W.T)
            out.append(measure(h))
        return np.array(out if include_input else out[1:])
    return prop


def _tied(variant):
    def grads(We, Wa, x_idx, y_idx):
        dWe, dWa = tied_assoc_grads(We, Wa, x_idx, y_idx)
        h1 = We[:, x_idx]
        h2 = Wa @ h1
        s = We.T @ h2
        p = np.exp(s - s.max())
        p /= p.sum()
        e = np.eye(We.shape[1])[y_idx] - p
        x = np.eye(We.shape[1])[x_idx]
        if variant == "untied":
            return np.outer(Wa.T @ We @ e, x), dWa
        if variant == "only unembedding":
            return np.outer(h2, e), dWa
        if variant == "book transposed term":  # the draft's (y - p) h2^T, which is the gradient for We^T
            return np.outer(Wa.T @ We @ e, x) + np.outer(e, h2), dWa
        if variant == "book shape":
            return dWe.T, dWa
        if variant == "Wa not transposed":
            return np.outer(Wa @ We @ e, x) + np.outer(h2, e), dWa
        if variant == "dWa transposed":
            return dWe, dWa.T
        if variant == "sign":
            return -dWe, -dWa
        raise ValueError(variant)
    return grads


def _rms(kind):
    def norm(h, eps=0.0):
        if kind == "layernorm":
            c = h - h.mean(axis=-1, keepdims=True)
            return c / np.sqrt(np.mean(c ** 2, axis=-1, keepdims=True) + eps)
        if kind == "unit":
            return h / np.sqrt(np.sum(h ** 2, axis=-1, keepdims=True) + eps)
        if kind == "eps outside":
            return h / (np.sqrt(np.mean(h ** 2, axis=-1, keepdims=True)) + eps)
        if kind == "axis 0":
            return h / np.sqrt(np.mean(h ** 2, axis=0, keepdims=True) + eps)
        if kind == "abs scale":  # 'scale invariance' taken for any factor: the sign is normalised away
            return np.abs(h) / np.sqrt(np.mean(h ** 2, axis=-1, keepdims=True) + eps)
        raise ValueError(kind)
    return norm


def _dropout(kind):
    def drop(h, rho, mask=None, train=True):
        if mask is None:
            mask = torch.empty_like(h).bernoulli_(1 - rho)
        if kind == "book":  # the original convention: no scaling in training, (1 - rho) at test time
            return h * mask if train else (1 - rho) * h
        if kind == "book eval only":
            return h * mask / (1 - rho) if train else (1 - rho) * h
        if kind == "no scaling":
            return h * mask if train else h
        if kind == "divide by rho":
            return h * mask / rho if train else h
        if kind == "mask inverted":
            return h * (1 - mask) / (1 - rho) if train else h
        if kind == "dropout at eval":
            return h * mask / (1 - rho)
        if kind == "numpy mask":
            keep = np.random.default_rng(0).random(tuple(h.shape)) >= rho if mask is None else mask
            return h * torch.as_tensor(keep, dtype=h.dtype) / (1 - rho) if train else h
        raise ValueError(kind)
    return drop


def _numpy_mask_dropout(h, rho, mask=None, train=True):
    if not train:
        return h
    if mask is None:
        mask = torch.as_tensor(np.random.default_rng(0).random(tuple(h.shape)) >= rho, dtype=h.dtype)
    return h * mask / (1 - rho)


# (question, label, overrides, rejected by a public check?) ; "book:" marks the draft's own slips (spec Ch2-9)
MUTANTS = [
    ("q1", "ReLU' = 1 everywhere", dict(one_hidden_layer_grads=_one_hidden(relu_prime=np.ones_like)), True),
    ("q1", "gradient of the loss (sign flipped)", dict(one_hidden_layer_grads=_one_hidden(sign=-1.0)), True),
    ("q1", "Bernoulli with the least-squares error y - s", dict(one_hidden_layer_grads=_one_hidden(
        error=lambda y, s, kind: y - s)), True),
    ("q1", "book: unit-variance assumption dropped, e = (y - s)/2", dict(one_hidden_layer_grads=_one_hidden(
        error=lambda y, s, kind: (y - s) / 2 if kind == "gaussian" else y - expit(s))), True),
    ("q1", "delta without w2", dict(one_hidden_layer_grads=_one_hidden(use_w2=False)), True),
    ("q1", "dW1 transposed", dict(one_hidden_layer_grads=_one_hidden(transpose_W1=True)), True),
    ("q2", "transposed gradient H^T Delta", dict(mlp_backward=_backward(transpose=True)), True),
    ("q2", "ReLU' omitted", dict(mlp_backward=_backward(relu_mask=False)), True),
    ("q2", "ReLU' applied to the linear output layer", dict(mlp_backward=_backward(mask_last=True)), True),
    ("q2", "averaged over the batch", dict(mlp_backward=_backward(mean=True)), True),
    ("q2", "bias gradient per example", dict(mlp_backward=_backward(sum_bias=False)), True),
    ("q2", "parameters updated in place", dict(mlp_backward=_backward_in_place), False),
    ("q3", "naive log(softmax) overflows", dict(log_softmax=_naive_log_softmax), True),
    ("q3", "shift by the global maximum", dict(log_softmax=_global_shift_log_softmax), True),
    ("q3", "log-softmax over the batch axis", dict(log_softmax=lambda S: log_softmax(S.T).T), True),
    ("q3", "softmax instead of log-softmax", dict(log_softmax=lambda S: np.exp(log_softmax(S))), True),
    ("q3", "cross-entropy summed over the batch", dict(cross_entropy=lambda S, y: cross_entropy(S, y) * len(y)), True),
    ("q3", "book sign: ce_grad = y - p", dict(ce_grad=lambda S, y: -ce_grad(S, y)), True),
    ("q3", "ce_grad of the summed loss", dict(ce_grad=lambda S, y: ce_grad(S, y) * len(y)), True),
    ("q3", "cross-entropy through the naive softmax", dict(cross_entropy=lambda S, y: float(-np.mean(
        np.log(np.exp(S) / np.exp(S).sum(axis=1, keepdims=True))[np.arange(len(y)), y]))), True),
    ("q4", "book: Var = S^2/B without the finite-population factor", dict(minibatch_variance=_variance(
        lambda N, B, r: 1.0)), True),
    ("q4", "factor (N - B)/N", dict(minibatch_variance=_variance(lambda N, B, r: 1.0 if r else (N - B) / N)), True),
    ("q4", "sample variance S^2 with N - 1", dict(minibatch_variance=_variance(
        lambda N, B, r: N / (N - 1) * (1.0 if r else (N - B) / (N - 1)))), True),
    ("q4", "replace flag swapped", dict(minibatch_variance=lambda g, B, replace: minibatch_variance(g, B, not replace)), True),
    ("q4", "per-coordinate variances", dict(minibatch_variance=lambda g, B, replace: np.var(g, axis=0) / B), True),
    ("q4", "no division by B", dict(minibatch_variance=lambda g, B, replace: minibatch_variance(g, B, replace) * B), True),
    ("q5", "Adam without bias correction", dict(adam_step=_adam(correct_m=False, correct_v=False)), True),
    ("q5", "book: Algorithm 3 as Adam", dict(adam_step=_adam(book=True)), True),
    ("q5", "eps inside the square root", dict(adam_step=_adam(eps_inside=True)), True),
    ("q5", "only m corrected", dict(adam_step=_adam(correct_v=False)), True),
    ("q5", "only v corrected", dict(adam_step=_adam(correct_m=False)), True),
    ("q5", "state changed in place", dict(adam_step=_adam_in_place), False),
    ("q5", "book: Algorithm 3's own (eta, eps)", dict(algorithm3_as_adam=lambda eta, b, eps: (eta, eps)), True),
    ("q5", "learning-rate factor upside down", dict(algorithm3_as_adam=lambda eta, b, eps: (
        eta * (1 - b[0]) / math.sqrt(1 - b[1]), eps * (1 - b[1]))), True),
    ("q5", "eps divided by (1 - beta2)", dict(algorithm3_as_adam=lambda eta, b, eps: (
        eta * math.sqrt(1 - b[1]) / (1 - b[0]), eps / (1 - b[1]))), True),
    ("q5", "learning rate without the square root", dict(algorithm3_as_adam=lambda eta, b, eps: (
        eta * (1 - b[1]) / (1 - b[0]), eps * (1 - b[1]))), True),
    ("q6", "book: Var[ReLU(z)] = Var[z]/2", dict(relu_variance=lambda s: s ** 2 / 2), True),
    ("q6", "sigma taken as the variance", dict(relu_second_moment=lambda s: s / 2,
                                               relu_variance=lambda s: s * (0.5 - 0.5 / math.pi)), True),
    ("q6", "variance with 1/pi", dict(relu_variance=lambda s: s ** 2 * (0.5 - 1 / math.pi)), True),
    ("q6", "He variance 1/n_in", dict(he_variance=lambda n: 1 / n), True),
    ("q6", "He standard deviation, not variance", dict(he_variance=lambda n: math.sqrt(2 / n)), True),
    ("q6", "propagate: scale/width as the standard deviation", dict(propagate=_propagate(sqrt=False)), True),
    ("q6", "propagate: h @ W", dict(propagate=_propagate(transpose=True)), True),
    ("q6", "propagate: weights drawn before x", dict(propagate=_propagate(order="W first")), True),
    ("q6", "propagate: variance instead of second moment", dict(propagate=_propagate(stat="variance")), True),
    ("q6", "propagate: input entry missing", dict(propagate=_propagate(include_input=False)), True),
    ("q6", "propagate: tanh", dict(propagate=_propagate(act=torch.tanh)), True),
    ("q7", "untied: the unembedding term h2 e^T missing", dict(tied_assoc_grads=_tied("untied")), True),
    ("q7", "only the unembedding term", dict(tied_assoc_grads=_tied("only unembedding")), True),
    ("q7", "book: second term (y - p) h2^T", dict(tied_assoc_grads=_tied("book transposed term")), True),
    ("q7", "book: dWe with the shape of We^T", dict(tied_assoc_grads=_tied("book shape")), True),
    ("q7", "Wa where Wa^T belongs", dict(tied_assoc_grads=_tied("Wa not transposed")), True),
    ("q7", "dWa transposed", dict(tied_assoc_grads=_tied("dWa transposed")), True),
    ("q7", "gradient of the loss (sign flipped)", dict(tied_assoc_grads=_tied("sign")), True),
    ("q7", "outer-product memory B A^T", dict(pinv_memory=lambda A, B: B @ A.T), True),
    ("q7", "B (A^T A)^-1 A^T (fails for n > d)", dict(pinv_memory=lambda A, B: B @ np.linalg.inv(A.T @ A) @ A.T), True),
    ("q7", "W of the wrong shape, pinv(A) B^T", dict(pinv_memory=lambda A, B: np.linalg.pinv(A).T @ B.T), True),
    ("q8", "layer normalisation", dict(rms_norm=_rms("layernorm")), True),
    ("q8", "h / ||h|| (radius 1)", dict(rms_norm=_rms("unit")), True),
    ("q8", "eps outside the root", dict(rms_norm=_rms("eps outside")), True),
    ("q8", "normalised over the batch axis", dict(rms_norm=_rms("axis 0")), True),
    ("q8", "book: scale invariance for every factor (sign lost)", dict(rms_norm=_rms("abs scale")), True),
    ("q8", "Jacobian without the projection", dict(rms_jacobian=lambda h: math.sqrt(len(h)) / np.linalg.norm(h)
                                                   * np.eye(len(h))), True),
    ("q8", "Jacobian without sqrt(d)", dict(rms_jacobian=lambda h: rms_jacobian(h) / math.sqrt(len(h))), True),
    ("q8", "Jacobian with I + u u^T", dict(rms_jacobian=lambda h: rms_jacobian(h) + 2 * math.sqrt(len(h)) / np.linalg.norm(h)
                                           * np.outer(h, h) / (h @ h)), True),
    ("q8", "book: dropout without rescaling, (1 - rho) at test time", dict(inverted_dropout=_dropout("book")), True),
    ("q8", "book: test-time (1 - rho) on top of inverted dropout", dict(inverted_dropout=_dropout("book eval only")), True),
    ("q8", "dropout without any rescaling", dict(inverted_dropout=_dropout("no scaling")), True),
    ("q8", "dropout divided by rho", dict(inverted_dropout=_dropout("divide by rho")), True),
    ("q8", "mask read the wrong way round", dict(inverted_dropout=_dropout("mask inverted")), True),
    ("q8", "dropout applied at test time", dict(inverted_dropout=_dropout("dropout at eval")), True),
    ("q8", "mask from numpy, not torch's generator", dict(inverted_dropout=_numpy_mask_dropout), True),
    ("q9", "unobserved ratings taken as zeros", dict(als_update_users=lambda R, mask, B, lam: als_update_users(
        np.where(mask, R, 0.0), np.ones_like(mask), B, lam)), True),
    ("q9", "ridge 2 lam", dict(als_update_users=lambda R, mask, B, lam: als_update_users(R, mask, B, 2 * lam)), True),
    ("q9", "ridge ignored", dict(als_update_users=lambda R, mask, B, lam: als_update_users(R, mask, B, 0.0)), True),
    ("q9", "the item factors returned", dict(als_update_users=lambda R, mask, B, lam: B), True),
    ("q9", "ALS that never updates B", dict(als=lambda R, mask, k, lam, iters, seed: (
        als_update_users(R, mask, np.random.default_rng(seed).standard_normal((R.shape[1], k)), lam),
        np.random.default_rng(seed).standard_normal((R.shape[1], k)))), True),
    ("q9", "ALS with one round only", dict(als=lambda R, mask, k, lam, iters, seed: als(R, mask, k, lam, 1, seed)), True),
]


@pytest.mark.parametrize("question, label, overrides, public", MUTANTS, ids=[m[1] for m in MUTANTS])
def test_mutant_is_rejected(question, label, overrides, public):
    assert_rejected(SPECS, question, REFERENCE, overrides, label, public)


def test_book_mistakes_are_named_in_the_messages():
    """The most common wrong answers get a message that names the mistake, not only a number."""
    cases = [("q1", dict(one_hidden_layer_grads=_one_hidden(relu_prime=np.ones_like)), "ReLU'"),
             ("q5", dict(adam_step=_adam(book=True)), "Algorithm 3"),
             ("q5", dict(adam_step=_adam(correct_m=False, correct_v=False)), "bias correction"),
             ("q6", dict(relu_variance=lambda s: s ** 2 / 2), "second moment"),
             ("q7", dict(tied_assoc_grads=_tied("untied")), "h2 e^T"),
             ("q7", dict(tied_assoc_grads=_tied("book shape")), "We^T"),
             ("q8", dict(inverted_dropout=_dropout("book")), "book"),
             ("q2", dict(mlp_backward=_backward(transpose=True)), "transpose")]
    assert_named(SPECS, REFERENCE, cases)


# --------------------------------------------------------------------------- stubs and junk answers
def _namespace_returning(value):
    ns = {name: (lambda *args, **kwargs: value) for name in REFERENCE}
    ns["mlp_forward"] = mlp_forward  # given in the notebook
    return ns


def test_none_stubs_score_zero_on_every_question():
    assert_blank_scores_zero(SPECS, _namespace_returning(None), QUESTIONS)


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_junk_answers_fail_with_messages(junk):
    ns = _namespace_returning(junk)
    ns["mlp_forward"] = lambda *args: junk
    assert_junk_explained(SPECS, ns, QUESTIONS, junk)


def test_references_reproduce_the_verified_numbers():
    """Numbers the spec verified, from this file's references (the checks compute theirs independently)."""
    assert relu_variance(1.0) == pytest.approx(0.34085, abs=1e-4)
    lr, eps = algorithm3_as_adam(1.0, (0.9, 0.999), 1e-8)
    assert lr == pytest.approx(0.316, abs=1e-3) and eps == pytest.approx(1e-11)
    ratios = [(lambda out: out[30] / out[1])(propagate(30, 64, 16, 2.0, s)) for s in range(4)]
    assert 0.02 < min(ratios) and max(ratios) < 50  # single seeds scatter widely: never test one tightly
