"""Public checks for the Chapter 2 exercises (``exercises/ch02_mlp.ipynb``).

Questions: q1 backprop through one hidden ReLU layer, q2 backprop through a general MLP, q3 stable softmax
cross-entropy, q4 the variance of a mini-batch gradient, q5 Adam (and what the book's Algorithm 3 really is),
q6 initialisation variance, q7 the tied-weight associative memory and the pseudo-inverse memory, q8 RMS
normalisation and inverted dropout.

Every reference is computed here, independently of the course's topic modules: torch autograd, torch.optim.Adam,
``torch.nn.functional``, ``torch.nn.RMSNorm``, ``torch.nn.Dropout``, exhaustive enumeration and closed forms, all
in float64 on the CPU. Each check calls the student's functions on fresh copies of its inputs; a wrong answer
fails with a message that says which value is off and by how much, and names the mistake when it is a common
one (the book's own slips among them). The underscore helpers are shared with ``tests/hidden/ch02_mlp.py``.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import torch
import torch.nn.functional as F

from lib.grading import assert_allclose, check, numerical_gradient
from lib.grading.answers import (answered as _answered, as_array as _array, as_number as _number, close as _close,
                                 looks_like as _looks_like, tensor64 as _t, unchanged as _unchanged)

F64 = torch.float64

try:  # torch's own Adam kernel, the one torch.optim.Adam(foreach=False).step runs, without the 2-5 s import of
    from torch.optim.adam import _single_tensor_adam  # torch._dynamo that any torch.optim optimizer triggers
except ImportError:  # a torch without it: use the optimizer itself, and pay its import here, not in a timed check
    _single_tensor_adam = None
    torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.1)


# --------------------------------------------------------------------------- helpers
# --------------------------------------------------------------------------- q1 references: one hidden layer
GRAD_KEYS = ("W1", "b1", "w2", "b2")


def _one_hidden_autograd(x, y, W1, b1, w2, b2, kind) -> dict:
    """Gradients of the log-likelihood J = log p(y | s) by autograd; s = w2 . ReLU(W1 x + b1) + b2."""
    P = {k: _t(v).requires_grad_() for k, v in zip(GRAD_KEYS, (W1, b1, w2, b2))}
    s = P["w2"] @ torch.relu(P["W1"] @ _t(x) + P["b1"]) + P["b2"]
    if kind == "gaussian":
        J = -0.5 * (float(y) - s) ** 2
    else:
        J = float(y) * s - torch.logaddexp(torch.zeros((), dtype=F64), s)  # log sigmoid(s) or log(1 - sigmoid(s))
    J.backward()
    return {k: P[k].grad.numpy() for k in GRAD_KEYS}


def _one_hidden_variant(x, y, W1, b1, w2, b2, kind, relu_prime=None, sign=1.0) -> dict:
    """Hand-written gradients with a chosen ReLU' (to name the 'ReLU' = 1' mistake) and sign."""
    z = W1 @ x + b1
    h = np.maximum(z, 0.0)
    s = w2 @ h + b2
    e = (y - s) if kind == "gaussian" else y - 1 / (1 + np.exp(-s))
    d = (z > 0).astype(float) if relu_prime is None else relu_prime(z)
    delta = e * w2 * d
    return {k: sign * v for k, v in zip(GRAD_KEYS, (np.outer(delta, x), delta, e * h, np.asarray(e)))}


def _check_one_hidden(func, x, y, W1, b1, w2, b2, kind, name, tol=1e-10) -> None:
    want = _one_hidden_autograd(x, y, W1, b1, w2, b2, kind)
    got = _answered(func(x.copy(), float(y), W1.copy(), b1.copy(), w2.copy(), float(b2), kind), name)
    assert isinstance(got, dict), (f"{name}: expected a dict with keys {', '.join(GRAD_KEYS)}, "
                                   f"got {type(got).__name__}")
    missing = [k for k in GRAD_KEYS if k not in got]
    assert not missing, f"{name}: the dict has no key(s) {missing}; expected keys {list(GRAD_KEYS)}"
    wrong = {"ReLU' = 1 everywhere: an inactive unit (z < 0) has ReLU'(z) = 0 and passes no gradient back":
             _one_hidden_variant(x, y, W1, b1, w2, b2, kind, relu_prime=np.ones_like),
             "the gradient of the loss -J (sign flipped); here J is the log-likelihood, with error e = y - prediction":
             _one_hidden_variant(x, y, W1, b1, w2, b2, kind, sign=-1.0)}
    for k in GRAD_KEYS:
        shape = np.shape(want[k])
        if k == "b2":
            g = _array(got[k], f"{name}['b2']")
            assert g.size == 1, f"{name}['b2']: expected one number, got shape {g.shape}"
            g = g.reshape(())
        else:
            g = got[k]
        _close(g, want[k], tol, f"{name}[{k!r}] (shape {shape}; compared with torch autograd)",
               {label: w[k] for label, w in wrong.items()})


def _one_hidden_case(rng, d: int, m: int, kind: str, dead: int = 0):
    """A random case; the first ``dead`` units get a pre-activation well below 0 (inactive)."""
    x = rng.standard_normal(d)
    W1, b1 = rng.standard_normal((m, d)), rng.standard_normal(m)
    z = W1 @ x + b1
    b1[:dead] -= z[:dead] + rng.uniform(0.3, 1.5, dead)  # z = -(0.3 .. 1.5) for the dead units
    b1[dead:] += np.where(np.abs(z[dead:]) < 0.05, 0.2, 0.0)  # keep every other unit clear of the kink
    w2, b2 = rng.standard_normal(m), float(rng.standard_normal())
    y = float(rng.integers(0, 2)) if kind == "bernoulli" else float(rng.normal(0, 2))
    return x, y, W1, b1, w2, b2


# --------------------------------------------------------------------------- q2 references: a general MLP
def _mlp_params(rng, sizes) -> list:
    return [(rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), 0.5 * rng.standard_normal(n_out))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def _mlp_autograd(params, X, G) -> list:
    """Gradients of J = sum(G * s) for the ReLU MLP (linear last layer), by autograd: [(dW, db), ...]."""
    P = [(_t(W).requires_grad_(), _t(b).requires_grad_()) for W, b in params]
    h = _t(X)
    for i, (W, b) in enumerate(P):
        h = h @ W.T + b
        if i < len(P) - 1:
            h = torch.relu(h)
    (h * _t(G)).sum().backward()
    return [(W.grad.numpy(), b.grad.numpy()) for W, b in P]


def _mlp_output(params, X) -> np.ndarray:
    h = X
    for i, (W, b) in enumerate(params):
        h = h @ W.T + b
        if i < len(params) - 1:
            h = np.maximum(h, 0.0)
    return h


def _copy_params(params) -> list:
    return [(W.copy(), b.copy()) for W, b in params]


def _forward(mlp_forward, params, X) -> tuple:
    """The (s, cache) of the notebook's mlp_forward, with s checked against the reference forward pass."""
    out = _answered(mlp_forward(_copy_params(params), X.copy()), "mlp_forward(params, X)")
    try:
        s, cache = out
    except (TypeError, ValueError):
        raise AssertionError("mlp_forward(params, X) should return the pair (s, cache)") from None
    _close(s, _mlp_output(params, X), 1e-12, "mlp_forward(params, X)[0] (the scores s; did you change mlp_forward?)")
    return s, cache


