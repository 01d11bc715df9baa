"""Public checks for the Chapter 1 exercises (``exercises/ch01_regression.ipynb``).

Questions: q1 slopes and regression to the mean, q2 the least-squares gradient and a GD step, q3 least
squares and ridge, q4 hinge features, q5 minimum-norm interpolation and GD from a start, q6 logistic
regression, q7 heavy-ball momentum, q8 chord gaps and convexity.

Every reference value is computed here with numpy, scipy, scikit-learn or torch (never with the student's
code). Each check calls the student's functions on fresh copies of its inputs; a wrong answer fails with a
message that says which value is off and by how much, and names the mistake when it is a common one.
The underscore helpers are shared with the hidden checks in ``tests/hidden/ch01_regression.py``.
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from lib.data import galton_families, galton_sons, make_logistic_blobs
from lib.grading import assert_allclose, check
from lib.grading.answers import answered as _answered, as_array, as_number as _number, close as _close, looks_like as _looks_like

# torch.optim's first optimizer imports torch._dynamo (about 2 s); pay that once here, not inside a timed check
torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)

# --------------------------------------------------------------------------- helpers
def _vector(value, shape: tuple, name: str) -> np.ndarray:
    """The student's array answer as float64 with the expected shape and finite entries."""
    return as_array(value, name, shape)


def _design(rng, n: int, p: int, s_min: float, s_max: float) -> np.ndarray:
    """An (n, p) matrix with singular values evenly spaced in [s_min, s_max] and random singular vectors."""
    k = min(n, p)
    U, _ = np.linalg.qr(rng.standard_normal((n, k)))
    V, _ = np.linalg.qr(rng.standard_normal((p, k)))
    return (U * np.linspace(s_min, s_max, k)) @ V.T


def _torch_ls_gradient(beta, X, y) -> np.ndarray:
    """d/dbeta of 1/2 ||y - X beta||^2 by torch autograd (float64)."""
    b = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
    (0.5 * ((torch.tensor(y) - torch.tensor(X) @ b) ** 2).sum()).backward()
    return b.grad.numpy()


def _gradient_mistakes(want) -> dict:
    return {"the gradient with its sign flipped (the gradient of 1/2 RSS is -X^T e with e = y - X beta)": -want,
            "twice the gradient (the 1/2 in the loss cancels the 2 from differentiating)": 2 * want,
            "minus twice the gradient (sign flipped and the 1/2 dropped)": -2 * want}


def _ridge_solution(X, y, lam, fit_intercept, penalize_intercept=False) -> np.ndarray:
    """argmin 1/2 ||y - [1 X] beta||^2 + lam * sum of penalised beta_j^2, by the normal equations."""
    A = np.column_stack([np.ones(len(X)), X]) if fit_intercept else X
    D = np.eye(A.shape[1])
    if fit_intercept and not penalize_intercept:
        D[0, 0] = 0.0
    return np.linalg.solve(A.T @ A + 2 * lam * D, A.T @ y)


def _knots(p: int, xmin: float, xmax: float) -> np.ndarray:
    return xmin + np.arange(1, p + 1) * (xmax - xmin) / (p + 1)


def _hinge_reference(x, knots) -> np.ndarray:
    return np.column_stack([np.ones(len(x)), np.maximum(0.0, x[:, None] - knots[None, :])])


def _hinge_compare(got, x, p: int, xmin: float, xmax: float, name: str) -> None:
    """Compare hinge features column by column; name the first wrong column and the knot it should have."""
    knots = _knots(p, xmin, xmax)
    want = _hinge_reference(x, knots)
    got = _vector(got, want.shape, name)
    assert np.allclose(got[:, 0], 1.0), f"{name}: column 0 should be all ones (the intercept), got {got[:5, 0]} ..."
    for j, c in enumerate(knots, start=1):
        err = np.abs(got[:, j] - want[:, j]).max()
        if err > 1e-12 * max(1.0, np.abs(x).max()):
            i = int(np.argmax(x))
            seen = f"; your column looks like a hinge at {x[i] - got[i, j]:.6g}" if got[i, j] > 0 else ""
            raise AssertionError(f"{name}: column {j} should be max(0, x - c_{j}) with knot c_{j} = xmin + {j} Delta "
                                 f"= {c:.6g} (Delta = (xmax - xmin)/(p + 1) = {(xmax - xmin) / (p + 1):.6g}); "
                                 f"largest error {err:.3g}{seen}")


