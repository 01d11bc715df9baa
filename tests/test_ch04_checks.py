"""The Chapter 4 exercise checks (public and hidden) accept right answers and reject known-wrong ones.

Each check function is called directly with implementations written here: correct references (and alternative
correct formulations) must pass every check of their question; each known-wrong mutant must fail at least one
check of its question with a message. The mutants include the book's own slips (spec [4-9]): the product order
of (4.15), Path 4 of (4.42) with the D's pulled out, swapped D_2/D_3, the (4.55-4.60) deltas without their tanh
derivative, the wrong LSTM gate order, (4.142) without Delta in the input term, the A^-1 zero-order-hold formula
on a singular A, E^T instead of E^H in the quantum read-out. Stubs that return None score 0 everywhere, and junk
return values give assertion messages, never crashes.
"""
from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest
import scipy.linalg
import torch

from lib.grading import load_checks
from tests.checks_support import (JUNK, JUNK_IDS, assert_blank_scores_zero, assert_junk_explained, assert_named,
                                  assert_public_and_hidden, assert_rejected, call, failures as _failures)

torch.set_num_threads(1)
SPECS = load_checks("ch04_rnn", hidden=True)
QUESTIONS = [f"q{i}" for i in range(1, 9)]


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(z / 2))


# --------------------------------------------------------------------------- correct references
def rnn_bptt(X, y, W_rec, W_emb, b, W_unemb):
    hs = [np.zeros(len(b))]
    for x in X:
        hs.append(np.tanh(W_rec @ hs[-1] + W_emb @ x + b))
    s = W_unemb @ hs[-1]
    p = np.exp(s - s.max())
    p /= p.sum()
    e = -p
    e[y] += 1
    g = {"W_rec": np.zeros_like(W_rec), "W_emb": np.zeros_like(W_emb), "b": np.zeros_like(b),
         "W_unemb": np.outer(e, hs[-1])}
    dh = W_unemb.T @ e
    for t in range(len(X), 0, -1):
        delta = dh * (1 - hs[t] ** 2)
        g["W_rec"] += np.outer(delta, hs[t - 1])
        g["W_emb"] += np.outer(delta, X[t - 1])
        g["b"] += delta
        dh = W_rec.T @ delta
    return g


def grad_to_first_state(dhT, W_rec, hs):
    g = np.array(dhT, dtype=float)
    for t in range(len(hs) - 1, 1, -1):
        g = W_rec.T @ ((1 - hs[t] ** 2) * g)
    return g


def memory_stream_paths(dh3, W_rec, g2, g3):
    D2, D3 = 1 - g2 ** 2, 1 - g3 ** 2
    return {"identity": dh3.copy(), "via_g3": W_rec.T @ (D3 * dh3), "via_g2": W_rec.T @ (D2 * dh3),
            "via_both": W_rec.T @ (D2 * (W_rec.T @ (D3 * dh3)))}


def lstm_cell(x, h, c, params):
    z = np.concatenate([h, x])
    f = _sigmoid(params["W_f"] @ z + params["b_f"])
    i = _sigmoid(params["W_i"] @ z + params["b_i"])
    o = _sigmoid(params["W_o"] @ z + params["b_o"])
    cand = np.tanh(params["W_c"] @ z + params["b_c"])
    c = f * c + i * cand
    return o * np.tanh(c), c


def lstm_forward(X, params, h0=None, c0=None):
    H = len(params["b_f"])
    h = np.zeros(H) if h0 is None else h0
    c = np.zeros(H) if c0 is None else c0
    hs, cs = [], []
    for x in X:
        h, c = lstm_cell(x, h, c, params)
        hs.append(h)
        cs.append(c)
    return np.array(hs), np.array(cs)


def lstm_params_to_torch(params, order=("i", "f", "c", "o")):
    H = len(params["b_f"])
    W = torch.tensor(np.concatenate([params[f"W_{g}"] for g in order]))
    b = torch.tensor(np.concatenate([params[f"b_{g}"] for g in order]))
    return {"weight_ih_l0": W[:, H:], "weight_hh_l0": W[:, :H], "bias_ih_l0": b, "bias_hh_l0": torch.zeros_like(b)}


