"""Public checks for the Chapter 4 exercises (``exercises/ch04_rnn.ipynb``).

Questions: q1 backpropagation through time for a tanh RNN, q2 the gradient that reaches the first state (the
corrected (4.15)) and which printed formula is right, q3 the four gradient paths of a memory stream, q4 the
LSTM cell against ``torch.nn.LSTM``, q5 backpropagation through a two-layer RNN, q6 the SSM kernel, FFT
convolution and zero-order-hold discretisation, q7 the selective scan (sequential and parallel) and the
gating identity, q8 quantum mechanics as a linear complex RNN.

Every reference is computed here, independently of the course's topic modules: torch autograd,
``torch.nn.LSTM``, ``scipy.signal.cont2discrete``, ``scipy.signal.dlsim``, ``scipy.linalg.expm`` and closed
forms, in float64 (complex128 for q8) on the CPU. Each check calls the student's functions on fresh copies of
its inputs; a wrong answer fails with a message that says which value is off and by how much, and names the
mistake when it is a known one (the book's own slips among them). The underscore helpers are shared with
``tests/hidden/ch04_rnn.py``.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.linalg
import torch

from lib.grading import assert_allclose, check
from lib.grading.answers import (answered as _answered, as_array as _array, as_number as _number, close as _close,
                                 looks_like as _looks_like, tensor64 as _t, unchanged as _unchanged)

F64 = torch.float64


# --------------------------------------------------------------------------- helpers
def _grad_dict(got, keys, name: str) -> dict:
    _answered(got, name)
    assert isinstance(got, dict), f"{name}: expected a dict with keys {list(keys)}, got {type(got).__name__}"
    missing = [k for k in keys if k not in got]
    assert not missing, f"{name}: the dict has no key(s) {missing}; expected keys {list(keys)}"
    return got


# --------------------------------------------------------------------------- q1: BPTT for a one-layer tanh RNN
RNN_KEYS = ("W_rec", "W_emb", "b", "W_unemb")


def _rnn_case(rng, T: int, V: int, H: int):
    """One-hot inputs X (T, V), a target index and weights scaled so that tanh is neither linear nor saturated."""
    X = np.eye(V)[rng.integers(0, V, T)]
    return (X, int(rng.integers(0, V)), rng.standard_normal((H, H)) * 0.9 / np.sqrt(H),
            rng.standard_normal((H, V)) * 0.8, rng.standard_normal(H) * 0.3, rng.standard_normal((V, H)))


def _toy_case():
    """The book's toy: "I love machine" -> "learning", vocabulary of 4, d = 8 hidden units, random weights."""
    rng = np.random.default_rng(401)
    X = np.eye(4)[[0, 1, 2]]
    return (X, 3, rng.standard_normal((8, 8)) * 0.9 / np.sqrt(8), rng.standard_normal((8, 4)) * 0.8,
            rng.standard_normal(8) * 0.3, rng.standard_normal((4, 8)))


def _rnn_autograd(X, y, W_rec, W_emb, b, W_unemb) -> dict:
    """Gradients of J = log softmax(W_unemb h_T)[y] (h_0 = 0, h_t = tanh(W_rec h_{t-1} + W_emb x_t + b))."""
    P = {k: _t(v).requires_grad_() for k, v in zip(RNN_KEYS, (W_rec, W_emb, b, W_unemb))}
    h = torch.zeros(len(b), dtype=F64)
    for x in _t(X):
        h = torch.tanh(P["W_rec"] @ h + P["W_emb"] @ x + P["b"])
    torch.log_softmax(P["W_unemb"] @ h, dim=0)[y].backward()
    return {k: P[k].grad.numpy() for k in RNN_KEYS}


def _rnn_variant(X, y, W_rec, W_emb, b, W_unemb, deriv=True, transpose=False, last_only=False, sign=1.0) -> dict:
    """Hand BPTT with a chosen mistake (to name it in messages)."""
    hs = [np.zeros(len(b))]
    for x in X:
        hs.append(np.tanh(W_rec @ hs[-1] + W_emb @ x + b))
    s = W_unemb @ hs[-1]
    p = np.exp(s - s.max())
    p /= p.sum()
    e = np.eye(len(s))[y] - p
    g = {"W_rec": np.zeros_like(W_rec), "W_emb": np.zeros_like(W_emb), "b": np.zeros_like(b), "W_unemb": np.outer(e, hs[-1])}
    dh = W_unemb.T @ e
    for t in range(len(X), 0, -1):
        delta = dh * (1 - hs[t] ** 2) if deriv else dh
        g["W_rec"] += np.outer(hs[t - 1], delta) if transpose else np.outer(delta, hs[t - 1])
        g["W_emb"] += np.outer(delta, X[t - 1])
        g["b"] += delta
        dh = W_rec.T @ delta
        if last_only:
            break
    return {k: sign * v for k, v in g.items()}


def _rnn_mistakes(case) -> dict:
    return {"BPTT without the tanh derivative (1 - h_t^2): delta_t = dJ/dh_t * (1 - h_t^2)":
            _rnn_variant(*case, deriv=False),
            "the transposed recurrent gradient: dJ/dW_rec accumulates outer(delta_t, h_(t-1)), not outer(h_(t-1), delta_t)":
            _rnn_variant(*case, transpose=True),
            "only the last step's contribution: BPTT must run back through every step and add up the contributions":
            _rnn_variant(*case, last_only=True),
            "the gradient of the loss -J (sign flipped); here J = log p_y is maximised, dJ/ds = y - p":
            _rnn_variant(*case, sign=-1.0)}


def _call_rnn_bptt(rnn_bptt, case, name) -> dict:
    X, y, W_rec, W_emb, b, W_unemb = case
    got = rnn_bptt(X.copy(), y, W_rec.copy(), W_emb.copy(), b.copy(), W_unemb.copy())
    return _grad_dict(got, RNN_KEYS, name)