def _gd_reference(beta0, Phi, y, eta, steps) -> np.ndarray:
    beta = np.array(beta0, dtype=float)
    for _ in range(steps):
        beta = beta + eta * Phi.T @ (y - Phi @ beta)
    return beta


def _nearest_interpolant(beta0, Phi, y) -> np.ndarray:
    """pinv(Phi) y + (I - pinv(Phi) Phi) beta0: the least-squares solution closest to beta0."""
    pinv = np.linalg.pinv(Phi)
    return pinv @ y + beta0 - pinv @ (Phi @ beta0)


def _loglik(beta, X, y) -> float:
    s = X @ beta
    return float(np.sum(y * s - np.logaddexp(0.0, s)))


def _torch_logistic_gradient(beta, X, y) -> np.ndarray:
    """Gradient of the Bernoulli log-likelihood sum y log p + (1 - y) log(1 - p), p = sigmoid(X beta), by autograd."""
    b = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
    s = torch.tensor(X) @ b
    t = torch.tensor(y, dtype=torch.float64)
    (t * torch.nn.functional.logsigmoid(s) + (1 - t) * torch.nn.functional.logsigmoid(-s)).sum().backward()
    return b.grad.numpy()


def _sklearn_logistic(X, y) -> np.ndarray:
    """Unpenalised logistic MLE (intercept first) from scikit-learn, fitted on standardised columns and mapped
    back (the MLE is equivariant under affine changes of the inputs), which keeps lbfgs well conditioned."""
    mean, sd = X.mean(axis=0), X.std(axis=0)
    fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit((X - mean) / sd, y)
    w = fit.coef_[0] / sd
    return np.concatenate([[fit.intercept_[0] - w @ mean], w])


def _check_logistic_fit(fit_logistic, X, y, name: str) -> None:
    want = _sklearn_logistic(X, y)
    p = X.shape[1]
    got = _answered(fit_logistic(X.copy(), y.copy()), name)
    if np.shape(got) == (p,):
        raise AssertionError(f"{name}: got {p} numbers, expected {p + 1}: the intercept first, then one "
                             f"coefficient per column of X (did you fit without an intercept?)")
    got = _vector(got, (p + 1,), name)
    A = np.column_stack([np.ones(len(X)), X])
    gap = _loglik(want, A, y) - _loglik(got, A, y)
    if gap >= 1e-6:
        why = _looks_like(got, {"the coefficients with the intercept last instead of first": np.roll(want, -1)})
        raise AssertionError(
            f"{name}: the log-likelihood of your fit is {gap:.3g} below the maximum {_loglik(want, A, y):.6f} "
            f"(scikit-learn's unpenalised fit {np.array2string(want, precision=5)}, yours "
            f"{np.array2string(got, precision=5)})."
            + (why or " Check the intercept column and the sign of the step, and iterate to convergence "
                      "(Newton's method needs about ten steps)."))
    _close(got, want, 1e-4, name + " (compared with scikit-learn)")


def _torch_heavy_ball(grad, x0, eta, gamma, steps) -> np.ndarray:
    """Iterates x_0..x_steps of torch.optim.SGD(lr=eta, momentum=gamma) fed with ``grad``."""
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=eta, momentum=gamma)
    path = [np.array(x0, dtype=float)]
    for _ in range(steps):
        x.grad = torch.from_numpy(np.asarray(grad(x.detach().numpy().copy()), dtype=float))
        opt.step()
        path.append(x.detach().numpy().copy())
    return np.array(path)


def _check_heavy_ball_path(heavy_ball, grad, x0, eta, gamma, steps, name: str) -> None:
    want = _torch_heavy_ball(grad, x0, eta, gamma, steps)
    got = _vector(heavy_ball(grad, x0.copy(), eta, gamma, steps), want.shape, name)
    wrong = {"momentum with the normalised average v = gamma v + (1 - gamma) grad; the book's velocity "
             "sums the past gradients with weights gamma^i, not normalised":
             _normalised_ema_path(grad, x0, eta, gamma, steps)}
    _close(got, want, 1e-10, name + " (compared with torch.optim.SGD(momentum=gamma))", wrong)


def _normalised_ema_path(grad, x0, eta, gamma, steps) -> np.ndarray:
    x, v, path = np.array(x0, dtype=float), np.zeros(len(x0)), [np.array(x0, dtype=float)]
    for _ in range(steps):
        v = gamma * v + (1 - gamma) * grad(x)
        x = x - eta * v
        path.append(x)
    return np.array(path)


