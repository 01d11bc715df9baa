"""The Chapter 1 exercise checks (public and hidden) accept right answers and reject known-wrong ones.

Each check function is called directly with implementations written here: correct references (and
alternative correct formulations) must pass every check of their question; each known-wrong mutant
(sign flips, a lost 1/2, sklearn's ridge convention, the book's own slips) must fail at least one check
of its question with an AssertionError that says what is off. Stubs that return None score 0 everywhere,
and junk return values give assertion messages, never crashes.

ddof decision for q1: the standardised slope is the least-squares slope of the standardised y on the
standardised x, which is r whatever ddof is used consistently; only mixing them (a mean of products of
ddof=1 z-scores, r (n-1)/n) is wrong. Both conventions are accepted below.
"""
from __future__ import annotations


import numpy as np
import pytest
from scipy import stats
from scipy.special import expit

from lib.data import galton_families, galton_sons
from lib.grading import load_checks
from tests.checks_support import (JUNK, JUNK_IDS, assert_blank_scores_zero, assert_junk_explained,
                                  assert_public_and_hidden, assert_rejected, call, failures as _failures)

SPECS = load_checks("ch01_regression", hidden=True)
QUESTIONS = [f"q{i}" for i in range(1, 9)]


# --------------------------------------------------------------------------- correct references
def slope_through_origin(x, y):
    return float(np.dot(x, y) / np.dot(x, x))


def standardized_slope(x, y):
    zx, zy = (x - x.mean()) / x.std(), (y - y.mean()) / y.std()
    return float(np.mean(zx * zy))


def ls_gradient(beta, X, y):
    return -X.T @ (y - X @ beta)


def gd_step(beta, X, y, eta):
    return beta - eta * ls_gradient(beta, X, y)


def fit_least_squares(X, y, ridge=0.0, fit_intercept=False):
    A = np.column_stack([np.ones(len(X)), X]) if fit_intercept else np.asarray(X, dtype=float)
    D = np.diag([0.0] + [1.0] * (A.shape[1] - 1)) if fit_intercept else np.eye(A.shape[1])
    return np.linalg.solve(A.T @ A + 2 * ridge * D, A.T @ y)


def hinge_features(x, p, xmin=None, xmax=None):
    x = np.asarray(x, dtype=float)
    xmin = x.min() if xmin is None else xmin
    xmax = x.max() if xmax is None else xmax
    knots = xmin + np.arange(1, p + 1) * (xmax - xmin) / (p + 1)
    return np.column_stack([np.ones(len(x)), np.maximum(0.0, x[:, None] - knots)])


def min_norm_interpolant(Phi, y):
    return np.linalg.pinv(Phi) @ y


def gd_from(beta0, Phi, y, eta, steps):
    beta = np.array(beta0, dtype=float)
    for _ in range(steps):
        beta = beta + eta * Phi.T @ (y - Phi @ beta)
    return beta


def logistic_grad(beta, X, y):
    return X.T @ (y - expit(X @ beta))


def fit_logistic(X, y):
    A = np.column_stack([np.ones(len(X)), X])
    beta = np.zeros(A.shape[1])
    for _ in range(50):  # Newton / IRLS
        p = expit(A @ beta)
        step = np.linalg.solve(A.T @ (A * (p * (1 - p))[:, None]), A.T @ (y - p))
        beta = beta + step
        if np.abs(step).max() < 1e-13 * (1 + np.abs(beta).max()):
            break
    return beta


def heavy_ball(grad, x0, eta, gamma, steps):
    x, v = np.array(x0, dtype=float), np.zeros(len(x0))
    path = [x]
    for _ in range(steps):
        v = gamma * v + grad(x)
        x = x - eta * v
        path.append(x)
    return np.array(path)


def optimal_heavy_ball(mu, L):
    q = (np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))
    return 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2, q ** 2


def chord_gap(f, a, b, r):
    return (1 - r) * f(a) + r * f(b) - f((1 - r) * a + r * b)