def _check_mlp_backward(mlp_forward, mlp_backward, params, X, G, name: str, tol: float = 1e-10) -> None:
    want = _mlp_autograd(params, X, G)
    s, cache = _forward(mlp_forward, params, X)
    got = _answered(mlp_backward(_copy_params(params), cache, G.copy()), name)
    try:
        got = list(got)
    except TypeError:
        raise AssertionError(f"{name}: expected a list of (dW, db) pairs, got {type(got).__name__}") from None
    assert len(got) == len(params), (f"{name}: expected one (dW, db) pair per layer ({len(params)} layers), "
                                     f"got {len(got)} entries")
    for l, (pair, (dW, db), (W, _)) in enumerate(zip(got, want, params), start=1):
        try:
            gW, gb = pair
        except (TypeError, ValueError):
            raise AssertionError(f"{name}: entry {l - 1} should be a pair (dW, db), got {type(pair).__name__}") from None
        gW_arr = _array(gW, f"{name}: dW of layer {l}")
        if gW_arr.shape == W.T.shape and W.shape[0] != W.shape[1]:
            raise AssertionError(
                f"{name}: dW of layer {l} has shape {gW_arr.shape}, the transpose of W {W.shape}. The gradient "
                f"has the shape of the parameter: dJ/dW = Delta^T H_prev, (d_l x B)(B x d_(l-1)), not H_prev^T Delta")
        _close(gW_arr, dW, tol, f"{name}: dW of layer {l} of {len(params)} (sizes "
               f"{[params[0][0].shape[1]] + [p[0].shape[0] for p in params]}, batch {len(X)}; compared with autograd)",
               {"the transpose of the gradient (H_prev^T Delta reshaped)": dW.T if dW.shape[0] == dW.shape[1] else
                np.full(dW.shape, np.nan),
                "the gradient averaged over the batch; J is the sum over examples here": dW / len(X)})
        gb_arr = _array(gb, f"{name}: db of layer {l}")
        if gb_arr.shape == (len(X), len(db)):
            raise AssertionError(f"{name}: db of layer {l} has shape {gb_arr.shape}, one row per example: "
                                 f"sum the rows over the batch (dJ/db = Delta^T 1)")
        _close(gb_arr, db, tol, f"{name}: db of layer {l} (compared with autograd)",
               {"the bias gradient averaged over the batch": db / len(X)})


# --------------------------------------------------------------------------- q3 references: softmax cross-entropy
def _torch_log_softmax(S) -> np.ndarray:
    return torch.log_softmax(_t(S), dim=-1).numpy()


def _torch_ce(S, y) -> float:
    return float(F.cross_entropy(_t(S), torch.as_tensor(np.asarray(y), dtype=torch.long)))


def _torch_ce_grad(S, y) -> np.ndarray:
    St = _t(S).requires_grad_()
    F.cross_entropy(St, torch.as_tensor(np.asarray(y), dtype=torch.long)).backward()
    return St.grad.numpy()


def _logits(rng, B: int, C: int, scale: float = 3.0) -> tuple:
    return rng.normal(0, scale, (B, C)), rng.integers(0, C, B)


# --------------------------------------------------------------------------- q4 references: mini-batch variance
def _enumerated_variance(g, B: int, replace: bool) -> float:
    """E || mean of a random batch - full mean ||^2, by listing every batch (all equally likely)."""
    g = np.asarray(g, dtype=float)
    full = g.mean(axis=0)
    batches = (itertools.product(range(len(g)), repeat=B) if replace else itertools.combinations(range(len(g)), B))
    devs = [np.sum((g[list(idx)].mean(axis=0) - full) ** 2) for idx in batches]
    return float(np.mean(devs))


def _population_variance(g) -> float:
    g = np.asarray(g, dtype=float)
    return float(np.sum((g - g.mean(axis=0)) ** 2) / len(g))


def _variance_mistakes(g, B: int, replace: bool) -> dict:
    N, S2 = len(g), _population_variance(g)
    return {"S^2 / B without the finite-population factor (N - B)/(N - 1); that is the with-replacement value":
                S2 / B if not replace else np.nan,
            "the without-replacement value; with replacement the draws are independent, so it is S^2 / B":
                S2 / B * (N - B) / (N - 1) if replace else np.nan,
            "the factor (N - B)/N instead of (N - B)/(N - 1)": S2 / B * (N - B) / N,
            "the sample variance (dividing by N - 1) in S^2": S2 * N / (N - 1) / B * ((N - B) / (N - 1) if not replace else 1),
            "the variance of one example's gradient (no division by B)":
                S2 * ((N - B) / (N - 1) if not replace else 1)}


def _gradient_table(rng, N: int, p: int) -> np.ndarray:
    return rng.standard_normal((N, p)) * rng.uniform(0.5, 2.0, p) + rng.standard_normal(p)


# --------------------------------------------------------------------------- q5 references: Adam and Algorithm 3
def _quadratic(seed: int, d: int, lo: float, hi: float):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    H = (Q * np.geomspace(lo, hi, d)) @ Q.T
    b = rng.standard_normal(d)
    return (lambda x: H @ x - b), rng.standard_normal(d)


def _torch_adam_path(grad, x0, lr, betas, eps, steps, use_optimizer=False) -> np.ndarray:
    """Iterates of torch's Adam fed with ``grad``: its single-tensor kernel (what torch.optim.Adam.step runs on
    the CPU with foreach=False) or, with ``use_optimizer``, torch.optim.Adam itself (tests show they agree)."""
    x = torch.tensor(np.asarray(x0, dtype=float), dtype=F64, requires_grad=not (_single_tensor_adam and not use_optimizer))
    path = [np.array(x0, dtype=float)]
    if _single_tensor_adam is not None and not use_optimizer:
        m, v, t = torch.zeros_like(x), torch.zeros_like(x), torch.zeros((), dtype=F64)
        for _ in range(steps):
            g = torch.from_numpy(np.asarray(grad(x.numpy().copy()), dtype=float))
            _single_tensor_adam([x], [g], [m], [v], [], [t], grad_scale=None, found_inf=None, amsgrad=False,
                                has_complex=False, beta1=betas[0], beta2=betas[1], lr=lr, weight_decay=0.0, eps=eps,
                                maximize=False, capturable=False, differentiable=False, decoupled_weight_decay=False)
            path.append(x.numpy().copy())
        return np.array(path)
    opt = torch.optim.Adam([x], lr=lr, betas=betas, eps=eps, foreach=False)
    for _ in range(steps):
        x.grad = torch.from_numpy(np.asarray(grad(x.detach().numpy().copy()), dtype=float))
        opt.step()
        path.append(x.detach().numpy().copy())
    return np.array(path)


def _adam_like_path(grad, x0, steps, update) -> np.ndarray:
    """Iterates of x <- x - update(g, m, v, t) with user-defined moment rules (for the known-wrong variants)."""
    x, m, v = np.array(x0, dtype=float), np.zeros(len(x0)), np.zeros(len(x0))
    path = [x]
    for t in range(1, steps + 1):
        step, m, v = update(grad(x), m, v, t)
        x = x - step
        path.append(x)
    return np.array(path)


def _uncorrected_adam(lr, betas, eps_inside):
    b1, b2 = betas

    def update(g, m, v, t):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        return lr * m / np.sqrt(v + eps_inside), m, v
    return update


def _algorithm3(eta, betas, eps):
    """The book's Algorithm 3: v = b1 v + g, G = b2 G + g^2, step eta v / sqrt(G + eps)."""
    b1, b2 = betas

    def update(g, v, G, t):
        v, G = b1 * v + g, b2 * G + g * g
        return eta * v / np.sqrt(G + eps), v, G
    return update