def _heavy_ball_rate(eta, gamma, mu, L) -> float:
    """Spectral radius of heavy ball on a quadratic with Hessian eigenvalues in [mu, L] (201-point grid)."""
    rho = 0.0
    for lam in np.linspace(mu, L, 201):
        M = np.array([[1 + gamma - eta * lam, -gamma], [1.0, 0.0]])
        rho = max(rho, np.abs(np.linalg.eigvals(M)).max())
    return rho


def _optimal_heavy_ball(mu, L) -> tuple[float, float]:
    q = (np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))
    return 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2, q ** 2


def _gap(f, a, b, r) -> float:
    return (1 - r) * f(a) + r * f(b) - f((1 - r) * a + r * b)


def _softplus(x):
    return np.logaddexp(0.0, x)


def _logistic_nll_1d(theta):
    """Negative log-likelihood of a one-parameter logistic model P(t = 1 | z) = sigmoid(theta z) on fixed data."""
    z = np.array([-2.0, -1.0, -0.5, 0.3, 1.0, 1.5, 2.5])
    t = np.array([-1.0, -1.0, 1.0, -1.0, 1.0, 1.0, 1.0])
    return float(np.sum(np.logaddexp(0.0, -t * z * theta)))


def _double_well(x):
    return x ** 4 - 3 * x ** 2


# --------------------------------------------------------------------------- q1: slopes
@check("q1", points=0.5)
def slope_small_example(slope_through_origin):
    x, y = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 1.0, 4.0, 3.0])
    want = x @ y / (x @ x)
    got = _number(slope_through_origin(x.copy(), y.copy()), "slope_through_origin([1, 2, 3, 4], [2, 1, 4, 3])")
    assert abs(got - want) <= 1e-12, (
        f"slope_through_origin([1, 2, 3, 4], [2, 1, 4, 3]): expected sum(x*y)/sum(x*x) = 28/30 = {want:.6f}, "
        f"got {got:.6f} (off by {got - want:+.2e})."
        + _looks_like(got, {"the slope of a line with an intercept (no intercept here)": np.polyfit(x, y, 1)[0],
                            "sum(x*y)/sum(y*y): x and y swapped": x @ y / (y @ y),
                            "mean(y)/mean(x)": y.mean() / x.mean()}))


@check("q1", points=1)
def slope_on_galton_sons(slope_through_origin):
    father, son = galton_sons()
    want = father @ son / (father @ father)
    got = _number(slope_through_origin(father.copy(), son.copy()), "slope_through_origin(father, son)")
    assert abs(got - want) <= 1e-9 * abs(want), (
        f"slope_through_origin(father, son) on Galton's 481 sons: expected {want:.6f}, got {got:.6f} "
        f"(off by {got - want:+.2e}).")


@check("q1", points=1, hint="centre both variables (subtract the means) before dividing by the standard deviations")
def standardized_slope_on_galton_sons(standardized_slope):
    father, son = galton_sons()
    want = np.corrcoef(father, son)[0, 1]
    got = _number(standardized_slope(father.copy(), son.copy()), "standardized_slope(father, son)")
    n = len(father)
    mistakes = {
        "no centring: dividing by the SDs without subtracting the means":
            (father / father.std()) @ (son / son.std()) / ((father / father.std()) @ (father / father.std())),
        "the cosine of the angle between the raw (uncentred) vectors":
            father @ son / np.linalg.norm(father) / np.linalg.norm(son),
        "the least-squares slope in inches (not standardised)": np.polyfit(father, son, 1)[0],
        "the mean of products of variables standardised with ddof=1, which is r (n-1)/n": want * (n - 1) / n,
    }
    assert abs(got - want) <= 1e-9, (
        f"standardized_slope(father, son) on Galton's sons: expected r = {want:.6f}, got {got:.6f} "
        f"(off by {got - want:+.2e})." + _looks_like(got, mistakes))


