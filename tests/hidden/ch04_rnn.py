"""Hidden checks for the Chapter 4 exercises (grading only; a failure shows as "hidden check failed").

They use cases the notebook never shows (random sequence lengths and vocabularies, one-unit layers, T = 1, a
singular state matrix for the zero-order hold, other qubit parameters) and verify that the student's functions
leave their inputs unchanged. References come from torch, scipy and closed forms, through the helpers of the
public checks.
"""
from __future__ import annotations

import math

import numpy as np

from lib.checks.ch04_rnn import (_answered, _array, _check_assoc, _check_conv, _check_evolve,
                                 _check_first_state, _check_kernel, _check_lstm_forward, _check_mapping, _check_rnn2,
                                 _check_rnn_all, _check_selective, _check_zoh, _close, _hermitian, _lstm_params,
                                 _number, _path_closed_forms, _path_mistakes, _rnn2_case, _rnn_case, _rnn_states,
                                 _scan_case, _selective_reference, _ssm_case, _stream_autograd, _stream_case,
                                 _unchanged, _unitary, PATH_KEYS, RNN2_KEYS)
from lib.grading import check


# --------------------------------------------------------------------------- q1
@check("q1", points=1)
def hidden_random_lengths_and_vocabularies(rnn_bptt):
    rng = np.random.default_rng(1401)
    for i in range(8):
        T, V, H = int(rng.integers(2, 11)), int(rng.integers(2, 9)), int(rng.integers(1, 10))
        _check_rnn_all(rnn_bptt, _rnn_case(rng, T, V, H), f"rnn_bptt, hidden case {i + 1} (T = {T}, V = {V}, H = {H})")
    case = _rnn_case(rng, 4, 3, 5)
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in case]
    rnn_bptt(*copies)
    _unchanged({k: c for k, c in zip(("X", "W_rec", "W_emb", "b", "W_unemb"), copies[:1] + copies[2:])},
               {k: c for k, c in zip(("X", "W_rec", "W_emb", "b", "W_unemb"), case[:1] + case[2:])}, "rnn_bptt")


# --------------------------------------------------------------------------- q2
@check("q2", points=1)
def hidden_first_state_edge_cases(grad_to_first_state):
    rng = np.random.default_rng(1421)
    for T, H in [(1, 3), (12, 7), (5, 1), (9, 2)]:
        W, U, hs = _rnn_states(rng, T, H)
        _check_first_state(grad_to_first_state, rng.standard_normal(H), W, U, hs, f"grad_to_first_state, T = {T}, H = {H}")
    W, U, hs = _rnn_states(rng, 4, 3)
    dhT = rng.standard_normal(3)
    copies = dict(dhT=dhT.copy(), W_rec=W.copy(), hs=hs.copy())
    grad_to_first_state(copies["dhT"], copies["W_rec"], copies["hs"])
    _unchanged(copies, dict(dhT=dhT, W_rec=W, hs=hs), "grad_to_first_state")


# --------------------------------------------------------------------------- q3
@check("q3", points=1)
def hidden_paths_other_sizes(memory_stream_paths):
    rng = np.random.default_rng(1431)
    for H in (1, 2, 9):
        W, h1, U, g2, g3, dh3 = _stream_case(rng, H)
        got = _answered(memory_stream_paths(dh3.copy(), W.copy(), g2.copy(), g3.copy()), "memory_stream_paths")
        assert isinstance(got, dict) and all(k in got for k in PATH_KEYS), \
            f"memory_stream_paths should return a dict with keys {list(PATH_KEYS)}"
        want, wrong = _path_closed_forms(dh3, W, g2, g3), _path_mistakes(dh3, W, g2, g3)
        for k in PATH_KEYS:
            _close(got[k], want[k], 1e-10, f"memory_stream_paths for H = {H}, [{k!r}]", wrong)
        _close(sum(_array(got[k], k) for k in PATH_KEYS), _stream_autograd(W, h1, U, dh3), 1e-9,
               f"the sum of the paths for H = {H} (autograd)")
        originals = dict(dh3=dh3, W_rec=W, g2=g2, g3=g3)
        copies = {k: v.copy() for k, v in originals.items()}
        memory_stream_paths(*copies.values())
        _unchanged(copies, originals, "memory_stream_paths")


# --------------------------------------------------------------------------- q4
@check("q4", points=1)
def hidden_lstm_other_shapes(lstm_forward, lstm_params_to_torch):
    rng = np.random.default_rng(1441)
    for D, H, T, fb in [(1, 1, 6, 2.0), (5, 2, 4, -1.0), (2, 6, 3, 0.0)]:
        P = _lstm_params(rng, D, H, forget_bias=fb)
        X = rng.standard_normal((T, D))
        _check_lstm_forward(lstm_forward, P, X, f"lstm_forward, D = {D}, H = {H}, T = {T}")
        _check_mapping(lstm_params_to_torch, P, X, f"lstm_params_to_torch, D = {D}, H = {H}")
    P = _lstm_params(rng, 3, 2)
    copies = {k: v.copy() for k, v in P.items()}
    lstm_forward(rng.standard_normal((3, 3)), copies)
    lstm_params_to_torch(copies)
    _unchanged(copies, P, "lstm_forward / lstm_params_to_torch")


