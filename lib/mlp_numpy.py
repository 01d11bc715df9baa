"""A multi-layer perceptron in plain numpy: forward pass, backpropagation and a finite-difference check.

The transparent reference for what ``torch.autograd`` does. Batch-first: a batch is a matrix ``X``
(B, d_0) whose rows are examples; layer l has ``W_l`` (d_l, d_{l-1}) and ``b_l`` (d_l,)::

    forward:   H_0 = X,   S_l = H_{l-1} W_l^T + b_l,   H_l = phi(S_l)  (l < L),   S = S_L
    backward:  Delta_L = dJ/dS                                         (B, d_L), given
               dJ/dW_l = Delta_l^T H_{l-1}      (d_l, d_{l-1}): the sum over the batch of the
                                                 outer products  delta_i h_i^T  (eq. dJ/dW = delta h^T)
               dJ/db_l = sum_i Delta_l[i]        (d_l,)
               dJ/dH_{l-1} = Delta_l W_l         (B, d_{l-1}): the row form of  W^T delta
               Delta_{l-1} = dJ/dH_{l-1} * phi'(S_{l-1})   (elementwise)

Shape rule: every gradient has the shape of what it differentiates, which fixes where the
transposes go. With ReLU, ``phi'(z) = 1[z > 0]`` (0 at z = 0, as torch). Everything is float64.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .logistic import log1pexp, sigmoid

SCHEMES = ("he", "xavier", "normal", "zero", "torch_default")
ACTS = ("relu", "tanh", "identity")

Params = list  # list[tuple[np.ndarray, np.ndarray]]: [(W_1, b_1), ..., (W_L, b_L)]


# --------------------------------------------------------------------------- input checks
def _matrix(name: str, a, ndim: int = 2) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise TypeError(f"{name}: expected a numeric array, got dtype {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {a.shape}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return a


def _check_params(params) -> list[tuple[np.ndarray, np.ndarray]]:
    if not isinstance(params, (list, tuple)) or len(params) == 0:
        raise TypeError("params: expected a non-empty list of (W, b) pairs")
    out = []
    for l, pair in enumerate(params, start=1):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"params[{l - 1}]: expected a pair (W, b)")
        W, b = _matrix(f"W_{l}", pair[0], 2), _matrix(f"b_{l}", pair[1], 1)
        if b.shape[0] != W.shape[0]:
            raise ValueError(f"b_{l}: expected shape ({W.shape[0]},) to match W_{l} {W.shape}, got {b.shape}")
        if out and W.shape[1] != out[-1][0].shape[0]:
            raise ValueError(f"W_{l}: expected {out[-1][0].shape[0]} columns (the width of layer {l - 1}), "
                             f"got shape {W.shape}")
        out.append((W, b))
    return out


def _act(act: str):
    if act not in ACTS:
        raise ValueError(f"act: expected one of {', '.join(map(repr, ACTS))}, got {act!r}")
    if act == "relu":
        return (lambda z: np.maximum(z, 0.0)), (lambda z: (z > 0).astype(np.float64))
    if act == "tanh":
        return np.tanh, (lambda z: 1.0 - np.tanh(z) ** 2)
    return (lambda z: z), (lambda z: np.ones_like(z))


# --------------------------------------------------------------------------- parameters
def init_mlp(sizes, scheme: str = "he", sigma: float | None = None, seed: int = 0) -> Params:
    """Parameters ``[(W_1, b_1), ..., (W_L, b_L)]`` for widths ``sizes = [d_0, ..., d_L]``.

    Weights: "he" N(0, 2/d_in); "xavier" N(0, 2/(d_in + d_out)); "normal" N(0, sigma^2) (needs ``sigma``);
    "zero" all zeros; "torch_default" U[-1/sqrt(d_in), 1/sqrt(d_in)] (biases too). Other biases are 0.
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
        raise ValueError(f"sizes: expected at least two layer widths like [2, 8, 1], got {sizes!r}")
    for i, d in enumerate(sizes):
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise ValueError(f"sizes[{i}]: expected a positive integer, got {d!r}")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme: expected one of {', '.join(map(repr, SCHEMES))}, got {scheme!r}")
    if scheme == "normal" and (sigma is None or not np.isscalar(sigma) or not sigma > 0):
        raise ValueError(f"sigma: scheme='normal' needs a positive standard deviation, got {sigma!r}")
    rng = np.random.default_rng(seed)
    params = []
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        b = np.zeros(d_out)
        if scheme == "torch_default":
            bound = 1 / np.sqrt(d_in)
            W = rng.uniform(-bound, bound, size=(d_out, d_in))
            b = rng.uniform(-bound, bound, size=d_out)
        elif scheme == "zero":
            W = np.zeros((d_out, d_in))
        else:
            std = {"he": np.sqrt(2 / d_in), "xavier": np.sqrt(2 / (d_in + d_out)), "normal": sigma}[scheme]
            W = rng.normal(0.0, std, size=(d_out, d_in))
        params.append((W, b))
    return params


def n_params(params) -> int:
    """Total number of weights and biases."""
    return sum(W.size + b.size for W, b in _check_params(params))