def two_layer_rnn_bptt(X, y, P, mistake=""):
    h1s, h2s = [np.zeros(len(P["b1"]))], [np.zeros(len(P["b2"]))]
    for x in X:
        h1s.append(np.tanh(P["W1_rec"] @ h1s[-1] + P["W1_emb"] @ x + P["b1"]))
        h2s.append(np.tanh(P["W2_rec"] @ h2s[-1] + P["W2_assoc"] @ h1s[-1] + P["b2"]))
    s = P["W_unemb"] @ h2s[-1]
    p = np.exp(s - s.max())
    p /= p.sum()
    e = -p
    e[y] += 1
    G = {k: np.zeros_like(v) for k, v in P.items()}
    G["W_unemb"] = np.outer(e, h2s[-1])
    up2, up1, d2_next = P["W_unemb"].T @ e, np.zeros(len(P["b1"])), np.zeros(len(P["b2"]))
    for t in range(len(X), 0, -1):
        d2 = up2 * (1 - h2s[t] ** 2)
        from_above = P["W2_assoc"].T @ (d2_next if mistake == "layer 1 before layer 2" else d2)
        d1 = (from_above + up1) * (1 - h1s[t] ** 2 if mistake != "no layer-1 derivative" else 1.0)
        G["W2_rec"] += np.outer(d2, h2s[t - 1])
        G["W2_assoc"] += np.outer(d2, h1s[t]) if mistake != "assoc uses h1_(t-1)" else np.outer(d2, h1s[t - 1])
        G["b2"] += d2
        G["W1_rec"] += np.outer(d1, h1s[t - 1])
        G["W1_emb"] += np.outer(d1, X[t - 1])
        G["b1"] += d1
        up2, up1, d2_next = P["W2_rec"].T @ d2, P["W1_rec"].T @ d1, d2
    return G


def ssm_kernel(A, B, C, L):
    v, out = B.copy(), []
    for _ in range(L):
        out.append(C @ v)
        v = A @ v
    return np.array(out)


def causal_conv_fft(K, x):
    L = len(x)
    return np.fft.irfft(np.fft.rfft(K, 2 * L) * np.fft.rfft(x, 2 * L), 2 * L)[:L]


def discretize_zoh(A, B, dt):
    N, M = B.shape
    big = np.zeros((N + M, N + M))
    big[:N, :N], big[:N, N:] = A, B
    E = scipy.linalg.expm(big * dt)
    return E[:N, :N], E[:N, N:]


def selective_scan_sequential(u, dt, A, B, C):
    h, ys = np.zeros(A.shape), []
    for t in range(len(u)):
        h = np.exp(dt[t][:, None] * A) * h + (dt[t] * u[t])[:, None] * B[t][None, :]
        ys.append(h @ C[t])
    return np.array(ys)


def combine(first, second):
    a1, b1 = first
    a2, b2 = second
    return a2 * a1, a2 * b1 + b2


def associative_scan(a, b, combine=combine):
    shift = 1
    while shift < len(a):
        prev = (np.concatenate([np.ones_like(a[:shift]), a[:-shift]]),
                np.concatenate([np.zeros_like(b[:shift]), b[:-shift]]))
        a, b = combine(prev, (a, b))
        shift *= 2
    return b


def zoh_gate(z):
    delta = np.logaddexp(0.0, z)
    return np.exp(-delta), -np.expm1(-delta)


def evolve(H, h0, t):
    return scipy.linalg.expm(-1j * H * t) @ h0


def born(h, E=None):
    s = h if E is None else E.conj().T @ h
    p = np.abs(s) ** 2
    return p / p.sum()


def zeno_survival(omega, T, n):
    H = omega / 2 * np.array([[0, 1], [1, 0]], dtype=complex)
    return born(evolve(H, np.array([1, 0], dtype=complex), T / n))[0] ** n


def measure(h, E, rng):
    p = born(h, E)
    k = int(rng.choice(len(p), p=p))
    return k, E[:, k].copy()