def _adam_variants(lr, betas, eps) -> dict:
    b1, b2 = betas

    def no_correction(g, m, v, t):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        return lr * m / (np.sqrt(v) + eps), m, v

    def eps_inside(g, m, v, t):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        return lr * (m / (1 - b1 ** t)) / np.sqrt(v / (1 - b2 ** t) + eps), m, v

    def only_m_corrected(g, m, v, t):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        return lr * (m / (1 - b1 ** t)) / (np.sqrt(v) + eps), m, v

    return {"Adam without bias correction (m_t and v_t not divided by 1 - beta^t)": no_correction,
            "the book's Algorithm 3 (no (1 - beta) factors, no bias correction, eps inside the root): it is not Adam":
                _algorithm3(lr, betas, eps),
            "Adam with eps inside the square root, sqrt(v_hat + eps); torch adds eps after the root": eps_inside,
            "Adam with only m corrected for bias (v_hat = v_t / (1 - beta2^t) is missing)": only_m_corrected}


def _run_adam_step(adam_step, grad, x0, lr, betas, eps, steps, name) -> np.ndarray:
    state = {"theta": np.array(x0, dtype=float), "m": np.zeros(len(x0)), "v": np.zeros(len(x0)), "t": 0}
    path = [np.array(x0, dtype=float)]
    for k in range(steps):
        theta = state["theta"]
        theta = theta.detach().cpu().numpy() if hasattr(theta, "detach") else np.array(theta, dtype=float)
        g = np.asarray(grad(np.array(theta, dtype=float)), dtype=float)
        new = _answered(adam_step(state, g, lr, betas, eps), name)
        assert isinstance(new, dict) and all(key in new for key in ("theta", "m", "v", "t")), (
            f"{name}: expected a new state dict with keys 'theta', 'm', 'v', 't', got "
            f"{type(new).__name__} {list(new) if isinstance(new, dict) else ''}")
        if k == 0:
            t1 = _number(new["t"], f"{name}: the step counter t after the first step")
            assert t1 == 1, f"{name}: the step counter t should be 1 after the first step, got {t1:g}"
        state = new
        path.append(_array(state["theta"], f"{name}: theta after step {k + 1}", (len(x0),)).copy())
    return np.array(path)


def _check_adam_path(adam_step, grad, x0, lr, betas, eps, steps, name, tol=1e-12) -> None:
    want = _torch_adam_path(grad, x0, lr, betas, eps, steps)
    got = _run_adam_step(adam_step, grad, x0, lr, betas, eps, steps, name)
    wrong = {label: _adam_like_path(grad, x0, steps, upd) for label, upd in _adam_variants(lr, betas, eps).items()}
    first = np.abs(got - want).max(axis=1)
    bad = int(np.argmax(first > tol * max(1.0, np.abs(want).max())))
    where = f" (first off at step {bad})" if first.max() > tol * max(1.0, np.abs(want).max()) else ""
    _close(got, want, tol, f"{name}: the path theta_0..theta_{steps}{where}, compared with torch.optim.Adam", wrong)


def _check_algorithm3_equivalence(algorithm3_as_adam, eta, betas, eps, name) -> None:
    out = _answered(algorithm3_as_adam(eta, betas, eps), name)
    lr2, eps2 = _array(out, name, (2,))
    b1, b2 = betas
    grad, x0 = _quadratic(515, 3, 0.5, 20.0)
    want = _adam_like_path(grad, x0, 300, _algorithm3(eta, betas, eps))
    got = _adam_like_path(grad, x0, 300, _uncorrected_adam(lr2, betas, eps2))
    true_lr, true_eps = eta * np.sqrt(1 - b2) / (1 - b1), eps * (1 - b2)
    hint = _looks_like([lr2, eps2], {"the learning rate upside down: eta (1 - beta1) / sqrt(1 - beta2)":
                                     [eta * (1 - b1) / np.sqrt(1 - b2), true_eps],
                                     "eps divided by (1 - beta2) instead of multiplied": [true_lr, eps / (1 - b2)],
                                     "Algorithm 3's own (eta, eps): the (1 - beta) factors change the scale":
                                     [eta, eps],
                                     "(eps', lr') in the wrong order": [true_eps, true_lr]})
    assert np.isfinite(got).all(), f"{name}: with (lr', eps') = ({lr2:.6g}, {eps2:.6g}) the path is not finite.{hint}"
    _close(got, want, 1e-12, f"{name} = ({lr2:.6g}, {eps2:.6g}) for eta={eta:g}, betas={betas}, eps={eps:g}: uncorrected "
           f"Adam with these numbers, compared with Algorithm 3 over 300 steps")
    _close([lr2, eps2], [true_lr, true_eps], 1e-12, f"{name} (eta={eta:g}, betas={betas}, eps={eps:g})")


# --------------------------------------------------------------------------- q6 references: initialisation
def _propagate_reference(depth, width, batch, scale, seed) -> np.ndarray:
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(batch, width, generator=gen, dtype=F64)
    out = [float((h ** 2).mean())]
    for _ in range(depth):
        W = torch.randn(width, width, generator=gen, dtype=F64) * math.sqrt(scale / width)
        h = torch.relu(h @ W.T)
        out.append(float((h ** 2).mean()))
    return np.array(out)


def _relu_moment_mistakes(sigma) -> dict:
    return {"the second moment sigma^2/2: the book's 'Var[ReLU(z)] = Var[z]/2' is wrong; it is E[ReLU(z)^2] "
            "that halves, and the variance also subtracts the squared mean sigma^2/(2 pi)": sigma ** 2 / 2,
            "a formula in the variance sigma instead of the standard deviation sigma (sigma^2 is the variance)":
                sigma * (0.5 - 0.5 / np.pi),
            "sigma^2 (1/2 - 1/pi): the squared mean of ReLU(z) is sigma^2/(2 pi)": sigma ** 2 * (0.5 - 1 / np.pi)}


# --------------------------------------------------------------------------- q7 references: associative memory
def _tied_autograd(We, Wa, x_idx, y_idx) -> tuple:
    """d log softmax(We^T Wa We[:, x])[y] / d(We, Wa) by autograd."""
    E, A = _t(We).requires_grad_(), _t(Wa).requires_grad_()
    s = E.T @ (A @ E[:, int(x_idx)])
    torch.log_softmax(s, dim=0)[int(y_idx)].backward()
    return E.grad.numpy(), A.grad.numpy()


def _tied_pieces(We, Wa, x_idx, y_idx) -> dict:
    """The pieces of the tied-weight gradient, to name the common mistakes."""
    V = We.shape[1]
    h1 = We[:, x_idx]
    h2 = Wa @ h1
    s = We.T @ h2
    p = np.exp(s - s.max())
    p /= p.sum()
    e = np.eye(V)[y_idx] - p
    x = np.eye(V)[x_idx]
    return dict(e=e, x=x, h1=h1, h2=h2, embed=np.outer(Wa.T @ We @ e, x), unembed=np.outer(h2, e))


def _check_tied(tied_assoc_grads, We, Wa, x_idx, y_idx, name, tol=1e-10) -> None:
    d, V = We.shape
    want_E, want_A = _tied_autograd(We, Wa, x_idx, y_idx)
    out = _answered(tied_assoc_grads(We.copy(), Wa.copy(), int(x_idx), int(y_idx)), name)
    try:
        gE, gA = out
    except (TypeError, ValueError):
        raise AssertionError(f"{name}: expected the pair (dWe, dWa), got {type(out).__name__}") from None
    q = _tied_pieces(We, Wa, x_idx, y_idx)
    gE_arr = _array(gE, f"{name}: dWe")
    if gE_arr.shape == (V, d) and V != d:
        raise AssertionError(f"{name}: dWe has shape {(V, d)}, the shape of We^T; it must match We, {(d, V)}. The "
                             f"book's second term (y - p) h2^T is the gradient with respect to We^T: use h2 (y - p)^T")
    _close(gE_arr, want_E, tol, f"{name}: dWe, shape {(d, V)} (compared with torch autograd)",
           {"only the embedding path (Wa^T We e) x^T: We also produces the scores s = We^T h2, which adds h2 e^T":
                q["embed"],
            "only the unembedding term h2 e^T: We also makes h1 = We x, which adds (Wa^T We e) x^T": q["unembed"],
            "Wa where Wa^T belongs in the embedding term": np.outer(Wa @ We @ q["e"], q["x"]) + q["unembed"],
            "the gradient of the loss (sign flipped); J is the log-likelihood, e = y - p": -want_E})
    _close(gA, want_A, tol, f"{name}: dWa, shape {(d, d)} (compared with torch autograd)",
           {"the transpose h1 (We e)^T": want_A.T, "the gradient of the loss (sign flipped)": -want_A})