REFERENCE = dict(slope_through_origin=slope_through_origin, standardized_slope=standardized_slope,
                 ls_gradient=ls_gradient, gd_step=gd_step, fit_least_squares=fit_least_squares,
                 hinge_features=hinge_features, min_norm_interpolant=min_norm_interpolant, gd_from=gd_from,
                 logistic_grad=logistic_grad, fit_logistic=fit_logistic, heavy_ball=heavy_ball,
                 optimal_heavy_ball=optimal_heavy_ball, chord_gap=chord_gap, violation=(-1.0, 1.0, 0.5))


def failures(question, namespace, junk_only=False, only=None):
    return _failures(SPECS, question, namespace, junk_only, only)


def test_every_question_has_public_and_hidden_checks():
    assert_public_and_hidden(SPECS, QUESTIONS, (28, 36))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.question}-{s.name}")
def test_reference_passes(spec):
    call(spec, REFERENCE)


# --------------------------------------------------------------------------- other correct answers
def _polyak_heavy_ball(grad, x0, eta, gamma, steps):
    path = [np.array(x0, dtype=float)]
    for t in range(steps):
        previous = path[t - 1] if t > 0 else path[0]
        path.append(path[t] - eta * grad(path[t]) + gamma * (path[t] - previous))
    return path  # a list of arrays is fine


def _ridge_by_augmentation(X, y, ridge=0.0, fit_intercept=False):
    A = np.column_stack([np.ones(len(X)), X]) if fit_intercept else X
    D = np.sqrt(2 * ridge) * np.eye(A.shape[1])[int(fit_intercept):]
    return np.linalg.lstsq(np.vstack([A, D]), np.concatenate([y, np.zeros(len(D))]))[0]


ALTERNATIVES = [
    ("q1", "ddof=1 used consistently in the slope", dict(standardized_slope=lambda x, y: (
        lambda zx, zy: float(zx @ zy / (zx @ zx)))((x - x.mean()) / x.std(ddof=1), (y - y.mean()) / y.std(ddof=1)))),
    ("q1", "scipy.stats.pearsonr", dict(standardized_slope=lambda x, y: stats.pearsonr(x, y)[0],
                                        slope_through_origin=lambda x, y: np.sum(x * y) / np.sum(x ** 2))),
    ("q3", "ridge as an augmented least-squares problem", dict(fit_least_squares=_ridge_by_augmentation)),
    ("q4", "knots from np.linspace", dict(hinge_features=lambda x, p, xmin=None, xmax=None: np.column_stack(
        [np.ones(len(x))] + [np.maximum(0, np.asarray(x, float) - c) for c in np.linspace(
            np.min(x) if xmin is None else xmin, np.max(x) if xmax is None else xmax, p + 2)[1:-1]]))),
    ("q5", "np.linalg.lstsq", dict(min_norm_interpolant=lambda Phi, y: np.linalg.lstsq(Phi, y)[0])),
    ("q6", "sigmoid through tanh", dict(logistic_grad=lambda b, X, y: X.T @ (y - (1 + np.tanh(X @ b / 2)) / 2))),
    ("q7", "Polyak's two-step form", dict(heavy_ball=_polyak_heavy_ball)),
    ("q8", "violation as an array", dict(violation=np.array([-1.5, 1.2, 0.4]))),
]


@pytest.mark.parametrize("question, label, overrides", ALTERNATIVES, ids=[a[1] for a in ALTERNATIVES])
def test_alternative_correct_answers_pass(question, label, overrides):
    assert failures(question, {**REFERENCE, **overrides}) == {}


# --------------------------------------------------------------------------- known-wrong answers
def _standardize_no_centring(x, y):
    zx, zy = x / x.std(), y / y.std()
    return float(zx @ zy / (zx @ zx))


def _fit_alpha_convention(X, y, ridge=0.0, fit_intercept=False):
    return fit_least_squares(X, y, ridge / 2, fit_intercept)