REFERENCE = dict(rnn_bptt=rnn_bptt, grad_to_first_state=grad_to_first_state, answer_q2="b",
                 memory_stream_paths=memory_stream_paths, lstm_cell=lstm_cell, lstm_forward=lstm_forward,
                 lstm_params_to_torch=lstm_params_to_torch, two_layer_rnn_bptt=two_layer_rnn_bptt,
                 ssm_kernel=ssm_kernel, causal_conv_fft=causal_conv_fft, discretize_zoh=discretize_zoh,
                 selective_scan_sequential=selective_scan_sequential, associative_scan=associative_scan,
                 zoh_gate=zoh_gate, evolve=evolve, born=born, zeno_survival=zeno_survival, measure=measure)


def failures(question, namespace, junk_only=False, only=None):
    return _failures(SPECS, question, namespace, junk_only, only)


def test_every_question_has_public_and_hidden_checks():
    assert_public_and_hidden(SPECS, QUESTIONS, (30, 45))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.question}-{s.name}")
def test_reference_passes(spec):
    call(spec, REFERENCE)


def test_checks_import_no_course_topic_module():
    import lib.checks.ch04_rnn as public
    hidden = pathlib.Path(__file__).parent / "hidden" / "ch04_rnn.py"
    for text in (pathlib.Path(public.__file__).read_text(), hidden.read_text()):
        for module in ("lib.rnn", "lib.rnn_lm", "lib.ssm", "lib.mamba", "lib.quantum", "lib.sequences", "lib.residual"):
            assert f"from {module} " not in text and f"import {module}" not in text, module


# --------------------------------------------------------------------------- other correct answers
def _rnn_bptt_autograd(X, y, W_rec, W_emb, b, W_unemb):
    P = {k: torch.tensor(v, requires_grad=True) for k, v in dict(W_rec=W_rec, W_emb=W_emb, b=b, W_unemb=W_unemb).items()}
    h = torch.zeros(len(b), dtype=torch.float64)
    for x in torch.tensor(X):
        h = torch.tanh(P["W_rec"] @ h + P["W_emb"] @ x + P["b"])
    (-torch.nn.functional.cross_entropy((P["W_unemb"] @ h)[None], torch.tensor([y]))).backward()
    return {k: v.grad for k, v in P.items()}


def _lstm_torch_cell(x, h, c, params):
    H = len(params["b_f"])
    cell = torch.nn.LSTMCell(len(x), H).double()
    sd = lstm_params_to_torch(params)
    cell.load_state_dict({k[:-3]: v.contiguous() for k, v in sd.items()})
    with torch.no_grad():
        h, c = cell(torch.tensor(x)[None], (torch.tensor(h)[None], torch.tensor(c)[None]))
    return h[0], c[0]


def _assoc_torch(a, b, combine=combine):
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    k = 1
    while k < len(a):
        a, b = combine((torch.cat([torch.ones_like(a[:k]), a[:-k]]), torch.cat([torch.zeros_like(b[:k]), b[:-k]])),
                       (a, b))
        k *= 2
    return b


def _zoh_by_series(A, B, dt):
    """B_d = sum_k A^k dt^(k+1) / (k+1)! B, the integral of e^(A tau) term by term (fine for |A dt| of a few)."""
    term, total = np.eye(len(A)) * dt, np.zeros_like(A)
    for k in range(1, 60):
        total = total + term
        term = term @ A * dt / (k + 1)
    return scipy.linalg.expm(A * dt), total @ B


def _born_torch(h, E=None):
    s = torch.as_tensor(h) if E is None else torch.as_tensor(E).mH @ torch.as_tensor(h)
    return torch.softmax(2 * torch.log(s.abs()), dim=0)  # |s|^2 normalised: the "squared softmax"


ALTERNATIVES = [
    ("q1", "torch autograd, tensors returned", dict(rnn_bptt=_rnn_bptt_autograd)),
    ("q2", "answer with parentheses and capital", dict(answer_q2="(B)")),
    ("q4", "torch LSTMCell inside lstm_cell", dict(lstm_cell=_lstm_torch_cell)),
    ("q4", "numpy arrays in the state dict", dict(lstm_params_to_torch=lambda p: {
        k: v.numpy() for k, v in lstm_params_to_torch(p).items()})),
    ("q6", "direct np.convolve for the conv, series for ZOH", dict(
        causal_conv_fft=lambda K, x: np.convolve(K, x)[:len(x)], discretize_zoh=_zoh_by_series)),
    ("q7", "torch scan", dict(associative_scan=_assoc_torch)),
    ("q8", "torch born, closed-form Zeno", dict(born=_born_torch,
                                                zeno_survival=lambda w, T, n: math.cos(w * T / (2 * n)) ** (2 * n))),
]