def _keys(rng, d: int, n: int) -> np.ndarray:
    A = rng.standard_normal((d, n))
    return A / np.linalg.norm(A, axis=0)


def _check_pinv_memory(pinv_memory, A, B, name) -> np.ndarray:
    d, n = A.shape
    got = _answered(pinv_memory(A.copy(), B.copy()), name)
    W = _array(got, name)
    if W.shape == (d, B.shape[0]) and d != B.shape[0]:
        raise AssertionError(f"{name}: got shape {W.shape}; the memory maps a key (length {d}) to a value "
                             f"(length {B.shape[0]}), so W has shape {(B.shape[0], d)}: W = B A^+")
    _close(W, B @ np.linalg.pinv(A), 1e-10, f"{name} with {n} keys of length {d} (compared with B @ np.linalg.pinv(A))",
           {"the outer-product memory B A^T, exact only for orthonormal keys": B @ A.T})
    return W


# --------------------------------------------------------------------------- q8 references: RMSNorm and dropout
def _torch_rms_norm(h, eps) -> np.ndarray:
    h = np.asarray(h, dtype=float)
    return torch.nn.RMSNorm(h.shape[-1], eps=eps, elementwise_affine=False, dtype=F64)(_t(h)).detach().numpy()


def _rms_mistakes(h, eps) -> dict:
    h = np.asarray(h, dtype=float)
    c = h - h.mean(axis=-1, keepdims=True)
    return {"layer normalisation (the mean subtracted); RMSNorm does not centre":
                c / np.sqrt(np.mean(c ** 2, axis=-1, keepdims=True) + eps),
            "h / ||h||, on the unit sphere; RMSNorm divides by the root MEAN square, landing on radius sqrt(d)":
                h / np.sqrt(np.sum(h ** 2, axis=-1, keepdims=True) + eps),
            "the root mean square taken over the wrong axis (normalise each row, the last axis)":
                h / np.sqrt(np.mean(h ** 2, axis=0, keepdims=True) + eps),
            "eps added after the root, h / (rms + eps); torch adds it inside: h / sqrt(mean(h^2) + eps)":
                h / (np.sqrt(np.mean(h ** 2, axis=-1, keepdims=True)) + eps)}


def _torch_rms_jacobian(h) -> np.ndarray:
    f = lambda u: u / torch.sqrt(torch.mean(u ** 2))
    return torch.autograd.functional.jacobian(f, _t(h)).numpy()


def _jacobian_mistakes(h) -> dict:
    d, r = len(h), np.linalg.norm(h)
    u = h / r
    return {"(sqrt(d)/||h||) I without the projection: moving h along itself does not change RMSNorm(h)":
                np.sqrt(d) / r * np.eye(d),
            "(1/||h||)(I - u u^T) without the factor sqrt(d)": (np.eye(d) - np.outer(u, u)) / r,
            "(sqrt(d)/||h||)(I + u u^T): the radial part is removed, not added": np.sqrt(d) / r * (np.eye(d) + np.outer(u, u))}


def _check_dropout_mask(inverted_dropout, h, rho, keep, name) -> None:
    out = _answered(inverted_dropout(h.clone(), rho, keep.clone(), True), name)
    want = (h * keep / (1 - rho)).numpy()
    _close(out, want, 1e-12, name,
           {"the book's training rule m * h with no rescaling (that convention scales by (1 - rho) at test time "
            "instead; torch's inverted dropout divides by 1 - rho during training)": (h * keep).numpy(),
            "a division by rho instead of 1 - rho": (h * keep / rho).numpy(),
            "the mask read the wrong way round (1 marks a kept unit)": (h * (1 - keep) / (1 - rho)).numpy()})


# --------------------------------------------------------------------------- q1: one hidden layer
@check("q1", points=1, hint="e = y - s (Gaussian) or y - sigmoid(s) (Bernoulli); dJ/dw2 = e h, dJ/db2 = e; "
                            "delta = e * w2 * 1[z > 0]; dJ/dW1 = outer(delta, x), dJ/db1 = delta")
def one_hidden_layer_gaussian_1d(one_hidden_layer_grads):
    rng = np.random.default_rng(101)
    case = _one_hidden_case(rng, 1, 5, "gaussian", dead=2)
    _check_one_hidden(one_hidden_layer_grads, *case, "gaussian",
                      "one_hidden_layer_grads(x, y, W1, b1, w2, b2, 'gaussian') with 1-D input, 5 units")


@check("q1", points=1)
def one_hidden_layer_bernoulli_2d(one_hidden_layer_grads):
    rng = np.random.default_rng(102)
    for i in range(3):
        case = _one_hidden_case(rng, 2, 6, "bernoulli", dead=2)
        _check_one_hidden(one_hidden_layer_grads, *case, "bernoulli",
                          f"one_hidden_layer_grads(..., 'bernoulli') with 2-D input, 6 units (case {i + 1} of 3)")


@check("q1", points=1, hint="ReLU'(z) = 1 if z > 0 else 0: an inactive unit passes no gradient to its weights")
def inactive_units_get_no_gradient(one_hidden_layer_grads):
    rng = np.random.default_rng(103)
    x, y, W1, b1, w2, b2 = _one_hidden_case(rng, 3, 8, "gaussian", dead=5)
    z = W1 @ x + b1
    got = _answered(one_hidden_layer_grads(x.copy(), y, W1.copy(), b1.copy(), w2.copy(), b2, "gaussian"),
                    "one_hidden_layer_grads")
    assert isinstance(got, dict) and "W1" in got and "b1" in got, "one_hidden_layer_grads should return a dict " \
                                                                 "with keys 'W1', 'b1', 'w2', 'b2'"
    gW1, gb1 = _array(got["W1"], "dJ/dW1", W1.shape), _array(got["b1"], "dJ/db1", b1.shape)
    for k in np.flatnonzero(z < 0):
        assert np.all(gW1[k] == 0) and gb1[k] == 0, (
            f"unit {k} is inactive (z_{k} = {z[k]:.3f} < 0, so h_{k} = 0 whatever its weights), yet its gradients are "
            f"dJ/dW1[{k}] = {np.array2string(gW1[k], precision=4)}, dJ/db1[{k}] = {gb1[k]:.4g}; they must be 0 "
            f"(ReLU'(z) = 0 for z < 0). Using ReLU' = 1 everywhere gives exactly this")
    _check_one_hidden(one_hidden_layer_grads, x, y, W1, b1, w2, b2, "gaussian",
                      "one_hidden_layer_grads(..., 'gaussian') with 5 of 8 units inactive")


