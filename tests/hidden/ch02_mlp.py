"""Hidden checks for the Chapter 2 exercises (grading only; a failure shows as "hidden check failed").

They use cases the notebook never shows (many random shapes, extreme scores, a single example, d = 1, keys
as many as dimensions, non-quadratic objectives) and verify that the student's functions leave their inputs
unchanged. References come from torch and closed forms, through the helpers of the public checks.
"""
from __future__ import annotations

import numpy as np
import torch

from lib.checks.ch02_mlp import (F64, _answered, _array, _check_adam_path, _check_algorithm3_equivalence,
                                 _check_dropout_mask, _check_mlp_backward, _check_one_hidden, _check_pinv_memory,
                                 _check_tied, _close, _copy_params, _enumerated_variance, _forward, _gradient_table, _keys,
                                 _logits, _mlp_params, _number, _one_hidden_case, _propagate_reference,
                                 _torch_ce, _torch_ce_grad, _torch_log_softmax, _torch_rms_jacobian, _torch_rms_norm,
                                 _unchanged)
from lib.grading import check


# --------------------------------------------------------------------------- q1
@check("q1", points=1)
def hidden_twenty_random_networks(one_hidden_layer_grads):
    rng = np.random.default_rng(1101)
    for i in range(20):
        kind = ("gaussian", "bernoulli")[i % 2]
        d, m = int(rng.integers(1, 4)), int(rng.integers(1, 9))
        case = _one_hidden_case(rng, d, m, kind, dead=int(rng.integers(0, m + 1)))
        _check_one_hidden(one_hidden_layer_grads, *case, kind, f"one_hidden_layer_grads, hidden case {i + 1}")
    x, y, W1, b1, w2, b2 = _one_hidden_case(rng, 2, 3, "bernoulli", dead=1)
    w2 = w2 * 40 / np.abs(w2).sum()  # |s| of order 40: 1 - sigmoid(s) underflows if computed carelessly
    with np.errstate(all="ignore"):
        _check_one_hidden(one_hidden_layer_grads, x, y, W1, b1, w2, b2, "bernoulli", "one_hidden_layer_grads, large score")
    originals = dict(x=x, W1=W1, b1=b1, w2=w2)
    copies = {k: v.copy() for k, v in originals.items()}
    with np.errstate(all="ignore"):
        one_hidden_layer_grads(copies["x"], y, copies["W1"], copies["b1"], copies["w2"], b2, "bernoulli")
    _unchanged(copies, originals, "one_hidden_layer_grads")


# --------------------------------------------------------------------------- q2
@check("q2", points=1)
def hidden_deep_narrow_and_single_example(mlp_forward, mlp_backward):
    rng = np.random.default_rng(1201)
    for sizes, B in [([1, 1, 1, 1, 1, 1], 3), ([6, 7, 7, 2], 1), ([2, 3, 1], 4), ([5, 2], 2)]:
        params = _mlp_params(rng, sizes)
        params[0] = (params[0][0], params[0][1] - 0.8)  # some dead units
        X, G = rng.standard_normal((B, sizes[0])), rng.standard_normal((B, sizes[-1]))
        _check_mlp_backward(mlp_forward, mlp_backward, params, X, G, f"mlp_backward, sizes {sizes}, batch {B}")
    params = _mlp_params(rng, [3, 4, 2])
    X, G = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    s, cache = _forward(mlp_forward, params, X)
    before = [(W.copy(), b.copy()) for W, b in params]
    p_copy, G_copy = _copy_params(params), G.copy()
    mlp_backward(p_copy, cache, G_copy)
    for (W, b), (W0, b0) in zip(p_copy, before):
        _unchanged({"W": W, "b": b}, {"W": W0, "b": b0}, "mlp_backward")
    _unchanged({"dJ_ds": G_copy}, {"dJ_ds": G}, "mlp_backward")


# --------------------------------------------------------------------------- q3
@check("q3", points=1)
def hidden_softmax_extremes_and_shapes(log_softmax, cross_entropy, ce_grad):
    rng = np.random.default_rng(1301)
    S, y = _logits(rng, 1, 1)  # one class: log p = 0, loss 0, gradient 0
    _close(log_softmax(S.copy()), np.zeros((1, 1)), 1e-12, "log_softmax with a single class")
    S, y = _logits(rng, 3, 200, scale=400.0)
    Sc, yc = S.copy(), y.copy()
    with np.errstate(all="ignore"):
        _close(log_softmax(Sc), _torch_log_softmax(S), 1e-12, "log_softmax, 200 classes, logits of size 1000")
        _close(_number(cross_entropy(Sc, yc), "cross_entropy"), _torch_ce(S, y), 1e-12, "cross_entropy, 200 classes")
        _close(ce_grad(Sc, yc), _torch_ce_grad(S, y), 1e-12, "ce_grad, 200 classes")
    _unchanged({"S": Sc, "y": yc}, {"S": S, "y": y}, "log_softmax / cross_entropy / ce_grad")
    S, y = _logits(rng, 6, 3)
    g = _array(ce_grad(S.copy(), y.copy()), "ce_grad", S.shape)
    assert np.abs(g.sum(axis=1)).max() <= 1e-14, "each row of ce_grad should sum to 0 (softmax is shift-invariant)"