@pytest.mark.parametrize("question, label, overrides", ALTERNATIVES, ids=[a[1] for a in ALTERNATIVES])
def test_alternative_correct_answers_pass(question, label, overrides):
    assert failures(question, {**REFERENCE, **overrides}) == {}


# --------------------------------------------------------------------------- known-wrong answers
def _rnn_mutant(kind):
    def grads(X, y, W_rec, W_emb, b, W_unemb):
        hs = [np.zeros(len(b))]
        for x in X:
            hs.append(np.tanh(W_rec @ hs[-1] + W_emb @ x + b))
        s = W_unemb @ hs[-1]
        p = np.exp(s - s.max())
        p /= p.sum()
        e = np.eye(len(s))[y] - p
        g = {"W_rec": np.zeros_like(W_rec), "W_emb": np.zeros_like(W_emb), "b": np.zeros_like(b),
             "W_unemb": np.outer(e, hs[-1])}
        dh = W_unemb.T @ e
        for t in range(len(X), 0, -1):
            hd = hs[t - 1] if kind == "derivative at h_(t-1)" else hs[t]
            delta = dh if kind == "no tanh'" else dh * (1 - hd ** 2)
            g["W_rec"] += np.outer(hs[t - 1], delta) if kind == "transposed" else np.outer(delta, hs[t - 1])
            g["W_emb"] += np.outer(delta, X[t - 1])
            g["b"] += delta
            dh = (W_rec if kind == "W not transposed" else W_rec.T) @ delta
            if kind == "last step only":
                break
        if kind == "loss sign":
            g = {k: -v for k, v in g.items()}
        return g
    return grads


def _first_state_mutant(kind):
    def f(dhT, W_rec, hs):
        T, D = len(hs) - 1, 1 - hs ** 2
        g = np.array(dhT, dtype=float)
        if kind == "book (4.15)":
            g = np.linalg.matrix_power(W_rec.T, T - 1) @ (g * D[T])
            for t in range(T - 1, 0, -1):
                g = g * D[t]
            return g
        steps = range(2, T + 1) if kind == "reversed" else range(T, 1, -1)
        for t in steps:
            g = D[t] * (W_rec @ g) if kind == "transposed" else W_rec.T @ (D[t] * g)
        return g * D[1] if kind == "extra D_1" else g
    return f


def _paths_mutant(kind):
    def f(dh3, W_rec, g2, g3):
        out = memory_stream_paths(dh3, W_rec, g2, g3)
        D2, D3, W = 1 - g2 ** 2, 1 - g3 ** 2, W_rec
        if kind == "swapped D2/D3":
            out["via_both"] = W.T @ (D3 * (W.T @ (D2 * dh3)))
        elif kind == "book path 4":
            out["via_both"] = W.T @ W.T @ (D2 * D3 * dh3)
        elif kind == "Jacobian not transposed":
            out["via_g3"], out["via_g2"] = D3 * (W @ dh3), D2 * (W @ dh3)
        elif kind == "labels g2/g3 swapped":
            out["via_g3"], out["via_g2"] = out["via_g2"], out["via_g3"]
        elif kind == "plain RNN only":
            out = {k: (v if k == "via_both" else np.zeros_like(v)) for k, v in out.items()}
        return out
    return f


def _lstm_cell_mutant(kind):
    def cell(x, h, c, params):
        z = np.concatenate([x, h]) if kind == "[x, h]" else np.concatenate([h, x])
        f = _sigmoid(params["W_f"] @ z + params["b_f"])
        i = _sigmoid(params["W_i"] @ z + params["b_i"])
        o = _sigmoid(params["W_o"] @ z + params["b_o"])
        cand = np.tanh(params["W_c"] @ z + params["b_c"])
        if kind == "f and i swapped":
            f, i = i, f
        if kind == "[x, h]":  # weights reinterpreted: only the column order differs
            H = len(h)
            z = np.concatenate([h, x])
            W = {g: np.concatenate([params[f"W_{g}"][:, -H:], params[f"W_{g}"][:, :-H]], axis=1) for g in "fico"}
            f, i, o = (_sigmoid(W[g] @ z + params[f"b_{g}"]) for g in "fio")
            cand = np.tanh(W["c"] @ z + params["b_c"])
        c = f * c + i * cand
        return (o * c if kind == "no tanh on output" else o * np.tanh(c)), c
    return cell