@check("q1", points=0.5)
def all_zero_start_moves_only_the_output_bias(one_hidden_layer_grads):
    x, y = np.array([0.7, -1.2]), 1.5
    m = 4
    got = _answered(one_hidden_layer_grads(x.copy(), y, np.zeros((m, 2)), np.zeros(m), np.zeros(m), 0.0, "gaussian"),
                    "one_hidden_layer_grads at all-zero weights")
    assert isinstance(got, dict) and all(k in got for k in GRAD_KEYS), \
        "one_hidden_layer_grads should return a dict with keys 'W1', 'b1', 'w2', 'b2'"
    for k, shape in zip(GRAD_KEYS[:3], [(m, 2), (m,), (m,)]):
        g = _array(got[k], f"dJ/d{k} at all-zero weights", shape)
        assert np.all(g == 0), (f"with every weight and bias 0, h = ReLU(0) = 0 and delta = e * w2 = 0, so dJ/d{k} "
                                f"must be exactly 0; got {np.array2string(g, precision=4)}")
    _close(np.reshape(_array(got["b2"], "dJ/db2"), ()), y, 1e-12,
           "dJ/db2 at all-zero weights (it is e = y - s = y, the only nonzero gradient: the all-zero network is a "
           "stationary point for everything else)")


# --------------------------------------------------------------------------- q2: a general MLP
@check("q2", points=1, hint="go backwards: dJ/dW = Delta^T H_prev, dJ/db = Delta summed over the batch, "
                            "dJ/dH_prev = Delta W, then multiply by 1[z > 0] for the layer below")
def mlp_backward_two_layers(mlp_forward, mlp_backward):
    rng = np.random.default_rng(201)
    params = _mlp_params(rng, [3, 4, 2])
    X, G = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    _check_mlp_backward(mlp_forward, mlp_backward, params, X, G, "mlp_backward for sizes [3, 4, 2], batch 5")


@check("q2", points=1.5)
def mlp_backward_random_architectures(mlp_forward, mlp_backward):
    rng = np.random.default_rng(202)
    for i in range(12):
        depth = int(rng.integers(1, 5))
        sizes = [int(w) for w in rng.integers(1, 8, depth + 1)]
        B = int(rng.integers(1, 6))
        params = _mlp_params(rng, sizes)
        X, G = rng.standard_normal((B, sizes[0])), rng.standard_normal((B, sizes[-1]))
        _check_mlp_backward(mlp_forward, mlp_backward, params, X, G,
                            f"mlp_backward (random case {i + 1} of 12: sizes {sizes}, batch {B})")


@check("q2", points=0.5)
def mlp_backward_finite_differences(mlp_forward, mlp_backward):
    rng = np.random.default_rng(203)
    params = _mlp_params(rng, [2, 5, 3, 1])
    X, G = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    s, cache = _forward(mlp_forward, params, X)
    grads = _answered(mlp_backward(_copy_params(params), cache, G.copy()), "mlp_backward")
    assert isinstance(grads, (list, tuple)) and len(grads) == 3, (
        f"mlp_backward: expected a list of 3 (dW, db) pairs, got {type(grads).__name__} {grads!r:.60}")
    for l in range(3):
        assert isinstance(grads[l], (list, tuple)) and len(grads[l]) == 2, \
            f"mlp_backward: entry {l} should be a pair (dW, db)"
        def J(W, l=l):
            p = _copy_params(params)
            p[l] = (W, p[l][1])
            return float(np.sum(G * _mlp_output(p, X)))
        num = numerical_gradient(J, params[l][0], h=1e-6)
        got = _array(grads[l][0], f"dW of layer {l + 1}", num.shape)
        err = np.abs(got - num).max()
        assert err <= 1e-6 * max(1.0, np.abs(num).max()), (
            f"dW of layer {l + 1} differs from central finite differences by up to {err:.3g} "
            f"(entry {np.unravel_index(np.argmax(np.abs(got - num)), num.shape)}); expected agreement to about 1e-7")


# --------------------------------------------------------------------------- q3: softmax cross-entropy
@check("q3", points=1, hint="subtract the row maximum before exponentiating: log_softmax(s) = s - max - log(sum(exp(s - max)))")
def log_softmax_matches_torch_even_for_huge_logits(log_softmax):
    rng = np.random.default_rng(301)
    S, _ = _logits(rng, 6, 5)
    _close(log_softmax(S.copy()), _torch_log_softmax(S), 1e-12, "log_softmax(S) for S of shape (6, 5) "
           "(compared with torch.log_softmax)", {"the log-softmax over the wrong axis (columns)":
                                                    torch.log_softmax(_t(S), dim=0).numpy(),
                                                    "softmax instead of log-softmax": np.exp(_torch_log_softmax(S))})
    big = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -999.0, -1001.0], [800.0, 800.0, 799.0]])
    with np.errstate(all="ignore"):
        got = log_softmax(big.copy())
    _close(got, _torch_log_softmax(big), 1e-12, "log_softmax on logits of size 1000 (exp(1000) overflows: "
           "shift each row by its maximum first)")


@check("q3", points=0.5)
def cross_entropy_matches_torch(cross_entropy):
    rng = np.random.default_rng(302)
    S, y = _logits(rng, 8, 4)
    want = _torch_ce(S, y)
    got = _number(cross_entropy(S.copy(), y.copy()), "cross_entropy(S, y)")
    p = np.exp(_torch_log_softmax(S))
    assert abs(got - want) <= 1e-12 * max(1.0, abs(want)), (
        f"cross_entropy(S, y) for 8 examples, 4 classes: expected {want:.12g} (torch.nn.functional.cross_entropy, the "
        f"mean over the batch of -log p_y), got {got:.12g} (off by {got - want:+.2e})."
        + _looks_like(got, {"the sum over the batch instead of the mean": want * 8,
                            "the log-likelihood (sign flipped)": -want,
                            "the mean of -log p over all classes, not only the true one": -np.mean(np.log(p))}))
    big = np.array([[1000.0, -1000.0], [0.0, 1000.0]])
    with np.errstate(all="ignore"):
        got = _number(cross_entropy(big.copy(), np.array([1, 1])), "cross_entropy on logits of size 1000")
    _close(got, _torch_ce(big, [1, 1]), 1e-12, "cross_entropy on logits of size 1000")


@check("q3", points=1, hint="the gradient of the mean cross-entropy with respect to S is (softmax(S) - one_hot(y)) / B")
def ce_grad_matches_autograd(ce_grad):
    rng = np.random.default_rng(303)
    S, y = _logits(rng, 7, 5)
    want = _torch_ce_grad(S, y)
    _close(ce_grad(S.copy(), y.copy()), want, 1e-12, "ce_grad(S, y) for B = 7, C = 5 (compared with autograd of "
           "F.cross_entropy)", {"one_hot(y) - softmax(S): the book's y - p is the gradient of the log-likelihood; "
                                "the loss is its negative": -want,
                                "the gradient of the summed loss (no division by B)": want * 7,
                                "minus the gradient of the summed loss": -want * 7})
    big = np.array([[1000.0, 0.0, -1000.0]])
    with np.errstate(all="ignore"):
        got = ce_grad(big.copy(), np.array([2]))
    _close(got, _torch_ce_grad(big, [2]), 1e-12, "ce_grad on logits of size 1000")


@check("q3", points=0.5)
def softmax_shift_invariance_and_the_binary_case(log_softmax):
    rng = np.random.default_rng(304)
    S, _ = _logits(rng, 4, 6)
    c = rng.normal(0, 50, (4, 1))
    base = _array(log_softmax(S.copy()), "log_softmax(S)", S.shape)
    _close(log_softmax(S + c), base, 1e-12, "log_softmax(S + c) for a constant c per row (softmax ignores a common "
           "shift; this is why a score can be fixed to 0, for identifiability, not for stability)")
    s = np.array([-700.0, -30.0, -1.5, 0.0, 2.0, 40.0, 700.0])
    two = np.column_stack([np.zeros_like(s), s])
    with np.errstate(all="ignore"):
        got = _array(log_softmax(two.copy()), "log_softmax of the rows (0, s)", two.shape)[:, 1]
    _close(got, -np.logaddexp(0.0, -s), 1e-12, "log_softmax((0, s))[1] (two classes with scores 0 and s: it must be "
           "log sigmoid(s), logistic regression)")


