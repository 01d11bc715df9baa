"""Public checks for the Chapter 9 exercises (``exercises/ch09_trees.ipynb``).

Questions: q1 impurities, their concavity and a split that only Gini notices, q2 the exact 1-D split with prefix
sums, q3 the Newton leaf weight and split gain (the factor of 2 and xgboost's gamma), q4 derivatives of the
squared, logistic and exponential losses, q5 an L2 boosting loop, q6 one AdaBoost round (and a bonus full run),
q7 IRLS for logistic regression, q8 out-of-bag permutation importance.

Every reference is computed here, independently of the course's topic modules (``lib.trees``, ``lib.boosting``,
``lib.adaboost``, ``lib.forest``): closed forms and brute force in numpy, ``scipy.optimize.minimize_scalar``,
``torch.autograd`` in float64, ``sklearn`` (``DecisionTreeRegressor``, ``LogisticRegression``) and ``xgboost``.
Each check calls the student's functions on fresh copies of its inputs; a wrong answer fails with a message that
says what is off and by how much, and names the mistake when it is a known one (the book's own slips among them).
The underscore helpers are shared with ``tests/hidden/ch09_trees.py``.
"""
from __future__ import annotations

import functools
import time
from types import SimpleNamespace

import numpy as np
import torch
from scipy.optimize import minimize_scalar

from lib.grading import check
from lib.grading.answers import (answered as _answered, as_array as _array, as_number as _number, close as _close,
                                 near as _near, unchanged as _unchanged)

F64 = torch.float64


def _pair(value, name: str, n: int = 2) -> tuple:
    _answered(value, name)
    assert isinstance(value, (tuple, list)) and len(value) == n, \
        f"{name}: expected a tuple of {n} values, got {type(value).__name__} {value!r:.80}"
    return tuple(value)


# --------------------------------------------------------------------------- q1: impurities
def _gini(p):
    p = np.asarray(p, dtype=float)
    return 1.0 - float(p @ p)


def _entropy(p):
    p = np.asarray(p, dtype=float)
    q = p[p > 0]
    return float(-(q * np.log2(q)).sum())


def _misclassification(p):
    return 1.0 - float(np.max(p))


IMPURITIES = {"gini": _gini, "entropy": _entropy, "misclassification": _misclassification}
IMPURITY_MISTAKES = {
    "gini": lambda p: {"1 - sum p (the square is missing; that is always 0)": 1 - np.sum(p),
                       "sum p^2 (the purity, not the impurity)": np.sum(np.square(p))},
    "entropy": lambda p: {"the entropy in nats (natural log): use log2": _entropy(p) * np.log(2)},
    "misclassification": lambda p: {"1 - min p (use the largest proportion)": 1 - np.min(p)},
}


def _proportions(rng, k: int) -> np.ndarray:
    p = rng.dirichlet(np.full(k, 0.7))
    return p


def _check_impurity_values(func, kind: str, rng) -> None:
    for k in (2, 3, 4, 5):
        for _ in range(5):
            p = _proportions(rng, k)
            got = _number(func(p.copy()), f"{kind}({np.round(p, 3).tolist()})")
            want = IMPURITIES[kind](p)
            _close(got, want, 1e-12, f"{kind}({np.round(p, 3).tolist()})", IMPURITY_MISTAKES[kind](p))


def _check_endpoints(func, kind: str) -> None:
    peak = {"gini": 0.5, "entropy": 1.0, "misclassification": 0.5}[kind]
    for p, want in (([1.0, 0.0], 0.0), ([0.0, 1.0], 0.0), ([0.5, 0.5], peak), ([0.0, 0.0, 1.0], 0.0)):
        got = _number(func(np.array(p)), f"{kind}({p})")
        assert abs(got - want) <= 1e-12, (f"{kind}({p}) should be {want}, got {got:.6g}"
                                          + (" (0 log 0 must count as 0)" if kind == "entropy" and want == 0 else ""))


def _check_concave(func, kind: str, rng) -> None:
    for k in (2, 3, 5):
        for _ in range(20):
            p, q = _proportions(rng, k), _proportions(rng, k)
            mid = _number(func((p + q) / 2), f"{kind} at a midpoint")
            avg = (_number(func(p), kind) + _number(func(q), kind)) / 2
            assert mid >= avg - 1e-12, (f"{kind} is not concave: at the midpoint of p = {np.round(p, 3).tolist()} and "
                                        f"q = {np.round(q, 3).tolist()} it is {mid:.6g} < the average {avg:.6g}")


def _decrease(y, left, kind: str) -> float:
    """Eq. (9.6): I(R) - |R_L|/|R| I(R_L) - |R_R|/|R| I(R_R), with class proportions over the labels of y."""
    y, left = np.asarray(y), np.asarray(left, dtype=bool)
    classes = np.unique(y)

    def impurity(part):
        return IMPURITIES[kind](np.array([(part == c).mean() for c in classes]))
    n, nl = len(y), left.sum()
    return impurity(y) - nl / n * impurity(y[left]) - (n - nl) / n * impurity(y[~left])


def _check_decrease(impurity_decrease, impurity, kind: str, y, left, name: str) -> None:
    got = _number(impurity_decrease(y.copy(), left.copy(), impurity), name)
    want = _decrease(y, left, kind)
    classes = np.unique(y)
    p = lambda part: np.array([(part == c).mean() for c in classes])  # noqa: E731
    unweighted = IMPURITIES[kind](p(y)) - (IMPURITIES[kind](p(y[left])) + IMPURITIES[kind](p(y[~left]))) / 2
    _near(got, want, 1e-12, name, {"an unweighted average of the children (weight them by |R_L|/|R|, |R_R|/|R|)":
                                    unweighted, "the decrease with the wrong sign": -want})