@check("q1", points=0.5)
def standardized_slope_is_unit_free(standardized_slope):
    rng = np.random.default_rng(2024)
    x = rng.normal(69, 2.5, 60)
    y = 0.4 * x + rng.normal(41, 2.3, 60)
    base = _number(standardized_slope(x.copy(), y.copy()), "standardized_slope(x, y)")
    cases = {"after converting both to centimetres (x 2.54)": (2.54 * x, 2.54 * y, base),
             "after shifting y by -60 inches": (x, y - 60, base),
             "with x and y swapped": (y, x, base),
             "with y negated (should flip the sign)": (x, -y, -base),
             "for an exact line y = 3 - 2x (should be -1)": (x, 3 - 2 * x, -1.0)}
    for what, (u, v, want) in cases.items():
        got = _number(standardized_slope(u.copy(), v.copy()), "standardized_slope")
        assert abs(got - want) <= 1e-9, (
            f"standardized_slope {what}: expected {want:.6f}, got {got:.6f} (off by {got - want:+.2e}); "
            f"a standardised slope does not depend on units or origins, and it lies in [-1, 1]")


# --------------------------------------------------------------------------- q2: least-squares gradient, GD step
@check("q2", points=1)
def gradient_matches_autograd(ls_gradient):
    rng = np.random.default_rng(11)
    X, y, beta = rng.standard_normal((25, 4)), rng.standard_normal(25), rng.standard_normal(4)
    want = _torch_ls_gradient(beta, X, y)
    got = ls_gradient(beta.copy(), X.copy(), y.copy())
    _close(got, want, 1e-10, "ls_gradient(beta, X, y) (compared with torch autograd of 1/2 ||y - X beta||^2)",
           _gradient_mistakes(want))


@check("q2", points=0.5)
def gradient_vanishes_at_least_squares_fit(ls_gradient):
    rng = np.random.default_rng(12)
    X, y = rng.standard_normal((30, 3)), rng.standard_normal(30)
    beta_hat = np.linalg.lstsq(X, y)[0]
    got = _vector(ls_gradient(beta_hat.copy(), X.copy(), y.copy()), (3,), "ls_gradient(beta_hat, X, y)")
    scale = np.linalg.norm(X.T @ y)
    assert np.linalg.norm(got) <= 1e-9 * scale, (
        f"ls_gradient at the least-squares fit should be 0 (the normal equations X^T e = 0), "
        f"got norm {np.linalg.norm(got):.3g} (relative {np.linalg.norm(got) / scale:.1e})")


@check("q2", points=0.5)
def gd_step_one_step(gd_step):
    rng = np.random.default_rng(13)
    X, y, beta = rng.standard_normal((20, 3)), rng.standard_normal(20), rng.standard_normal(3)
    eta = 0.01
    want = beta + eta * X.T @ (y - X @ beta)
    got = gd_step(beta.copy(), X.copy(), y.copy(), eta)
    _close(got, want, 1e-12, "gd_step(beta, X, y, eta=0.01)",
           {"a step uphill, beta + eta * gradient": beta - eta * X.T @ (y - X @ beta),
            "a step with twice the gradient": beta + 2 * eta * X.T @ (y - X @ beta)})


@check("q2", points=1)
def gd_reaches_least_squares(gd_step):
    rng = np.random.default_rng(14)
    X = _design(rng, 40, 4, 1.0, 10.0)  # eigenvalues of X^T X in [1, 100]
    y = rng.standard_normal(40)
    want = np.linalg.lstsq(X, y)[0]
    eta = 1 / 100
    beta = _vector(gd_step(np.zeros(4), X.copy(), y.copy(), eta), (4,), "gd_step(zeros, X, y, eta)")
    with np.errstate(all="ignore"):
        for _ in range(4999):
            beta = np.asarray(gd_step(beta, X, y, eta), dtype=float)
    assert np.all(np.isfinite(beta)) and np.linalg.norm(beta) < 1e6, (
        f"5000 GD steps at eta = 1/lambda_max diverged (|beta| = {np.linalg.norm(beta):.3g}): "
        f"does gd_step move against the gradient?")
    _close(beta, want, 1e-8, "beta after 5000 GD steps from 0 (compared with np.linalg.lstsq)")


# --------------------------------------------------------------------------- q3: least squares and ridge
@check("q3", points=1)
def ols_matches_lstsq(fit_least_squares):
    rng = np.random.default_rng(21)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    want = np.linalg.lstsq(X, y)[0]
    _close(fit_least_squares(X.copy(), y.copy()), want, 1e-10, "fit_least_squares(X, y)")
    _close(fit_least_squares(X.copy(), y.copy(), ridge=0.0, fit_intercept=False), want, 1e-10,
           "fit_least_squares(X, y, ridge=0.0, fit_intercept=False)")