def _fit_penalised_intercept(X, y, ridge=0.0, fit_intercept=False):
    A = np.column_stack([np.ones(len(X)), X]) if fit_intercept else X
    return np.linalg.solve(A.T @ A + 2 * ridge * np.eye(A.shape[1]), A.T @ y)


def _fit_centring_in_place(X, y, ridge=0.0, fit_intercept=False):
    if not fit_intercept:
        return fit_least_squares(X, y, ridge)
    xm, ym = X.mean(axis=0), y.mean()
    X -= xm  # mutates the caller's array
    w = np.linalg.solve(X.T @ X + 2 * ridge * np.eye(X.shape[1]), X.T @ (y - ym))
    return np.concatenate([[ym - xm @ w], w])


def _hinge_with_knots(knot_rule, ones=True, ramp=lambda u: np.maximum(0.0, u)):
    def hinge(x, p, xmin=None, xmax=None):
        x = np.asarray(x, dtype=float)
        lo = x.min() if xmin is None else xmin
        hi = x.max() if xmax is None else xmax
        cols = ramp(x[:, None] - knot_rule(p, lo, hi, x))
        return np.column_stack([np.ones(len(x)), cols]) if ones else cols
    return hinge


def _hinge_sorting_in_place(x, p, xmin=None, xmax=None):
    x.sort()  # mutates (and reorders) the caller's data
    return hinge_features(x, p, xmin, xmax)


def _gd_from_in_place(beta0, Phi, y, eta, steps):
    beta = beta0
    for _ in range(steps):
        beta += eta * Phi.T @ (y - Phi @ beta)
    return beta


def _gd_step_in_place(beta, X, y, eta):
    beta -= eta * ls_gradient(beta, X, y)
    return beta


def _logistic_naive_sigmoid(beta, X, y):
    s = X @ beta
    return X.T @ (y - np.exp(s) / (1 + np.exp(s)))


def _fit_logistic_short_gd(X, y):
    A = np.column_stack([np.ones(len(X)), X])
    beta = np.zeros(A.shape[1])
    for _ in range(200):
        beta = beta + 1e-3 * A.T @ (y - expit(A @ beta))
    return beta


def _fit_logistic_no_intercept(X, y):
    beta = np.zeros(X.shape[1])
    for _ in range(50):
        p = expit(X @ beta)
        beta = beta + np.linalg.solve(X.T @ (X * (p * (1 - p))[:, None]), X.T @ (y - p))
    return beta


def _momentum(update):
    """heavy_ball variants: ``update(x, v, g, eta, gamma) -> (x, v)``."""
    def hb(grad, x0, eta, gamma, steps):
        x, v, path = np.array(x0, dtype=float), np.zeros(len(x0)), [np.array(x0, dtype=float)]
        for _ in range(steps):
            x, v = update(x, v, grad(x), eta, gamma)
            path.append(x)
        return np.array(path)
    return hb


def _heavy_ball_aliasing(grad, x0, eta, gamma, steps):
    x, v = np.array(x0, dtype=float), np.zeros(len(x0))
    path = [x]
    for _ in range(steps):
        v = gamma * v + grad(x)
        x -= eta * v  # the same array object is stored at every step
        path.append(x)
    return np.array(path)


def _heavy_ball_mutating_x0(grad, x0, eta, gamma, steps):
    x, v, path = x0, np.zeros(len(x0)), [x0.copy()]
    for _ in range(steps):
        v = gamma * v + grad(x)
        x -= eta * v
        path.append(x.copy())
    return np.array(path)


def _q(mu, L):
    return (np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))