@check("q1", points=1, hint="gini = 1 - sum p^2; entropy = -sum p log2 p over p > 0; misclassification = 1 - max p")
def impurity_values(gini, entropy, misclassification):
    rng = np.random.default_rng(901)
    for kind, func in (("gini", gini), ("entropy", entropy), ("misclassification", misclassification)):
        _check_impurity_values(func, kind, rng)


@check("q1", points=0.5)
def impurity_endpoints_and_concavity(gini, entropy, misclassification):
    rng = np.random.default_rng(902)
    for kind, func in (("gini", gini), ("entropy", entropy), ("misclassification", misclassification)):
        _check_endpoints(func, kind)
        _check_concave(func, kind, rng)


@check("q1", points=1, hint="weight each child's impurity by its share of the points: |R_L|/|R| and |R_R|/|R|")
def impurity_decrease_weighted(impurity_decrease):
    rng = np.random.default_rng(903)
    for kind, func in IMPURITIES.items():  # the reference impurities, so that this check tests only (9.6)
        for n, k in ((12, 2), (30, 3), (41, 4)):
            y = rng.integers(0, k, n)
            left = rng.random(n) < 0.3
            left[0], left[1] = True, False
            _check_decrease(impurity_decrease, func, kind, y, left,
                            f"impurity_decrease(y, left_mask, {kind}) for n = {n}, {k} classes, {left.sum()} on the left")


def _check_zero_gain_split(zero_gain_split) -> None:
    x, y, s = _pair(zero_gain_split, "zero_gain_split", 3)
    x = _array(x, "zero_gain_split[0] (x)")
    y = _array(y, "zero_gain_split[1] (y)")
    s = _number(s, "zero_gain_split[2] (the threshold)")
    assert x.ndim == 1 and y.shape == x.shape and len(x) >= 2, \
        f"zero_gain_split: x and y should be 1-D arrays of the same length, got shapes {x.shape} and {y.shape}"
    assert set(np.unique(y)) <= {0.0, 1.0} and len(np.unique(y)) == 2, \
        "zero_gain_split: y should hold two classes labelled 0 and 1"
    left = x <= s
    assert 0 < left.sum() < len(x), f"zero_gain_split: the threshold {s} leaves one side empty (x <= s must split x)"
    mis, gin = _decrease(y, left, "misclassification"), _decrease(y, left, "gini")
    assert abs(mis) <= 1e-12, f"zero_gain_split: the misclassification decrease is {mis:.4g}, it should be 0"
    assert gin > 1e-3, (f"zero_gain_split: the Gini decrease is {gin:.4g}; it should be positive (> 1e-3). Keep the "
                        f"same majority class on both sides but make one side purer than the other")


@check("q1", points=1, hint="keep the majority class the same on both sides, with one side purer than the parent")
def zero_misclassification_gain_positive_gini_gain(zero_gain_split):
    _check_zero_gain_split(zero_gain_split)


# --------------------------------------------------------------------------- q2: exact 1-D split
def _midpoints(x) -> np.ndarray:
    u = np.unique(x)
    return (u[:-1] + u[1:]) / 2


