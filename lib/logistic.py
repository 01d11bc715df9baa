"""Logistic regression: the Bernoulli log-likelihood, its derivatives, and two ways to maximise it.

Model, for rows ``x_i`` of a design matrix ``X`` (n, p) and labels ``y_i`` in {0, 1}::

    s_i = x_i^T beta,        p_i = P(y_i = 1 | x_i) = sigmoid(s_i) = 1 / (1 + exp(-s_i))
    J(beta) = sum_i [y_i s_i - log(1 + exp(s_i))]                   (log-likelihood)
    grad J  = X^T (y - p)                                            ("input times error")
    hess J  = -X^T diag(p (1 - p)) X                                 (negative semi-definite)

``J`` is concave, so any stationary point is the maximum likelihood estimate; but there is no
closed form, hence gradient ascent (:func:`fit_logistic_gd`) and Newton's method, a.k.a. iteratively
reweighted least squares (:func:`fit_logistic_newton`). When a hyperplane separates the two classes
``J`` has no maximiser: it keeps increasing towards 0 as ``||beta||`` grows along a separating
direction, and Newton's method raises :class:`SeparableDataError`.

Include a column of ones in ``X`` for an intercept. Everything is float64 numpy.
"""
from __future__ import annotations

import numpy as np


class SeparableDataError(ValueError):
    """The classes are linearly separable, so the log-likelihood has no maximiser (no MLE)."""