@check("q3", points=1)
def galton_families_coefficients(fit_least_squares):
    df = galton_families()
    X, y = df[["father", "mother", "male"]].to_numpy(float), df["childHeight"].to_numpy(float)
    lr = LinearRegression().fit(X, y)
    want = np.concatenate([[lr.intercept_], lr.coef_])
    got = fit_least_squares(X.copy(), y.copy(), fit_intercept=True)
    _close(got, want, 1e-8, "fit_least_squares(X, y, fit_intercept=True) on GaltonFamilies "
           "(intercept, father, mother, male; compared with sklearn LinearRegression)",
           {"the intercept last instead of first": np.roll(want, -1)})


@check("q3", points=1, hint="the book's ridge adds lam * sum(beta_j^2) to 1/2 RSS, which is sklearn's Ridge(alpha=2*lam)")
def ridge_matches_sklearn(fit_least_squares):
    rng = np.random.default_rng(23)
    X = rng.standard_normal((40, 3)) * [1.0, 2.0, 0.5] + [5.0, -3.0, 10.0]
    y = X @ [0.5, -1.0, 2.0] + 7.0 + rng.standard_normal(40)
    lam = 2.5
    sk = Ridge(alpha=2 * lam).fit(X, y)
    want = np.concatenate([[sk.intercept_], sk.coef_])
    got = fit_least_squares(X.copy(), y.copy(), ridge=lam, fit_intercept=True)
    sk_half = Ridge(alpha=lam).fit(X, y)
    _close(got, want, 1e-9, f"fit_least_squares(X, y, ridge={lam}, fit_intercept=True) "
           f"(compared with sklearn Ridge(alpha={2 * lam}))",
           {"sklearn's convention alpha = lam; the book's 1/2 RSS + lam sum beta_j^2 means alpha = 2 lam":
                np.concatenate([[sk_half.intercept_], sk_half.coef_]),
            "the intercept penalised too (it must not be)": _ridge_solution(X, y, lam, True, penalize_intercept=True),
            "the intercept penalised and lam not doubled": _ridge_solution(X, y, lam / 2, True, penalize_intercept=True)})


# --------------------------------------------------------------------------- q4: hinge features
@check("q4", points=0.5)
def hinge_shape_and_ones_column(hinge_features):
    x = np.linspace(-1.0, 1.0, 9)
    got = _answered(hinge_features(x.copy(), 4, -1.0, 1.0), "hinge_features(x, p=4, xmin=-1, xmax=1)")
    if np.shape(got) == (9, 4):
        raise AssertionError("hinge_features(x, p=4, ...): got shape (9, 4), expected (9, 5): "
                             "the first column is the intercept column of ones, then p hinge columns")
    got = _vector(got, (9, 5), "hinge_features(x, p=4, xmin=-1, xmax=1)")
    assert np.all(got[:, 0] == 1.0), f"hinge_features: column 0 should be all ones, got {got[:, 0]}"


@check("q4", points=1, hint="c_j = xmin + j * Delta for j = 1..p with Delta = (xmax - xmin) / (p + 1)")
def hinge_small_example(hinge_features):
    x = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0])
    got = hinge_features(x.copy(), 3, 0.0, 4.0)  # Delta = 1, knots 1, 2, 3
    _hinge_compare(got, x, 3, 0.0, 4.0, "hinge_features(x, p=3, xmin=0, xmax=4)")


@check("q4", points=1)
def hinge_reference_designs(hinge_features):
    father, _ = galton_sons()
    _hinge_compare(hinge_features(father.copy(), 10), father, 10, father.min(), father.max(),
                   "hinge_features(father, p=10) with the default range (the data's min and max)")
    u = np.random.default_rng(41).uniform(-1.0, 1.0, 30)
    _hinge_compare(hinge_features(u.copy(), 25, -1.0, 1.0), u, 25, -1.0, 1.0,
                   "hinge_features(x, p=25, xmin=-1, xmax=1) on random x")
    g = np.linspace(-1.0, 1.0, 11)
    _hinge_compare(hinge_features(g.copy(), 7, -2.0, 2.0), g, 7, -2.0, 2.0,
                   "hinge_features(x, p=7, xmin=-2, xmax=2) (knots beyond the data)")