def _check_rnn_key(rnn_bptt, case, key, name, tol=1e-9) -> None:
    got = _call_rnn_bptt(rnn_bptt, case, name)
    want = _rnn_autograd(*case)
    _close(got[key], want[key], tol, f"{name}[{key!r}] (shape {want[key].shape}; compared with torch autograd)",
           {label: w[key] for label, w in _rnn_mistakes(case).items()})


def _check_rnn_all(rnn_bptt, case, name, tol=1e-9) -> None:
    for key in RNN_KEYS:
        _check_rnn_key(rnn_bptt, case, key, name, tol)


_Q1 = "rnn_bptt(X, y, W_rec, W_emb, b, W_unemb) on 'I love machine' -> 'learning' (d = 8)"


@check("q1", points=0.5, hint="dJ/ds = onehot(y) - softmax(s); dJ/dW_unemb = outer(dJ/ds, h_T)")
def rnn_bptt_output_weights(rnn_bptt):
    _check_rnn_key(rnn_bptt, _toy_case(), "W_unemb", _Q1)


@check("q1", points=1, hint="delta_t = dJ/dh_t * (1 - h_t**2); dJ/dW_rec += outer(delta_t, h_(t-1)); "
                            "dJ/dh_(t-1) = W_rec.T @ delta_t")
def rnn_bptt_recurrent_weights(rnn_bptt):
    _check_rnn_key(rnn_bptt, _toy_case(), "W_rec", _Q1)


@check("q1", points=0.5, hint="dJ/dW_emb += outer(delta_t, x_t) at every step t")
def rnn_bptt_embedding(rnn_bptt):
    _check_rnn_key(rnn_bptt, _toy_case(), "W_emb", _Q1)


@check("q1", points=0.5, hint="dJ/db += delta_t at every step t")
def rnn_bptt_bias(rnn_bptt):
    _check_rnn_key(rnn_bptt, _toy_case(), "b", _Q1)


@check("q1", points=1)
def rnn_bptt_longer_sequence(rnn_bptt):
    rng = np.random.default_rng(402)
    case = _rnn_case(rng, 7, 5, 6)
    _check_rnn_all(rnn_bptt, case, "rnn_bptt for T = 7 steps, a vocabulary of 5, H = 6")


# --------------------------------------------------------------------------- q2: gradient to the first state
def _rnn_states(rng, T: int, H: int, gain: float = 1.2):
    """W (H, H), the inputs' contributions U (T, H) and states hs (T + 1, H) with h_0 = 0."""
    W = rng.standard_normal((H, H)) * gain / np.sqrt(H)
    U = rng.standard_normal((T, H)) * 0.8
    hs = [np.zeros(H)]
    for u in U:
        hs.append(np.tanh(W @ hs[-1] + u))
    return W, U, np.array(hs)


def _first_state_autograd(dhT, W, U, hs) -> np.ndarray:
    """d(dhT . h_T)/dh_1 by autograd, replaying h_t = tanh(W h_(t-1) + u_t) from h_1."""
    h1 = _t(hs[1]).requires_grad_()
    h = h1
    for u in _t(U)[1:]:
        h = torch.tanh(_t(W) @ h + u)
    (h @ _t(dhT)).backward()
    return h1.grad.numpy()


def _first_state_variants(dhT, W, hs) -> dict:
    T = len(hs) - 1
    D = 1 - hs ** 2
    book = np.linalg.matrix_power(W.T, T - 1) @ (dhT * D[T])
    for t in range(T - 1, 0, -1):
        book = book * D[t]
    transposed, reversed_order = dhT.copy(), dhT.copy()
    for t in range(T, 1, -1):
        transposed = D[t] * (W @ transposed)
    for t in range(2, T + 1):
        reversed_order = W.T @ (D[t] * reversed_order)
    return {"the book's (4.15): (W^T)^(T-1) applied to dJ/dh_T * (1 - h_T^2), then times (1 - h_t^2) for every t, "
            "h_1 included. The D_t do not commute with W^T, and (1 - h_1^2) belongs to h_1's pre-activation": book,
            "the Jacobian product instead of its transpose (D_t W instead of W^T D_t)": transposed,
            "the factors in reverse order (D_2 applied first); the factor for t = T acts first": reversed_order}


def _check_first_state(grad_to_first_state, dhT, W, U, hs, name, tol=1e-9) -> None:
    want = _first_state_autograd(dhT, W, U, hs)
    got = _answered(grad_to_first_state(dhT.copy(), W.copy(), hs.copy()), name)
    _close(got, want, tol, f"{name} (compared with torch autograd)", _first_state_variants(dhT, W, hs))


@check("q2", points=1.5, hint="walk back from t = T to 2: g <- W_rec.T @ ((1 - h_t**2) * g)")
def grad_to_first_state_matches_autograd(grad_to_first_state):
    rng = np.random.default_rng(421)
    for T, H in [(3, 5), (8, 6), (2, 4)]:
        W, U, hs = _rnn_states(rng, T, H)
        dhT = rng.standard_normal(H)
        _check_first_state(grad_to_first_state, dhT, W, U, hs, f"grad_to_first_state(dhT, W_rec, hs) for T = {T}, H = {H}")


@check("q2", points=1, hint="each step back multiplies by W_rec^T D_t, and D_t sits between two W_rec^T's")
def which_formula_is_right(answer_q2):
    assert isinstance(answer_q2, str), f"answer_q2 should be one of the strings 'a', 'b', 'c', got {answer_q2!r:.40}"
    a = answer_q2.strip().strip("()").lower()
    assert a in ("a", "b", "c"), f"answer_q2 should be 'a', 'b' or 'c', got {answer_q2!r:.40}"
    assert a == "b", {"a": "formula (a) is the book's (4.15): it pulls all the D_t out of the product as if they "
                           "commuted with W^T, and adds (1 - h_1^2), which belongs to h_1's pre-activation",
                      "c": "formula (c) multiplies by the Jacobians D_t W themselves; the backward pass needs their "
                           "transposes, W^T D_t"}[a]


# --------------------------------------------------------------------------- q3: memory-stream gradient paths
PATH_KEYS = ("identity", "via_g3", "via_g2", "via_both")


