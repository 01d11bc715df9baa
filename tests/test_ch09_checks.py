"""The Chapter 9 exercise checks (public and hidden) accept right answers and reject known-wrong ones.

Each check function is called directly with implementations written here: correct references (and alternative
correct formulations) must pass every check of their question; each known-wrong mutant must fail at least one
check of its question with a message. The mutants include the book's own slips (spec [9-9]): Gini written as
1 - sum p, thresholds at data values instead of midpoints, the split gain with the 1/2 of (9.35) or with gamma on
the wrong scale, the "golf" working response with |z| < 1, AdaBoost's alpha without the 1/2, and the permutation
importance with the sign of (9.88). Stubs that return None score 0 everywhere, and junk return values give
assertion messages, never crashes.
"""
from __future__ import annotations

import pathlib
import time

import numpy as np
import pytest
import torch

from lib.grading import load_checks
from tests.checks_support import (JUNK, JUNK_IDS, assert_blank_scores_zero, assert_junk_explained, assert_named,
                                  assert_public_and_hidden, assert_rejected, call, failures as _failures)

torch.set_num_threads(1)
SPECS = load_checks("ch09_trees", hidden=True)
QUESTIONS = [f"q{i}" for i in range(1, 9)]


def _sig(f):
    return np.exp(-np.logaddexp(0.0, -np.asarray(f, dtype=float)))


# --------------------------------------------------------------------------- correct references
def gini(p):
    p = np.asarray(p, dtype=float)
    return 1 - np.sum(p ** 2)


def entropy(p):
    p = np.asarray(p, dtype=float)
    p = p[p > 0]
    return -np.sum(p * np.log2(p))


def misclassification(p):
    return 1 - np.max(p)


def impurity_decrease(y, left_mask, impurity):
    y, left = np.asarray(y), np.asarray(left_mask, dtype=bool)
    classes = np.unique(y)

    def imp(part):
        return impurity(np.array([np.mean(part == c) for c in classes]))
    return imp(y) - left.mean() * imp(y[left]) - (1 - left.mean()) * imp(y[~left])


ZERO_GAIN = (np.arange(10.0), np.array([0, 0, 0, 0, 1, 0, 0, 0, 1, 1]), 4.5)


def best_split_1d(x, y):
    order = np.argsort(x, kind="stable")
    xs, ys = np.asarray(x, float)[order], np.asarray(y, float)[order]
    n = len(xs)
    valid = xs[1:] > xs[:-1]
    if not valid.any():
        return None
    nl = np.arange(1, n)
    cl = np.cumsum(ys)[:-1]
    score = np.where(valid, cl ** 2 / nl + (ys.sum() - cl) ** 2 / (n - nl), -np.inf)
    i = int(np.argmax(score))
    return (xs[i] + xs[i + 1]) / 2, float(ys @ ys - score[i])


def leaf_weight(g, h, lam):
    return -np.sum(g) / (np.sum(h) + lam)


def leaf_objective(g, h, lam):
    return -0.5 * np.sum(g) ** 2 / (np.sum(h) + lam)


def split_gain(g, h, mask, lam, gamma):
    def s(m):
        return np.sum(g[m]) ** 2 / (np.sum(h[m]) + lam)
    return s(mask) + s(~mask) - np.sum(g) ** 2 / (np.sum(h) + lam) - gamma


def grad_hess(loss_name, y, f):
    if loss_name == "squared":
        return f - y, np.ones_like(f)
    if loss_name == "logistic":
        return _sig(f) - y, _sig(f) * _sig(-f)
    if loss_name == "exponential":
        e = np.exp(-y * f)
        return -y * e, y * y * e
    raise ValueError(loss_name)


def working_response(y, f):
    return y / _sig(f) - (1 - y) / _sig(-f)


def l2_boost(X, y, n_rounds, eta, fit_tree):
    F = [np.full(len(y), np.mean(y))]
    for _ in range(n_rounds):
        F.append(F[-1] + eta * fit_tree(X, y - F[-1]).predict(X))
    return np.array(F)


def adaboost_round(w, y, h):
    w = w / w.sum()
    eps = w[h != y].sum()
    if not 0 < eps < 0.5:
        raise ValueError(f"eps = {eps}")
    alpha = 0.5 * np.log((1 - eps) / eps)
    w_new = w * np.exp(-alpha * y * h)
    return eps, alpha, w_new / w_new.sum()