# --------------------------------------------------------------------------- q4
@check("q4", points=1)
def hidden_variance_other_sizes(minibatch_variance):
    rng = np.random.default_rng(1401)
    g = _gradient_table(rng, 6, 1)
    for B in (2, 4):
        for replace in (False, True):
            want = _enumerated_variance(g, B, replace)
            _close(_number(minibatch_variance(g.copy(), B, replace), "minibatch_variance"), want, 1e-12,
                   f"minibatch_variance(g of shape (6, 1), B={B}, replace={replace})")
    g = _gradient_table(rng, 7, 4) + 1e3  # a large common mean: subtract it before squaring
    gc = g.copy()
    _close(_number(minibatch_variance(gc, 3, False), "minibatch_variance"), _enumerated_variance(g, 3, False), 1e-9,
           "minibatch_variance with gradients far from 0")
    _unchanged({"g": gc}, {"g": g}, "minibatch_variance")
    _close(_number(minibatch_variance(g.copy(), 12, True), "minibatch_variance"),
           np.sum(np.var(g, axis=0)) / 12, 1e-9, "minibatch_variance with replacement and B = 12 > N = 7")


# --------------------------------------------------------------------------- q5
@check("q5", points=1)
def hidden_adam_nonquadratic_and_state(adam_step, algorithm3_as_adam):
    rng = np.random.default_rng(1501)
    A, c = rng.standard_normal((8, 5)), rng.standard_normal(8)
    grad = lambda x: A.T @ np.tanh(A @ x - c) + 0.01 * x
    _check_adam_path(adam_step, grad, rng.standard_normal(5), 0.03, (0.95, 0.98), 1e-7, 200, "adam_step, non-quadratic")
    _check_adam_path(adam_step, lambda x: 4 * (x - 1.0) ** 3, np.array([3.0]), 0.1, (0.9, 0.999), 1e-8, 100,
                     "adam_step in one dimension")
    state = {"theta": np.array([1.0, -2.0]), "m": np.array([0.1, 0.2]), "v": np.array([0.3, 0.4]), "t": 5}
    copy = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}
    _answered(adam_step(copy, np.array([0.5, -0.5]), 0.01, (0.9, 0.999), 1e-8), "adam_step")
    for k in ("theta", "m", "v"):
        _unchanged({k: copy[k]}, {k: state[k]}, "adam_step")
    assert copy["t"] == 5, "adam_step changed the state it was given (t); return a new dict instead"
    _check_algorithm3_equivalence(algorithm3_as_adam, 0.2, (0.0, 0.5), 1e-4, "algorithm3_as_adam(0.2, (0.0, 0.5), 1e-4)")


# --------------------------------------------------------------------------- q6
@check("q6", points=0.5)
def hidden_initialisation_edge_cases(he_variance, relu_second_moment, relu_variance, propagate):
    _close(_number(relu_variance(0.0), "relu_variance(0)"), 0.0, 1e-15, "relu_variance(0)")
    for sigma in (1e-3, 7.5):
        _close(_number(relu_second_moment(sigma), "relu_second_moment"), sigma ** 2 / 2, 1e-12, f"relu_second_moment({sigma})")
        _close(_number(relu_variance(sigma), "relu_variance"), sigma ** 2 * (0.5 - 0.5 / np.pi), 1e-12, f"relu_variance({sigma})")
    _close(_number(he_variance(7), "he_variance(7)"), 2 / 7, 1e-12, "he_variance(7)")
    for args in [(0, 3, 2, 2.0, 5), (1, 1, 1, 2.0, 11), (4, 9, 3, 0.5, 123)]:
        _close(propagate(*args), _propagate_reference(*args), 1e-10, f"propagate{args}")