def _stream_case(rng, H: int):
    """W, h_1, the updates g_2, g_3 of the stream h_2 = h_1 + g_2, h_3 = h_2 + g_3, and the input terms U."""
    W = rng.standard_normal((H, H)) * 1.1 / np.sqrt(H)
    h1, U = rng.standard_normal(H) * 0.7, rng.standard_normal((2, H)) * 0.6
    g2 = np.tanh(W @ h1 + U[0])
    g3 = np.tanh(W @ (h1 + g2) + U[1])
    return W, h1, U, g2, g3, rng.standard_normal(H)


def _stream_autograd(W, h1, U, dh3) -> np.ndarray:
    h1t = _t(h1).requires_grad_()
    h2 = h1t + torch.tanh(_t(W) @ h1t + _t(U[0]))
    h3 = h2 + torch.tanh(_t(W) @ h2 + _t(U[1]))
    (h3 @ _t(dh3)).backward()
    return h1t.grad.numpy()


def _path_closed_forms(dh3, W, g2, g3) -> dict:
    D2, D3 = 1 - g2 ** 2, 1 - g3 ** 2
    return {"identity": dh3.copy(), "via_g3": W.T @ (D3 * dh3), "via_g2": W.T @ (D2 * dh3),
            "via_both": W.T @ (D2 * (W.T @ (D3 * dh3)))}


def _path_mistakes(dh3, W, g2, g3) -> dict:
    D2, D3 = 1 - g2 ** 2, 1 - g3 ** 2
    return {"D_2 and D_3 swapped: the path h_1 -> g_2 -> h_2 -> g_3 -> h_3 meets D_3 first on the way back, so the "
            "term is W^T D_2 W^T D_3 delta": W.T @ (D3 * (W.T @ (D2 * dh3))),
            "the book's Path 4, (W^T)^2 D_2 D_3 delta: the diagonal factors do not commute with W^T":
            W.T @ (W.T @ (D2 * D3 * dh3)),
            "the Jacobian instead of its transpose (D W instead of W^T D)": D2 * (W @ (D3 * (W @ dh3))),
            "the transposed Jacobian for this path (D_3 W delta instead of W^T D_3 delta)": D3 * (W @ dh3),
            "the transposed Jacobian for this path (D_2 W delta instead of W^T D_2 delta)": D2 * (W @ dh3)}


def _call_paths(memory_stream_paths, dh3, W, g2, g3, name) -> dict:
    got = memory_stream_paths(dh3.copy(), W.copy(), g2.copy(), g3.copy())
    return _grad_dict(got, PATH_KEYS, name)


@check("q3", points=1, hint="the four paths expand (I + W^T D_2)(I + W^T D_3) delta")
def paths_sum_to_autograd(memory_stream_paths):
    rng = np.random.default_rng(431)
    W, h1, U, g2, g3, dh3 = _stream_case(rng, 6)
    name = "memory_stream_paths(dh3, W_rec, g2, g3) for H = 6"
    got = _call_paths(memory_stream_paths, dh3, W, g2, g3, name)
    total = sum(_array(got[k], f"{name}[{k!r}]", (6,)) for k in PATH_KEYS)
    want = _stream_autograd(W, h1, U, dh3)
    right_both = _path_closed_forms(dh3, W, g2, g3)["via_both"]
    wrong = {label: want - right_both + v for label, v in list(_path_mistakes(dh3, W, g2, g3).items())[:2]}
    wrong["only the plain-RNN path W^T D_2 W^T D_3 delta; the stream adds three more"] = right_both
    _close(total, want, 1e-9, f"the sum of the four paths of {name} (compared with autograd of dJ/dh_1 for "
           f"h_2 = h_1 + g_2, h_3 = h_2 + g_3)", wrong)


@check("q3", points=2, hint="with D_t = diag(1 - g_t^2): identity = delta, via_g3 = W^T D_3 delta, "
                            "via_g2 = W^T D_2 delta, via_both = W^T D_2 W^T D_3 delta")
def each_path_matches_its_closed_form(memory_stream_paths):
    rng = np.random.default_rng(432)
    for H in (5, 7):
        W, h1, U, g2, g3, dh3 = _stream_case(rng, H)
        name = f"memory_stream_paths for H = {H}"
        got = _call_paths(memory_stream_paths, dh3, W, g2, g3, name)
        want, wrong = _path_closed_forms(dh3, W, g2, g3), _path_mistakes(dh3, W, g2, g3)
        for k in PATH_KEYS:
            _close(got[k], want[k], 1e-10, f"{name}[{k!r}]", wrong)


# --------------------------------------------------------------------------- q4: LSTM against torch.nn.LSTM
GATES = ("i", "f", "c", "o")  # torch's row order: input, forget, cell candidate ("g"), output


def _lstm_params(rng, D: int, H: int, forget_bias: float = 1.0) -> dict:
    """The book's layout: W_* of shape (H, H + D) acting on [h_(t-1), x_t]; distinct biases per gate."""
    P = {f"W_{g}": rng.standard_normal((H, H + D)) * 0.6 for g in GATES}
    P.update({f"b_{g}": rng.standard_normal(H) * 0.4 + shift for g, shift in zip(GATES, (-0.5, forget_bias, 0.0, 0.5))})
    return P


def _torch_state_dict(P: dict, H: int, order=GATES, x_first=False) -> dict:
    W = torch.cat([_t(P[f"W_{g}"]) for g in order])
    b = torch.cat([_t(P[f"b_{g}"]) for g in order])
    w_hh, w_ih = (W[:, -H:], W[:, :-H]) if x_first else (W[:, :H], W[:, H:])
    return {"weight_ih_l0": w_ih.contiguous(), "weight_hh_l0": w_hh.contiguous(), "bias_ih_l0": b,
            "bias_hh_l0": torch.zeros_like(b)}