# --------------------------------------------------------------------------- q4: mini-batch variance
@check("q4", points=1, hint="without replacement: S^2 / B * (N - B) / (N - 1), with S^2 = mean over i of ||g_i - g_bar||^2")
def variance_without_replacement_by_enumeration(minibatch_variance):
    g = _gradient_table(np.random.default_rng(401), 8, 2)
    for B in (3, 5):
        want = _enumerated_variance(g, B, replace=False)
        got = _number(minibatch_variance(g.copy(), B, False), f"minibatch_variance(g, B={B}, replace=False)")
        assert abs(got - want) <= 1e-12 * want, (
            f"minibatch_variance(g, B={B}, replace=False) with N = 8 gradients in R^2: averaging over all "
            f"{math.comb(8, B)} batches gives {want:.10g}, you return {got:.10g} (off by {got - want:+.2e})."
            + _looks_like(got, _variance_mistakes(g, B, False)))


@check("q4", points=1)
def variance_with_replacement_by_enumeration(minibatch_variance):
    g = _gradient_table(np.random.default_rng(402), 8, 2)
    B = 3
    want = _enumerated_variance(g, B, replace=True)
    got = _number(minibatch_variance(g.copy(), B, True), f"minibatch_variance(g, B={B}, replace=True)")
    assert abs(got - want) <= 1e-12 * want, (
        f"minibatch_variance(g, B={B}, replace=True) with N = 8: averaging over all 8^3 = 512 ordered draws gives "
        f"{want:.10g}, you return {got:.10g} (off by {got - want:+.2e})." + _looks_like(got, _variance_mistakes(g, B, True)))


@check("q4", points=0.5)
def variance_edge_cases_and_monotone(minibatch_variance):
    g = _gradient_table(np.random.default_rng(403), 10, 3)
    N, S2 = 10, _population_variance(g)
    full = _number(minibatch_variance(g.copy(), N, False), "minibatch_variance(g, B=N, replace=False)")
    assert abs(full) <= 1e-12 * S2, (f"a batch of all N examples drawn without replacement is the full data set, so its "
                                     f"mean gradient has variance 0; got {full:.4g}")
    for replace in (False, True):
        one = _number(minibatch_variance(g.copy(), 1, replace), f"minibatch_variance(g, B=1, replace={replace})")
        assert abs(one - S2) <= 1e-12 * S2, (f"with B = 1 (replace={replace}) the variance is that of one random "
                                             f"example's gradient, S^2 = {S2:.6g}; got {one:.6g}")
        vals = [_number(minibatch_variance(g.copy(), B, replace), "minibatch_variance") for B in range(1, N + 1)]
        assert all(a > b for a, b in zip(vals, vals[1:])), (
            f"the variance should fall as the batch grows (replace={replace}); for B = 1..{N} you return "
            f"{np.array2string(np.array(vals), precision=4)}")


# --------------------------------------------------------------------------- q5: Adam
@check("q5", points=1.5, hint="m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; t += 1; "
                              "theta -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)")
def adam_matches_torch(adam_step):
    grad, x0 = _quadratic(501, 4, 0.1, 10.0)
    _check_adam_path(adam_step, grad, x0, 0.05, (0.9, 0.999), 1e-8, 300,
                     "adam_step(state, g, lr=0.05, betas=(0.9, 0.999), eps=1e-8), 300 steps")


@check("q5", points=0.5)
def adam_first_step_has_length_lr(adam_step):
    g = np.array([3.0, -0.02, 1e-3])
    state = {"theta": np.zeros(3), "m": np.zeros(3), "v": np.zeros(3), "t": 0}
    new = _answered(adam_step(state, g.copy(), 0.1, (0.9, 0.999), 1e-8), "adam_step")
    assert isinstance(new, dict) and "theta" in new, "adam_step should return a new state dict with key 'theta'"
    step = _array(new["theta"], "theta after one step", (3,))
    want = -0.1 * g / (np.abs(g) + 1e-8)
    _close(step, want, 1e-12, "theta after Adam's first step from 0 with lr = 0.1 (bias correction makes it "
           "-lr * g / (|g| + eps), about lr * sign(-g), whatever the size of g)",
           {"a first step without bias correction, lr (1 - b1)/sqrt(1 - b2) sign(-g), about 3.16 lr":
                -0.1 * 0.1 * g / (np.sqrt(0.001 * g * g) + 1e-8),
            "the book's Algorithm 3, whose first step is also about lr * sign(-g) but with eps inside the root":
                -0.1 * g / np.sqrt(g * g + 1e-8)})


@check("q5", points=0.5)
def adam_other_betas_and_large_eps(adam_step):
    grad, x0 = _quadratic(502, 3, 1.0, 50.0)
    _check_adam_path(adam_step, grad, x0, 0.02, (0.5, 0.9), 0.1, 80,
                     "adam_step(state, g, lr=0.02, betas=(0.5, 0.9), eps=0.1), 80 steps")


@check("q5", points=1, hint="write Algorithm 3's v_t and G_t in terms of Adam's m_t = (1 - b1) v_t and v_t = (1 - b2) G_t")
def algorithm3_is_rescaled_uncorrected_adam(algorithm3_as_adam):
    _check_algorithm3_equivalence(algorithm3_as_adam, 0.01, (0.9, 0.999), 1e-6, "algorithm3_as_adam(0.01, (0.9, 0.999), 1e-6)")
    _check_algorithm3_equivalence(algorithm3_as_adam, 0.05, (0.8, 0.99), 0.3, "algorithm3_as_adam(0.05, (0.8, 0.99), 0.3)")


# --------------------------------------------------------------------------- q6: initialisation
@check("q6", points=0.5)
def he_variance_closed_form(he_variance):
    for n in (1, 3, 64, 1000):
        got = _number(he_variance(n), f"he_variance({n})")
        assert abs(got - 2 / n) <= 1e-12 * 2 / n, (
            f"he_variance({n}): expected 2 / n_in = {2 / n:.6g}, got {got:.6g}."
            + _looks_like(got, {"1 / n_in, right for a linear (identity) layer; ReLU zeroes half the signal, so He "
                                "doubles it": 1 / n, "the standard deviation sqrt(2 / n_in) instead of the variance":
                                np.sqrt(2 / n)}))


@check("q6", points=1, hint="for z ~ N(0, sigma^2): E[ReLU(z)] = sigma / sqrt(2 pi) and E[ReLU(z)^2] = sigma^2 / 2")
def relu_moments_closed_form(relu_second_moment, relu_variance):
    for sigma in (1.0, 2.0, 0.3):
        want2 = sigma ** 2 / 2
        got2 = _number(relu_second_moment(sigma), f"relu_second_moment({sigma:g})")
        assert abs(got2 - want2) <= 1e-12 * want2, (
            f"relu_second_moment({sigma:g}) = E[ReLU(z)^2] for z ~ N(0, {sigma:g}^2): expected sigma^2/2 = {want2:.6g}, "
            f"got {got2:.6g}." + _looks_like(got2, {"sigma/2, treating sigma as the variance": sigma / 2,
                                                    "the variance, not the second moment": sigma ** 2 * (0.5 - 0.5 / np.pi)}))
        want = sigma ** 2 * (0.5 - 0.5 / np.pi)
        got = _number(relu_variance(sigma), f"relu_variance({sigma:g})")
        assert abs(got - want) <= 1e-12 * want, (
            f"relu_variance({sigma:g}) = Var[ReLU(z)] for z ~ N(0, {sigma:g}^2): expected sigma^2 (1/2 - 1/(2 pi)) = "
            f"{want:.6g}, got {got:.6g}." + _looks_like(got, _relu_moment_mistakes(sigma)))


