"""The Chapter 10 exercise checks (public and hidden) accept right answers and reject known-wrong ones.

Each check function is called directly with implementations written here: correct references (and alternative
correct formulations) must pass every check of their question; each known-wrong mutant must fail at least one
check of its question with a message. The mutants include the chapter's own slips (spec [10-9]): the coordinate
update max{0, y_i g_i / Q_ii} of (10.65), the SMO step of Theorem 65 with g_i - g_j and the curvature
K_ii + K_jj - 2 y_i y_j K_ij, "the margin is twice the hull distance" (Theorem 60), the hinge minimiser 2 eta - 1,
a VC test that requires every set to be shattered, and the RBF feature coefficient sqrt(2 gamma^2 / 2!) of (10.95).
Stubs that return None score 0 everywhere, and junk return values give assertion messages, never crashes.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import linprog, minimize
from scipy.spatial.distance import cdist
from sklearn.svm import SVC

from lib.grading import load_checks
from tests.checks_support import (JUNK, JUNK_IDS, assert_blank_scores_zero, assert_junk_explained, assert_named,
                                  assert_public_and_hidden, assert_rejected, failures as _failures)

SPECS = load_checks("ch10_svm", hidden=True)
QUESTIONS = [f"q{i}" for i in range(1, 10)]


# --------------------------------------------------------------------------- correct references
def direction_to_hyperplane(X, y, u):
    p = X @ u
    a_pos, a_neg = p[y > 0].min(), p[y < 0].max()
    delta = (a_pos - a_neg) / 2
    return u / delta, -(a_pos + a_neg) / (2 * delta)


def dual_objective(alpha, y, K):
    c = alpha * y
    return float(alpha.sum() - 0.5 * c @ K @ c)


def w_from_alpha(alpha, X, y):
    return X.T @ (alpha * y)


def kkt_violations(alpha, b, y, K, C, mistake=""):
    m = y * (K @ (alpha * y) + b)
    lower = np.where(alpha < C, np.maximum(0.0, 1 - m), 0.0)
    upper = np.where(alpha > 0, np.maximum(0.0, m - 1), 0.0)
    box = np.maximum(0.0, np.maximum(-alpha, alpha - C))
    if mistake == "hard-margin reading":
        return np.maximum(np.maximum(0.0, 1 - m), box)
    if mistake == "no box":
        return np.maximum(lower, upper)
    return np.maximum(np.maximum(lower, upper), box)


def dca(K, y, C, n_sweeps, mistake=""):
    n = len(y)
    alpha, c = np.zeros(n), np.zeros(n)
    for sweep in range(n_sweeps):
        for i in range(n):
            g = 1.0 - y[i] * (K[i] @ c)
            if mistake == "book (10.65)":
                new = min(C, max(0.0, y[i] * g / K[i, i]))
            elif mistake == "no upper clip":
                new = max(0.0, alpha[i] + g / K[i, i])
            elif mistake == "no lower clip":
                new = min(C, alpha[i] + g / K[i, i])
            else:
                new = min(C, max(0.0, alpha[i] + g / K[i, i]))
            c[i] += (new - alpha[i]) * y[i]
            alpha[i] = new
        if mistake == "one sweep only":
            break
    return alpha


def rbf_kernel(X, Z, gamma):
    return np.exp(-gamma * cdist(X, Z, "sqeuclidean"))


def poly_kernel(X, Z, degree):
    return (1.0 + X @ Z.T) ** degree


def poly2_features(X, root2=math.sqrt(2)):
    n, d = X.shape
    cols = [np.ones(n)] + [root2 * X[:, i] for i in range(d)] + [X[:, i] ** 2 for i in range(d)]
    cols += [root2 * X[:, i] * X[:, j] for i, j in itertools.combinations(range(d), 2)]
    return np.column_stack(cols)


def rbf_taylor_features(X, gamma, max_degree, book=False):
    cols = []
    for k in range(max_degree + 1):
        for a1 in range(k + 1):
            top = 2 * gamma ** k if (book and k >= 2) else (2 * gamma) ** k
            cols.append(math.sqrt(top / (math.factorial(a1) * math.factorial(k - a1))) * X[:, 0] ** a1 * X[:, 1] ** (k - a1))
    return np.exp(-gamma * (X ** 2).sum(1))[:, None] * np.column_stack(cols)


def sigmoid_counterexample():
    return np.zeros((1, 3)), 0.5, -0.2


def smo_pair_update(alpha, G, i, j, K, y, C, tau=1e-12, mistake=""):
    if y[i] != y[j]:
        L, H = max(0.0, alpha[j] - alpha[i]), min(C, C + alpha[j] - alpha[i])
    else:
        L, H = max(0.0, alpha[i] + alpha[j] - C), min(C, alpha[i] + alpha[j])
    eta = K[i, i] + K[j, j] - 2 * (y[i] * y[j] if mistake == "book curvature" else 1.0) * K[i, j]
    if eta <= 0 and mistake != "eta unguarded":
        eta = tau
    diff = G[i] - G[j] if mistake == "book g_i - g_j" else y[i] * G[i] - y[j] * G[j]
    with np.errstate(all="ignore"):
        aj = alpha[j] + y[j] * diff / eta
    if mistake != "no clipping":
        aj = min(max(aj, L), H)
    sign = -1.0 if mistake == "alpha_i sign" else 1.0
    return alpha[i] + sign * y[i] * y[j] * (alpha[j] - aj), aj


def hull_closest_points(Xp, Xn):
    n_p, n_n = len(Xp), len(Xn)
    M = np.vstack([Xp, -Xn])

    def fun(z):
        r = z @ M
        return r @ r, 2 * M @ r

    cons = [{"type": "eq", "fun": lambda z: z[:n_p].sum() - 1}, {"type": "eq", "fun": lambda z: z[n_p:].sum() - 1}]
    z = minimize(fun, np.r_[np.full(n_p, 1 / n_p), np.full(n_n, 1 / n_n)], jac=True, method="SLSQP",
                 bounds=[(0, 1)] * (n_p + n_n), constraints=cons, options=dict(ftol=1e-16, maxiter=1000)).x
    z = np.clip(z, 0, None)
    return z[:n_p] / z[:n_p].sum(), z[n_p:] / z[n_p:].sum()


def svm_from_hull(p, q):
    s = p - q
    w = 2 * s / (s @ s)
    return w, float(-w @ (p + q) / 2)


def population_minimizer(loss, eta):
    lo = math.log(eta / (1 - eta))
    return {"logistic": lo, "exponential": lo / 2, "hinge": float(np.sign(2 * eta - 1))}[loss]


def empirical_rademacher_linear(X, B, n_mc, rng):
    S = rng.choice([-1.0, 1.0], size=(n_mc, len(X)))
    return float(B / len(X) * np.linalg.norm(S @ X, axis=1).mean())


def _separable(X, y, bias=True):
    A = -y[:, None] * (np.column_stack([X, np.ones(len(X))]) if bias else X)
    res = linprog(np.zeros(A.shape[1]), A_ub=A, b_ub=-np.ones(len(X)), bounds=[(None, None)] * A.shape[1], method="highs")
    return res.status == 0


def shatters(X, bias=True):
    return all(_separable(X, np.array(lab), bias) for lab in itertools.product([-1.0, 1.0], repeat=len(X)))


def vc_estimate(point_sets):
    return max([len(P) for P in point_sets if shatters(P)], default=0)


def maxent_on_grid(grid, mu, var, n_newton=100):
    phi = np.column_stack([grid, (grid - mu) ** 2])
    lam, target = np.array([0.0, -0.5 / var]), np.array([mu, var])
    for _ in range(n_newton):
        s = phi @ lam
        p = np.exp(s - s.max())
        p /= p.sum()
        mean = p @ phi
        centred = phi - mean
        lam = lam - np.linalg.solve((centred * p[:, None]).T @ centred, mean - target)
    return p


def _maxent_by_scipy(grid, mu, var):
    """Maximise the entropy directly (SLSQP would be slow on 2001 variables): solve the moment equations with
    scipy.optimize.root over (l1, l2)."""
    from scipy.optimize import root

    def p_of(lam):
        s = lam[0] * grid + lam[1] * (grid - mu) ** 2
        p = np.exp(s - s.max())
        return p / p.sum()

    lam = root(lambda lam: [p_of(lam) @ grid - mu, p_of(lam) @ (grid - mu) ** 2 - var], [0.0, -0.5 / var],
               method="hybr", options=dict(xtol=1e-14)).x
    return p_of(lam)


def _gaussian_on_grid(grid, mu, var):
    q = np.exp(-(grid - mu) ** 2 / (2 * var))
    return q / q.sum()


REFERENCE = dict(maxent_on_grid=maxent_on_grid, direction_to_hyperplane=direction_to_hyperplane, dual_objective=dual_objective,
                 w_from_alpha=w_from_alpha, kkt_violations=kkt_violations, dca=dca, rbf_kernel=rbf_kernel,
                 poly_kernel=poly_kernel, poly2_features=poly2_features, rbf_taylor_features=rbf_taylor_features,
                 sigmoid_counterexample=sigmoid_counterexample, smo_pair_update=smo_pair_update,
                 hull_closest_points=hull_closest_points, svm_from_hull=svm_from_hull,
                 population_minimizer=population_minimizer, empirical_rademacher_linear=empirical_rademacher_linear,
                 shatters=shatters, vc_estimate=vc_estimate)


def failures(question, namespace, junk_only=False, only=None):
    return _failures(SPECS, question, namespace, junk_only=junk_only, only=only)


def test_every_question_has_public_and_hidden_checks():
    assert_public_and_hidden(SPECS, QUESTIONS, (30, 50))


@pytest.mark.parametrize("question", QUESTIONS)
def test_reference_passes_every_check(question):
    assert failures(question, REFERENCE) == {}


# --------------------------------------------------------------------------- alternative correct answers
def _hull_from_svc(Xp, Xn):
    """The normalised dual variables of a hard-margin SVC are the hull weights."""
    X, y = np.vstack([Xp, Xn]), np.r_[np.ones(len(Xp)), -np.ones(len(Xn))]
    m = SVC(kernel="linear", C=1e8, tol=1e-12).fit(X, y)
    a = np.zeros(len(y))
    a[m.support_] = np.abs(m.dual_coef_[0])
    return a[:len(Xp)] / a[:len(Xp)].sum(), a[len(Xp):] / a[len(Xp):].sum()


def _smo_via_errors(alpha, G, i, j, K, y, C, tau=1e-12):
    """The E_k = f(x_k) - y_k form (Platt), with the box written through s = y_i y_j."""
    E = y * G
    s = y[i] * y[j]
    gamma = alpha[i] * s + alpha[j]  # invariant: s alpha_i + alpha_j
    L, H = (max(0.0, gamma - C), min(C, gamma)) if s > 0 else (max(0.0, gamma), min(C, C + gamma))
    eta = max(K[i, i] + K[j, j] - 2 * K[i, j], tau)
    aj = float(np.clip(alpha[j] + y[j] * (E[i] - E[j]) / eta, L, H))
    return gamma * s - s * aj, aj


def _rademacher_by_integers(X, B, n_mc, rng):
    total = 0.0
    for _ in range(n_mc):
        s = 2.0 * rng.integers(0, 2, len(X)) - 1
        total += np.linalg.norm(s @ X)
    return B * total / (n_mc * len(X))


ALTERNATIVES = [
    ("q1", "tuple of lists", dict(direction_to_hyperplane=lambda X, y, u: tuple(
        v.tolist() if isinstance(v, np.ndarray) else v for v in direction_to_hyperplane(X, y, u)))),
    ("q4", "sklearn-free rbf by broadcasting", dict(rbf_kernel=lambda X, Z, g: np.exp(-g * ((X[:, None] - Z[None]) ** 2).sum(-1)))),
    ("q4", "another counterexample", dict(sigmoid_counterexample=lambda: (np.array([[1.0, 0.0], [2.0, 0.0]]), 1.0, 0.0))),
    ("q5", "Platt's E form", dict(smo_pair_update=_smo_via_errors)),
    ("q6", "hull weights from SVC's alpha", dict(hull_closest_points=_hull_from_svc)),
    ("q8", "signs from rng.integers", dict(empirical_rademacher_linear=_rademacher_by_integers)),
    ("q9", "moment equations by scipy.optimize.root", dict(maxent_on_grid=_maxent_by_scipy)),
]


@pytest.mark.parametrize("question, label, overrides", ALTERNATIVES, ids=[a[1] for a in ALTERNATIVES])
def test_alternative_correct_answers_pass(question, label, overrides):
    assert failures(question, {**REFERENCE, **overrides}) == {}


# --------------------------------------------------------------------------- known-wrong answers
def _q1_mutant(kind):
    def f(X, y, u):
        p = X @ u
        a_pos, a_neg = p[y > 0].min(), p[y < 0].max()
        if kind == "class means":
            a_pos, a_neg = p[y > 0].mean(), p[y < 0].mean()
        delta = (a_pos - a_neg) / 2
        if kind == "full gap":
            return u / (a_pos - a_neg), -(a_pos + a_neg) / 2 / (a_pos - a_neg)
        b = -(a_pos + a_neg) / (2 * delta)
        return u / delta, (-b if kind == "b sign" else b)
    return f


def _rad_mutant(kind):
    def f(X, B, n_mc, rng):
        n = len(X)
        if kind == "bound":
            return B / n * math.sqrt((X ** 2).sum())
        S = rng.choice([0.0, 1.0] if kind == "0/1 signs" else [-1.0, 1.0], size=(n_mc, n))
        norms = np.linalg.norm(S @ X, axis=1)
        if kind == "no B":
            return float(norms.mean() / n)
        if kind == "squared norm":
            return float(B / n * (norms ** 2).mean())
        return float(B / n * norms.mean())
    return f


MUTANTS = [  # (question, label, overrides, caught by a public check)
    ("q1", "w = u / full gap", dict(direction_to_hyperplane=_q1_mutant("full gap")), True),
    ("q1", "b with the wrong sign", dict(direction_to_hyperplane=_q1_mutant("b sign")), True),
    ("q1", "class means instead of extremes", dict(direction_to_hyperplane=_q1_mutant("class means")), True),
    ("q2", "the garbled (10.37): no labels", dict(dual_objective=lambda a, y, K: float(a.sum() - 0.5 * a @ K @ a)), True),
    ("q2", "no 1/2", dict(dual_objective=lambda a, y, K: float(a.sum() - (a * y) @ K @ (a * y))), True),
    ("q2", "w without labels", dict(w_from_alpha=lambda a, X, y: X.T @ a), True),
    ("q2", "KKT hard-margin reading", dict(kkt_violations=lambda *a: kkt_violations(*a, mistake="hard-margin reading")), True),
    ("q2", "KKT without the box", dict(kkt_violations=lambda *a: kkt_violations(*a, mistake="no box")), True),
    ("q3", "the text's (10.65)", dict(dca=lambda *a: dca(*a, mistake="book (10.65)")), True),
    ("q3", "no clip at C", dict(dca=lambda *a: dca(*a, mistake="no upper clip")), True),
    ("q3", "no clip at 0", dict(dca=lambda *a: dca(*a, mistake="no lower clip")), True),
    ("q3", "one sweep only", dict(dca=lambda *a: dca(*a, mistake="one sweep only")), True),
    ("q4", "rbf with 1/(2 gamma)", dict(rbf_kernel=lambda X, Z, g: np.exp(-cdist(X, Z, "sqeuclidean") / (2 * g))), True),
    ("q4", "poly without the 1", dict(poly_kernel=lambda X, Z, d: (X @ Z.T) ** d), True),
    ("q4", "poly2 features without sqrt 2", dict(poly2_features=lambda X: poly2_features(X, root2=1.0)), True),
    ("q4", "the text's (10.95) RBF coefficient", dict(
        rbf_taylor_features=lambda X, g, D: rbf_taylor_features(X, g, D, book=True)), True),
    ("q4", "a PSD 'counterexample'", dict(sigmoid_counterexample=lambda: (np.zeros((2, 2)), 1.0, 0.5)), True),
    ("q5", "Theorem 65's g_i - g_j", dict(smo_pair_update=lambda *a: smo_pair_update(*a, mistake="book g_i - g_j")), True),
    ("q5", "Theorem 65's curvature", dict(smo_pair_update=lambda *a: smo_pair_update(*a, mistake="book curvature")), True),
    ("q5", "no clipping", dict(smo_pair_update=lambda *a: smo_pair_update(*a, mistake="no clipping")), True),
    ("q5", "alpha_i moved the wrong way", dict(smo_pair_update=lambda *a: smo_pair_update(*a, mistake="alpha_i sign")), True),
    ("q5", "eta <= 0 unguarded", dict(smo_pair_update=lambda *a: smo_pair_update(*a, mistake="eta unguarded")), False),
    ("q6", "class means as closest points", dict(hull_closest_points=lambda Xp, Xn: (
        np.full(len(Xp), 1 / len(Xp)), np.full(len(Xn), 1 / len(Xn)))), True),
    ("q6", "margin = twice the hull distance", dict(svm_from_hull=lambda p, q: (
        (p - q) / (2 * ((p - q) @ (p - q))), float(-((p - q) / (2 * ((p - q) @ (p - q)))) @ (p + q) / 2))), True),
    ("q6", "1/||w|| = D", dict(svm_from_hull=lambda p, q: (
        (p - q) / ((p - q) @ (p - q)), float(-((p - q) / ((p - q) @ (p - q))) @ (p + q) / 2))), True),
    ("q6", "b sign", dict(svm_from_hull=lambda p, q: (svm_from_hull(p, q)[0], -svm_from_hull(p, q)[1])), True),
    ("q7", "hinge minimiser 2 eta - 1", dict(population_minimizer=lambda loss, eta: 2 * eta - 1 if loss == "hinge"
                                             else population_minimizer(loss, eta)), True),
    ("q7", "logistic: half the log-odds", dict(population_minimizer=lambda loss, eta: population_minimizer(
        "exponential", eta) if loss == "logistic" else population_minimizer(loss, eta)), True),
    ("q7", "exponential: the full log-odds", dict(population_minimizer=lambda loss, eta: population_minimizer(
        "logistic", eta) if loss == "exponential" else population_minimizer(loss, eta)), True),
    ("q8", "the bound instead of the estimate", dict(empirical_rademacher_linear=_rad_mutant("bound")), True),
    ("q8", "no B", dict(empirical_rademacher_linear=_rad_mutant("no B")), True),
    ("q8", "0/1 signs", dict(empirical_rademacher_linear=_rad_mutant("0/1 signs")), True),
    ("q8", "squared norm", dict(empirical_rademacher_linear=_rad_mutant("squared norm")), True),
    ("q8", "halfspaces through the origin", dict(shatters=lambda X: shatters(X, bias=False)), True),
    ("q8", "VC: every set must be shattered", dict(vc_estimate=lambda sets: max(
        [k for k in {len(P) for P in sets} if all(shatters(P) for P in sets if len(P) == k)], default=0)), True),
    ("q9", "variance constraint = sigma", dict(maxent_on_grid=lambda g, mu, var: maxent_on_grid(g, mu, math.sqrt(var))),
     True),
    ("q9", "the Gaussian density normalised on the grid", dict(maxent_on_grid=_gaussian_on_grid), True),
    ("q9", "uniform on the grid", dict(maxent_on_grid=lambda g, mu, var: np.full(len(g), 1 / len(g))), True),
    ("q9", "one Newton step only", dict(maxent_on_grid=lambda g, mu, var: maxent_on_grid(g, mu, var, n_newton=1)),
     True),
]


@pytest.mark.parametrize("question, label, overrides, public", MUTANTS, ids=[m[1] for m in MUTANTS])
def test_mutant_is_rejected(question, label, overrides, public):
    assert_rejected(SPECS, question, REFERENCE, overrides, label, public)


def _overrides(label):
    return next(m[2] for m in MUTANTS if m[1] == label)


def test_book_mistakes_are_named_in_the_messages():
    cases = [("q3", dict(dca=lambda *a: dca(*a, mistake="book (10.65)")), "(10.65)"),
             ("q4", dict(rbf_taylor_features=lambda X, g, D: rbf_taylor_features(X, g, D, book=True)), "(10.95)"),
             ("q5", dict(smo_pair_update=lambda *a: smo_pair_update(*a, mistake="book g_i - g_j")), "Theorem 65"),
             ("q5", dict(smo_pair_update=lambda *a: smo_pair_update(*a, mistake="book curvature")), "Theorem 65"),
             ("q6", _overrides("margin = twice the hull distance"), "twice the hull distance"),
             ("q7", _overrides("hinge minimiser 2 eta - 1"), "sign(2 eta - 1)"),
             ("q8", _overrides("VC: every set must be shattered"), "every candidate set"),
             ("q2", _overrides("the garbled (10.37): no labels"), "(10.37)"),
             ("q9", dict(maxent_on_grid=lambda g, mu, var: maxent_on_grid(g, mu, math.sqrt(var))), "sigma instead")]
    assert_named(SPECS, REFERENCE, cases)


# --------------------------------------------------------------------------- stubs and junk answers
def _namespace_returning(value):
    return {name: (lambda *args, **kwargs: value) for name in REFERENCE}


def test_none_stubs_score_zero_on_every_question():
    assert_blank_scores_zero(SPECS, _namespace_returning(None), QUESTIONS)


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_junk_answers_fail_with_messages(junk):
    ns = _namespace_returning(junk)
    assert_junk_explained(SPECS, ns, QUESTIONS, junk)


def test_references_reproduce_the_chapter_numbers():
    """Facts the spec states, from this file's references (the checks compute theirs independently)."""
    tri = np.array([[0.0, 0.0], [1.0, 0.0], [0.3, 1.0]])
    assert shatters(tri) and not shatters(np.vstack([tri, [[1.0, 1.0]]]))
    assert not shatters(tri, bias=False)  # homogeneous lines in R^2 have VC dimension 2
    X = np.random.default_rng(0).uniform(-1, 1, (5, 2))
    F = rbf_taylor_features(X, 0.7, 20)
    np.testing.assert_allclose(F @ F.T, rbf_kernel(X, X, 0.7), atol=1e-12)