def _torch_lstm(state: dict, X) -> tuple:
    """(hs, cs) of torch.nn.LSTM loaded with ``state``, for X (T, D), h_0 = c_0 = 0; each (T, H)."""
    H = state["weight_hh_l0"].shape[1]
    lstm = torch.nn.LSTM(state["weight_ih_l0"].shape[1], H).double()
    lstm.load_state_dict(state)
    h = c = torch.zeros(1, H, dtype=F64)
    hs, cs = [], []
    with torch.no_grad():
        for x in _t(X):
            _, (h, c) = lstm(x[None, None], (h[None], c[None]))
            h, c = h[0], c[0]
            hs.append(h[0].numpy().copy())
            cs.append(c[0].numpy().copy())
    return np.array(hs), np.array(cs)


def _lstm_mistakes(P, X, H) -> dict:
    """Outputs (hs, cs) of common wrong LSTMs, keyed by a description."""
    swapped_fi = {**P, "W_f": P["W_i"], "W_i": P["W_f"], "b_f": P["b_i"], "b_i": P["b_f"]}
    return {"the forget and input gates swapped (f multiplies c_(t-1), i multiplies the candidate)":
            _torch_lstm(_torch_state_dict(swapped_fi, H), X),
            "the weights applied to [x_t, h_(t-1)] instead of the book's [h_(t-1), x_t]":
            _torch_lstm(_torch_state_dict(P, H, x_first=True), X)}


def _check_lstm_forward(lstm_forward, P, X, name, tol=1e-10) -> None:
    H = P["b_f"].shape[0]
    want_h, want_c = _torch_lstm(_torch_state_dict(P, H), X)
    out = _answered(lstm_forward(X.copy(), {k: v.copy() for k, v in P.items()}), name)
    try:
        hs, cs = out
    except (TypeError, ValueError):
        raise AssertionError(f"{name} should return the pair (hs, cs)") from None
    wrong = _lstm_mistakes(P, X, H)
    _close(hs, want_h, tol, f"{name}: hs (compared with torch.nn.LSTM)", {k: v[0] for k, v in wrong.items()})
    _close(cs, want_c, tol, f"{name}: cs (compared with torch.nn.LSTM)", {k: v[1] for k, v in wrong.items()})


def _check_mapping(lstm_params_to_torch, P, X, name, tol=1e-10) -> None:
    H = P["b_f"].shape[0]
    state = _answered(lstm_params_to_torch({k: v.copy() for k, v in P.items()}), name)
    assert hasattr(state, "keys"), f"{name}: expected a dict (a state_dict for nn.LSTM), got {type(state).__name__}"
    want_keys = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
    assert set(state.keys()) == want_keys, f"{name}: expected exactly the keys {sorted(want_keys)}, got {sorted(state.keys())}"
    ref = _torch_state_dict(P, H)
    conv = {}
    for k in want_keys:
        arr = _array(state[k], f"{name}[{k!r}]")
        assert arr.shape == tuple(ref[k].shape), (f"{name}[{k!r}]: expected shape {tuple(ref[k].shape)} "
                                                  f"(nn.LSTM({ref['weight_ih_l0'].shape[1]}, {H})), got {arr.shape}")
        conv[k] = torch.tensor(arr, dtype=F64)
    got_h, got_c = _torch_lstm(conv, X)
    want_h, want_c = _torch_lstm(ref, X)
    order_hint = " (torch's row order is i, f, g, o: input, forget, cell candidate, output)"
    _close(got_h, want_h, tol, f"{name}: nn.LSTM loaded with your state_dict, hs{order_hint}",
           {k: v[0] for k, v in _lstm_mistakes(P, X, H).items()})
    _close(got_c, want_c, tol, f"{name}: nn.LSTM loaded with your state_dict, cs{order_hint}")


@check("q4", points=1, hint="f, i, o = sigmoid(W_* @ [h, x] + b_*), candidate = tanh(W_c @ [h, x] + b_c), "
                            "c' = f * c + i * candidate, h' = o * tanh(c')")
def lstm_cell_one_step(lstm_cell):
    rng = np.random.default_rng(441)
    D, H = 3, 4
    P = _lstm_params(rng, D, H)
    x, h, c = rng.standard_normal(D), rng.standard_normal(H) * 0.5, rng.standard_normal(H)
    cell = torch.nn.LSTMCell(D, H).double()
    state = _torch_state_dict(P, H)
    cell.load_state_dict({k[:-3]: v for k, v in state.items()})
    with torch.no_grad():
        want_h, want_c = (v[0].numpy() for v in cell(_t(x)[None], (_t(h)[None], _t(c)[None])))
    out = _answered(lstm_cell(x.copy(), h.copy(), c.copy(), {k: v.copy() for k, v in P.items()}), "lstm_cell")
    try:
        got_h, got_c = out[0], out[1]
    except (TypeError, IndexError, KeyError):
        raise AssertionError("lstm_cell(x, h, c, params) should return (h_new, c_new)") from None
    swapped = {**P, "W_f": P["W_i"], "W_i": P["W_f"], "b_f": P["b_i"], "b_i": P["b_f"]}
    cell.load_state_dict({k[:-3]: v for k, v in _torch_state_dict(swapped, H).items()})
    with torch.no_grad():
        sw_h, sw_c = (v[0].numpy() for v in cell(_t(x)[None], (_t(h)[None], _t(c)[None])))
    label = "the forget and input gates swapped"
    _close(got_c, want_c, 1e-10, "lstm_cell(x, h, c, params): c_new (compared with torch.nn.LSTMCell)", {label: sw_c})
    _close(got_h, want_h, 1e-10, "lstm_cell(x, h, c, params): h_new (compared with torch.nn.LSTMCell)", {label: sw_h})


@check("q4", points=1.5, hint="start from h = c = 0 and apply lstm_cell once per row of X")
def lstm_forward_matches_torch(lstm_forward):
    rng = np.random.default_rng(442)
    P = _lstm_params(rng, 3, 5)
    _check_lstm_forward(lstm_forward, P, rng.standard_normal((9, 3)), "lstm_forward(X, params) for T = 9, D = 3, H = 5")


@check("q4", points=1.5, hint="stack the rows as [W_i; W_f; W_c; W_o]; weight_hh is the first H columns, weight_ih "
                              "the last D; bias_ih the stacked biases and bias_hh zeros")
