"""Least squares and its relatives: the one-parameter fit, correlation, ridge, lasso, minimum norm, GD.

Conventions (the book's, kept throughout the course):

* data are an ``(n, p)`` design ``X`` and an ``(n,)`` response ``y``; coefficients are ``(p,)``;
* the loss is ``L(beta) = 1/2 sum_i (y_i - x_i . beta)^2`` (the 1/2 only cancels the 2 of the
  derivative), and ridge adds ``lam * sum_j beta_j^2`` on top of it; scikit-learn's ``Ridge`` minimises
  ``sum e_i^2 + alpha * |beta|^2``, so ``alpha = 2 * lam``;
* with ``fit_intercept=True`` a column of ones is put in front of ``X`` and ``beta[0]`` is the intercept.

Everything is float64 numpy; nothing here is random.
"""
from __future__ import annotations

import warnings

import numpy as np


# --------------------------------------------------------------------------- input checks
def _array(name: str, a, ndim: int, shape_text: str) -> np.ndarray:
    """``a`` as a finite float64 array with ``ndim`` dimensions, or a clear TypeError/ValueError."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array of shape {shape_text}, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty array of shape {shape_text}, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return arr


def _matrix(name: str, X) -> np.ndarray:
    return _array(name, X, 2, "(n, p)")


def _vector(name: str, v, length: int | None = None, length_name: str = "n") -> np.ndarray:
    arr = _array(name, v, 1, f"({length_name},)")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name}: expected shape ({length},) to match the other inputs, got shape {arr.shape}")
    return arr


def _weights(w, n: int) -> np.ndarray:
    w = _vector("weights", w, n)
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights: expected non-negative values with a positive sum")
    return w


def _scalar(name: str, value, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    if not np.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name}: expected a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    return float(value)


def _count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected a non-negative integer, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {value!r}")
    return int(value)


def _with_ones(X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(X.shape[0]), X])


# --------------------------------------------------------------------------- one predictor
def fit_through_origin(x, y) -> float:
    """Slope of the no-intercept fit ``y ~ x * beta``: ``beta = sum x_i y_i / sum x_i^2``.

    ``x``, ``y``: shape ``(n,)``. On raw (uncentred) data this is *not* the regression slope.
    """
    x = _vector("x", x)
    y = _vector("y", y, x.shape[0])
    sxx = x @ x
    if sxx == 0:
        raise ValueError("x: all zeros, so the slope through the origin is undefined")
    return float(x @ y / sxx)


def standardize(x, ddof: int = 0) -> tuple[np.ndarray, np.ndarray | float, np.ndarray | float]:
    """``z = (x - mean) / sd`` with ``sd`` computed with ``ddof`` (0: population SD, as in the book).

    ``x``: shape ``(n,)`` or ``(n, p)`` (each column standardised). Returns ``(z, mean, sd)`` with
    ``mean`` and ``sd`` scalars for 1-D input, ``(p,)`` arrays for 2-D input.
    """
    x = np.asarray(x)
    x = _array("x", x, x.ndim if x.ndim in (1, 2) else 1, "(n,) or (n, p)")
    ddof = _count("ddof", ddof)
    if x.shape[0] <= ddof:
        raise ValueError(f"x: expected more than ddof={ddof} rows, got {x.shape[0]}")
    mean, sd = x.mean(axis=0), x.std(axis=0, ddof=ddof)
    if np.any(sd == 0):
        raise ValueError("x: a constant column has standard deviation 0 and cannot be standardised")
    z = (x - mean) / sd
    return (z, float(mean), float(sd)) if x.ndim == 1 else (z, mean, sd)


def correlation(x, y, w=None) -> float:
    """Pearson's ``r`` with optional frequency weights ``w`` (a pair with weight 3 counts three times).

    ``r = sum w (x - xbar)(y - ybar) / sqrt(sum w (x - xbar)^2 * sum w (y - ybar)^2)``, with weighted
    means ``xbar = sum w x / sum w``. ``x``, ``y``, ``w``: shape ``(n,)``. Returns a float in [-1, 1].
    """
    x = _vector("x", x)
    y = _vector("y", y, x.shape[0])
    w = np.ones_like(x) if w is None else _weights(w, x.shape[0])
    dx = x - w @ x / w.sum()
    dy = y - w @ y / w.sum()
    sxx, syy = w @ dx**2, w @ dy**2
    if sxx == 0 or syy == 0:
        raise ValueError("x, y: a constant variable has no correlation")
    return float(np.clip(w @ (dx * dy) / np.sqrt(sxx * syy), -1.0, 1.0))


# --------------------------------------------------------------------------- least squares and ridge
def fit_least_squares(X, y, ridge: float = 0.0, fit_intercept: bool = False,
                      penalize_intercept: bool = False, weights=None) -> np.ndarray:
    """Weighted least squares with an optional ridge penalty, in the book's convention.

    Minimises ``1/2 sum_i w_i (y_i - x_i . beta)^2 + ridge * sum_j D_jj beta_j^2``, i.e. solves
    ``(X^T W X + 2 ridge D) beta = X^T W y``, where ``D`` is the identity except that the intercept
    entry is 0 unless ``penalize_intercept``. The system is solved as the stacked least-squares
    problem ``[sqrt(W) X; sqrt(2 ridge D)] beta ~ [sqrt(W) y; 0]`` with ``np.linalg.lstsq``, which
    never forms ``X^T X`` and, when the problem is rank deficient (ridge 0), returns the
    minimum-norm solution.

    ``X``: ``(n, p)``; ``y``, ``weights``: ``(n,)``. Returns ``beta`` of shape ``(p,)``, or
    ``(p + 1,)`` with the intercept first when ``fit_intercept``.
    """
    X = _matrix("X", X)
    y = _vector("y", y, X.shape[0])
    ridge = _scalar("ridge", ridge)
    w = np.ones(X.shape[0]) if weights is None else _weights(weights, X.shape[0])
    A = _with_ones(X) if fit_intercept else X
    root_w = np.sqrt(w)
    A_stack, b_stack = root_w[:, None] * A, root_w * y
    if ridge > 0:
        penalty = np.full(A.shape[1], np.sqrt(2 * ridge))
        if fit_intercept and not penalize_intercept:
            penalty[0] = 0.0
        A_stack = np.vstack([A_stack, np.diag(penalty)])
        b_stack = np.concatenate([b_stack, np.zeros(A.shape[1])])
    return np.linalg.lstsq(A_stack, b_stack, rcond=None)[0]


def normal_equations_residual(X, y, beta) -> np.ndarray:
    """``X^T (y - X beta)``, shape ``(p,)``: zero exactly at a least-squares solution.

    It is minus the gradient of ``1/2 |y - X beta|^2``; each entry is the inner product of a column
    of ``X`` with the residual vector, so zero means the residual is orthogonal to every column.
    """
    X = _matrix("X", X)
    y = _vector("y", y, X.shape[0])
    beta = _vector("beta", beta, X.shape[1], "p")
    return X.T @ (y - X @ beta)


def hat_matrix(X) -> np.ndarray:
    """The projection onto the column space of ``X``: ``H = X (X^T X)^+ X^T = X X^+``, shape ``(n, n)``.

    ``H y`` are the fitted values; ``H`` is symmetric and idempotent, and ``trace(H) = rank(X)``.
    """
    X = _matrix("X", X)
    return X @ np.linalg.pinv(X)


def min_norm_solution(X, y, rcond: float | None = None) -> np.ndarray:
    """The minimum-norm least-squares solution ``X^+ y`` via the thin SVD ``X = U diag(s) V^T``.

    ``beta = sum_{s_i > cutoff} v_i (u_i . y) / s_i`` with ``cutoff = rcond * s_max``; the default
    ``rcond`` is numpy's ``max(n, p) * eps``. ``X``: ``(n, p)``, ``y``: ``(n,)``; returns ``(p,)``.
    Among all minimisers of ``|y - X beta|`` (all interpolants when ``p >= n`` and ``X`` has full
    row rank) it is the one with the smallest ``|beta|``, and it lies in the row space of ``X``.
    """
    X = _matrix("X", X)
    y = _vector("y", y, X.shape[0])
    if rcond is None:
        rcond = max(X.shape) * np.finfo(np.float64).eps
    rcond = _scalar("rcond", rcond)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = s > rcond * s[0]
    return Vt[keep].T @ ((U[:, keep].T @ y) / s[keep])


# --------------------------------------------------------------------------- lasso
def _lasso_violation(grad: np.ndarray, beta: np.ndarray, lam: float) -> float:
    """Largest violation of the lasso optimality conditions, given ``grad = X^T (y - X beta)``:
    ``grad_j = lam sign(beta_j)`` where ``beta_j != 0`` and ``|grad_j| <= lam`` where ``beta_j = 0``."""
    return float(np.max(np.where(beta != 0, np.abs(grad - lam * np.sign(beta)), np.abs(grad) - lam), initial=0.0))


def lasso_cd(X, y, lam: float, fit_intercept: bool = True, tol: float = 1e-10,
             max_iter: int = 100_000) -> np.ndarray:
    """Lasso by cyclic coordinate descent: minimise ``1/2 |y - b0 - X beta|^2 + lam * |beta|_1``.

    With ``fit_intercept`` the unpenalised intercept ``b0`` is removed by centring ``X`` and ``y``
    (for any ``beta`` the best ``b0`` is ``mean(y - X beta)``). Each coordinate update is the exact
    one-dimensional minimiser, a soft threshold:
    ``beta_j = S(X_j^T r_j, lam) / |X_j|^2`` with ``r_j`` the residual without feature ``j`` and
    ``S(z, lam) = sign(z) max(|z| - lam, 0)``.

    Coordinate descent finds the support (which ``beta_j`` are non-zero, and their signs) quickly
    but then creeps when columns are strongly correlated. So after every sweep that left the
    support unchanged we also try the exact answer for that support: on it the optimality conditions
    are the linear system ``X_S^T X_S beta_S = X_S^T y - lam sign(beta_S)``. Either way we stop as
    soon as the optimality conditions (``X_j^T r = lam sign(beta_j)`` on the support,
    ``|X_j^T r| <= lam`` off it) hold to within ``tol * max_j |X_j^T y|``; a RuntimeWarning says so
    if ``max_iter`` sweeps are not enough.

    ``X``: ``(n, p)``, ``y``: ``(n,)``. Returns ``(p + 1,)`` with ``beta[0] = b0`` when
    ``fit_intercept``, else ``(p,)``. scikit-learn's ``Lasso(alpha)`` is this with ``lam = n * alpha``.
    """
    X = _matrix("X", X)
    y = _vector("y", y, X.shape[0])
    lam = _scalar("lam", lam)
    tol = _scalar("tol", tol, positive=True)
    max_iter = _count("max_iter", max_iter)
    x_mean, y_mean = (X.mean(axis=0), y.mean()) if fit_intercept else (np.zeros(X.shape[1]), 0.0)
    Xc, yc = X - x_mean, y - y_mean
    gram, xty = Xc.T @ Xc, Xc.T @ yc
    col_sq = np.diag(gram)
    threshold = tol * max(np.abs(xty).max(), np.finfo(np.float64).tiny)
    beta = np.zeros(X.shape[1])
    grad = xty.copy()  # X^T (y - X beta), kept up to date after each coordinate move
    for _ in range(max_iter):
        support = beta != 0
        for j in np.flatnonzero(col_sq > 0):
            z = grad[j] + col_sq[j] * beta[j]
            new = np.sign(z) * max(abs(z) - lam, 0.0) / col_sq[j]
            if new != beta[j]:
                grad -= gram[:, j] * (new - beta[j])
                beta[j] = new
        if _lasso_violation(grad, beta, lam) <= threshold:
            break
        if support.any() and np.array_equal(support, beta != 0):
            signs = np.sign(beta[support])
            exact = np.zeros_like(beta)
            exact[support] = np.linalg.lstsq(gram[np.ix_(support, support)], xty[support] - lam * signs,
                                             rcond=None)[0]
            exact_grad = xty - gram[:, support] @ exact[support]
            if np.array_equal(np.sign(exact[support]), signs) and _lasso_violation(exact_grad, exact, lam) <= threshold:
                beta = exact
                break
    else:
        warnings.warn(f"lasso_cd: not converged to tol={tol} after max_iter={max_iter} sweeps",
                      RuntimeWarning, stacklevel=2)
    return np.concatenate([[y_mean - x_mean @ beta], beta]) if fit_intercept else beta


# --------------------------------------------------------------------------- gradient descent
def gd_least_squares(X, y, eta: float, steps: int, beta0=None,
                     record_every: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Plain gradient descent on ``1/2 |y - X beta|^2``: ``beta <- beta + eta X^T (y - X beta)``.

    Starts at ``beta0`` (default zeros, shape ``(p,)``) and takes ``steps`` steps. Returns
    ``(beta, path)``: the last iterate ``(p,)`` and the iterates ``beta_t`` for ``t = 0, r, 2r, ...
    <= steps`` stacked as ``(k, p)`` with ``r = record_every`` (shape ``(0, p)`` when ``r = 0``).
    The iteration converges iff ``eta < gd_stability_limit(X)``; above it the iterates blow up.
    """
    X = _matrix("X", X)
    y = _vector("y", y, X.shape[0])
    eta = _scalar("eta", eta, positive=True)
    steps = _count("steps", steps)
    record_every = _count("record_every", record_every)
    beta = np.zeros(X.shape[1]) if beta0 is None else _vector("beta0", beta0, X.shape[1], "p")
    path = [beta.copy()] if record_every else []
    for t in range(1, steps + 1):
        beta = beta + eta * (X.T @ (y - X @ beta))
        if record_every and t % record_every == 0:
            path.append(beta.copy())
    return beta, np.array(path).reshape(-1, X.shape[1])