@check("q4", points=0.5)
def hinge_columns_are_ramps(hinge_features):
    x = np.sort(np.random.default_rng(42).uniform(0.0, 10.0, 50))
    p = 15
    Phi = _vector(hinge_features(x.copy(), p, 0.0, 10.0), (50, p + 1), "hinge_features(x, p=15, xmin=0, xmax=10)")
    knots = _knots(p, 0.0, 10.0)
    for j in range(1, p + 1):
        col, c = Phi[:, j], knots[j - 1]
        assert np.all(np.diff(col) >= 0), f"column {j} should never decrease as x grows (x is sorted here)"
        assert np.all(col[x <= c] == 0), f"column {j} should be 0 for x <= c_{j} = {c:.4g}, got {col[x <= c].max():.3g}"
        assert np.allclose(col[x > c], x[x > c] - c, atol=1e-12), (
            f"column {j} should rise with slope 1 after c_{j} = {c:.4g}; "
            f"largest error {np.abs(col[x > c] - (x[x > c] - c)).max():.3g}")


# --------------------------------------------------------------------------- q5: min-norm interpolation, GD from a start
def _interpolation_problem(seed: int, n: int = 12, p: int = 40):
    rng = np.random.default_rng(seed)
    return _design(rng, n, p, 1.0, 6.0), rng.standard_normal(n), rng.standard_normal(p)


@check("q5", points=1, hint="the minimum-norm solution is np.linalg.pinv(Phi) @ y (or np.linalg.lstsq)")
def min_norm_matches_pinv(min_norm_interpolant):
    Phi, y, _ = _interpolation_problem(51)
    want = np.linalg.pinv(Phi) @ y
    got = _answered(min_norm_interpolant(Phi.copy(), y.copy()), "min_norm_interpolant(Phi, y)")
    if np.shape(got) == y.shape:
        raise AssertionError(f"min_norm_interpolant(Phi, y): got {len(y)} numbers (one per data point), "
                             f"expected {Phi.shape[1]} (one per column of Phi)")
    _close(got, want, 1e-10, "min_norm_interpolant(Phi, y) (compared with np.linalg.pinv(Phi) @ y)",
           {"an interpolant that uses only the first n columns (it fits, but is not the shortest)":
                np.concatenate([np.linalg.solve(Phi[:, :12], y), np.zeros(28)])})


@check("q5", points=0.5)
def min_norm_interpolates_and_is_shortest(min_norm_interpolant):
    Phi, y, _ = _interpolation_problem(52)
    beta = _vector(min_norm_interpolant(Phi.copy(), y.copy()), (40,), "min_norm_interpolant(Phi, y)")
    miss = np.abs(Phi @ beta - y).max()
    assert miss <= 1e-9 * np.abs(y).max(), f"Phi @ beta should equal y (interpolation); largest miss {miss:.3g}"
    null = np.linalg.svd(Phi)[2][12:]  # rows span the null space of Phi
    extra = np.linalg.norm(null @ beta)
    assert extra <= 1e-9 * np.linalg.norm(beta), (
        f"beta has a component of norm {extra:.3g} in the null space of Phi; removing it gives an interpolant "
        f"that is shorter by that much (Pythagoras), so beta is not the minimum-norm one")


@check("q5", points=0.5)
def gd_takes_exactly_the_given_steps(gd_from):
    Phi, y, beta0 = _interpolation_problem(53)
    want = _gd_reference(beta0, Phi, y, 1 / 36, 3)
    got = gd_from(beta0.copy(), Phi.copy(), y.copy(), 1 / 36, 3)
    _close(got, want, 1e-12, "gd_from(beta0, Phi, y, eta=1/36, steps=3) (three GD steps from beta0)",
           {"only two steps": _gd_reference(beta0, Phi, y, 1 / 36, 2),
            "four steps": _gd_reference(beta0, Phi, y, 1 / 36, 4),
            "three steps from 0 instead of from beta0": _gd_reference(np.zeros(40), Phi, y, 1 / 36, 3)})


@check("q5", points=0.5)
def gd_from_zero_reaches_min_norm(gd_from):
    Phi, y, _ = _interpolation_problem(54)
    got = gd_from(np.zeros(40), Phi.copy(), y.copy(), 1 / 36, 1000)
    _close(got, np.linalg.pinv(Phi) @ y, 1e-6, "gd_from(zeros, Phi, y, eta=1/36, steps=1000) "
           "(compared with pinv(Phi) @ y)")