# --------------------------------------------------------------------------- q7
@check("q7", points=1)
def hidden_tied_and_pinv_edge_cases(tied_assoc_grads, pinv_memory):
    rng = np.random.default_rng(1701)
    for d, V, x_idx, y_idx in [(1, 5, 2, 2), (3, 3, 0, 1), (8, 40, 39, 0), (2, 6, 5, 5)]:
        We, Wa = rng.standard_normal((d, V)) * 2, rng.standard_normal((d, d))
        _check_tied(tied_assoc_grads, We, Wa, x_idx, y_idx, f"tied_assoc_grads with d={d}, V={V}, x={x_idx}, y={y_idx}")
    We, Wa = rng.standard_normal((4, 6)), rng.standard_normal((4, 4))
    Ec, Ac = We.copy(), Wa.copy()
    tied_assoc_grads(Ec, Ac, 1, 2)
    _unchanged({"We": Ec, "Wa": Ac}, {"We": We, "Wa": Wa}, "tied_assoc_grads")
    d = 12
    A, B = _keys(rng, d, d), rng.standard_normal((d, d))  # as many keys as dimensions: still exact
    W = _check_pinv_memory(pinv_memory, A, B, "pinv_memory with n = d")
    assert np.abs(W @ A - B).max() <= 1e-9 * np.abs(B).max(), "pinv_memory: n = d independent keys are recalled exactly"
    A, B = _keys(rng, 5, 3), rng.standard_normal((7, 3))
    Ac, Bc = A.copy(), B.copy()
    _check_pinv_memory(pinv_memory, Ac, Bc, "pinv_memory with values longer than keys")
    _unchanged({"A": Ac, "B": Bc}, {"A": A, "B": B}, "pinv_memory")


# --------------------------------------------------------------------------- q8
@check("q8", points=1)
def hidden_rms_and_dropout_edge_cases(rms_norm, rms_jacobian, inverted_dropout):
    rng = np.random.default_rng(1801)
    h = rng.standard_normal((2, 3, 5)) * 10
    hc = h.copy()
    _close(rms_norm(hc, 1e-2), _torch_rms_norm(h, 1e-2), 1e-12, "rms_norm on a 3-D array (normalise the last axis)")
    _unchanged({"h": hc}, {"h": h}, "rms_norm")
    h1 = rng.standard_normal(9)
    _close(rms_norm(h1.copy(), 0.0), _torch_rms_norm(h1, 0.0), 1e-12, "rms_norm on a 1-D vector")
    hs = np.array([3.0, -4.0]) * 1e-6  # small h: large Jacobian
    _close(rms_jacobian(hs.copy()), _torch_rms_jacobian(hs), 1e-10, "rms_jacobian for a tiny h")
    h = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(1802), dtype=F64)
    keep = torch.bernoulli(torch.full(h.shape, 0.6, dtype=F64), generator=torch.Generator().manual_seed(1803))
    _check_dropout_mask(inverted_dropout, h, 0.4, keep, "inverted_dropout on a 3-D tensor")
    hc, kc = h.clone(), keep.clone()
    inverted_dropout(hc, 0.4, kc, True)
    _unchanged({"h": hc, "mask": kc}, {"h": h.numpy(), "mask": keep.numpy()}, "inverted_dropout")
    with torch.random.fork_rng(devices=[]):
        out = _answered(inverted_dropout(h.clone(), 0.0, None, True), "inverted_dropout(h, rho=0)")
    _close(out, h.numpy(), 1e-15, "inverted_dropout(h, rho=0, train=True) (nothing is dropped)")


# --------------------------------------------------------------------------- q9
@check("q9", points=0.5)
def hidden_als_edge_cases(als_update_users, als):
    from lib.checks.ch02_mlp import _eckart_young, _ratings, _user_ridge
    R, mask, B = _ratings(1901, 6, 7, 2, 0.5)
    mask[2] = False  # a user with no ratings: with lam > 0 the ridge solution is 0
    Rc, mc, Bc = R.copy(), mask.copy(), B.copy()
    _close(als_update_users(Rc, mc, Bc, 1.0), _user_ridge(R, mask, B, 1.0), 1e-10, "als_update_users with a user who "
           "rated nothing")
    _unchanged({"R": Rc, "mask": mc, "B": Bc}, {"R": R, "mask": mask, "B": B}, "als_update_users")
    R, _, _ = _ratings(1902, 9, 14, 1, 1.0, noise=0.3)
    A, B = als(R.copy(), np.ones_like(R, dtype=bool), 1, 0.0, 50, 3)
    best = _eckart_young(R, 1)
    assert abs(np.linalg.norm(R - np.asarray(A) @ np.asarray(B).T) - best) <= 1e-6 * best, "als with k = 1"