def params_to_torch_reproduces_the_lstm(lstm_params_to_torch):
    rng = np.random.default_rng(443)
    P = _lstm_params(rng, 2, 4)
    _check_mapping(lstm_params_to_torch, P, rng.standard_normal((8, 2)), "lstm_params_to_torch(params) for D = 2, H = 4")


# --------------------------------------------------------------------------- q5: two-layer RNN, delta form
RNN2_KEYS = ("W1_rec", "W1_emb", "b1", "W2_rec", "W2_assoc", "b2", "W_unemb")


def _rnn2_case(rng, T: int, V: int, H1: int, H2: int):
    P = {"W1_rec": rng.standard_normal((H1, H1)) * 0.9 / np.sqrt(H1), "W1_emb": rng.standard_normal((H1, V)) * 0.8,
         "b1": rng.standard_normal(H1) * 0.3, "W2_rec": rng.standard_normal((H2, H2)) * 0.9 / np.sqrt(H2),
         "W2_assoc": rng.standard_normal((H2, H1)) * 0.9 / np.sqrt(H1), "b2": rng.standard_normal(H2) * 0.3,
         "W_unemb": rng.standard_normal((V, H2))}
    return np.eye(V)[rng.integers(0, V, T)], int(rng.integers(0, V)), P


def _rnn2_autograd(X, y, P) -> dict:
    Q = {k: _t(v).requires_grad_() for k, v in P.items()}
    h1 = torch.zeros(Q["b1"].shape[0], dtype=F64)
    h2 = torch.zeros(Q["b2"].shape[0], dtype=F64)
    for x in _t(X):
        h1 = torch.tanh(Q["W1_rec"] @ h1 + Q["W1_emb"] @ x + Q["b1"])
        h2 = torch.tanh(Q["W2_rec"] @ h2 + Q["W2_assoc"] @ h1 + Q["b2"])
    torch.log_softmax(Q["W_unemb"] @ h2, dim=0)[y].backward()
    return {k: Q[k].grad.numpy() for k in RNN2_KEYS}


def _rnn2_variant(X, y, P, mistake: str) -> dict:
    T = len(X)
    h1s, h2s = [np.zeros(len(P["b1"]))], [np.zeros(len(P["b2"]))]
    for x in X:
        h1s.append(np.tanh(P["W1_rec"] @ h1s[-1] + P["W1_emb"] @ x + P["b1"]))
        h2s.append(np.tanh(P["W2_rec"] @ h2s[-1] + P["W2_assoc"] @ h1s[-1] + P["b2"]))
    s = P["W_unemb"] @ h2s[-1]
    p = np.exp(s - s.max())
    p /= p.sum()
    e = np.eye(len(s))[y] - p
    G = {k: np.zeros_like(v) for k, v in P.items()}
    G["W_unemb"] = np.outer(e, h2s[-1])
    up2, up1 = P["W_unemb"].T @ e, np.zeros(len(P["b1"]))
    for t in range(T, 0, -1):
        d2 = up2 * (1 - h2s[t] ** 2)
        from_above = P["W2_assoc"].T @ d2
        d1 = (from_above + up1) * (1 - h1s[t] ** 2) if mistake != "no layer-1 derivative" else from_above + up1
        if mistake == "assoc dropped":
            d1 = up1 * (1 - h1s[t] ** 2)
        G["W2_rec"] += np.outer(d2, h2s[t - 1])
        G["W2_assoc"] += np.outer(d2, h1s[t])
        G["b2"] += d2
        G["W1_rec"] += np.outer(d1, h1s[t - 1])
        G["W1_emb"] += np.outer(d1, X[t - 1])
        G["b1"] += d1
        up2, up1 = P["W2_rec"].T @ d2, P["W1_rec"].T @ d1
    return G


def _rnn2_mistakes(X, y, P) -> dict:
    return {"layer 1's delta without its own tanh derivative (the book's (4.55-4.60) labels deltas as dJ/dh)":
            _rnn2_variant(X, y, P, "no layer-1 derivative"),
            "layer 1 fed only through time: delta^(1)_t also receives W2_assoc^T delta^(2)_t from the layer above":
            _rnn2_variant(X, y, P, "assoc dropped")}


def _check_rnn2(two_layer_rnn_bptt, case, keys, name, tol=1e-9) -> None:
    X, y, P = case
    got = two_layer_rnn_bptt(X.copy(), y, {k: v.copy() for k, v in P.items()})
    got = _grad_dict(got, RNN2_KEYS, name)
    want, wrong = _rnn2_autograd(X, y, P), _rnn2_mistakes(X, y, P)
    for k in keys:
        _close(got[k], want[k], tol, f"{name}[{k!r}] (shape {want[k].shape}; compared with autograd)",
               {label: w[k] for label, w in wrong.items()})


def _q5_case():
    return _rnn2_case(np.random.default_rng(451), 5, 4, 6, 5)


_Q5 = "two_layer_rnn_bptt(X, y, P) for T = 5, V = 4, H1 = 6, H2 = 5"


@check("q5", points=0.5)
def two_layer_output_weights(two_layer_rnn_bptt):
    _check_rnn2(two_layer_rnn_bptt, _q5_case(), ["W_unemb"], _Q5)


@check("q5", points=1.5, hint="delta2_t = (W_unemb^T e [t = T] + W2_rec^T delta2_(t+1)) * (1 - h2_t**2)")
def two_layer_upper_layer(two_layer_rnn_bptt):
    _check_rnn2(two_layer_rnn_bptt, _q5_case(), ["W2_rec", "W2_assoc", "b2"], _Q5)


@check("q5", points=1.5, hint="delta1_t = (W2_assoc^T delta2_t + W1_rec^T delta1_(t+1)) * (1 - h1_t**2): layer 2 at "
                              "time t first, then layer 1 at time t")
def two_layer_lower_layer(two_layer_rnn_bptt):
    _check_rnn2(two_layer_rnn_bptt, _q5_case(), ["W1_rec", "W1_emb", "b1"], _Q5)