def adaboost_run(y, H, n_rounds):
    w = np.full(len(y), 1 / len(y))
    f, eps_all = np.zeros(len(y)), []
    for _ in range(n_rounds):
        k = int(np.argmin((H != y) @ w))
        eps, alpha, w = adaboost_round(w, y, H[k])
        f = f + alpha * H[k]
        eps_all.append(eps)
    return f, np.array(eps_all)


def irls_logistic(X, y, n_iter):
    A = np.c_[np.ones(len(y)), X]
    beta = np.zeros(A.shape[1])
    for _ in range(n_iter):
        f = A @ beta
        p = _sig(f)
        w = p * (1 - p)
        z = f + (y - p) / w
        beta = np.linalg.solve(A.T @ (w[:, None] * A), A.T @ (w * z))
    return beta


def oob_error(forest, X, y):
    preds = np.array([t.predict(X) for t in forest.trees])
    out = ~forest.inbag
    k = out.sum(0)
    ok = k > 0
    return np.mean((y[ok] - (preds * out).sum(0)[ok] / k[ok]) ** 2)


def oob_permutation_importance(forest, X, y, rng):
    base = oob_error(forest, X, y)
    imp = np.zeros(X.shape[1])
    for j in range(X.shape[1]):
        Xp = X.copy()
        Xp[:, j] = X[rng.permutation(len(y)), j]
        imp[j] = oob_error(forest, Xp, y) - base
    return imp


REFERENCE = dict(gini=gini, entropy=entropy, misclassification=misclassification, impurity_decrease=impurity_decrease,
                 zero_gain_split=ZERO_GAIN, best_split_1d=best_split_1d, leaf_weight=leaf_weight,
                 leaf_objective=leaf_objective, split_gain=split_gain, grad_hess=grad_hess,
                 working_response=working_response, l2_boost=l2_boost, adaboost_round=adaboost_round,
                 adaboost_run=adaboost_run, irls_logistic=irls_logistic, oob_error=oob_error,
                 oob_permutation_importance=oob_permutation_importance)


def failures(question, namespace, junk_only=False, only=None):
    return _failures(SPECS, question, namespace, junk_only, only)


def test_every_question_has_public_and_hidden_checks():
    assert_public_and_hidden(SPECS, QUESTIONS, (30, 45))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.question}-{s.name}")
def test_reference_passes(spec):
    call(spec, REFERENCE)


def test_checks_import_no_course_topic_module():
    import lib.checks.ch09_trees as public
    hidden = pathlib.Path(__file__).parent / "hidden" / "ch09_trees.py"
    for text in (pathlib.Path(public.__file__).read_text(), hidden.read_text()):
        for module in ("lib.trees", "lib.boosting", "lib.adaboost", "lib.forest", "lib.margin_losses"):
            assert f"from {module} " not in text and f"import {module}" not in text, module
        for module in ("trees", "boosting", "adaboost", "forest"):
            assert f"from lib import {module}" not in text, module


# --------------------------------------------------------------------------- other correct answers
def _best_split_loop(x, y):
    """A plain Python scan with running sums (O(n log n) for the sort, O(n) after): also correct and fast."""
    order = sorted(range(len(x)), key=lambda i: x[i])
    xs, ys = [float(x[i]) for i in order], [float(y[i]) for i in order]
    total, total2, n = sum(ys), sum(v * v for v in ys), len(ys)
    best, sl = None, 0.0
    for i in range(n - 1):
        sl += ys[i]
        if xs[i + 1] == xs[i]:
            continue
        sse = total2 - sl * sl / (i + 1) - (total - sl) ** 2 / (n - i - 1)
        if best is None or sse < best[1]:
            best = (xs[i] + (xs[i + 1] - xs[i]) / 2, sse)
    return best


def _grad_hess_torch(loss_name, y, f):
    ft = torch.tensor(f, requires_grad=True)
    yt = torch.tensor(y)
    loss = {"squared": lambda: 0.5 * (yt - ft) ** 2, "logistic": lambda: torch.nn.functional.softplus(ft, threshold=1e9)
            - yt * ft, "exponential": lambda: torch.exp(-yt * ft)}[loss_name]()
    g, = torch.autograd.grad(loss.sum(), ft, create_graph=True)
    h, = torch.autograd.grad(g.sum(), ft)
    if loss_name == "logistic":  # the closed forms are more accurate than autograd's p - y near saturation
        return torch.sigmoid(ft).detach() - yt, torch.sigmoid(ft).detach() * torch.sigmoid(-ft).detach()
    return g.detach(), h