def _sse_at(x, y, s) -> float:
    left = x <= s
    a, b = y[left], y[~left]
    return float(((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum())


def _brute_split(x, y):
    """Every midpoint between consecutive distinct values; the smallest summed within-child SSE."""
    m = _midpoints(x)
    sse = np.array([_sse_at(x, y, s) for s in m])
    return m, sse


def _check_split(best_split_1d, x, y, name: str) -> None:
    got = _pair(best_split_1d(x.copy(), y.copy()), name)
    s = _number(got[0], f"{name}: the threshold")
    sse = _number(got[1], f"{name}: the SSE")
    m, all_sse = _brute_split(x, y)
    scale = max(float(((y - y.mean()) ** 2).sum()), 1e-12)
    gap = np.abs(m - s).min()
    if gap > 1e-9 * (1 + abs(s)):
        hint = ""
        if np.isclose(np.abs(x - s).min(), 0, atol=1e-12):
            hint = " It equals a data value: put the threshold halfway between two consecutive distinct values."
        raise AssertionError(f"{name}: the threshold {s:.6g} is not a midpoint between consecutive distinct "
                             f"values of x (nearest midpoint {m[np.abs(m - s).argmin()]:.6g}).{hint}")
    at_s = _sse_at(x, y, s)
    assert abs(sse - at_s) <= 1e-9 * scale, (f"{name}: you report SSE {sse:.10g}, but splitting at x <= {s:.6g} "
                                             f"gives {at_s:.10g}")
    assert at_s <= all_sse.min() + 1e-9 * scale, (f"{name}: the split at {s:.6g} has SSE {at_s:.10g}, but the best "
                                                  f"split (at {m[all_sse.argmin()]:.6g}) has {all_sse.min():.10g}")


def _split_cases(rng):
    for n in (5, 17, 60):
        yield f"continuous x, n = {n}", rng.standard_normal(n), rng.standard_normal(n)
    x = rng.integers(0, 6, 40).astype(float)
    yield "x with many duplicates (integers 0..5), n = 40", x, np.sin(x) + 0.3 * rng.standard_normal(40)
    x = rng.integers(0, 4, 25).astype(float)
    yield "duplicated x and y = step(x) (exact ties in the SSE)", x, (x > 1.5).astype(float)


@check("q2", points=1.5, hint="sort x once; S_L = cumsum(y); SSE_L + SSE_R = sum y^2 - S_L^2/n_L - S_R^2/n_R; "
                              "only cut between distinct values")
def split_matches_brute_force(best_split_1d):
    rng = np.random.default_rng(921)
    for label, x, y in _split_cases(rng):
        _check_split(best_split_1d, x, y, f"best_split_1d(x, y) on {label}")


@check("q2", points=1, hint="a cut between two equal values is not a split x <= s: skip positions where the sorted "
                            "x does not change")
def split_with_duplicates(best_split_1d):
    rng = np.random.default_rng(922)
    for n in (8, 30, 90):
        x = rng.integers(0, 3, n).astype(float)
        x[:3] = [0.0, 1.0, 2.0]
        y = rng.standard_normal(n) + 2 * (x == 1)
        _check_split(best_split_1d, x, y, f"best_split_1d on x in {{0, 1, 2}} (many ties), n = {n}")


def _fast_reference(x, y):
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    n = len(x)
    cl = np.cumsum(ys)[:-1]
    nl = np.arange(1, n)
    score = cl ** 2 / nl + (ys.sum() - cl) ** 2 / (n - nl)
    valid = xs[1:] > xs[:-1]
    score[~valid] = -np.inf
    i = int(np.argmax(score))
    return (xs[i] + xs[i + 1]) / 2, float(ys @ ys - score[i])


@check("q2", points=1, hint="no Python loop that recomputes means per candidate (that is O(n^2)): use cumulative sums")
def split_is_fast(best_split_1d):
    rng = np.random.default_rng(923)
    n = 20_000
    x = rng.standard_normal(n)
    y = np.where(x > 0.3, 1.0, 0.0) + rng.standard_normal(n)
    start = time.perf_counter()
    got = _pair(best_split_1d(x.copy(), y.copy()), "best_split_1d for n = 20,000")
    took = time.perf_counter() - start
    assert took < 2.0, f"best_split_1d took {took:.2f} s for n = 20,000; expected well under 2 s (an O(n^2) scan?)"
    s, sse = _number(got[0], "the threshold for n = 20,000"), _number(got[1], "the SSE for n = 20,000")
    s_ref, sse_ref = _fast_reference(x, y)
    scale = float(((y - y.mean()) ** 2).sum())
    at_s = _sse_at(x, y, s)
    assert at_s <= sse_ref + 1e-8 * scale and abs(sse - at_s) <= 1e-8 * scale, \
        (f"best_split_1d for n = 20,000: threshold {s:.6g} with reported SSE {sse:.8g} (actual {at_s:.8g}); "
         f"the best is {sse_ref:.8g} at {s_ref:.6g}")


# --------------------------------------------------------------------------- q3: Newton leaf weight and gain
def _GH(g, h, mask=None):
    g, h = np.asarray(g, dtype=float), np.asarray(h, dtype=float)
    if mask is None:
        return g.sum(), h.sum()
    return g[mask].sum(), h[mask].sum()


def _loss_chg(g, h, mask, lam) -> float:
    """xgboost's loss_chg: G_L^2/(H_L+lam) + G_R^2/(H_R+lam) - G^2/(H+lam), without the 1/2."""
    (GL, HL), (GR, HR), (G, H) = _GH(g, h, mask), _GH(g, h, ~mask), _GH(g, h)
    return GL ** 2 / (HL + lam) + GR ** 2 / (HR + lam) - G ** 2 / (H + lam)


def _newton_case(rng, n: int):
    f = rng.standard_normal(n)
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * f))).astype(float)
    p = 1 / (1 + np.exp(-f))
    g, h = p - y, p * (1 - p)
    mask = rng.random(n) < 0.4
    mask[0], mask[1] = True, False
    return g, h, mask


def _gain_mistakes(g, h, mask, lam, gamma) -> dict:
    c = _loss_chg(g, h, mask, lam)
    return {"(9.35) with its 1/2: that is the objective-scale gain; xgboost's loss_chg has no 1/2": c / 2 - gamma,
            "1/2 (loss_chg - gamma): gamma halved together with the bracket": (c - gamma) / 2,
            "loss_chg - 2 gamma (xgboost compares the un-halved bracket with gamma itself)": c - 2 * gamma,
            "the gain with the sign flipped": -c + gamma}


def _leaf_cases():
    rng = np.random.default_rng(931)
    for n, lam in ((5, 0.0), (30, 1.0), (80, 3.5)):
        g, h, _ = _newton_case(rng, n)
        G, H = _GH(g, h)
        res = minimize_scalar(lambda c: G * c + 0.5 * (H + lam) * c * c, bracket=(-5, 5), tol=1e-12)
        yield n, lam, g, h, G, H, res


@check("q3", points=0.5, hint="minimise G c + (H + lam) c^2 / 2 over c")
def leaf_weight_minimises_objective(leaf_weight):
    for n, lam, g, h, G, H, res in _leaf_cases():
        w = _number(leaf_weight(g.copy(), h.copy(), lam), f"leaf_weight(g, h, lam={lam}) (n = {n})")
        _close(w, -G / (H + lam), 1e-10, f"leaf_weight(g, h, lam={lam}) (n = {n})",
               {"G/(H + lam) (the sign is wrong: the weight steps against the gradient)": G / (H + lam),
                "-G/H (lam is missing)": -G / H, "-mean(g)/mean(h) (sums, not means)": -g.mean() / h.mean()})
        assert abs(w - res.x) <= 1e-5 * (1 + abs(res.x)), f"leaf_weight: {w} does not minimise the objective ({res.x})"


@check("q3", points=0.5, hint="plug c* = -G/(H + lam) into G c + (H + lam) c^2 / 2")
def leaf_objective_is_the_minimum(leaf_objective):
    for n, lam, g, h, G, H, res in _leaf_cases():
        obj = _number(leaf_objective(g.copy(), h.copy(), lam), f"leaf_objective(g, h, lam={lam})")
        _close(obj, res.fun, 1e-8, f"leaf_objective(g, h, lam={lam}) (n = {n}; compared with minimize_scalar)",
               {"-G^2/(H + lam) (without the 1/2)": -G ** 2 / (H + lam), "+G^2/(2 (H + lam)) (sign)": G ** 2 / (2 * (H + lam))})


@check("q3", points=1, hint="split_gain(gamma=0) is G_L^2/(H_L+lam) + G_R^2/(H_R+lam) - G^2/(H+lam): twice the drop "
                            "of the minimised objective")