@check("q6", points=1, hint="draw x first, then one W per layer, all from the same torch.Generator, in float64")
def propagate_matches_reference(propagate):
    for depth, width, batch, scale, seed in [(3, 5, 4, 2.0, 0), (6, 16, 8, 1.0, 7)]:
        want = _propagate_reference(depth, width, batch, scale, seed)
        got = _answered(propagate(depth, width, batch, scale, seed), "propagate")
        _close(got, want, 1e-10, f"propagate(depth={depth}, width={width}, batch={batch}, scale={scale:g}, "
               f"seed={seed}) (entry 0 is the input's E[x^2], entry l the mean of h_l^2)",
               {"the input's second moment left out (expected depth + 1 entries)": want[1:],
                "h @ W instead of h @ W.T (the same draws used transposed)":
                    np.full(want.shape, np.nan)})


@check("q6", points=1)
def he_keeps_the_signal_and_one_over_n_halves_it(propagate):
    logs = {}
    for scale, seeds in ((2.0, 20), (1.0, 20)):
        ratios = []
        for seed in range(seeds):
            out = _array(propagate(30, 64, 16, scale, seed), f"propagate(30, 64, 16, {scale:g}, {seed})", (31,))
            assert out[1] > 0, f"propagate(30, 64, 16, {scale:g}, {seed}): the first layer's E[h^2] is {out[1]:g}"
            ratios.append(out[30] / out[1])
        logs[scale] = float(np.mean(np.log2(ratios)))
    assert -2 <= logs[2.0] <= 1, (
        f"with He's variance 2/n, 29 layers should roughly keep E[h^2]: the geometric mean of E[h_30^2]/E[h_1^2] over "
        f"20 seeds is 2^{logs[2.0]:.1f}, expected between 2^-2 and 2^1")
    assert -31 <= logs[1.0] <= -28, (
        f"with variance 1/n each ReLU layer halves E[h^2], so E[h_30^2]/E[h_1^2] should be near 2^-29; its geometric "
        f"mean over 20 seeds is 2^{logs[1.0]:.1f}")


# --------------------------------------------------------------------------- q7: associative memory
@check("q7", points=1.5, hint="We appears twice (h1 = We x and s = We^T h2): dJ/dWe = (Wa^T We e) x^T + h2 e^T, "
                              "and dJ/dWa = (We e) h1^T, with e = y - p")
def tied_gradients_match_autograd(tied_assoc_grads):
    rng = np.random.default_rng(701)
    for i, (d, V) in enumerate([(4, 7), (6, 3), (5, 12)]):
        We, Wa = rng.standard_normal((d, V)), rng.standard_normal((d, d)) / np.sqrt(d)
        x_idx, y_idx = int(rng.integers(V)), int(rng.integers(V))
        _check_tied(tied_assoc_grads, We, Wa, x_idx, y_idx,
                    f"tied_assoc_grads(We, Wa, x_idx={x_idx}, y_idx={y_idx}) with d={d}, V={V}")


@check("q7", points=0.5)
def tied_gradient_shapes(tied_assoc_grads):
    rng = np.random.default_rng(702)
    d, V = 3, 10
    We, Wa = rng.standard_normal((d, V)), rng.standard_normal((d, d))
    out = _answered(tied_assoc_grads(We.copy(), Wa.copy(), 4, 9), "tied_assoc_grads")
    try:
        gE, gA = out
    except (TypeError, ValueError):
        raise AssertionError(f"tied_assoc_grads: expected the pair (dWe, dWa), got {type(out).__name__}") from None
    _array(gE, "dWe (the gradient has the shape of We: d x V)", (d, V))
    _array(gA, "dWa (the gradient has the shape of Wa: d x d)", (d, d))


@check("q7", points=1, hint="W = B A^+ (np.linalg.pinv): for linearly independent keys W A = B exactly")
def pinv_memory_recalls_exactly(pinv_memory):
    rng = np.random.default_rng(703)
    d, n, dv = 16, 10, 5
    A, B = _keys(rng, d, n), rng.standard_normal((dv, n))
    W = _check_pinv_memory(pinv_memory, A, B, "pinv_memory(A, B)")
    err = np.abs(W @ A - B).max()
    assert err <= 1e-10 * np.abs(B).max(), f"W A should equal B for {n} <= d = {d} independent keys; largest error {err:.3g}"


@check("q7", points=0.5)
def pinv_memory_overloaded_is_least_squares(pinv_memory):
    rng = np.random.default_rng(704)
    d, n, dv = 8, 30, 3
    A, B = _keys(rng, d, n), rng.standard_normal((dv, n))
    W = _check_pinv_memory(pinv_memory, A, B, f"pinv_memory(A, B) with n = {n} > d = {d}")
    resid = np.linalg.lstsq(A.T, B.T)[0]
    best = np.linalg.norm(A.T @ resid - B.T)
    mine = np.linalg.norm(W @ A - B)
    assert abs(mine - best) <= 1e-8 * best, (
        f"with more pairs than dimensions no W recalls them all; B A^+ is the least-squares memory with error "
        f"||W A - B|| = {best:.6g} (np.linalg.lstsq), yours has {mine:.6g}")


# --------------------------------------------------------------------------- q8: RMSNorm and dropout
@check("q8", points=1, hint="divide each row by sqrt(mean(h**2 over the last axis) + eps)")
def rms_norm_matches_torch(rms_norm):
    rng = np.random.default_rng(801)
    h = rng.normal(0.5, 2.0, (5, 8))
    for eps in (0.0, 1e-3, 10.0):
        _close(rms_norm(h.copy(), eps), _torch_rms_norm(h, eps), 1e-12,
               f"rms_norm(h, eps={eps:g}) for h of shape (5, 8) (compared with torch.nn.RMSNorm(8, eps={eps:g}, "
               f"elementwise_affine=False))", _rms_mistakes(h, eps))


@check("q8", points=0.5)
def rms_norm_sphere_and_sign(rms_norm):
    rng = np.random.default_rng(802)
    d = 6
    h = rng.standard_normal((3, d))
    out = _array(rms_norm(h.copy(), 0.0), "rms_norm(h, 0)", h.shape)
    radius = np.linalg.norm(out, axis=-1)
    assert np.allclose(radius, np.sqrt(d), rtol=1e-12), (
        f"with eps = 0 every output row should lie on the sphere of radius sqrt(d) = {np.sqrt(d):.6f}; the row norms "
        f"are {np.array2string(radius, precision=6)}")
    _close(rms_norm(2.5 * h, 0.0), out, 1e-12, "rms_norm(2.5 h) (a positive scale does not change the output)")
    _close(rms_norm(-3.0 * h, 0.0), -out, 1e-12, "rms_norm(-3 h): scale invariance holds only for positive factors; "
           "a negative one flips the output", {"rms_norm(h): the sign is lost": out})


@check("q8", points=1, hint="J = (sqrt(d) / ||h||) (I - u u^T) with u = h / ||h||")
def rms_jacobian_matches_autograd(rms_jacobian):
    rng = np.random.default_rng(803)
    for d in (4, 7):
        h = rng.standard_normal(d) * 1.7
        want = _torch_rms_jacobian(h)
        got = rms_jacobian(h.copy())
        _close(got, want, 1e-10, f"rms_jacobian(h) for d = {d} (compared with torch.autograd.functional.jacobian)",
               _jacobian_mistakes(h))
        J = _array(got, "rms_jacobian(h)", (d, d))
        norm = np.linalg.norm(J, 2)
        assert abs(norm - np.sqrt(d) / np.linalg.norm(h)) <= 1e-10 * norm, (
            f"the spectral norm of the Jacobian should be sqrt(d)/||h|| = {np.sqrt(d) / np.linalg.norm(h):.6g} (it "
            f"grows without bound as h -> 0 when eps = 0); got {norm:.6g}")