# --------------------------------------------------------------------------- input checks
def _as_array(name: str, a, ndim: int) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise TypeError(f"{name}: expected a numeric array, got dtype {a.dtype}")
    if a.ndim != ndim:
        shape = {1: "(n,)", 2: "(n, p)"}[ndim]
        raise ValueError(f"{name}: expected a {ndim}-D array of shape {shape}, got shape {a.shape}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return a


def _check_X(X) -> np.ndarray:
    X = _as_array("X", X, 2)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X: expected at least one row and one column, got shape {X.shape}")
    return X


def _check_beta(beta, X: np.ndarray) -> np.ndarray:
    beta = _as_array("beta", beta, 1)
    if beta.shape[0] != X.shape[1]:
        raise ValueError(f"beta: expected shape ({X.shape[1]},) to match X's {X.shape[1]} columns, "
                         f"got shape {beta.shape}")
    return beta


def _check_y(y, X: np.ndarray) -> np.ndarray:
    y = _as_array("y", y, 1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y: expected shape ({X.shape[0]},) to match X's {X.shape[0]} rows, got shape {y.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y: expected labels in {0, 1}, got other values")
    return y


# --------------------------------------------------------------------------- link functions
def sigmoid(s):
    """``1 / (1 + exp(-s))`` elementwise, without overflow for large ``|s|`` of either sign.

    For ``s >= 0`` it evaluates ``1 / (1 + e^{-s})``; for ``s < 0`` the equal ``e^{s} / (1 + e^{s})``,
    so ``exp`` only ever sees a non-positive argument. Same shape as ``s``.
    """
    s = np.asarray(s, dtype=np.float64)
    z = np.exp(-np.abs(s))
    return (np.where(s >= 0, 1.0, z) / (1.0 + z))[()]


def log1pexp(s):
    """Softplus ``log(1 + exp(s))`` elementwise, stable for large ``|s|``: ``max(s, 0) + log1p(e^{-|s|})``."""
    s = np.asarray(s, dtype=np.float64)
    return (np.maximum(s, 0.0) + np.log1p(np.exp(-np.abs(s))))[()]


def logit(p):
    """The inverse of the sigmoid, ``log(p / (1 - p))``, for ``p`` in [0, 1] (±inf at the ends)."""
    p = np.asarray(p, dtype=np.float64)
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("p: expected probabilities in [0, 1]")
    with np.errstate(divide="ignore"):
        return (np.log(p) - np.log1p(-p))[()]


# --------------------------------------------------------------------------- likelihood and derivatives
def predict_proba(beta, X) -> np.ndarray:
    """``P(y = 1 | x_i) = sigmoid(x_i^T beta)`` for each row: ``X`` (n, p), ``beta`` (p,) -> (n,)."""
    X = _check_X(X)
    return sigmoid(X @ _check_beta(beta, X))


def loglik(beta, X, y) -> float:
    """``J(beta) = sum_i [y_i s_i - log(1 + exp(s_i))]`` with ``s = X beta``; always <= 0."""
    X = _check_X(X)
    beta, y = _check_beta(beta, X), _check_y(y, X)
    s = X @ beta
    return float(np.sum(y * s - log1pexp(s)))


def grad_loglik(beta, X, y) -> np.ndarray:
    """``dJ/dbeta = X^T (y - p)``, shape (p,): each row's input times its error ``y_i - p_i``."""
    X = _check_X(X)
    beta, y = _check_beta(beta, X), _check_y(y, X)
    return X.T @ (y - sigmoid(X @ beta))


def hessian_loglik(beta, X) -> np.ndarray:
    """``d^2 J / dbeta dbeta^T = -X^T diag(p_i (1 - p_i)) X``, shape (p, p); it does not depend on ``y``."""
    X = _check_X(X)
    p = sigmoid(X @ _check_beta(beta, X))
    return -(X * (p * (1 - p))[:, None]).T @ X


# --------------------------------------------------------------------------- fitting
def fit_logistic_gd(X, y, eta: float, steps: int, beta0=None) -> tuple[np.ndarray, np.ndarray]:
    """Gradient ascent on ``J``: ``beta_{t+1} = beta_t + eta X^T (y - p_t)`` for ``steps`` steps.

    ``beta0`` defaults to zeros. Returns ``(beta, path)``: the last iterate (p,) and all iterates
    ``path`` (steps + 1, p), ``path[0] = beta0``. The ascent is stable when ``eta`` is below
    ``2 / lambda_max(X^T W X)``; since ``p (1 - p) <= 1/4``, ``eta < 8 / lambda_max(X^T X)`` suffices.
    """
    X = _check_X(X)
    y = _check_y(y, X)
    if not np.isscalar(eta) or not np.isfinite(eta) or eta <= 0:
        raise ValueError(f"eta: expected a positive finite step size, got {eta!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps: expected a non-negative integer, got {steps!r}")
    beta = np.zeros(X.shape[1]) if beta0 is None else _check_beta(beta0, X).copy()
    path = np.empty((steps + 1, X.shape[1]))
    path[0] = beta
    for t in range(steps):
        beta = beta + eta * (X.T @ (y - sigmoid(X @ beta)))
        path[t + 1] = beta
    return beta, path


def fit_logistic_newton(X, y, tol: float = 1e-12, max_iter: int = 100) -> np.ndarray:
    """The maximum likelihood estimate by Newton's method (iteratively reweighted least squares).

    From ``beta = 0``, repeat ``beta <- beta + step`` with ``step = (X^T W X)^{-1} X^T (y - p)`` and
    ``W = diag(p (1 - p))``, halving the step while it would lower ``J``. Stops once the predicted
    gain ``g^T step / 2`` (the Newton decrement) of the step just taken is below ``tol``. Returns
    ``beta`` (p,).

    Raises :class:`SeparableDataError` as soon as an iterate classifies every row correctly with a
    strict margin (then scaling it up raises ``J`` forever, so no MLE exists), and ``RuntimeError``
    when ``max_iter`` steps do not converge (e.g. quasi-separable data or collinear columns).
    """
    X = _check_X(X)
    y = _check_y(y, X)
    if not np.isscalar(tol) or not tol > 0:
        raise ValueError(f"tol: expected a positive number, got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter: expected a positive integer, got {max_iter!r}")
    sign = 2 * y - 1
    beta = np.zeros(X.shape[1])
    J = loglik(beta, X, y)
    for it in range(1, max_iter + 1):
        p = sigmoid(X @ beta)
        g = X.T @ (y - p)
        H = (X * (p * (1 - p))[:, None]).T @ X
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            raise RuntimeError("X: X^T W X is singular; are the columns of X linearly dependent?") from None
        t = 1.0
        while loglik(beta + t * step, X, y) < J and t > 1e-10:
            t /= 2
        beta = beta + t * step
        J = loglik(beta, X, y)
        if np.all(sign * (X @ beta) > 0):
            raise SeparableDataError(
                f"X, y: the classes are linearly separable (after {it} Newton steps beta = {np.round(beta, 3)} "
                "classifies every row correctly), so the log-likelihood grows towards 0 as ||beta|| -> inf and "
                "no maximum likelihood estimate exists; add a penalty or stop gradient ascent early")
        if t * (g @ step) / 2 < tol:
            return beta
    raise RuntimeError(f"max_iter: Newton's method did not converge in {max_iter} steps "
                       f"(||beta|| = {np.linalg.norm(beta):.3g}); the data may be quasi-separable")