def gain_is_twice_the_objective_drop(split_gain):
    rng = np.random.default_rng(932)
    for n, lam in ((10, 0.5), (50, 1.0), (120, 4.0)):
        g, h, mask = _newton_case(rng, n)

        def best(m):
            G, H = _GH(g, h, m)
            return minimize_scalar(lambda c: G * c + 0.5 * (H + lam) * c * c, bracket=(-5, 5), tol=1e-12).fun
        drop = best(np.ones(n, dtype=bool)) - best(mask) - best(~mask)
        got = _number(split_gain(g.copy(), h.copy(), mask.copy(), lam, 0.0), f"split_gain(..., lam={lam}, gamma=0)")
        _close(got, 2 * drop, 1e-7, f"split_gain(g, h, mask, lam={lam}, gamma=0) (n = {n}; should be twice the drop "
               f"{drop:.6g} of the minimised objective)", _gain_mistakes(g, h, mask, lam, 0.0))


def _xgb_root(X, y, lam, gamma):
    import xgboost as xgb
    params = {"objective": "binary:logistic", "tree_method": "exact", "max_depth": 1, "eta": 1.0, "reg_lambda": lam,
              "gamma": gamma, "min_child_weight": 0, "base_score": 0.5, "nthread": 1}
    booster = xgb.train(params, xgb.DMatrix(X.astype(np.float32), label=y), 1)
    import json
    return json.loads(booster.get_dump(dump_format="json", with_stats=True)[0])


def _xgb_case(seed: int, n: int = 80):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-2.5 * x))).astype(float)
    return x[:, None], y


@check("q3", points=1.5, hint="xgboost reports gain = loss_chg (no 1/2) and keeps a split when loss_chg > gamma")
def gain_matches_xgboost(split_gain):
    X, y = _xgb_case(933)
    g, h = 0.5 - y, np.full(len(y), 0.25)  # margin 0 (base_score 0.5): p = 1/2
    for lam in (1.0, 3.0):
        root = _xgb_root(X, y, lam, 0.0)
        assert "split" in root, "the reference xgboost tree did not split (the check's data is off)"
        mask = X[:, 0].astype(np.float32) < np.float32(root["split_condition"])  # xgboost compares in float32
        got = _number(split_gain(g.copy(), h.copy(), mask.copy(), lam, 0.0), f"split_gain(..., lam={lam}, gamma=0)")
        _close(got, root["gain"], 1e-5, f"split_gain at xgboost's root split (lam={lam}, gamma=0; compared with the "
               f"`gain` xgboost reports)", _gain_mistakes(g, h, mask, lam, 0.0))
        for factor in (0.7, 1.4):
            gamma = factor * root["gain"]
            kept = "split" in _xgb_root(X, y, lam, gamma)
            got = _number(split_gain(g.copy(), h.copy(), mask.copy(), lam, gamma), f"split_gain(..., gamma={gamma:.3g})")
            assert (got > 0) == kept, (
                f"split_gain(..., lam={lam}, gamma={gamma:.4g}) = {got:.4g}, so the split would "
                f"{'be kept' if got > 0 else 'be pruned'}, but xgboost {'keeps' if kept else 'prunes'} it "
                f"(loss_chg = {root['gain']:.4g}): xgboost's gamma is compared with the un-halved loss_chg."
                + ("" if abs(got - (root["gain"] - gamma)) < 1e-4 * root["gain"] else
                   f" Expected loss_chg - gamma = {root['gain'] - gamma:.4g}."))


# --------------------------------------------------------------------------- q4: loss derivatives
LOSS_LABELS = {"squared": "squared loss (y - f)^2 / 2", "logistic": "logistic loss log(1 + e^f) - y f, y in {0, 1}",
               "exponential": "exponential loss exp(-y f), y in {-1, +1}"}


def _loss_torch(kind: str, y, f):
    if kind == "squared":
        return 0.5 * (y - f) ** 2
    if kind == "logistic":
        return torch.logaddexp(torch.zeros_like(f), f) - y * f
    return torch.exp(-y * f)


def _autograd_gh(kind: str, y, f):
    ft = torch.tensor(f, dtype=F64, requires_grad=True)
    yt = torch.tensor(y, dtype=F64)
    g, = torch.autograd.grad(_loss_torch(kind, yt, ft).sum(), ft, create_graph=True)
    h, = torch.autograd.grad(g.sum(), ft)
    return g.detach().numpy(), h.numpy()


def _loss_case(kind: str, rng, f):
    n = len(f)
    if kind == "squared":
        return rng.standard_normal(n) * 3
    if kind == "logistic":
        return rng.integers(0, 2, n).astype(float)
    return rng.choice([-1.0, 1.0], n)


def _sigmoid(f):
    return np.exp(-np.logaddexp(0.0, -f))


def _gh_mistakes(kind, y, f) -> dict:
    if kind == "logistic":
        p = _sigmoid(f)
        return {"g = y - p (the sign: the gradient of the loss is p - y)": y - p,
                "h = p (the Hessian is p (1 - p))": p}
    if kind == "exponential":
        e = np.exp(-y * f)
        return {"g = y exp(-y f) (the sign)": y * e, "h = -y exp(-y f)": -y * e}
    return {"g = y - f (the sign: d/df (y - f)^2/2 = f - y)": y - f}


def _call_gh(grad_hess, kind, y, f, name):
    got = _pair(grad_hess(kind, y.copy(), f.copy()), name)
    return (_array(got[0], f"{name}[0] (g)", f.shape), _array(got[1], f"{name}[1] (h)", f.shape))