# --------------------------------------------------------------------------- q5
@check("q5", points=1)
def hidden_two_layer_random_shapes(two_layer_rnn_bptt):
    rng = np.random.default_rng(1451)
    for T, V, H1, H2 in [(1, 3, 2, 4), (8, 5, 3, 3), (4, 2, 1, 5), (6, 6, 7, 2)]:
        _check_rnn2(two_layer_rnn_bptt, _rnn2_case(rng, T, V, H1, H2), RNN2_KEYS,
                    f"two_layer_rnn_bptt for T = {T}, V = {V}, H1 = {H1}, H2 = {H2}")
    X, y, P = _rnn2_case(rng, 3, 3, 2, 2)
    copies = {k: v.copy() for k, v in P.items()}
    two_layer_rnn_bptt(X.copy(), y, copies)
    _unchanged(copies, P, "two_layer_rnn_bptt")


# --------------------------------------------------------------------------- q6
@check("q6", points=1, hint="A need not be invertible: use the augmented matrix exponential, not A^-1")
def hidden_zoh_with_singular_A(discretize_zoh):
    rng = np.random.default_rng(1461)
    Q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    cases = [("the double integrator [[0, 1], [0, 0]]", np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.0], [1.0]])),
             ("A with eigenvalues 0, -1, -2", Q @ np.diag([0.0, -1.0, -2.0]) @ Q.T, rng.standard_normal((3, 2))),
             ("A = 0 (a pure integrator: B_d = B dt)", np.zeros((2, 2)), rng.standard_normal((2, 1)))]
    for label, A, B in cases:
        try:
            with np.errstate(all="ignore"):
                _check_zoh(discretize_zoh, A, B, 0.5, f"discretize_zoh for {label}")
        except np.linalg.LinAlgError as exc:
            raise AssertionError(f"discretize_zoh for {label} raised LinAlgError ({exc}): the formula "
                                 f"(e^(A dt) - I) A^-1 B needs A invertible; integrate instead") from None


@check("q6", points=0.5)
def hidden_kernel_and_conv_edge_cases(ssm_kernel, causal_conv_fft):
    rng = np.random.default_rng(1462)
    A, B, C, _ = _ssm_case(rng, 1, 1)
    _check_kernel(ssm_kernel, A, B, C, 7, "ssm_kernel for N = 1")
    A, B, C, _ = _ssm_case(rng, 5, 1)
    _check_kernel(ssm_kernel, A, B, C, 1, "ssm_kernel for L = 1")
    for L in (1, 2, 1000):
        _check_conv(causal_conv_fft, rng.standard_normal(L), rng.standard_normal(L), f"causal_conv_fft for L = {L}")
    K, x = rng.standard_normal(9), rng.standard_normal(9)
    copies = dict(K=K.copy(), x=x.copy())
    causal_conv_fft(copies["K"], copies["x"])
    _unchanged(copies, dict(K=K, x=x), "causal_conv_fft")


# --------------------------------------------------------------------------- q7
@check("q7", points=1)
def hidden_scans_agree(selective_scan_sequential, associative_scan):
    rng = np.random.default_rng(1471)
    for L, D, N in [(1, 2, 3), (13, 1, 1), (33, 4, 2)]:
        case = _scan_case(rng, L, D, N)
        _check_selective(selective_scan_sequential, case, f"selective_scan_sequential, L = {L}, D = {D}, N = {N}")
        u, dt, A, B, C = case
        a = np.exp(dt[:, :, None] * A[None])
        b = dt[:, :, None] * B[:, None, :] * u[:, :, None]
        _check_assoc(associative_scan, a, b, f"associative_scan on the selective SSM, L = {L}")
        hs = _array(associative_scan(a, b, lambda f, s: (s[0] * f[0], s[0] * f[1] + s[1])), "associative_scan")
        _close(np.einsum("ldn,ln->ld", hs, C), _selective_reference(*case), 1e-10,
               f"the selective scan computed with associative_scan, L = {L}")
    case = _scan_case(rng, 5, 2, 3)
    copies = [c.copy() for c in case]
    selective_scan_sequential(*copies)
    _unchanged(dict(zip("u dt A B C".split(), copies)), dict(zip("u dt A B C".split(), case)), "selective_scan_sequential")


# --------------------------------------------------------------------------- q8
@check("q8", points=1)
def hidden_quantum_other_parameters(evolve, born, zeno_survival):
    rng = np.random.default_rng(1481)
    H = _hermitian(rng, 3)
    h0 = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    _check_evolve(evolve, H, h0, 0.0, "evolve(H, h0, 0) (the identity)")
    _check_evolve(evolve, H, h0, 25.0, "evolve(H, h0, 25) (a long time)")
    h = 3.0 * (rng.standard_normal(4) + 1j * rng.standard_normal(4))
    E = _unitary(rng, 4)
    p = _array(born(h.copy(), E.copy()), "born(h, E) for an unnormalised h", (4,))
    assert abs(p.sum() - 1) < 1e-12 and p.min() >= 0, f"born(h, E) should be a probability vector, got {p}"
    for omega, T, n in [(2.0, 1.0, 3), (0.5, 4.0, 7), (1.0, 2 * math.pi, 1)]:
        got = _number(_answered(zeno_survival(omega, T, n), "zeno_survival"), f"zeno_survival({omega}, {T:.3f}, {n})")
        want = math.cos(omega * T / (2 * n)) ** (2 * n)
        assert abs(got - want) <= 1e-10, f"zeno_survival({omega}, {T:.3f}, {n}) should be {want:.6f}, got {got:.6f}"