@check("q5", points=1, hint="GD never changes the part of beta0 in the null space of Phi")
def gd_from_start_reaches_nearest_interpolant(gd_from):
    Phi, y, beta0 = _interpolation_problem(55)
    want = _nearest_interpolant(beta0, Phi, y)
    got = gd_from(beta0.copy(), Phi.copy(), y.copy(), 1 / 36, 1000)
    _close(got, want, 1e-6, "gd_from(beta0, Phi, y, eta=1/36, steps=1000) "
           "(compared with pinv(Phi) y + (I - pinv(Phi) Phi) beta0)",
           {"pinv(Phi) @ y, the limit from beta0 = 0; from beta0 GD keeps beta0's null-space part":
                np.linalg.pinv(Phi) @ y})


# --------------------------------------------------------------------------- q6: logistic regression
@check("q6", points=1, hint="the log-likelihood's gradient is X^T (y - p): input times error, as in least squares")
def logistic_grad_matches_autograd(logistic_grad):
    rng = np.random.default_rng(61)
    X = rng.standard_normal((50, 3))
    y = (rng.random(50) < 0.5).astype(float)
    beta = rng.standard_normal(3)
    want = _torch_logistic_gradient(beta, X, y)
    got = logistic_grad(beta.copy(), X.copy(), y.copy())
    _close(got, want, 1e-10, "logistic_grad(beta, X, y) (compared with torch autograd of the log-likelihood)",
           {"X^T (p - y), the gradient of the negative log-likelihood (the sign the OCR lost)": -want,
            "X^T (y - s): the least-squares error y - X beta instead of y - p": X.T @ (y - X @ beta)})


@check("q6", points=1)
def fit_logistic_matches_sklearn(fit_logistic):
    X, y = make_logistic_blobs(200, 1.5, seed=2)
    _check_logistic_fit(fit_logistic, X, y.astype(float), "fit_logistic(X, y) on two overlapping blobs")


@check("q6", points=1)
def fit_logistic_galton_gender(fit_logistic):
    df = galton_families()
    X, y = df[["childHeight"]].to_numpy(float), df["male"].to_numpy(float)
    _check_logistic_fit(fit_logistic, X, y, "fit_logistic(height, male) on Galton's children")


# --------------------------------------------------------------------------- q7: heavy-ball momentum
def _quadratic(seed: int, d: int, mu: float, L: float):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    H = (Q * np.linspace(mu, L, d)) @ Q.T
    b = rng.standard_normal(d)
    return (lambda x: H @ x - b), rng.standard_normal(d)


@check("q7", points=1.5, hint="v = gamma * v + grad(x), then x = x - eta * v, with v = 0 before the first step")
def heavy_ball_matches_torch_sgd(heavy_ball):
    grad, x0 = _quadratic(71, 3, 1.0, 20.0)
    _check_heavy_ball_path(heavy_ball, grad, x0, 0.05, 0.8, 200, "heavy_ball(grad, x0, eta=0.05, gamma=0.8, steps=200)")


@check("q7", points=0.5)
def heavy_ball_path_layout(heavy_ball):
    grad, x0 = _quadratic(72, 2, 1.0, 4.0)
    path = _vector(heavy_ball(grad, x0.copy(), 0.1, 0.5, 10), (11, 2), "heavy_ball(grad, x0, 0.1, 0.5, steps=10)")
    assert not np.all(path == path[-1]), (
        "every row of the path is the same point: did you store one array object, updated in place, at every step?")
    assert np.array_equal(path[0], x0), f"row 0 of the path should be x0 = {x0}, got {path[0]}"
    assert not np.array_equal(path[1], path[0]), (
        "x_1 = x_0: the first step did not move. Update the velocity first, v = gamma v + grad(x_0) = grad(x_0), "
        "then step x_1 = x_0 - eta v")
    gd = [x0]
    for _ in range(10):
        gd.append(gd[-1] - 0.1 * grad(gd[-1]))
    _close(heavy_ball(grad, x0.copy(), 0.1, 0.0, 10), np.array(gd), 1e-12,
           "heavy_ball(..., gamma=0, steps=10) (should be plain gradient descent)")