# --------------------------------------------------------------------------- q6: SSM kernel, FFT conv, ZOH
def _ssm_case(rng, N: int, L: int):
    Q, _ = np.linalg.qr(rng.standard_normal((N, N)))
    A = (Q * rng.uniform(0.3, 0.95, N) * rng.choice([-1.0, 1.0], N)) @ Q.T  # spectral radius < 1
    A = A + 0.1 * rng.standard_normal((N, N)) / np.sqrt(N)
    return A, rng.standard_normal(N), rng.standard_normal(N), rng.standard_normal(L)


def _kernel_reference(A, B, C, L) -> np.ndarray:
    return np.array([C @ np.linalg.matrix_power(A, k) @ B for k in range(L)])


def _recurrence(A, B, C, x) -> np.ndarray:
    h, ys = np.zeros(len(B)), []
    for xt in x:
        h = A @ h + B * xt
        ys.append(C @ h)
    return np.array(ys)


def _check_kernel(ssm_kernel, A, B, C, L, name) -> None:
    want = _kernel_reference(A, B, C, L)
    got = _answered(ssm_kernel(A.copy(), B.copy(), C.copy(), L), name)
    _close(got, want, 1e-10, f"{name} (compared with C @ matrix_power(A, k) @ B)",
           {"the kernel shifted by one (K_0 = C A B); with y_t = C h_t and h_t = A h_(t-1) + B x_t, K_0 = C B":
            np.array([C @ np.linalg.matrix_power(A, k + 1) @ B for k in range(L)]),
            "powers of A^T instead of A": np.array([C @ np.linalg.matrix_power(A.T, k) @ B for k in range(L)])})


def _check_conv(causal_conv_fft, K, x, name) -> None:
    L = len(x)
    want = np.convolve(K, x)[:L]
    circular = np.real(np.fft.ifft(np.fft.fft(K) * np.fft.fft(x)))
    got = _answered(causal_conv_fft(K.copy(), x.copy()), name)
    _close(got, want, 1e-9, f"{name} (compared with the direct sum y_t = sum_k K_k x_(t-k))",
           {"a circular convolution: zero-pad both signals to length 2L (or more) before the FFT, else the end of "
            "the sequence wraps around onto its start": circular,
            "the anti-causal correlation (the kernel not flipped)": np.correlate(x, K, "full")[L - 1:2 * L - 1]})


@check("q6", points=1, hint="K_k = C A^k B for k = 0..L-1; keep a running v = A^k B instead of calling matrix_power")
def ssm_kernel_matches_closed_form(ssm_kernel):
    A, B, C, _ = _ssm_case(np.random.default_rng(461), 4, 1)
    _check_kernel(ssm_kernel, A, B, C, 12, "ssm_kernel(A, B, C, 12) for N = 4")


@check("q6", points=1.5, hint="rfft of both signals zero-padded to length 2L, multiply, irfft, keep the first L values")
def fft_convolution_equals_the_recurrence(ssm_kernel, causal_conv_fft):
    rng = np.random.default_rng(462)
    K, x = rng.standard_normal(300) * np.exp(-np.arange(300) / 200), rng.standard_normal(300)
    _check_conv(causal_conv_fft, K, x, "causal_conv_fft(K, x) for L = 300")
    A, B, C, x = _ssm_case(rng, 3, 64)
    y = _answered(causal_conv_fft(_array(_answered(ssm_kernel(A.copy(), B.copy(), C.copy(), 64), "ssm_kernel"),
                                         "ssm_kernel(A, B, C, 64)"), x.copy()), "causal_conv_fft")
    _close(y, _recurrence(A, B, C, x), 1e-9, "causal_conv_fft(ssm_kernel(A, B, C, 64), x) against the recurrence "
           "h_t = A h_(t-1) + B x_t, y_t = C h_t")
    import scipy.signal  # imported here: it costs about 2 s of CPU, and only q6 needs it
    _, want, _ = scipy.signal.dlsim((A, B[:, None], (C @ A)[None], np.array([[C @ B]]), 1), x)
    _close(y, want[:, 0], 1e-9, "causal_conv_fft(ssm_kernel(...), x) against scipy.signal.dlsim((A, B, C A, C B, 1), x)")


def _zoh_mistakes(A, B, dt) -> dict:
    N = len(A)
    return {"B_d = B dt: the input matrix must be integrated, int_0^dt e^(A tau) d tau B": (scipy.linalg.expm(A * dt), B * dt),
            "the Euler step (I + A dt, B dt), not the zero-order hold": (np.eye(N) + A * dt, B * dt)}


def _check_zoh(discretize_zoh, A, B, dt, name) -> None:
    import scipy.signal
    N, M = B.shape
    Ad, Bd, *_ = scipy.signal.cont2discrete((A, B, np.eye(N), np.zeros((N, M))), dt, method="zoh")
    out = _answered(discretize_zoh(A.copy(), B.copy(), dt), name)
    try:
        gA, gB = out
    except (TypeError, ValueError):
        raise AssertionError(f"{name} should return the pair (A_d, B_d)") from None
    wrong = _zoh_mistakes(A, B, dt)
    _close(gA, Ad, 1e-9, f"{name}: A_d (compared with scipy.signal.cont2discrete(method='zoh'))",
           {k: v[0] for k, v in wrong.items()})
    _close(gB, Bd, 1e-9, f"{name}: B_d (compared with scipy.signal.cont2discrete(method='zoh'))",
           {k: v[1] for k, v in wrong.items()})


@check("q6", points=1.5, hint="A_d = expm(A dt); B_d is the top-right block of expm([[A, B], [0, 0]] dt)")
def zoh_matches_scipy(discretize_zoh):
    rng = np.random.default_rng(463)
    for N, M, dt in [(4, 2, 0.3), (3, 1, 1.7)]:
        X = rng.standard_normal((N, N))
        A = -(X @ X.T) / N - 0.2 * np.eye(N) + 0.5 * (X - X.T)  # stable: Re(eig) < 0
        _check_zoh(discretize_zoh, A, rng.standard_normal((N, M)), dt, f"discretize_zoh(A, B, {dt}) for N = {N}, M = {M}")