def _lstm_forward_with(cell):
    def fwd(X, params, h0=None, c0=None):
        H = len(params["b_f"])
        h, c, hs, cs = np.zeros(H), np.zeros(H), [], []
        for x in X:
            h, c = cell(x, h, c, params)
            hs.append(h)
            cs.append(c)
        return np.array(hs), np.array(cs)
    return fwd


def _mapping_double_bias(params):
    sd = lstm_params_to_torch(params)
    return {**sd, "bias_hh_l0": sd["bias_ih_l0"].clone()}


def _rnn2_mutant(kind):
    return lambda X, y, P: two_layer_rnn_bptt(X, y, P, mistake=kind)


def _zoh_book(A, B, dt):
    Ad = scipy.linalg.expm(A * dt)
    return Ad, (Ad - np.eye(len(A))) @ np.linalg.inv(A) @ B


def _selective_mutant(kind):
    def scan(u, dt, A, B, C):
        h, ys = np.zeros(A.shape), []
        for t in range(len(u)):
            Abar = np.exp(A) if kind == "no dt in A" else np.exp(dt[t][:, None] * A)
            Bbar = B[t][None, :] if kind == "book (4.142)" else dt[t][:, None] * B[t][None, :]
            h = Abar * h + Bbar * u[t][:, None]
            ys.append(h @ C[t] if kind != "y from h_(t-1)" else (h - Bbar * u[t][:, None]) @ C[t])
        return np.array(ys)
    return scan


def _assoc_sequential(a, b, combine=combine):
    out, acc = [], None
    for t in range(len(a)):
        acc = (a[t], b[t]) if acc is None else combine(acc, (a[t], b[t]))
        out.append(acc[1])
    return np.array(out)


def _assoc_swapped(a, b, combine=combine):
    shift = 1
    while shift < len(a):
        prev = (np.concatenate([np.ones_like(a[:shift]), a[:-shift]]),
                np.concatenate([np.zeros_like(b[:shift]), b[:-shift]]))
        a, b = combine((a, b), prev)
        shift *= 2
    return b


def _measure_mutant(kind):
    def m(h, E, rng):
        p = born(h, E)
        if kind == "argmax":
            k = int(np.argmax(p))
        elif kind == "E^T":
            q = np.abs(E.T @ h) ** 2
            k = int(rng.choice(len(q), p=q / q.sum()))
        else:
            k = int(rng.choice(len(p), p=p))
        return k, (h.copy() if kind == "no collapse" else E[:, k].copy())
    return m