# --------------------------------------------------------------------------- forward and backward
def forward(params, X, act: str = "relu") -> tuple[np.ndarray, dict]:
    """Scores ``S`` (B, d_L) of the batch ``X`` (B, d_0), and the cache that :func:`backward` needs
    (inputs ``H_0..H_{L-1}`` and pre-activations ``S_1..S_{L-1}`` of every layer)."""
    params = _check_params(params)
    phi, _ = _act(act)
    X = _matrix("X", X)
    if X.shape[1] != params[0][0].shape[1]:
        raise ValueError(f"X: expected {params[0][0].shape[1]} columns (the input width), got shape {X.shape}")
    H, pre = [X], []
    h = X
    for l, (W, b) in enumerate(params, start=1):
        s = h @ W.T + b
        if l < len(params):
            pre.append(s)
            h = phi(s)
            H.append(h)
    return s, {"H": H, "S": pre, "act": act}


def backward(params, cache: dict, dJ_ds) -> Params:
    """Gradients ``[(dJ/dW_l, dJ/db_l)]`` given ``dJ/dS`` (B, d_L) at the output, by the rules above.

    ``J`` is whatever scalar ``dJ_ds`` came from (a log-likelihood summed over the batch, a mean loss...);
    each gradient has the shape of its parameter.
    """
    params = _check_params(params)
    if not isinstance(cache, dict) or not {"H", "S", "act"} <= set(cache):
        raise TypeError("cache: expected the dict returned by forward")
    _, dphi = _act(cache["act"])
    delta = _matrix("dJ_ds", dJ_ds)
    B = cache["H"][0].shape[0]
    if delta.shape != (B, params[-1][0].shape[0]):
        raise ValueError(f"dJ_ds: expected shape {(B, params[-1][0].shape[0])} (batch, output width), "
                         f"got {delta.shape}")
    grads = [None] * len(params)
    for l in range(len(params), 0, -1):
        W, _ = params[l - 1]
        grads[l - 1] = (delta.T @ cache["H"][l - 1], delta.sum(axis=0))
        if l > 1:
            delta = (delta @ W) * dphi(cache["S"][l - 2])
    return grads


def numerical_grad(f: Callable[[Params], float], params, eps: float = 1e-6) -> Params:
    """Central differences ``(f(theta + eps e_k) - f(theta - eps e_k)) / (2 eps)`` for every entry of
    every ``W_l`` and ``b_l``; ``f`` maps a parameter list to a float. Error O(eps^2)."""
    if not callable(f):
        raise TypeError(f"f: expected a callable params -> float, got {type(f).__name__}")
    if not np.isscalar(eps) or not eps > 0:
        raise ValueError(f"eps: expected a positive step, got {eps!r}")
    params = [(W.copy(), b.copy()) for W, b in _check_params(params)]
    grads = []
    for W, b in params:
        pair = []
        for arr in (W, b):
            g = np.zeros_like(arr)
            for k in np.ndindex(arr.shape):
                old = arr[k]
                arr[k] = old + eps
                up = f(params)
                arr[k] = old - eps
                down = f(params)
                arr[k] = old
                g[k] = (up - down) / (2 * eps)
            pair.append(g)
        grads.append(tuple(pair))
    return grads


# --------------------------------------------------------------------------- one hidden layer, by hand
def one_hidden_layer_grads(x, y, W1, b1, w2, b2, kind: str = "gaussian") -> dict:
    """The chain rule for one example through ``z = W1 x + b1``, ``h = ReLU(z)``, ``s = w2 . h + b2``.

    ``x`` (d,), ``W1`` (K, d), ``b1`` (K,), ``w2`` (K,), ``b2`` and ``y`` scalars. ``kind`` is the
    output model: "gaussian" (unit variance, ``J = -(y - s)^2/2 + const``) or "bernoulli"
    (``J = y s - log(1 + e^s)``). Then, with the error ``e = dJ/ds``::

        e = y - s  or  y - sigmoid(s)
        dJ/dw2_k = e h_k,   dJ/db2 = e
        delta_k = dJ/dh_k = e w2_k
        dJ/dW1_kj = delta_k 1[z_k > 0] x_j,   dJ/db1_k = delta_k 1[z_k > 0]

    Returns a dict with ``J`` (without the Gaussian constant), ``s``, ``e``, ``z``, ``h``, ``delta`` and
    the gradients ``W1``, ``b1``, ``w2``, ``b2`` (each the shape of its parameter).
    """
    if kind not in ("gaussian", "bernoulli"):
        raise ValueError(f"kind: expected 'gaussian' or 'bernoulli', got {kind!r}")
    x, W1 = _matrix("x", x, 1), _matrix("W1", W1, 2)
    b1, w2 = _matrix("b1", b1, 1), _matrix("w2", w2, 1)
    K, d = W1.shape
    if x.shape != (d,) or b1.shape != (K,) or w2.shape != (K,):
        raise ValueError(f"x, b1, w2: expected shapes ({d},), ({K},), ({K},) to match W1 {W1.shape}, "
                         f"got {x.shape}, {b1.shape}, {w2.shape}")
    b2, y = float(_matrix("b2", b2, 0)), float(_matrix("y", y, 0))
    if kind == "bernoulli" and y not in (0.0, 1.0):
        raise ValueError(f"y: expected 0 or 1 for kind='bernoulli', got {y!r}")
    z = W1 @ x + b1
    h = np.maximum(z, 0.0)
    s = float(w2 @ h + b2)
    if kind == "gaussian":
        J, e = -0.5 * (y - s) ** 2, y - s
    else:
        J, e = y * s - float(log1pexp(s)), y - float(sigmoid(s))
    delta = e * w2
    gate = (z > 0).astype(np.float64)
    return {"J": J, "s": s, "e": e, "z": z, "h": h, "delta": delta,
            "W1": np.outer(delta * gate, x), "b1": delta * gate, "w2": e * h, "b2": e}