# --------------------------------------------------------------------------- q7: selective scan
def _softplus(z):
    return np.logaddexp(0.0, z)


def _scan_case(rng, L: int, D: int, N: int):
    u = rng.standard_normal((L, D))
    dt = _softplus(rng.standard_normal((L, D)) - 1.0)
    A = -np.tile(np.arange(1.0, N + 1), (D, 1)) * rng.uniform(0.5, 1.5, (D, 1))  # S4D-real-like, negative
    return u, dt, A, rng.standard_normal((L, N)), rng.standard_normal((L, N))


def _selective_reference(u, dt, A, B, C, drop_dt_in_B=False, no_dt_in_A=False) -> np.ndarray:
    L, D = u.shape
    h, ys = np.zeros(A.shape), []
    for t in range(L):
        Abar = np.exp((1.0 if no_dt_in_A else dt[t][:, None]) * A)
        Bbar = (1.0 if drop_dt_in_B else dt[t][:, None]) * B[t][None, :]
        h = Abar * h + Bbar * u[t][:, None]
        ys.append(h @ C[t])
    return np.array(ys)


def _check_selective(selective_scan_sequential, case, name) -> None:
    u, dt, A, B, C = case
    got = _answered(selective_scan_sequential(*(a.copy() for a in case)), name)
    _close(got, _selective_reference(*case), 1e-10, f"{name} (compared with a step-by-step reference)",
           {"the book's (4.142), which drops Delta from the input term: B_bar_t = Delta_t B_t":
            _selective_reference(*case, drop_dt_in_B=True),
            "exp(A) instead of exp(Delta_t A)": _selective_reference(*case, no_dt_in_A=True)})


def combine_affine(first, second):
    """Compose two affine steps h -> a h + b: ``first`` then ``second`` (the notebook defines the same)."""
    a1, b1 = first
    a2, b2 = second
    return a2 * a1, a2 * b1 + b2


def _sequential_affine(a, b) -> np.ndarray:
    h, out = np.zeros_like(b[0]), []
    for at, bt in zip(a, b):
        h = at * h + bt
        out.append(h)
    return np.array(out)


def _counted(combine):
    calls = []

    def wrapped(first, second):
        calls.append(1)
        return combine(first, second)
    return wrapped, calls


def _check_assoc(associative_scan, a, b, name, max_rounds=None) -> int:
    combine, calls = _counted(combine_affine)
    got = _answered(associative_scan(a.copy(), b.copy(), combine), name)
    L = len(a)
    _close(got, _sequential_affine(a, b), 1e-10, f"{name} (compared with h_t = a_t h_(t-1) + b_t, h_0 = 0)")
    if max_rounds is not None:
        assert 0 < len(calls) <= max_rounds, (
            f"{name}: combine was called {len(calls)} times for L = {L}; a Hillis-Steele scan calls it once per round "
            f"on whole arrays, ceil(log2 L) = {max_rounds} times" if calls else
            f"{name}: combine was never called; the scan must combine the elements with the `combine` it is given")
    return len(calls)


@check("q7", points=1.5, hint="per channel d and state n: h = exp(dt_t[d] A[d, n]) h + dt_t[d] B_t[n] u_t[d]; "
                              "y_t[d] = sum_n C_t[n] h[d, n]")
def selective_scan_matches_reference(selective_scan_sequential):
    rng = np.random.default_rng(471)
    _check_selective(selective_scan_sequential, _scan_case(rng, 20, 3, 4),
                     "selective_scan_sequential(u, dt, A, B, C) for L = 20, D = 3, N = 4")


@check("q7", points=1, hint="round r combines each element with the one 2^r places earlier (identity (1, 0) before "
                            "the start); the second argument of combine is the later element")
def associative_scan_is_right(associative_scan):
    rng = np.random.default_rng(472)
    for L in (1, 2, 5, 16, 37):
        a, b = rng.uniform(-1, 1, (L, 3)), rng.standard_normal((L, 3))
        _check_assoc(associative_scan, a, b, f"associative_scan(a, b, combine) for L = {L}")


@check("q7", points=1, hint="call combine once per round on whole arrays, not once per element")
def associative_scan_takes_log_rounds(associative_scan):
    rng = np.random.default_rng(473)
    a, b = rng.uniform(0.5, 1.0, (1024, 2)), rng.standard_normal((1024, 2)) * 0.1
    _check_assoc(associative_scan, a, b, "associative_scan for L = 1024", max_rounds=10)


@check("q7", points=1, hint="with Delta = softplus(z), A = -1, B = 1: A_bar = exp(-Delta) and the ZOH "
                            "B_bar = (1 - exp(-Delta)); compute softplus with np.logaddexp(0, z)")
def gate_identity_holds(zoh_gate):
    z = np.concatenate([np.linspace(-8, 8, 33), [-40.0, 40.0, 300.0]])
    out = _answered(zoh_gate(z.copy()), "zoh_gate(z)")
    try:
        Abar, Bbar = out
    except (TypeError, ValueError):
        raise AssertionError("zoh_gate(z) should return the pair (A_bar, B_bar)") from None
    sig = 0.5 * (1 + np.tanh(z / 2))
    _close(Abar, 1 - sig, 1e-12, "zoh_gate(z)[0] = exp(-softplus(z)), which should equal 1 - sigmoid(z)")
    _close(Bbar, sig, 1e-12, "zoh_gate(z)[1], the ZOH input coefficient, which should equal sigmoid(z)",
           {"the Euler input coefficient Delta = softplus(z); the gate needs the ZOH one, 1 - exp(-Delta)": _softplus(z)})


# --------------------------------------------------------------------------- q8: quantum mechanics as an RNN
def _hermitian(rng, n: int) -> np.ndarray:
    X = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    return (X + X.conj().T) / 2


def _unitary(rng, n: int) -> np.ndarray:
    Q, R = np.linalg.qr(rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n)))
    return Q * (np.diag(R) / np.abs(np.diag(R)))


SIGMA_X = np.array([[0, 1], [1, 0]], dtype=complex)