# (question, label, overrides, rejected by a public check?) ; "book:" marks the draft's own slips (spec Ch1-9)
MUTANTS = [
    ("q1", "slope as mean(y)/mean(x)", dict(slope_through_origin=lambda x, y: y.mean() / x.mean()), True),
    ("q1", "slope with x and y swapped", dict(slope_through_origin=lambda x, y: x @ y / (y @ y)), True),
    ("q1", "slope of a line with an intercept", dict(slope_through_origin=lambda x, y: np.polyfit(x, y, 1)[0]), True),
    ("q1", "book: standardised slope without centring", dict(standardized_slope=_standardize_no_centring), True),
    ("q1", "book: cos of the angle between uncentred vectors",
     dict(standardized_slope=lambda x, y: x @ y / np.linalg.norm(x) / np.linalg.norm(y)), True),
    ("q1", "raw least-squares slope (not standardised)",
     dict(standardized_slope=lambda x, y: np.polyfit(x, y, 1)[0]), True),
    ("q1", "mean of products of ddof=1 z-scores", dict(standardized_slope=lambda x, y: np.mean(
        (x - x.mean()) / x.std(ddof=1) * (y - y.mean()) / y.std(ddof=1))), True),
    ("q1", "the whole correlation matrix", dict(standardized_slope=lambda x, y: np.corrcoef(x, y)), True),
    ("q1", "slope with one coordinate negated", dict(standardized_slope=lambda x, y: abs(np.corrcoef(x, y)[0, 1])), True),
    ("q2", "gradient with its sign flipped", dict(ls_gradient=lambda b, X, y: X.T @ (y - X @ b)), True),
    ("q2", "gradient without the 1/2 (factor 2)", dict(ls_gradient=lambda b, X, y: -2 * X.T @ (y - X @ b)), True),
    ("q2", "gradient averaged over n", dict(ls_gradient=lambda b, X, y: -X.T @ (y - X @ b) / len(y)), True),
    ("q2", "book: OCR error e = Y + X beta", dict(ls_gradient=lambda b, X, y: -X.T @ (y + X @ b)), True),
    ("q2", "book: OCR step beta + eta L'", dict(gd_step=lambda b, X, y, eta: b + eta * ls_gradient(b, X, y)), True),
    ("q2", "gd_step updates beta in place", dict(gd_step=_gd_step_in_place), False),
    ("q3", "ridge with sklearn's alpha = lambda", dict(fit_least_squares=_fit_alpha_convention), True),
    ("q3", "penalised intercept", dict(fit_least_squares=_fit_penalised_intercept), True),
    ("q3", "intercept last", dict(fit_least_squares=lambda X, y, ridge=0.0, fit_intercept=False: np.roll(
        fit_least_squares(X, y, ridge, fit_intercept), -1 if fit_intercept else 0)), True),
    ("q3", "fit_intercept ignored", dict(fit_least_squares=lambda X, y, ridge=0.0, fit_intercept=False:
                                         fit_least_squares(X, y, ridge, False)), True),
    ("q3", "ridge ignored", dict(fit_least_squares=lambda X, y, ridge=0.0, fit_intercept=False:
                                 fit_least_squares(X, y, 0.0, fit_intercept)), True),
    ("q3", "centres X in place", dict(fit_least_squares=_fit_centring_in_place), False),
    ("q4", "off-by-one Delta = (xmax - xmin)/p",
     dict(hinge_features=_hinge_with_knots(lambda p, lo, hi, x: lo + np.arange(1, p + 1) * (hi - lo) / p)), True),
    ("q4", "knots over [xmin, xmax] including the ends",
     dict(hinge_features=_hinge_with_knots(lambda p, lo, hi, x: np.linspace(lo, hi, p))), True),
    ("q4", "knots from j = 0", dict(hinge_features=_hinge_with_knots(
        lambda p, lo, hi, x: lo + np.arange(p) * (hi - lo) / (p + 1))), True),
    ("q4", "knots over the data range, ignoring xmin and xmax", dict(hinge_features=_hinge_with_knots(
        lambda p, lo, hi, x: x.min() + np.arange(1, p + 1) * (x.max() - x.min()) / (p + 1))), True),
    ("q4", "no column of ones", dict(hinge_features=_hinge_with_knots(
        lambda p, lo, hi, x: lo + np.arange(1, p + 1) * (hi - lo) / (p + 1), ones=False)), True),
    ("q4", "|x - c| instead of max(0, x - c)", dict(hinge_features=_hinge_with_knots(
        lambda p, lo, hi, x: lo + np.arange(1, p + 1) * (hi - lo) / (p + 1), ramp=np.abs)), True),
    ("q4", "min(0, x - c)", dict(hinge_features=_hinge_with_knots(
        lambda p, lo, hi, x: lo + np.arange(1, p + 1) * (hi - lo) / (p + 1), ramp=lambda u: np.minimum(0.0, u))), True),
    ("q4", "sorts x in place", dict(hinge_features=_hinge_sorting_in_place), False),
    ("q5", "normal equations with the singular X^T X",
     dict(min_norm_interpolant=lambda Phi, y: np.linalg.solve(Phi.T @ Phi, Phi.T @ y)), True),
    ("q5", "an interpolant on the first n columns", dict(min_norm_interpolant=lambda Phi, y: np.concatenate(
        [np.linalg.lstsq(Phi[:, :len(y)], y)[0], np.zeros(Phi.shape[1] - len(y))])), True),
    ("q5", "pinv of the wrong matrix (Phi Phi^T)", dict(min_norm_interpolant=lambda Phi, y: np.linalg.pinv(Phi @ Phi.T) @ y), True),
    ("q5", "Phi^T (Phi Phi^T)^-1 y (needs full row rank)", dict(min_norm_interpolant=lambda Phi, y: Phi.T @ np.linalg.solve(
        Phi @ Phi.T, y)), False),
    ("q5", "book: GD from beta0 returns pinv y", dict(gd_from=lambda b0, Phi, y, eta, steps: np.linalg.pinv(Phi) @ y), True),
    ("q5", "GD restarted from zero", dict(gd_from=lambda b0, Phi, y, eta, steps: gd_from(np.zeros_like(b0), Phi, y, eta, steps)), True),
    ("q5", "GD uphill", dict(gd_from=lambda b0, Phi, y, eta, steps: gd_from(b0, Phi, y, -eta, steps)), True),
    ("q5", "GD one step short", dict(gd_from=lambda b0, Phi, y, eta, steps: gd_from(b0, Phi, y, eta, steps - 1)), True),
    ("q5", "GD updates beta0 in place", dict(gd_from=_gd_from_in_place), False),
    ("q6", "book: OCR gradient X^T (p - y)", dict(logistic_grad=lambda b, X, y: X.T @ (expit(X @ b) - y)), True),
    ("q6", "least-squares error y - s", dict(logistic_grad=lambda b, X, y: X.T @ (y - X @ b)), True),
    ("q6", "gradient with respect to s, not beta", dict(logistic_grad=lambda b, X, y: y - expit(X @ b)), True),
    ("q6", "sigmoid e^s/(1 + e^s) overflows", dict(logistic_grad=_logistic_naive_sigmoid), False),
    ("q6", "fit without intercept", dict(fit_logistic=lambda X, y: _fit_logistic_no_intercept(X, y)), True),
    ("q6", "fit without intercept, reported as 0", dict(fit_logistic=lambda X, y: np.concatenate(
        [[0.0], _fit_logistic_no_intercept(X, y)])), True),
    ("q6", "fit by 200 small GD steps", dict(fit_logistic=_fit_logistic_short_gd), True),
    ("q6", "intercept last", dict(fit_logistic=lambda X, y: np.roll(fit_logistic(X, y), -1)), True),
    ("q7", "book: v_{t-1} indexing (step with the old velocity)", dict(heavy_ball=_momentum(
        lambda x, v, g, eta, gamma: (x - eta * v, gamma * v + g))), True),
    ("q7", "normalised EMA momentum (1 - gamma)", dict(heavy_ball=_momentum(
        lambda x, v, g, eta, gamma: (x - eta * (gamma * v + (1 - gamma) * g), gamma * v + (1 - gamma) * g))), True),
    ("q7", "Nesterov's look-ahead instead of heavy ball", dict(heavy_ball=_momentum(
        lambda x, v, g, eta, gamma: (x - eta * (g + gamma * (gamma * v + g)), gamma * v + g))), True),
    ("q7", "only the final point", dict(heavy_ball=lambda grad, x0, eta, gamma, steps: heavy_ball(
        grad, x0, eta, gamma, steps)[-1]), True),
    ("q7", "path without x0", dict(heavy_ball=lambda grad, x0, eta, gamma, steps: heavy_ball(
        grad, x0, eta, gamma, steps)[1:]), True),
    ("q7", "one array stored at every step", dict(heavy_ball=_heavy_ball_aliasing), True),
    ("q7", "x0 updated in place", dict(heavy_ball=_heavy_ball_mutating_x0), False),
    ("q7", "optimal gamma not squared", dict(optimal_heavy_ball=lambda mu, L: (
        4 / (np.sqrt(L) + np.sqrt(mu)) ** 2, _q(mu, L))), True),
    ("q7", "optimal eta of plain GD", dict(optimal_heavy_ball=lambda mu, L: (2 / (L + mu), _q(mu, L) ** 2)), True),
    ("q7", "(gamma, eta) swapped", dict(optimal_heavy_ball=lambda mu, L: optimal_heavy_ball(mu, L)[::-1]), True),
    ("q8", "chord gap with the sign reversed", dict(chord_gap=lambda f, a, b, r: -chord_gap(f, a, b, r)), True),
    ("q8", "r and 1 - r swapped on the chord", dict(chord_gap=lambda f, a, b, r: r * f(a) + (1 - r) * f(b)
                                                    - f((1 - r) * a + r * b)), True),
    ("q8", "always the midpoint", dict(chord_gap=lambda f, a, b, r: chord_gap(f, a, b, 0.5)), True),
    ("q8", "a 'violation' with a positive gap", dict(violation=(2.0, 3.0, 0.5)), True),
    ("q8", "a 'violation' with r outside [0, 1]", dict(violation=(-1.0, 1.0, 1.5)), True),
    ("q8", "a violation that is too small", dict(violation=(-0.15, 0.15, 0.5)), True),
    ("q8", "the violation as a string", dict(violation="(-1, 1, 0.5)"), True),
]


