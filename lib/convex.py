"""Convex combinations, the chord test for convex functions, and averages over time.

A convex combination of points P_1..P_k is x = sum_i alpha_i P_i with alpha_i >= 0 and sum alpha_i = 1;
it always lies in the convex hull of the points. Dropping alpha_i >= 0 (keeping the sum) gives an affine
combination, which can leave the hull. A function f is convex when every chord lies on or above its
graph: the chord gap (1 - r) f(a) + r f(b) - f((1 - r) a + r b) is >= 0 for all a, b and r in [0, 1].

The same weighted-average formula is everywhere in training: the momentum buffer and Adam's moments
(exponential moving averages of gradients), Polyak-Ruppert averaging of iterates (a uniform average),
soft target-network updates, and the straight line between two parameter vectors along which we
probe a loss. The last part of this module trains a small ReLU network on two moons to make that probe
on a non-convex loss.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import ConvexHull

# relative tolerance for "the chord is below the graph": gaps below -TOL * (1 + |f(a)| + |f(b)|) count
TOL = 1e-12


def _as_float_array(name: str, value, ndim: int | None = None) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite numbers, got NaN or inf")
    return arr


def _check_t(t) -> int:
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 1:
        raise ValueError(f"t: expected an integer >= 1, got {t!r}")
    return int(t)


def _check_beta(name: str, beta) -> float:
    if not np.isscalar(beta) or not 0.0 <= float(beta) < 1.0:
        raise ValueError(f"{name}: expected a number in [0, 1), got {beta!r}")
    return float(beta)


# --------------------------------------------------------------------------- combinations and hulls
def convex_combination(points, weights, affine: bool = False) -> np.ndarray:
    """x = sum_i weights[i] * points[i]: points (k, d), weights (k,) -> x (d,).

    The weights must sum to 1 (within 1e-9) and, unless ``affine`` is true, be non-negative; then x lies
    in the convex hull of the points. With ``affine=True`` negative weights are allowed and x can be
    anywhere on the affine span of the points (for k = 2: the whole line through them).
    """
    P = _as_float_array("points", points, ndim=2)
    w = _as_float_array("weights", weights, ndim=1)
    if w.shape[0] != P.shape[0]:
        raise ValueError(f"weights: expected one weight per point, shape ({P.shape[0]},), got {w.shape}")
    if abs(w.sum() - 1.0) > 1e-9:
        raise ValueError(f"weights: expected weights that sum to 1, got sum {w.sum():.6g}")
    if not affine and np.any(w < 0):
        raise ValueError(f"weights: a convex combination needs weights >= 0, got min {w.min():.6g} "
                         "(pass affine=True for an affine combination)")
    return w @ P


def softmax_weights(logits) -> np.ndarray:
    """alpha_i = exp(z_i) / sum_j exp(z_j) for a 1-D array of logits z (k,): always convex weights."""
    z = _as_float_array("logits", logits, ndim=1)
    if z.size == 0:
        raise ValueError("logits: expected at least one logit, got an empty array")
    e = np.exp(z - z.max())
    return e / e.sum()


def convex_hull_2d(points) -> np.ndarray:
    """Vertices (m, 2) of the convex hull of points (k, 2), counter-clockwise (scipy's Qhull).

    Degenerate inputs are handled: one distinct point gives (1, 2); collinear points give their two
    extreme points (the hull is a segment).
    """
    P = _as_float_array("points", points, ndim=2)
    if P.shape[1] != 2 or P.shape[0] == 0:
        raise ValueError(f"points: expected an array of shape (k, 2) with k >= 1, got {P.shape}")
    centred = P - P.mean(axis=0)
    if not np.any(centred):
        return P[:1].copy()
    _, sv, vt = np.linalg.svd(centred, full_matrices=False)
    if P.shape[0] < 3 or sv[1] <= 1e-10 * sv[0]:  # collinear: the hull is the segment between extremes
        s = centred @ vt[0]
        return P[[np.argmin(s), np.argmax(s)]].copy()
    return P[ConvexHull(P).vertices]


# --------------------------------------------------------------------------- convex functions
def chord_gap(f, a, b, r):
    """(1 - r) f(a) + r f(b) - f((1 - r) a + r b), broadcast over arrays a, b, r.

    f must act elementwise on numpy arrays. For a convex f the gap is >= 0 whenever r is in [0, 1];
    a negative gap is a point where the chord from (a, f(a)) to (b, f(b)) dips below the graph.
    """
    if not callable(f):
        raise TypeError(f"f: expected a callable acting elementwise on arrays, got {type(f).__name__}")
    a, b, r = (_as_float_array(name, v) for name, v in (("a", a), ("b", b), ("r", r)))
    gap = (1 - r) * f(a) + r * f(b) - f((1 - r) * a + r * b)
    return gap.item() if np.ndim(gap) == 0 else gap


def convexity_violations(f, a: float, b: float, n: int = 201) -> np.ndarray:
    """The r in linspace(0, 1, n) where the chord from a to b lies below f (gap < -1e-12, relative).

    An empty result says this one chord passes; a convex f passes for every a, b.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: expected an integer >= 2, got {n!r}")
    if not (np.isscalar(a) and np.isscalar(b)):
        raise ValueError(f"a, b: expected two numbers, got {a!r} and {b!r}")
    rs = np.linspace(0.0, 1.0, n)
    gap = chord_gap(f, a, b, rs)
    return rs[gap < -TOL * (1 + abs(f(np.float64(a))) + abs(f(np.float64(b))))]


def interpolate(theta_a, theta_b, r: float):
    """(1 - r) theta_a + r theta_b for two arrays of one shape, or two dicts of such arrays (by key).

    r in [0, 1] gives a convex combination (a point on the segment); other r extrapolate along the line.
    """
    if isinstance(theta_a, dict) != isinstance(theta_b, dict):
        raise TypeError("theta_a, theta_b: expected two arrays or two dicts of arrays")
    if not np.isscalar(r) or not np.isfinite(r):
        raise ValueError(f"r: expected a finite number, got {r!r}")
    if not isinstance(theta_a, dict):
        return interpolate({"theta": theta_a}, {"theta": theta_b}, r)["theta"]
    if theta_a.keys() != theta_b.keys():
        raise ValueError(f"theta_b: expected the keys {sorted(theta_a)}, got {sorted(theta_b)}")
    out = {}
    for k in theta_a:
        a, b = np.asarray(theta_a[k], dtype=float), np.asarray(theta_b[k], dtype=float)
        if a.shape != b.shape:
            raise ValueError(f"theta_b: expected shape {a.shape} like theta_a for {k!r}, got {b.shape}")
        out[k] = (1 - r) * a + r * b
    return out


def loss_along_segment(loss_fn, theta_a, theta_b, rs) -> np.ndarray:
    """L((1 - r) theta_a + r theta_b) for each r in rs (m,) -> (m,).

    theta_a, theta_b are arrays of one shape, or dicts of arrays with the same keys and shapes
    (e.g. the weights of a network, layer by layer). For a convex L the curve lies below its chord.
    """
    if not callable(loss_fn):
        raise TypeError(f"loss_fn: expected a callable, got {type(loss_fn).__name__}")
    rs = _as_float_array("rs", rs, ndim=1)
    return np.array([loss_fn(interpolate(theta_a, theta_b, r)) for r in rs], dtype=float)


# --------------------------------------------------------------------------- averages over time
def ema_weights(beta: float, t: int, normalized: bool = True) -> np.ndarray:
    """Weights (t,) that m_t puts on g_t, g_{t-1}, ..., g_1 (lag i = 0..t-1), starting from m_0 = 0.

    normalized=True:  m_t = beta m_{t-1} + (1 - beta) g_t, weights (1 - beta) beta^i, summing to
                      1 - beta^t (so Adam divides by 1 - beta^t to remove the bias toward 0);
    normalized=False: m_t = beta m_{t-1} + g_t, weights beta^i, summing to (1 - beta^t) / (1 - beta).
    """
    beta, t = _check_beta("beta", beta), _check_t(t)
    w = beta ** np.arange(t, dtype=float)
    return (1 - beta) * w if normalized else w


def heavy_ball_weights(gamma: float, t: int) -> np.ndarray:
    """Weights gamma^i (t,) of past gradients in heavy-ball momentum v_t = gamma v_{t-1} + g_t, lag i.

    The same buffer as ``ema_weights(gamma, t, normalized=False)``: it is (1 - gamma)^-1 times the
    normalised EMA, so the two forms of momentum differ only by a rescaled learning rate.
    """
    return ema_weights(_check_beta("gamma", gamma), t, normalized=False)


def uniform_average_weights(t: int) -> np.ndarray:
    """Weights 1/t (t,) of the Polyak-Ruppert average of t iterates.

    Recursively it is a convex combination with a shrinking step: xbar_t = (1 - 1/t) xbar_{t-1} + x_t / t.
    """
    t = _check_t(t)
    return np.full(t, 1.0 / t)


# --------------------------------------------------------------------------- a non-convex loss: ReLU MLP
def _depth(params) -> int:
    depth = len(params) // 2 if isinstance(params, dict) else 0
    if depth < 1 or set(params) != {f"{p}{l}" for l in range(1, depth + 1) for p in "Wb"}:
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params: expected a dict with keys W1, b1, ..., WL, bL, got {got}")
    return depth


def mlp_logits(params: dict, X) -> np.ndarray:
    """Logits (n,) of a ReLU network on X (n, d), float64.

    params holds W1, b1, ..., WL, bL with W_l of shape (out, in) (torch's Linear layout):
    h_0 = X, h_l = relu(h_{l-1} W_l^T + b_l) for l < L, logits = h_{L-1} W_L^T + b_L.
    """
    depth = _depth(params)
    X = _as_float_array("X", X, ndim=2)
    if X.shape[1] != np.shape(params["W1"])[1]:
        raise ValueError(f"X: expected {np.shape(params['W1'])[1]} columns (the input size of W1), got {X.shape}")
    h = X
    for l in range(1, depth + 1):
        h = h @ np.asarray(params[f"W{l}"], dtype=float).T + params[f"b{l}"]
        if l < depth:
            h = np.maximum(h, 0.0)
    return h[:, 0]


def mean_bce(logits, y) -> float:
    """Mean binary cross-entropy (negative log-likelihood) from logits s and labels y in {0, 1}:
    mean(log(1 + e^s) - y s), computed stably."""
    s, y = np.asarray(logits, dtype=float), np.asarray(y, dtype=float)
    if s.shape != y.shape:
        raise ValueError(f"y: expected the shape of logits {s.shape}, got {y.shape}")
    return float(np.mean(np.logaddexp(0.0, s) - y * s))


def train_mlp(X, y, hidden=(64, 64), seed: int = 0, steps: int = 400, lr: float = 0.02,
              device="cpu") -> dict:
    """Train a ReLU MLP d-hidden-1 on (X (n, d), y (n,) in {0, 1}) by full-batch Adam on the mean BCE.

    float32 on ``device``; ``seed`` fixes the initialisation. Returns the float64 numpy parameters
    {W1, b1, ..., WL, bL} for ``mlp_logits``.
    """
    X = _as_float_array("X", X, ndim=2)
    y = _as_float_array("y", y, ndim=1)
    if y.shape[0] != X.shape[0] or not np.all((y == 0) | (y == 1)):
        raise ValueError(f"y: expected {X.shape[0]} labels in {{0, 1}}, got shape {y.shape}")
    torch.manual_seed(seed)
    sizes = [X.shape[1], *hidden, 1]
    layers = [torch.nn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:])]
    net = torch.nn.Sequential(*[m for lin in layers for m in (lin, torch.nn.ReLU())][:-1]).to(device)
    Xt = torch.as_tensor(X, dtype=torch.float32, device=device)
    yt = torch.as_tensor(y, dtype=torch.float32, device=device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net(Xt)[:, 0], yt).backward()
        opt.step()
    out = {}
    for l, lin in enumerate(layers, start=1):
        out[f"W{l}"] = lin.weight.detach().cpu().double().numpy()
        out[f"b{l}"] = lin.bias.detach().cpu().double().numpy()
    return out


def permute_hidden(params: dict, perm) -> dict:
    """Relabel the hidden units of an MLP: same function, different parameter vector.

    perm is a list with one permutation (an index array) per hidden layer. Layer l's rows (W_l, b_l)
    and the next layer's columns are reordered together, so every hidden unit keeps its incoming and
    outgoing weights: mlp_logits(permute_hidden(p, perm), X) == mlp_logits(p, X).
    """
    depth = _depth(params)
    if len(perm) != depth - 1:
        raise ValueError(f"perm: expected {depth - 1} permutations (one per hidden layer), got {len(perm)}")
    out = {k: np.array(v, dtype=float) for k, v in params.items()}
    for l, p in enumerate(perm, start=1):
        p = np.asarray(p)
        width = out[f"b{l}"].shape[0]
        if p.shape != (width,) or not np.array_equal(np.sort(p), np.arange(width)):
            raise ValueError(f"perm[{l - 1}]: expected a permutation of 0..{width - 1}, got shape {p.shape}")
        out[f"W{l}"], out[f"b{l}"] = out[f"W{l}"][p], out[f"b{l}"][p]
        out[f"W{l + 1}"] = out[f"W{l + 1}"][:, p]
    return out