MUTANTS = [  # (question, label, overrides, caught by a public check)
    ("q1", "no tanh derivative", dict(rnn_bptt=_rnn_mutant("no tanh'")), True),
    ("q1", "tanh derivative at h_(t-1)", dict(rnn_bptt=_rnn_mutant("derivative at h_(t-1)")), True),
    ("q1", "transposed W_rec gradient", dict(rnn_bptt=_rnn_mutant("transposed")), True),
    ("q1", "W_rec not transposed going back", dict(rnn_bptt=_rnn_mutant("W not transposed")), True),
    ("q1", "last step only", dict(rnn_bptt=_rnn_mutant("last step only")), True),
    ("q1", "gradient of the loss", dict(rnn_bptt=_rnn_mutant("loss sign")), True),
    ("q2", "the book's (4.15)", dict(grad_to_first_state=_first_state_mutant("book (4.15)")), True),
    ("q2", "Jacobians not transposed", dict(grad_to_first_state=_first_state_mutant("transposed")), True),
    ("q2", "factors in reverse order", dict(grad_to_first_state=_first_state_mutant("reversed")), True),
    ("q2", "extra (1 - h_1^2)", dict(grad_to_first_state=_first_state_mutant("extra D_1")), True),
    ("q2", "answer a (the book)", dict(answer_q2="a"), True),
    ("q2", "answer c (transposed)", dict(answer_q2="c"), True),
    ("q3", "swapped D2/D3", dict(memory_stream_paths=_paths_mutant("swapped D2/D3")), True),
    ("q3", "the book's Path 4", dict(memory_stream_paths=_paths_mutant("book path 4")), True),
    ("q3", "Jacobian not transposed", dict(memory_stream_paths=_paths_mutant("Jacobian not transposed")), True),
    ("q3", "via_g2 and via_g3 swapped", dict(memory_stream_paths=_paths_mutant("labels g2/g3 swapped")), True),
    ("q3", "plain-RNN path only", dict(memory_stream_paths=_paths_mutant("plain RNN only")), True),
    ("q4", "forget and input gates swapped", dict(lstm_cell=_lstm_cell_mutant("f and i swapped"),
                                                  lstm_forward=_lstm_forward_with(_lstm_cell_mutant("f and i swapped"))), True),
    ("q4", "[x, h] instead of [h, x]", dict(lstm_cell=_lstm_cell_mutant("[x, h]"),
                                            lstm_forward=_lstm_forward_with(_lstm_cell_mutant("[x, h]"))), True),
    ("q4", "h = o * c", dict(lstm_cell=_lstm_cell_mutant("no tanh on output"),
                             lstm_forward=_lstm_forward_with(_lstm_cell_mutant("no tanh on output"))), True),
    ("q4", "torch rows in the book's order f, i, c, o", dict(
        lstm_params_to_torch=lambda p: lstm_params_to_torch(p, order=("f", "i", "c", "o"))), True),
    ("q4", "torch rows i, f, o, g", dict(lstm_params_to_torch=lambda p: lstm_params_to_torch(p, order=("i", "f", "o", "c"))),
     True),
    ("q4", "bias counted twice", dict(lstm_params_to_torch=_mapping_double_bias), True),
    ("q5", "layer-1 delta without tanh'", dict(two_layer_rnn_bptt=_rnn2_mutant("no layer-1 derivative")), True),
    ("q5", "layer 1 before layer 2", dict(two_layer_rnn_bptt=_rnn2_mutant("layer 1 before layer 2")), True),
    ("q5", "assoc gradient with h1_(t-1)", dict(two_layer_rnn_bptt=_rnn2_mutant("assoc uses h1_(t-1)")), True),
    ("q6", "kernel starting at C A B", dict(ssm_kernel=lambda A, B, C, L: ssm_kernel(A, A @ B, C, L)), True),
    ("q6", "kernel with A^T", dict(ssm_kernel=lambda A, B, C, L: ssm_kernel(A.T, B, C, L)), True),
    ("q6", "circular FFT convolution", dict(causal_conv_fft=lambda K, x: np.fft.irfft(
        np.fft.rfft(K) * np.fft.rfft(x), len(x))), True),
    ("q6", "correlation instead of convolution", dict(causal_conv_fft=lambda K, x: np.correlate(
        x, K, "full")[len(x) - 1:]), True),
    ("q6", "Euler instead of ZOH", dict(discretize_zoh=lambda A, B, dt: (np.eye(len(A)) + A * dt, B * dt)), True),
    ("q6", "ZOH with B_d = B dt", dict(discretize_zoh=lambda A, B, dt: (scipy.linalg.expm(A * dt), B * dt)), True),
    ("q6", "the book's A^-1 formula (fails on singular A)", dict(discretize_zoh=_zoh_book), False),
    ("q6", "A^-1 by pinv (silently wrong on singular A)", dict(discretize_zoh=lambda A, B, dt: (
        scipy.linalg.expm(A * dt), np.linalg.pinv(A) @ (scipy.linalg.expm(A * dt) - np.eye(len(A))) @ B)), False),
    ("q7", "the book's (4.142): no Delta in the input", dict(selective_scan_sequential=_selective_mutant("book (4.142)")),
     True),
    ("q7", "exp(A) without Delta", dict(selective_scan_sequential=_selective_mutant("no dt in A")), True),
    ("q7", "output read before the update", dict(selective_scan_sequential=_selective_mutant("y from h_(t-1)")), True),
    ("q7", "sequential scan through combine", dict(associative_scan=_assoc_sequential), True),
    ("q7", "combine arguments swapped", dict(associative_scan=_assoc_swapped), True),
    ("q7", "Euler input coefficient in the gate", dict(zoh_gate=lambda z: (np.exp(-np.logaddexp(0, z)),
                                                                            np.logaddexp(0, z))), True),
    ("q7", "Delta = exp(z) instead of softplus(z)", dict(zoh_gate=lambda z: (np.exp(-np.exp(z)), -np.expm1(-np.exp(z)))),
     True),
    ("q8", "exp(+iHt)", dict(evolve=lambda H, h0, t: scipy.linalg.expm(1j * H * t) @ h0), True),
    ("q8", "exp(-Ht)", dict(evolve=lambda H, h0, t: scipy.linalg.expm(-H * t) @ h0), True),
    ("q8", "E^T read-out", dict(born=lambda h, E=None: born(h) if E is None else born(E.T @ h)), True),
    ("q8", "unnormalised Born", dict(born=lambda h, E=None: np.abs(h if E is None else E.conj().T @ h) ** 2), True),
    ("q8", "Zeno: one interval only", dict(zeno_survival=lambda w, T, n: math.cos(w * T / (2 * n)) ** 2), True),
    ("q8", "Zeno: no measurement", dict(zeno_survival=lambda w, T, n: math.cos(w * T / 2) ** 2), True),
    ("q8", "measure takes the most likely outcome", dict(measure=_measure_mutant("argmax")), True),
    ("q8", "measure without collapse", dict(measure=_measure_mutant("no collapse")), True),
    ("q8", "measure with E^T", dict(measure=_measure_mutant("E^T")), True),
]