@check("q8", points=0.5, hint="during training, out = mask * h / (1 - rho); 1 in the mask keeps a unit")
def dropout_with_a_given_mask(inverted_dropout):
    gen = torch.Generator().manual_seed(804)
    h = torch.randn(4, 6, generator=gen, dtype=F64)
    for rho in (0.5, 0.2):
        keep = torch.bernoulli(torch.full((4, 6), 1 - rho, dtype=F64), generator=gen)
        _check_dropout_mask(inverted_dropout, h, rho, keep, f"inverted_dropout(h, rho={rho}, mask, train=True)")


@check("q8", points=0.5, hint="draw the mask with torch.empty_like(h).bernoulli_(1 - rho), the call nn.Dropout makes")
def dropout_matches_torch_dropout(inverted_dropout):
    h = torch.randn(5, 7, generator=torch.Generator().manual_seed(805), dtype=F64)
    for rho, seed in [(0.5, 1), (0.3, 2)]:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            want = torch.nn.Dropout(rho).train()(h.clone()).numpy()
            torch.manual_seed(seed)
            got = _answered(inverted_dropout(h.clone(), rho, None, True), f"inverted_dropout(h, rho={rho})")
        got = _array(got, f"inverted_dropout(h, rho={rho})", want.shape)
        kept_t, kept_s = want != 0, got != 0
        assert np.array_equal(kept_t, kept_s), (
            f"inverted_dropout(h, rho={rho}) after torch.manual_seed({seed}) keeps {int(kept_s.sum())} of {h.numel()} "
            f"units, torch.nn.Dropout({rho}) keeps {int(kept_t.sum())} and they differ in "
            f"{int((kept_t != kept_s).sum())} places: draw the mask with torch.empty_like(h).bernoulli_(1 - rho)")
        _close(got, want, 1e-12, f"inverted_dropout(h, rho={rho}) compared with torch.nn.Dropout({rho}) in train mode",
               {"the book's training rule without the 1/(1 - rho) factor": want * (1 - rho)})


@check("q8", points=0.5)
def dropout_is_the_identity_at_test_time(inverted_dropout):
    h = torch.randn(3, 5, generator=torch.Generator().manual_seed(806), dtype=F64)
    for rho in (0.5, 0.1):
        with torch.random.fork_rng(devices=[]):
            got = _answered(inverted_dropout(h.clone(), rho, None, False), f"inverted_dropout(h, rho={rho}, train=False)")
        _close(got, h.numpy(), 1e-15, f"inverted_dropout(h, rho={rho}, train=False) (inverted dropout already rescaled "
               f"during training, so evaluation uses the network as it is)",
               {"the book's test-time rule (1 - rho) h, which belongs with unscaled training masks": (1 - rho) * h.numpy()})


# --------------------------------------------------------------------------- q9 (optional): matrix factorisation by ALS
def _ratings(seed: int, n_users: int, n_items: int, k: int, frac: float, noise: float = 0.1):
    """A noisy rank-k rating matrix and a random mask of observed entries (every user and item rated at least twice)."""
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((n_users, k)) @ rng.standard_normal((k, n_items)) + noise * rng.standard_normal((n_users, n_items))
    mask = rng.random((n_users, n_items)) < frac
    for i in range(n_users):
        mask[i, rng.choice(n_items, 2, replace=False)] = True
    for j in range(n_items):
        mask[rng.choice(n_users, 2, replace=False), j] = True
    return R, mask, rng.standard_normal((n_items, k))


def _user_ridge(R, mask, B, lam) -> np.ndarray:
    """Row i: argmin_a 1/2 sum over observed j of (r_ij - a . b_j)^2 + lam/2 ||a||^2, by np.linalg.solve."""
    k = B.shape[1]
    A = np.zeros((R.shape[0], k))
    for i in range(R.shape[0]):
        Bi, ri = B[mask[i]], R[i, mask[i]]
        A[i] = np.linalg.solve(Bi.T @ Bi + lam * np.eye(k), Bi.T @ ri)
    return A


def _als_mistakes(R, mask, B, lam) -> dict:
    k = B.shape[1]
    filled = np.where(mask, R, 0.0)
    return {"the unobserved entries treated as zero ratings (use only the observed j of each user)":
                np.linalg.solve(B.T @ B + lam * np.eye(k), B.T @ filled.T).T,
            "the ridge term 2 lam I (the objective has lam/2 ||a||^2, whose gradient is lam a)":
                _user_ridge(R, mask, B, 2 * lam),
            "no ridge term": _user_ridge(R, mask, B, 0.0) if lam > 0 else np.full((R.shape[0], k), np.nan)}


def _eckart_young(R, k) -> float:
    s = np.linalg.svd(R, compute_uv=False)
    return float(np.sqrt(np.sum(s[k:] ** 2)))


@check("q9", points=1.5, hint="for each user i: a_i = solve(B_i^T B_i + lam I, B_i^T r_i), B_i the rows of B for the "
                              "items user i rated")
def als_half_step_is_per_user_ridge(als_update_users):
    R, mask, B = _ratings(901, 12, 9, 3, 0.4)
    for lam in (0.5, 0.0):
        want = _user_ridge(R, mask, B, lam)
        got = als_update_users(R.copy(), mask.copy(), B.copy(), lam)
        _close(got, want, 1e-10, f"als_update_users(R, mask, B, lam={lam:g}) for 12 users, 9 items, k = 3 (compared "
               f"with one np.linalg.solve per user)", _als_mistakes(R, mask, B, lam))


@check("q9", points=0.5)
def als_half_step_ignores_unobserved_entries(als_update_users):
    R, mask, B = _ratings(902, 8, 10, 2, 0.5)
    base = _array(als_update_users(R.copy(), mask.copy(), B.copy(), 0.3), "als_update_users(R, mask, B, 0.3)", (8, 2))
    junk = np.where(mask, R, 1e3)  # change only the unobserved entries
    _close(als_update_users(junk, mask.copy(), B.copy(), 0.3), base, 1e-10,
           "als_update_users after changing only the unobserved entries of R (they must not matter)")


@check("q9", points=1, hint="alternate A = als_update_users(R, mask, B, lam) and B = als_update_users(R.T, mask.T, A, lam)")
def als_on_a_full_matrix_reaches_eckart_young(als):
    R, _, _ = _ratings(903, 15, 11, 3, 1.0)
    mask = np.ones_like(R, dtype=bool)
    out = _answered(als(R.copy(), mask, 3, 0.0, 50, 0), "als(R, mask, k=3, lam=0, iters=50, seed=0)")
    try:
        A, B = out
    except (TypeError, ValueError):
        raise AssertionError("als(...) should return the pair (A, B)") from None
    A, B = _array(A, "A", (15, 3)), _array(B, "B", (11, 3))
    best, mine = _eckart_young(R, 3), float(np.linalg.norm(R - A @ B.T))
    assert abs(mine - best) <= 1e-6 * best, (
        f"on a fully observed 15 x 11 matrix with lam = 0, 50 ALS rounds should reach the best rank-3 error "
        f"||R - A B^T|| = {best:.8g} (Eckart-Young: the root sum of the squared singular values after the third); "
        f"yours is {mine:.8g}")