def _check_gh(grad_hess, kind: str, rng, f) -> None:
    y = _loss_case(kind, rng, f)
    name = f"grad_hess({kind!r}, y, f) ({LOSS_LABELS[kind]})"
    g, h = _call_gh(grad_hess, kind, y, f, name)
    g_ref, h_ref = _autograd_gh(kind, y, f)
    mistakes = _gh_mistakes(kind, y, f)
    _close(g, g_ref, 1e-10, f"{name}: g (compared with torch autograd)",
           {k: v for k, v in mistakes.items() if k.startswith("g")})
    rel = np.abs(h - h_ref) / np.maximum(np.abs(h_ref), 1e-300)
    if rel.max() > 1e-9:
        i = int(rel.argmax())
        msg = f"{name}: h at f = {f[i]:.3g} is {h[i]:.6g}, torch autograd gives {h_ref[i]:.6g}"
        for label, wrong in mistakes.items():
            if label.startswith("h") and np.allclose(h, wrong, rtol=1e-6):
                msg += f". This looks like {label}"
        if kind == "logistic" and abs(f[i]) > 10:
            msg += (". Far from 0, 1 - p computed as 1 - sigmoid(f) loses its digits (cancellation): "
                    "use sigmoid(f) * sigmoid(-f)")
        raise AssertionError(msg)


@check("q4", points=1, hint="squared: g = f - y, h = 1; logistic: g = sigmoid(f) - y, h = sigmoid(f) sigmoid(-f)")
def derivatives_match_autograd_squared_logistic(grad_hess):
    rng = np.random.default_rng(941)
    f = np.linspace(-30, 30, 121)
    for kind in ("squared", "logistic"):
        _check_gh(grad_hess, kind, rng, f)


@check("q4", points=0.5, hint="exponential: g = -y exp(-y f), h = y^2 exp(-y f) = exp(-y f)")
def derivatives_match_autograd_exponential(grad_hess):
    _check_gh(grad_hess, "exponential", np.random.default_rng(942), np.linspace(-8, 8, 81))


def _z_reference(y, f):
    """z = -g/h = (y - p)/(p (1 - p)) = y/p - (1 - y)/(1 - p), with p and 1 - p computed without cancellation."""
    return y / _sigmoid(f) - (1 - y) / _sigmoid(-f)


@check("q4", points=1, hint="compute sigmoid(-f) directly for 1 - p (no 1 - p cancellation); it never overflows "
                            "if written with np.logaddexp or tanh")
def derivatives_are_stable(grad_hess, working_response):
    f = np.concatenate([np.linspace(-50, 50, 101), [-50.0, 50.0]])
    y01 = np.r_[np.arange(101) % 2, 0.0, 1.0].astype(float)
    ypm = 2 * y01 - 1
    with np.errstate(all="ignore"):
        for kind, y in (("squared", y01), ("logistic", y01), ("exponential", ypm)):
            g, h = _call_gh(grad_hess, kind, y, f, f"grad_hess({kind!r}, y, f) for |f| <= 50")
        z = _array(working_response(y01.copy(), f.copy()), "working_response(y, f) for |f| <= 50 (nan or inf here: "
                   "1 - p rounds to 0 at f = 50; use sigmoid(-f))", f.shape)
    g, h = _call_gh(grad_hess, "logistic", y01, f, "grad_hess('logistic', y, f)")
    assert h.max() <= 0.25 + 1e-15 and h.min() >= 0, \
        f"the logistic Hessian should lie in [0, 1/4], got values in [{h.min():.3g}, {h.max():.3g}]"
    assert np.all(h > 0), ("the logistic Hessian p (1 - p) is positive for every finite f, but yours is 0 at "
                           f"f = {f[np.argmin(h)]:.3g}: compute it as sigmoid(f) * sigmoid(-f)")
    _close(z, _z_reference(y01, f), 1e-10, "working_response(y, f) for |f| <= 50 (compared with y/p - (1-y)/(1-p))")


@check("q4", points=1, hint="z = -g/h = (y - p)/(p (1 - p)) equals 1/p for y = 1 and -1/(1 - p) for y = 0")
def working_response_is_at_least_one(working_response):
    f = np.linspace(-6, 6, 49)
    for y_value in (0.0, 1.0):
        y = np.full(len(f), y_value)
        z = _array(working_response(y.copy(), f.copy()), f"working_response(y = {y_value:g}, f)", f.shape)
        p = _sigmoid(f)
        small = np.abs(z) < 1 - 1e-12
        assert not small.any(), (
            f"working_response(y = {y_value:g}, f): |z| = {abs(z[small][0]):.4g} < 1 at f = {f[small][0]:.3g}. The "
            f"'golf' claim that nearly correct points get a small working response is wrong: |z| >= 1 always; it is "
            f"the weight p (1 - p) that becomes small." + ("" if not np.allclose(z, y - p) else
                                                           " This looks like z = y - p (the residual, not -g/h)."))
        _close(z, _z_reference(y, f), 1e-10, f"working_response(y = {y_value:g}, f)",
               {"z = (p - y)/(p (1 - p)) (the sign: z = -g/h)": -_z_reference(y, f)})


# --------------------------------------------------------------------------- q5: L2 boosting
def _fit_stump_tree(depth: int = 2):
    from sklearn.tree import DecisionTreeRegressor

    def fit_tree(X, r):
        return DecisionTreeRegressor(max_depth=depth, random_state=0).fit(X, r)
    return fit_tree


def _l2_reference(X, y, n_rounds, eta, fit_tree):
    F = [np.full(len(y), y.mean())]
    for _ in range(n_rounds):
        tree = fit_tree(X, y - F[-1])
        F.append(F[-1] + eta * tree.predict(X))
    return np.array(F)


def _friedman(n: int, seed: int):
    from sklearn.datasets import make_friedman1
    return make_friedman1(n_samples=n, n_features=6, noise=1.0, random_state=seed)


def _call_l2(l2_boost, X, y, n_rounds, eta, fit_tree, name):
    return _array(l2_boost(X.copy(), y.copy(), n_rounds, eta, fit_tree), name, (n_rounds + 1, len(y)))