@pytest.mark.parametrize("question, label, overrides, public", MUTANTS, ids=[m[1] for m in MUTANTS])
def test_mutant_is_rejected(question, label, overrides, public):
    assert_rejected(SPECS, question, REFERENCE, overrides, label, public)


def test_book_mistakes_are_named_in_the_messages():
    cases = [("q2", dict(grad_to_first_state=_first_state_mutant("book (4.15)")), "(4.15)"),
             ("q2", dict(answer_q2="a"), "(4.15)"),
             ("q3", dict(memory_stream_paths=_paths_mutant("swapped D2/D3")), "swapped"),
             ("q3", dict(memory_stream_paths=_paths_mutant("book path 4")), "Path 4"),
             ("q4", dict(lstm_cell=_lstm_cell_mutant("f and i swapped")), "forget and input"),
             ("q5", dict(two_layer_rnn_bptt=_rnn2_mutant("no layer-1 derivative")), "(4.55-4.60)"),
             ("q6", dict(discretize_zoh=_zoh_book), "A^-1"),
             ("q6", dict(causal_conv_fft=lambda K, x: np.fft.irfft(np.fft.rfft(K) * np.fft.rfft(x), len(x))), "circular"),
             ("q7", dict(selective_scan_sequential=_selective_mutant("book (4.142)")), "(4.142)"),
             ("q8", dict(born=lambda h, E=None: born(h) if E is None else born(E.T @ h)), "E^T")]
    assert_named(SPECS, REFERENCE, cases)


# --------------------------------------------------------------------------- stubs and junk answers
def _namespace_returning(value):
    ns = {name: (lambda *args, **kwargs: value) for name in REFERENCE}
    ns["answer_q2"] = value
    return ns


def test_none_stubs_score_zero_on_every_question():
    assert_blank_scores_zero(SPECS, _namespace_returning(None), QUESTIONS)


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_junk_answers_fail_with_messages(junk):
    ns = _namespace_returning(junk)
    assert_junk_explained(SPECS, ns, QUESTIONS, junk)


def test_references_reproduce_the_verified_numbers():
    """Numbers the spec states, from this file's references (the checks compute theirs independently)."""
    assert [round(zeno_survival(1.0, math.pi, n), 4) for n in (1, 2, 5, 10, 100)] == [0.0, 0.25, 0.6054, 0.7805, 0.9756]
    a, b = zoh_gate(np.array([0.0]))
    assert a[0] == pytest.approx(0.5) and b[0] == pytest.approx(0.5)
    calls = []
    associative_scan(np.ones((1024, 1)), np.ones((1024, 1)), lambda f, s: calls.append(1) or combine(f, s))
    assert len(calls) == 10