@check("q7", points=1)
def optimal_heavy_ball_closed_form(optimal_heavy_ball):
    for mu, L in [(1.0, 100.0), (0.5, 2.0), (3.0, 3.0), (1e-3, 1.0)]:
        want = np.array(_optimal_heavy_ball(mu, L))
        got = _vector(optimal_heavy_ball(mu, L), (2,), f"optimal_heavy_ball(mu={mu:g}, L={L:g})")
        q = np.sqrt(want[1])
        _close(got, want, 1e-10, f"(eta, gamma) = optimal_heavy_ball(mu={mu:g}, L={L:g})",
               {"gamma = (sqrt(kappa) - 1)/(sqrt(kappa) + 1), not squared": [want[0], q],
                "eta = 2/(L + mu), the best step of plain GD": [2 / (L + mu), want[1]],
                "eta = 4/(sqrt(L) + sqrt(mu)) without the square": [4 / (np.sqrt(L) + np.sqrt(mu)), want[1]],
                "(gamma, eta) in the wrong order": want[::-1]})


@check("q7", points=0.5)
def optimal_heavy_ball_rate(optimal_heavy_ball):
    mu, L = 2.0, 200.0
    eta, gamma = _vector(optimal_heavy_ball(mu, L), (2,), f"optimal_heavy_ball(mu={mu:g}, L={L:g})")
    want = (np.sqrt(L / mu) - 1) / (np.sqrt(L / mu) + 1)
    got = _heavy_ball_rate(eta, gamma, mu, L)
    assert abs(got - want) <= 1e-6, (
        f"with your (eta, gamma) = ({eta:.6g}, {gamma:.6g}) heavy ball contracts by {got:.6f} per step in its "
        f"slowest direction (kappa = 100); the optimum is (sqrt(kappa) - 1)/(sqrt(kappa) + 1) = {want:.6f}"
        + (" (>= 1: it diverges)" if got >= 1 else ""))


# --------------------------------------------------------------------------- q8: chord gaps and convexity
@check("q8", points=1)
def chord_gap_parabola_closed_form(chord_gap):
    for a, b, r in [(-1.0, 2.0, 0.3), (0.5, 4.0, 0.9), (3.0, -2.0, 0.5), (0.0, 1.0, 0.0)]:
        want = r * (1 - r) * (b - a) ** 2
        got = _number(chord_gap(lambda x: x ** 2, a, b, r), f"chord_gap(x^2, a={a:g}, b={b:g}, r={r:g})")
        assert abs(got - want) <= 1e-12 * max(1.0, abs(want)), (
            f"chord_gap(x^2, a={a:g}, b={b:g}, r={r:g}): expected r(1-r)(b-a)^2 = {want:.6g}, got {got:.6g} "
            f"(off by {got - want:+.2e})." + _looks_like(got, {"the gap with its sign reversed": -want}))


@check("q8", points=1)
def chord_gap_never_negative_for_convex(chord_gap):
    rng = np.random.default_rng(81)
    for label, f in [("x^2", lambda x: x ** 2), ("softplus", _softplus), ("a logistic NLL", _logistic_nll_1d)]:
        for a, b, r in zip(rng.uniform(-5, 5, 400), rng.uniform(-5, 5, 400), rng.uniform(0, 1, 400)):
            want = _gap(f, a, b, r)
            got = _number(chord_gap(f, a, b, r), f"chord_gap({label}, a, b, r)")
            scale = 1 + abs(f(a)) + abs(f(b))
            assert got >= -1e-12 * scale, (
                f"chord_gap({label}, a={a:.4g}, b={b:.4g}, r={r:.4g}) = {got:.4g} < 0, but {label} is convex, so "
                f"its chord lies above it (the gap is the chord minus the function)")
            assert abs(got - want) <= 1e-10 * scale, (
                f"chord_gap({label}, a={a:.4g}, b={b:.4g}, r={r:.4g}): expected {want:.6g}, got {got:.6g} "
                f"(off by {got - want:+.2e})")


@check("q8", points=1, hint="try a and b on either side of the bump of f at 0, with r = 1/2")
def violation_is_a_real_violation(violation):
    try:
        a, b, r = (float(v) for v in violation)
    except (TypeError, ValueError):
        raise AssertionError(f"violation should be a tuple (a, b, r) of three numbers, got {violation!r:.80}") from None
    assert np.isfinite([a, b, r]).all(), f"violation = {(a, b, r)} has a nan or inf in it"
    assert 0 <= r <= 1, (f"r = {r:g} is outside [0, 1]: (1-r)a + rb is then not between a and b, and even a "
                         f"convex function can lie above its extended chord there")
    gap = _gap(_double_well, a, b, r)
    assert gap < -0.1, (f"for f(x) = x^4 - 3x^2 the chord gap at (a, b, r) = ({a:g}, {b:g}, {r:g}) is {gap:.4g}; "
                        f"a violation of convexity needs a gap below -0.1")