@check("q5", points=2, hint="F[0] = mean(y); each round fit_tree(X, y - F[m-1]) and add eta times its predictions")
def l2_boost_matches_reference(l2_boost):
    X, y = _friedman(200, 951)
    fit_tree = _fit_stump_tree(2)
    for n_rounds, eta in ((15, 0.3), (5, 1.0)):
        name = f"l2_boost(X, y, n_rounds={n_rounds}, eta={eta}, fit_tree)"
        got = _call_l2(l2_boost, X, y, n_rounds, eta, fit_tree, name)
        want = _l2_reference(X, y, n_rounds, eta, fit_tree)
        wrong = {"the rounds fitted to y instead of the residuals y - F[m-1]":
                 want[0] + eta * np.cumsum([np.zeros(len(y))] + [fit_tree(X, y).predict(X)] * n_rounds, axis=0),
                 "F[0] = 0 instead of mean(y)": _zero_start(X, y, n_rounds, eta, fit_tree)}
        if eta != 1:
            wrong["the step without eta"] = _l2_reference(X, y, n_rounds, 1.0, fit_tree)
        _close(got, want, 1e-10, name, wrong)


def _zero_start(X, y, n_rounds, eta, fit_tree):
    F = [np.zeros(len(y))]
    for _ in range(n_rounds):
        F.append(F[-1] + eta * fit_tree(X, y - F[-1]).predict(X))
    return np.array(F)


@check("q5", points=1, hint="with 0 < eta <= 1 each round fits the residuals, so the training MSE cannot go up")
def l2_boost_training_mse_decreases(l2_boost):
    X, y = _friedman(150, 952)
    F = _call_l2(l2_boost, X, y, 25, 0.5, _fit_stump_tree(3), "l2_boost(X, y, 25, 0.5, fit_tree)")
    mse = ((y - F) ** 2).mean(axis=1)
    up = np.flatnonzero(np.diff(mse) > 1e-12)
    assert not len(up), f"the training MSE rises at round {up[0] + 1}: {mse[up[0]]:.6g} -> {mse[up[0] + 1]:.6g}"
    assert mse[-1] < 0.5 * mse[0], f"the training MSE fell only from {mse[0]:.4g} to {mse[-1]:.4g} in 25 rounds"


@check("q5", points=1, hint="a least-squares tree is an orthogonal projection of the residual: ||eta h_m|| <= eta ||r_m||")
def l2_boost_step_norm(l2_boost):
    X, y = _friedman(120, 953)
    eta = 0.4
    F = _call_l2(l2_boost, X, y, 12, eta, _fit_stump_tree(3), "l2_boost(X, y, 12, 0.4, fit_tree)")
    for m in range(1, len(F)):
        step, r = F[m] - F[m - 1], y - F[m - 1]
        lhs, rhs = np.sqrt((step ** 2).mean()), eta * np.sqrt((r ** 2).mean())
        assert lhs <= rhs * (1 + 1e-12), (f"round {m}: the step norm ||F[m] - F[m-1]||_n = {lhs:.6g} exceeds "
                                          f"eta ||r_m||_n = {rhs:.6g}; a fit of the residuals cannot be larger "
                                          f"than the residuals")


# --------------------------------------------------------------------------- q6: AdaBoost
def _ada_round(w, y, h):
    w = np.asarray(w, dtype=float) / np.sum(w)
    eps = float(w[h != y].sum())
    alpha = 0.5 * np.log((1 - eps) / eps)
    w_new = w * np.exp(-alpha * y * h)
    return eps, alpha, w_new / w_new.sum()


def _ada_case(rng, n: int, err: float):
    y = rng.choice([-1.0, 1.0], n)
    h = y.copy()
    flip = rng.random(n) < err
    flip[0], flip[1] = True, False
    h[flip] *= -1
    return rng.random(n) + 0.1, y, h


def _call_round(adaboost_round, w, y, h, name):
    got = _pair(adaboost_round(w.copy(), y.copy(), h.copy()), name, 3)
    return (_number(got[0], f"{name}: eps"), _number(got[1], f"{name}: alpha"),
            _array(got[2], f"{name}: w_new", w.shape))


@check("q6", points=1, hint="eps = sum of w over mistakes / sum w; alpha = log((1 - eps)/eps) / 2")
def adaboost_eps_alpha(adaboost_round):
    rng = np.random.default_rng(961)
    for n, err in ((10, 0.3), (60, 0.2), (200, 0.45)):
        w, y, h = _ada_case(rng, n, err)
        name = f"adaboost_round(w, y, h) (n = {n})"
        eps, alpha, _ = _call_round(adaboost_round, w, y, h, name)
        e, a, _ = _ada_round(w, y, h)
        _close(eps, e, 1e-12, f"{name}: eps", {"the error counted without the weights": np.mean(h != y),
                                               "eps with weights that were not normalised": w[h != y].sum()})
        _close(alpha, a, 1e-12, f"{name}: alpha", {"alpha = log((1 - eps)/eps) (the 1/2 is missing)": 2 * a,
                                                   "alpha with the sign flipped": -a})


@check("q6", points=1, hint="w_new = w exp(-alpha y h), then divide by its sum")
def adaboost_new_weights(adaboost_round):
    rng = np.random.default_rng(962)
    for n, err in ((12, 0.25), (90, 0.4)):
        w, y, h = _ada_case(rng, n, err)
        name = f"adaboost_round(w, y, h) (n = {n})"
        _, _, w_new = _call_round(adaboost_round, w, y, h, name)
        assert abs(w_new.sum() - 1) <= 1e-12, f"{name}: w_new sums to {w_new.sum():.12g}, not 1 (normalise it)"
        e, a, want = _ada_round(w, y, h)
        wp = w * np.exp(a * y * h)
        w2 = w * np.exp(-2 * a * y * h)
        _close(w_new, want, 1e-12, f"{name}: w_new",
               {"w exp(+alpha y h) (the sign: mistakes must gain weight)": wp / wp.sum(),
                "the update with alpha twice too large (no 1/2 in alpha)": w2 / w2.sum()})