def gd_closed_form(X, y, eta: float, t: int, beta0=None) -> np.ndarray:
    """The ``t``-th gradient-descent iterate in closed form, from the thin SVD ``X = U diag(s) V^T``.

    In the basis of right singular vectors each coordinate obeys ``a <- (1 - eta s^2) a + eta s (u . y)``,
    whose solution gives (``q = 1 - eta s^2``, ``P = V V^T`` the projection onto the row space)::

        beta_t = V diag((1 - q^t) / s) U^T y  +  V diag(q^t) V^T beta0  +  (I - P) beta0

    The first term is spectral filtering of the minimum-norm solution (early stopping acts like
    ridge); the last is the part of the start that gradient descent never changes. Singular values
    below numpy's cutoff ``max(n, p) eps s_max`` count as zero. Returns ``(p,)``.
    """
    X = _matrix("X", X)
    y = _vector("y", y, X.shape[0])
    eta = _scalar("eta", eta, positive=True)
    t = _count("t", t)
    beta0 = np.zeros(X.shape[1]) if beta0 is None else _vector("beta0", beta0, X.shape[1], "p")
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = s > max(X.shape) * np.finfo(np.float64).eps * s[0]
    U, s, Vt = U[:, keep], s[keep], Vt[keep]
    step = eta * s**2
    # q^t and 1 - q^t, accurate when q = 1 - eta s^2 is close to 1 (small singular values)
    small = step < 0.5
    log_q = np.log1p(-np.where(small, step, 0.0))  # used only where small
    q_t = np.where(small, np.exp(t * log_q), (1.0 - step) ** t)
    one_minus_q_t = np.where(small, -np.expm1(t * log_q), 1.0 - q_t)
    a0 = Vt @ beta0
    return Vt.T @ (one_minus_q_t / s * (U.T @ y) + q_t * a0) + (beta0 - Vt.T @ a0)


def gd_stability_limit(X) -> float:
    """``2 / lambda_max(X^T X) = 2 / s_max(X)^2``: gradient descent on ``1/2 |y - X beta|^2``
    converges for every start iff ``0 < eta < `` this value. ``X``: ``(n, p)``, not all zeros."""
    X = _matrix("X", X)
    s_max = np.linalg.norm(X, 2)
    if s_max == 0:
        raise ValueError("X: all zeros, so the loss has no curvature and any step size is stable")
    return float(2.0 / s_max**2)