def _irls_lstsq(X, y, n_iter):
    A = np.c_[np.ones(len(y)), X]
    beta = np.zeros(A.shape[1])
    for _ in range(n_iter):
        f = A @ beta
        p = _sig(f)
        sw = np.sqrt(p * (1 - p))
        beta = np.linalg.lstsq(sw[:, None] * A, sw * (f + (y - p) / (p * (1 - p))), rcond=None)[0]
    return beta


ALTERNATIVES = [
    ("q1", "torch tensors, list inputs", dict(gini=lambda p: torch.tensor(1.0) - (torch.as_tensor(p) ** 2).sum(),
                                              zero_gain_split=([1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                                                               [0, 0, 0, 0, 1, 0, 0, 0, 1, 1], 5))),
    ("q2", "python loop with running sums", dict(best_split_1d=_best_split_loop)),
    ("q3", "gain from leaf objectives", dict(split_gain=lambda g, h, m, lam, gamma: 2 * (
        leaf_objective(g, h, lam) - leaf_objective(g[m], h[m], lam) - leaf_objective(g[~m], h[~m], lam)) - gamma)),
    ("q4", "torch autograd (tensors returned)", dict(grad_hess=_grad_hess_torch)),
    ("q4", "z from the closed form 1/p or -1/(1-p)", dict(working_response=lambda y, f: np.where(
        y == 1, 1 + np.exp(-f), -(1 + np.exp(np.clip(f, None, 700)))))),
    ("q6", "alpha from atanh", dict(adaboost_round=lambda w, y, h: (lambda e: (
        e, np.arctanh(1 - 2 * e), adaboost_round(w, y, h)[2]))(adaboost_round(w, y, h)[0]))),
    ("q7", "weighted lstsq", dict(irls_logistic=_irls_lstsq)),
]


@pytest.mark.parametrize("question, label, overrides", ALTERNATIVES, ids=[a[1] for a in ALTERNATIVES])
def test_alternative_correct_answers_pass(question, label, overrides):
    with np.errstate(all="ignore"):
        assert failures(question, {**REFERENCE, **overrides}) == {}


# --------------------------------------------------------------------------- known-wrong answers
def _split_mutant(kind):
    def f(x, y):
        if kind == "slow":
            if len(x) > 10_000:
                time.sleep(2.2)
            return best_split_1d(x, y)
        order = np.argsort(x, kind="stable")
        xs, ys = np.asarray(x, float)[order], np.asarray(y, float)[order]
        n = len(xs)
        nl = np.arange(1, n)
        cl = np.cumsum(ys)[:-1]
        score = cl ** 2 / nl + (ys.sum() - cl) ** 2 / (n - nl)
        if kind != "cuts between duplicates":
            score = np.where(xs[1:] > xs[:-1], score, -np.inf)
        i = int(np.argmax(score))
        sse = float(ys @ ys - score[i])
        if kind == "threshold at the left value":
            return xs[i], sse
        if kind == "threshold at the right value":
            return xs[i + 1], sse
        if kind == "sse of the parent minus gain sign":
            return (xs[i] + xs[i + 1]) / 2, float(score[i] - ys.sum() ** 2 / n)
        return (xs[i] + xs[i + 1]) / 2, sse
    return f


def _gh_mutant(kind):
    def f(loss_name, y, fv):
        g, h = grad_hess(loss_name, y, fv)
        if loss_name == "logistic" and kind == "y - p":
            return -g, h
        if loss_name == "logistic" and kind == "naive sigmoid":
            p = 1 / (1 + np.exp(-fv))
            return p - y, p * (1 - p)
        if loss_name == "exponential" and kind == "exp sign":
            return -g, h
        return g, h
    return f


def _naive_z(y, f):
    p = 1 / (1 + np.exp(-f))
    return (y - p) / (p * (1 - p))


def _l2_mutant(kind):
    def f(X, y, n_rounds, eta, fit_tree):
        F = [np.zeros(len(y)) if kind == "zero start" else np.full(len(y), y.mean())]
        for _ in range(n_rounds):
            target = y if kind == "fit y" else (F[-1] - y if kind == "residual sign" else y - F[-1])
            step = fit_tree(X, target).predict(X)
            F.append(F[-1] + (step if kind == "no eta" else eta * step))
        return np.array(F)
    return f


def _ada_mutant(kind):
    def f(w, y, h):
        w = w / w.sum() if kind != "unnormalised eps" else w
        eps = w[h != y].sum()
        if kind != "no ValueError" and not 0 < eps < 0.5:
            raise ValueError("eps")
        alpha = np.log((1 - eps) / eps) if kind == "no 1/2" else 0.5 * np.log((1 - eps) / eps)
        w_new = w * np.exp((alpha if kind == "sign" else -alpha) * y * h)
        return eps, alpha, (w_new if kind == "no normalisation" else w_new / w_new.sum())
    return f


def _irls_mutant(kind):
    def f(X, y, n_iter):
        if kind == "gradient ascent":
            A = np.c_[np.ones(len(y)), X]
            beta = np.zeros(A.shape[1])
            for _ in range(n_iter):
                beta = beta + 0.01 * A.T @ (y - _sig(A @ beta))
            return beta
        if kind == "no intercept":
            A = X
            beta = np.zeros(A.shape[1])
            for _ in range(n_iter):
                p = _sig(A @ beta)
                beta = beta + np.linalg.solve(A.T @ ((p * (1 - p))[:, None] * A), A.T @ (y - p))
            return np.r_[0.0, beta]
        return irls_logistic(X, y, n_iter)
    return f


def _importance_mutant(kind):
    def f(forest, X, y, rng):
        if kind == "book sign":
            return -oob_permutation_importance(forest, X, y, rng)
        if kind == "in-bag error":
            def err(Xe):
                return np.mean((y - np.mean([t.predict(Xe) for t in forest.trees], axis=0)) ** 2)
            out = np.zeros(X.shape[1])
            for j in range(X.shape[1]):
                Xp = X.copy()
                Xp[:, j] = X[rng.permutation(len(y)), j]
                out[j] = err(Xp) - err(X)
            return out
        if kind == "ratio":
            base = oob_error(forest, X, y)
            return (oob_permutation_importance(forest, X, y, rng) + base) / base
    return f


def _oob_in_bag(forest, X, y):
    return np.mean((y - np.mean([t.predict(X) for t in forest.trees], axis=0)) ** 2)


MUTANTS = [  # (question, label, overrides, caught by a public check)
    ("q1", "Gini as 1 - sum p (no square)", dict(gini=lambda p: 1 - np.sum(p)), True),
    ("q1", "Gini as sum p^2", dict(gini=lambda p: np.sum(np.square(p))), True),
    ("q1", "entropy in nats", dict(entropy=lambda p: entropy(p) * np.log(2)), True),
    ("q1", "entropy nan at p = 0", dict(entropy=lambda p: -np.sum(np.asarray(p) * np.log2(p))), True),
    ("q1", "misclassification 1 - min p", dict(misclassification=lambda p: 1 - np.min(p)), True),
    ("q1", "unweighted children", dict(impurity_decrease=lambda y, m, imp: (lambda c: imp(
        [np.mean(y == k) for k in c]) - 0.5 * imp([np.mean(y[m] == k) for k in c]) - 0.5 * imp(
        [np.mean(y[~m] == k) for k in c]))(np.unique(y))), True),
    ("q1", "a split where Gini gains nothing either", dict(zero_gain_split=(
        np.arange(8.0), np.array([0, 0, 0, 1, 0, 0, 0, 1]), 3.5)), True),
    ("q1", "a split with a misclassification gain", dict(zero_gain_split=(
        np.arange(6.0), np.array([0, 0, 0, 1, 1, 1]), 2.5)), True),
    ("q2", "threshold at the left data value", dict(best_split_1d=_split_mutant("threshold at the left value")), True),
    ("q2", "threshold at the right data value", dict(best_split_1d=_split_mutant("threshold at the right value")),
     True),
    ("q2", "cuts between duplicate values", dict(best_split_1d=_split_mutant("cuts between duplicates")), True),
    ("q2", "reports the gain, not the SSE", dict(best_split_1d=_split_mutant("sse of the parent minus gain sign")),
     True),
    ("q2", "too slow", dict(best_split_1d=_split_mutant("slow")), True),
    ("q3", "gain with the 1/2 of (9.35)", dict(split_gain=lambda g, h, m, lam, gamma: 0.5 * (
        split_gain(g, h, m, lam, 0.0)) - gamma), True),
    ("q3", "gamma halved with the bracket", dict(split_gain=lambda g, h, m, lam, gamma: 0.5 * (
        split_gain(g, h, m, lam, 0.0) - gamma)), True),
    ("q3", "gamma doubled", dict(split_gain=lambda g, h, m, lam, gamma: split_gain(g, h, m, lam, 0.0) - 2 * gamma), True),
    ("q3", "leaf weight sign", dict(leaf_weight=lambda g, h, lam: np.sum(g) / (np.sum(h) + lam)), True),
    ("q3", "leaf weight without lambda", dict(leaf_weight=lambda g, h, lam: -np.sum(g) / np.sum(h)), True),
    ("q3", "leaf objective without 1/2", dict(leaf_objective=lambda g, h, lam: 2 * leaf_objective(g, h, lam)), True),
    ("q4", "logistic g = y - p", dict(grad_hess=_gh_mutant("y - p")), True),
    ("q4", "naive sigmoid (1 - p underflows)", dict(grad_hess=_gh_mutant("naive sigmoid")), True),
    ("q4", "exponential g sign", dict(grad_hess=_gh_mutant("exp sign")), True),
    ("q4", "the golf claim: z = y - p, |z| < 1", dict(working_response=lambda y, f: y - _sig(f)), True),
    ("q4", "naive z (inf at f = 50)", dict(working_response=_naive_z), True),
    ("q4", "z with the sign flipped", dict(working_response=lambda y, f: -working_response(y, f)), True),
    ("q5", "trees fitted to y", dict(l2_boost=_l2_mutant("fit y")), True),
    ("q5", "F0 = 0", dict(l2_boost=_l2_mutant("zero start")), True),
    ("q5", "no eta", dict(l2_boost=_l2_mutant("no eta")), True),
    ("q5", "residual sign", dict(l2_boost=_l2_mutant("residual sign")), True),
    ("q6", "alpha without the 1/2", dict(adaboost_round=_ada_mutant("no 1/2")), True),
    ("q6", "weights not normalised", dict(adaboost_round=_ada_mutant("no normalisation")), True),
    ("q6", "eps from unnormalised weights", dict(adaboost_round=_ada_mutant("unnormalised eps")), True),
    ("q6", "update sign", dict(adaboost_round=_ada_mutant("sign")), True),
    ("q6", "no ValueError", dict(adaboost_round=_ada_mutant("no ValueError")), True),
    ("q6", "run with alpha without 1/2", dict(adaboost_run=lambda y, H, n: (lambda r: (2 * r[0], r[1]))(
        adaboost_run(y, H, n))), True),
    ("q7", "gradient ascent", dict(irls_logistic=_irls_mutant("gradient ascent")), True),
    ("q7", "no intercept", dict(irls_logistic=_irls_mutant("no intercept")), True),
    ("q8", "the book's sign Err_OOB - Err_perm", dict(oob_permutation_importance=_importance_mutant("book sign")), True),
    ("q8", "in-bag error", dict(oob_permutation_importance=_importance_mutant("in-bag error"),
                                oob_error=_oob_in_bag), True),
    ("q8", "ratio instead of difference", dict(oob_permutation_importance=_importance_mutant("ratio")), True),
]


@pytest.mark.parametrize("question, label, overrides, public", MUTANTS, ids=[m[1] for m in MUTANTS])
def test_mutant_is_rejected(question, label, overrides, public):
    assert_rejected(SPECS, question, REFERENCE, overrides, label, public)


def test_book_mistakes_are_named_in_the_messages():
    cases = [("q1", dict(gini=lambda p: 1 - np.sum(p)), "1 - sum p"),
             ("q2", dict(best_split_1d=_split_mutant("threshold at the left value")), "midpoint"),
             ("q3", dict(split_gain=lambda g, h, m, lam, gamma: 0.5 * split_gain(g, h, m, lam, 0.0) - gamma), "(9.35)"),
             ("q4", dict(working_response=lambda y, f: y - _sig(f)), "golf"),
             ("q6", dict(adaboost_round=_ada_mutant("no 1/2")), "1/2"),
             ("q8", dict(oob_permutation_importance=_importance_mutant("book sign")), "(9.88)")]
    assert_named(SPECS, REFERENCE, cases)


# --------------------------------------------------------------------------- stubs and junk answers
def _namespace_returning(value):
    ns = {name: (lambda *args, **kwargs: value) for name in REFERENCE}
    ns["zero_gain_split"] = value
    return ns


def test_none_stubs_score_zero_on_every_question():
    assert_blank_scores_zero(SPECS, _namespace_returning(None), QUESTIONS)


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_junk_answers_fail_with_messages(junk):
    ns = _namespace_returning(junk)
    assert_junk_explained(SPECS, ns, QUESTIONS, junk)