@check("q6", points=1, hint="under the new weights the last weak learner is exactly a coin flip")
def adaboost_last_learner_is_a_coin_flip(adaboost_round):
    rng = np.random.default_rng(963)
    for n, err in ((15, 0.1), (120, 0.35)):
        w, y, h = _ada_case(rng, n, err)
        _, _, w_new = _call_round(adaboost_round, w, y, h, f"adaboost_round (n = {n})")
        e_new = w_new[h != y].sum() / w_new.sum()
        assert abs(e_new - 0.5) <= 1e-12, (f"the weighted error of h under w_new is {e_new:.12g}; with alpha = "
                                           f"log((1-eps)/eps)/2 it is exactly 1/2")


@check("q6", points=0.5, hint="raise ValueError when eps == 0 (alpha infinite) or eps >= 1/2 (no better than chance)")
def adaboost_rejects_bad_eps(adaboost_round):
    rng = np.random.default_rng(964)
    y = rng.choice([-1.0, 1.0], 16)
    w = np.full(16, 1 / 16)
    for label, h in (("a perfect learner (eps = 0)", y.copy()), ("eps = 1/2", np.r_[y[:8], -y[8:]]),
                     ("eps = 3/4", np.r_[y[:4], -y[4:]])):
        try:
            with np.errstate(all="ignore"):
                adaboost_round(w.copy(), y.copy(), h.copy())
        except ValueError:
            continue
        raise AssertionError(f"adaboost_round should raise ValueError for {label}")


def _stump_bank(X):
    """Every axis-aligned stump (both orientations) at the midpoints of each feature: predictions (K, n) in +-1."""
    rows = []
    for j in range(X.shape[1]):
        for s in _midpoints(X[:, j]):
            rows.append(np.where(X[:, j] > s, 1.0, -1.0))
    rows = np.array(rows)
    return np.concatenate([rows, -rows])


def _ada_run_reference(y, H, n_rounds):
    w = np.full(len(y), 1 / len(y))
    f, eps_list = np.zeros(len(y)), []
    for _ in range(n_rounds):
        errors = (H != y) @ w
        k = int(np.argmin(errors))
        eps, alpha, w = _ada_round(w, y, H[k])
        f += alpha * H[k]
        eps_list.append(eps)
    return f, np.array(eps_list)


def _ada_run_case(seed: int, n: int = 80):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    y = np.where(X[:, 0] ** 2 + X[:, 1] ** 2 > 1.2, 1.0, -1.0)
    y[rng.random(n) < 0.05] *= -1
    return y, _stump_bank(X)


@check("q6", points=1, hint="start from uniform weights; each round take the row of H with the smallest weighted error")
def adaboost_run_bound_chain(adaboost_run):
    y, H = _ada_run_case(965)
    n_rounds = 30
    got = _pair(adaboost_run(y.copy(), H.copy(), n_rounds), f"adaboost_run(y, H, {n_rounds})")
    f = _array(got[0], "adaboost_run(...)[0] (f)", y.shape)
    eps = _array(got[1], "adaboost_run(...)[1] (eps)", (n_rounds,))
    f_ref, eps_ref = _ada_run_reference(y, H, n_rounds)
    _close(eps, eps_ref, 1e-10, "adaboost_run: the weighted errors eps_m")
    _close(f, f_ref, 1e-10, "adaboost_run: the final scores f")
    train, expl = np.mean(y * f <= 0), np.mean(np.exp(-y * f))
    bound = np.prod(2 * np.sqrt(eps * (1 - eps)))
    assert train <= expl + 1e-12, f"training error {train:.4g} > mean exponential loss {expl:.4g}"
    assert abs(expl - bound) <= 1e-10, (f"the mean exponential loss {expl:.12g} should equal prod 2 sqrt(eps (1 - eps)) "
                                        f"= {bound:.12g} (uniform starting weights)")


# --------------------------------------------------------------------------- q7: IRLS
@functools.lru_cache(maxsize=None)
def _cancer():
    from sklearn.datasets import load_breast_cancer
    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :10]
    return (X - X.mean(0)) / X.std(0), y.astype(float)


@functools.lru_cache(maxsize=None)
def _sklearn_logistic(key: str):
    from sklearn.linear_model import LogisticRegression
    X, y = _cancer() if key == "cancer" else _small_logistic()
    m = LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-12, max_iter=100_000).fit(X, y)
    return np.r_[m.intercept_, m.coef_[0]]


@functools.lru_cache(maxsize=None)
def _small_logistic():
    rng = np.random.default_rng(971)
    X = rng.standard_normal((60, 3))
    y = (rng.random(60) < 1 / (1 + np.exp(-(X @ [1.0, -2.0, 0.5] + 0.3)))).astype(float)
    return X, y


def _loglik(beta, X, y) -> float:
    f = beta[0] + X @ beta[1:]
    return float(y @ f - np.logaddexp(0.0, f).sum())


def _score(beta, X, y):
    p = _sigmoid(beta[0] + X @ beta[1:])
    return np.r_[np.sum(y - p), X.T @ (y - p)]


def _call_irls(irls_logistic, X, y, n_iter, name):
    return _array(irls_logistic(X.copy(), y.copy(), n_iter), name, (X.shape[1] + 1,))


@check("q7", points=1, hint="start at beta = 0; with a column of ones, solve (A^T W A) beta = A^T W z")
def irls_first_step(irls_logistic):
    X, y = _cancer()
    A = np.c_[np.ones(len(y)), X]
    want = np.linalg.solve(0.25 * A.T @ A, A.T @ (y - 0.5))
    _close(_call_irls(irls_logistic, X, y, 1, "irls_logistic(X, y, n_iter=1)"), want, 1e-9,
           "irls_logistic(X, y, n_iter=1) (one Newton step from beta = 0, intercept first)",
           {"a step without the intercept column": np.r_[0.0, np.linalg.solve(0.25 * X.T @ X, X.T @ (y - 0.5))],
            "one gradient step (not Newton)": A.T @ (y - 0.5)})