@pytest.mark.parametrize("question, label, overrides, public", MUTANTS, ids=[m[1] for m in MUTANTS])
def test_mutant_is_rejected(question, label, overrides, public):
    assert_rejected(SPECS, question, REFERENCE, overrides, label, public)


# --------------------------------------------------------------------------- stubs and junk answers
def _namespace_returning(value):
    ns = {name: (lambda *args, **kwargs: value) for name in REFERENCE}
    ns["violation"] = value
    return ns


def test_none_stubs_score_zero_on_every_question():
    ns = _namespace_returning(None)
    ns["violation"] = Ellipsis  # what the stripped notebook leaves
    assert_blank_scores_zero(SPECS, ns, QUESTIONS)


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_junk_answers_fail_with_messages(junk):
    ns = _namespace_returning(junk)
    assert_junk_explained(SPECS, ns, QUESTIONS, junk)


def test_references_reproduce_the_verified_numbers():
    """The numbers the spec verified, from this file's references (the checks compute theirs independently)."""
    father, son = galton_sons()
    assert slope_through_origin(father, son) == pytest.approx(1.000780, abs=1e-6)
    assert standardized_slope(father, son) == pytest.approx(0.392383, abs=1e-6)
    df = galton_families()
    beta = fit_least_squares(df[["father", "mother", "male"]].to_numpy(float), df["childHeight"].to_numpy(float),
                             fit_intercept=True)
    np.testing.assert_allclose(beta, [16.5212, 0.3928, 0.3176, 5.2150], atol=1e-4)
    b = fit_logistic(df[["childHeight"]].to_numpy(float), df["male"].to_numpy(float))
    assert b[0] == pytest.approx(-53.32, abs=5e-3) and b[1] == pytest.approx(0.8018, abs=1e-4)