def _check_evolve(evolve, H, h0, t, name) -> np.ndarray:
    want = scipy.linalg.expm(-1j * H * t) @ h0
    got = _answered(evolve(H.copy(), h0.copy(), t), name)
    _close(got, want, 1e-10, f"{name} (compared with scipy.linalg.expm(-1j H t) @ h0)",
           {"exp(+iHt): the Schroedinger step is h(t) = exp(-iHt) h(0)": scipy.linalg.expm(1j * H * t) @ h0,
            "exp(-Ht) without the i: that decays instead of rotating": (scipy.linalg.expm(-H * t) @ h0).astype(complex)})
    return _array(got, name, dtype=complex)


@check("q8", points=1.5, hint="h(t) = expm(-1j * H * t) @ h0 (scipy.linalg.expm or torch.linalg.matrix_exp)")
def evolve_is_unitary(evolve):
    rng = np.random.default_rng(481)
    H = _hermitian(rng, 4)
    cols = [_check_evolve(evolve, H, np.eye(4, dtype=complex)[j], 0.7, f"evolve(H, e_{j}, 0.7) for a random 4x4 H")
            for j in range(4)]
    U = np.array(cols).T
    err = np.abs(U.conj().T @ U - np.eye(4)).max()
    assert err <= 1e-12, f"the evolution U = exp(-iHt) is not unitary: max |U^H U - I| = {err:.1e} (expected < 1e-12)"


@check("q8", points=1, hint="p_i = |(E^H h)_i|^2 / sum_j |(E^H h)_j|^2, with E^H = E.conj().T (identity when E is None)")
def born_rule_in_a_basis(born):
    rng = np.random.default_rng(482)
    E = _unitary(rng, 5)
    h = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    s = E.conj().T @ h
    want = np.abs(s) ** 2 / np.sum(np.abs(s) ** 2)
    got = _answered(born(h.copy(), E.copy()), "born(h, E)")
    _close(got, want, 1e-12, "born(h, E) for a random unitary 5x5 basis E",
           {"E^T instead of E^H: for complex amplitudes the read-out needs the conjugate transpose":
            np.abs(E.T @ h) ** 2 / np.sum(np.abs(E.T @ h) ** 2),
            "unnormalised |s|^2 (divide by the squared norm)": np.abs(s) ** 2,
            "|s| instead of |s|^2": np.abs(s) / np.abs(s).sum()})
    got0 = _answered(born(h.copy()), "born(h)")
    _close(got0, np.abs(h) ** 2 / np.sum(np.abs(h) ** 2), 1e-12, "born(h) with the default basis (E = None: the identity)")


@check("q8", points=1, hint="H = (Omega / 2) sigma_x, h(0) = (1, 0); p_0(t) = born(evolve(H, h0, t))[0]")
def rabi_oscillation(evolve, born):
    omega = 1.3
    H = omega / 2 * SIGMA_X
    ts = np.linspace(0, 6, 13)
    got = np.array([_number(_array(_answered(born(_answered(evolve(H.copy(), np.array([1, 0], dtype=complex), t),
                                                             "evolve"), None), "born"), "born(...)", (2,))[0],
                            f"p_0(t = {t:.1f})") for t in ts])
    _close(got, np.cos(omega * ts / 2) ** 2, 1e-10, "p_0(t) of the Rabi qubit, compared with cos^2(Omega t / 2)")


ZENO_STATED = {1: 0.0, 2: 0.25, 5: 0.6054, 10: 0.7805, 100: 0.9756}


@check("q8", points=1, hint="each of the n intervals T / n keeps |0> with probability cos^2(Omega T / (2n))")
def zeno_survival_values(zeno_survival):
    for n, stated in ZENO_STATED.items():
        got = _number(_answered(zeno_survival(1.0, math.pi, n), f"zeno_survival(1, pi, {n})"), f"zeno_survival(1, pi, {n})")
        want = math.cos(math.pi / (2 * n)) ** (2 * n)
        assert abs(got - want) <= 1e-10 and abs(got - stated) < 1e-4, (
            f"zeno_survival(1, pi, {n}) should be cos^(2n)(pi / 2n) = {want:.6f} (about {stated}), got {got:.6f}"
            + (" (this is the probability of |0> after the whole pi-pulse without intermediate measurements)"
               if abs(got - math.cos(math.pi / 2) ** 2) < 1e-9 and n > 1 else "")
            + (" (this is cos^2(pi / 2n): one interval only, not all n)" if abs(got - math.cos(math.pi / (2 * n)) ** 2)
               < 1e-9 and n > 1 else ""))


@check("q8", points=1, hint="sample k with probability born(h, E)[k] using rng (e.g. rng.choice(len(p), p=p)); the "
                            "collapsed state is the k-th basis vector E[:, k]")
def measurement_frequencies(measure):
    rng_case = np.random.default_rng(485)
    E = _unitary(rng_case, 3)
    h = rng_case.standard_normal(3) + 1j * rng_case.standard_normal(3)
    h /= np.linalg.norm(h)
    s = E.conj().T @ h
    p = np.abs(s) ** 2
    rng = np.random.default_rng(2024)  # seeded: the check gives the same verdict every run
    n = 3000
    counts = np.zeros(3)
    for i in range(n):
        out = _answered(measure(h.copy(), E.copy(), rng), "measure(h, E, rng)")
        try:
            k, state = out
        except (TypeError, ValueError):
            raise AssertionError("measure(h, E, rng) should return the pair (k, collapsed_state)") from None
        k = int(_number(k, "the outcome k"))
        assert 0 <= k < 3, f"measure returned outcome k = {k}, outside 0..2"
        if i < 20:
            _close(state, E[:, k], 1e-12, f"the collapsed state after outcome {k} (the basis vector E[:, {k}])")
        counts[k] += 1
    freq = counts / n
    sigma = np.sqrt(p * (1 - p) / n)
    z = np.abs(freq - p) / sigma
    assert z.max() <= 4, (f"outcome frequencies {np.round(freq, 3).tolist()} over {n} seeded draws are off from the Born "
                          f"probabilities {np.round(p, 3).tolist()} by {z.max():.1f} standard errors (allowed: 4)")