@check("q7", points=2, hint="about 10-30 Newton steps converge to machine precision here")
def irls_matches_sklearn(irls_logistic):
    X, y = _cancer()
    want = _sklearn_logistic("cancer")
    got = _call_irls(irls_logistic, X, y, 30, "irls_logistic(X, y, 30) on standardized breast_cancer (10 features)")
    _close(got, want, 1e-6, "irls_logistic(X, y, 30) vs LogisticRegression(C=inf, solver='newton-cg', tol=1e-12) "
           "[intercept, coef...]", {"the coefficients without the intercept": np.r_[0.0, want[1:]]})


@check("q7", points=1, hint="at the maximum the score A^T (y - p) vanishes")
def irls_reaches_the_maximum(irls_logistic):
    for key, label in (("cancer", "breast_cancer"), ("small", "a 60 x 3 synthetic problem")):
        X, y = _cancer() if key == "cancer" else _small_logistic()
        beta = _call_irls(irls_logistic, X, y, 30, f"irls_logistic on {label}")
        grad = np.linalg.norm(_score(beta, X, y))
        assert grad < 1e-8, f"irls_logistic on {label}: the score norm at your beta is {grad:.3g}, expected < 1e-8"
        ref = _loglik(_sklearn_logistic(key), X, y)
        assert _loglik(beta, X, y) >= ref - 1e-9, \
            f"irls_logistic on {label}: log-likelihood {_loglik(beta, X, y):.10g} < sklearn's {ref:.10g}"


# --------------------------------------------------------------------------- q8: OOB permutation importance
def _forest(X, y, n_trees: int, seed: int, min_samples_leaf: int = 3):
    """Bagged sklearn regression trees with their in-bag masks (the interface the notebook describes)."""
    from sklearn.tree import DecisionTreeRegressor
    rng = np.random.default_rng(seed)
    n = len(y)
    trees, inbag = [], np.zeros((n_trees, n), dtype=bool)
    for m in range(n_trees):
        idx = rng.integers(0, n, n)
        inbag[m, idx] = True
        trees.append(DecisionTreeRegressor(min_samples_leaf=min_samples_leaf, random_state=m).fit(X[idx], y[idx]))
    return SimpleNamespace(trees=trees, inbag=inbag)


def _oob_error(forest, X, y) -> float:
    preds = np.array([t.predict(X) for t in forest.trees])
    out = ~forest.inbag
    count = out.sum(0)
    ok = count > 0
    oob = (preds * out).sum(0)[ok] / count[ok]
    return float(np.mean((y[ok] - oob) ** 2))


def _oob_importance(forest, X, y, rng, sign: float = 1.0):
    base = _oob_error(forest, X, y)
    out = []
    for j in range(X.shape[1]):
        Xp = X.copy()
        Xp[:, j] = X[rng.permutation(len(y)), j]
        out.append(sign * (_oob_error(forest, Xp, y) - base))
    return np.array(out)


@functools.lru_cache(maxsize=None)
def _q8_case(n: int, n_trees: int, seed: int):
    from sklearn.datasets import make_friedman1
    X, y = make_friedman1(n_samples=n, n_features=10, noise=1.0, random_state=seed)
    return X, y, _forest(X, y, n_trees, seed)


def _call_importance(oob_permutation_importance, forest, X, y, seed, name):
    return _array(oob_permutation_importance(forest, X.copy(), y.copy(), np.random.default_rng(seed)), name,
                  (X.shape[1],))


@check("q8", points=1, hint="average only the trees whose inbag[m, i] is False; skip points no tree left out")
def oob_error_matches(oob_error):
    X, y, forest = _q8_case(200, 20, 981)
    got = _number(oob_error(forest, X.copy(), y.copy()), "oob_error(forest, X, y)")
    preds = np.array([t.predict(X) for t in forest.trees])
    _close(got, _oob_error(forest, X, y), 1e-12, "oob_error(forest, X, y) (n = 200, 20 trees)",
           {"the in-bag (training) error of the ensemble": np.mean((y - preds.mean(0)) ** 2)})


@check("q8", points=1.5, hint="for j in range(p): permute column j with rng.permutation(n), importance = "
                              "OOB error after permuting - OOB error")
def importance_matches_reference(oob_permutation_importance):
    X, y, forest = _q8_case(200, 20, 982)
    got = _call_importance(oob_permutation_importance, forest, X, y, 7, "oob_permutation_importance(forest, X, y, rng)")
    want = _oob_importance(forest, X, y, np.random.default_rng(7))
    _close(got, want, 1e-10, "oob_permutation_importance (same rng, 20 trees)",
           {"the book's sign Err_OOB - Err_perm (9.88): permuting an important feature raises the error, "
            "so importance = Err_perm - Err_OOB": -want})


@check("q8", points=1.5, hint="important means positive: the error goes UP when a useful feature is scrambled")
def importance_ranks_friedman_features(oob_permutation_importance):
    X, y, forest = _q8_case(400, 50, 983)
    imp = _call_importance(oob_permutation_importance, forest, X, y, 11, "oob_permutation_importance on friedman1")
    assert imp[:5].min() > 0, (f"the informative features x0..x4 of friedman1 get importances "
                               f"{np.round(imp[:5], 3).tolist()}; they should be positive (important means positive; "
                               f"the book's (9.88) has the sign the wrong way round)")
    assert imp[:5].min() > imp[5:].max(), (f"a noise feature outranks an informative one: informative "
                                           f"{np.round(imp[:5], 3).tolist()}, noise {np.round(imp[5:], 3).tolist()}")
    assert np.abs(imp[5:]).max() <= 0.5, f"noise features should have |importance| <= 0.5, got {np.round(imp[5:], 3)}"
