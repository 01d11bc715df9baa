"""Capacity of a function class, measured by how much noise it can fit (10.10).

* **Shattering and VC dimension.** A class shatters a set of n points if it realises all 2^n labelings.
  For linear classifiers ``sign(w^T x + b)`` a labeling is realisable iff the LP feasibility problem
  ``y_i (w^T x_i + b) >= 1`` has a solution (scale any strict separator up). The VC dimension is the size
  of the largest set that *some* arrangement lets the class shatter: d + 1 in R^d.
* **Margin.** Separators with margin gamma on data in a ball of radius R have VC dimension at most
  ``min(ceil(R^2 / gamma^2), d) + 1``.
* **Rademacher complexity** of ``F_B = {x -> w^T x : ||w|| <= B}`` on a sample: the supremum is attained
  at ``w = B s / ||s||`` with ``s = sum_i sigma_i x_i``, so::

      R_hat_n(F_B) = E_sigma sup_f 1/n sum_i sigma_i f(x_i) = (B / n) E ||sum_i sigma_i x_i||
                   <= (B / n) sqrt(sum_i ||x_i||^2)                       (Jensen)

  with equality when the x_i are orthogonal.
* **Generalisation bound** for a loss with values in [0, 1], with probability at least 1 - delta::

      E L <= L_hat + 2 R_n(loss class) + sqrt(ln(1/delta) / (2n))          (expected complexity)
      E L <= L_hat + 2 R_hat_n(loss class) + 3 sqrt(ln(2/delta) / (2n))    (empirical complexity)
"""
from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.optimize import linprog

MAX_SHATTER_N = 12
MAX_EXACT_N = 20


def _check_X(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or not np.isfinite(X).all():
        raise ValueError(f"X: expected a finite 2-D array (n, d) with n >= 1, got shape {X.shape}")
    return X


def _check_positive(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not v > 0 \
            or not math.isfinite(v):
        raise ValueError(f"{name}: expected a positive finite number, got {v!r}")
    return float(v)


def _check_int(name: str, v, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")
    return int(v)


# --------------------------------------------------------------------------- shattering and VC dimension

def linearly_separable(X, y) -> bool:
    """Is there (w, b) with ``y_i (w^T x_i + b) >= 1`` for all i? LP feasibility with ``scipy.optimize.linprog``.

    ``X``: (n, d); ``y``: (n,) in {-1, +1}. Labelings with one class only are separable (w = 0, b = y).
    """
    X = _check_X(X)
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (X.shape[0],) or not np.isin(y, (-1.0, 1.0)).all():
        raise ValueError(f"y: expected shape ({X.shape[0]},) with labels in {{-1, +1}}, got shape {y.shape}")
    n, d = X.shape
    A = -y[:, None] * np.hstack([X, np.ones((n, 1))])  # -y_i [x_i, 1] @ [w, b] <= -1
    res = linprog(np.zeros(d + 1), A_ub=A, b_ub=-np.ones(n), bounds=[(None, None)] * (d + 1), method="highs")
    if res.status not in (0, 2):
        raise RuntimeError(f"linprog failed: {res.message}")
    return res.status == 0


def shatters(X) -> bool:
    """Do linear classifiers in R^d realise all 2^n labelings of the rows of ``X`` (n <= 12)?"""
    X = _check_X(X)
    n = X.shape[0]
    if n > MAX_SHATTER_N:
        raise ValueError(f"X: at most {MAX_SHATTER_N} points (2^n labelings are enumerated), got {n}")
    return all(linearly_separable(X, np.array(s)) for s in itertools.product((-1.0, 1.0), repeat=n))


def vc_dim_linear(d: int) -> int:
    """VC dimension of ``{sign(w^T x + b)}`` in R^d: d + 1."""
    return _check_int("d", d, 1) + 1


def vc_margin_bound(R: float, gamma: float, d: int) -> int:
    """Vapnik's bound for separators of margin ``gamma`` on data in a ball of radius ``R``:
    ``min(ceil(R^2 / gamma^2), d) + 1``."""
    R, gamma, d = _check_positive("R", R), _check_positive("gamma", gamma), _check_int("d", d, 1)
    return min(math.ceil(R ** 2 / gamma ** 2 - 1e-12), d) + 1


# --------------------------------------------------------------------------- Rademacher complexity

def empirical_rademacher_linear(X, B: float, n_mc: int = 2000, seed: int = 0, return_se: bool = False):
    """Monte Carlo estimate of ``R_hat_n`` for ``{x -> w^T x : ||w|| <= B}`` and its Jensen upper bound.

    ``X``: (n, d). Draws ``n_mc`` sign vectors sigma and averages ``(B / n) ||sigma^T X||``.
    Returns ``(mc_estimate, upper_bound)`` with ``upper_bound = (B / n) sqrt(sum ||x_i||^2)``;
    with ``return_se=True`` also the Monte Carlo standard error as a third element.
    """
    X = _check_X(X)
    B = _check_positive("B", B)
    n_mc = _check_int("n_mc", n_mc, 2)
    n = X.shape[0]
    sigma = np.random.default_rng(seed).choice((-1.0, 1.0), size=(n_mc, n))
    vals = B / n * np.linalg.norm(sigma @ X, axis=1)
    est = float(vals.mean())
    bound = float(B / n * math.sqrt((X ** 2).sum()))
    if return_se:
        return est, bound, float(vals.std(ddof=1) / math.sqrt(n_mc))
    return est, bound


def exact_rademacher_linear(X, B: float) -> float:
    """``(B / n) E ||sum_i sigma_i x_i||`` by enumerating all 2^n sign vectors (n <= 20)."""
    X = _check_X(X)
    B = _check_positive("B", B)
    n = X.shape[0]
    if n > MAX_EXACT_N:
        raise ValueError(f"X: at most {MAX_EXACT_N} points for exact enumeration, got {n}")
    bits = (np.arange(2 ** n)[:, None] >> np.arange(n)) & 1
    sigma = 2.0 * bits - 1.0
    return float(B / n * np.linalg.norm(sigma @ X, axis=1).mean())


def random_label_fit(make_model, X, n_trials: int = 10, seed: int = 0, return_all: bool = False):
    """Mean training accuracy of ``make_model()`` fitted to uniformly random labels in {-1, +1}.

    ``make_model``: a zero-argument callable returning an unfitted estimator with ``fit`` and ``predict``
    (sklearn style). A class that fits noise (accuracy near 1) has high capacity; chance is 0.5.
    With ``return_all=True`` the per-trial accuracies (n_trials,) are returned instead of their mean.
    """
    if not callable(make_model):
        raise TypeError(f"make_model: expected a zero-argument callable, got {type(make_model).__name__}")
    X = _check_X(X)
    n_trials = _check_int("n_trials", n_trials, 1)
    rng = np.random.default_rng(seed)
    accs = np.empty(n_trials)
    for t in range(n_trials):
        y = rng.choice((-1.0, 1.0), size=X.shape[0])
        while abs(y.sum()) == X.shape[0]:  # both classes are needed to fit a classifier
            y = rng.choice((-1.0, 1.0), size=X.shape[0])
        accs[t] = np.mean(make_model().fit(X, y).predict(X) == y)
    return accs if return_all else float(accs.mean())


# --------------------------------------------------------------------------- the generalisation bound

def rademacher_bound(emp_risk: float, rad: float, n: int, delta: float, empirical: bool = False) -> float:
    """Upper bound on the expected risk of a [0, 1]-valued loss, holding with probability >= 1 - delta.

    ``empirical=False``: ``emp_risk + 2 rad + sqrt(ln(1/delta) / (2n))`` with ``rad`` the *expected*
    Rademacher complexity of the loss class; ``empirical=True``: ``emp_risk + 2 rad + 3 sqrt(ln(2/delta) / (2n))``
    with ``rad`` the *empirical* one (computable from the sample).
    """
    if isinstance(emp_risk, bool) or not isinstance(emp_risk, (int, float, np.integer, np.floating)) \
            or not 0 <= emp_risk <= 1:
        raise ValueError(f"emp_risk: expected a number in [0, 1] (a loss bounded by 1), got {emp_risk!r}")
    if isinstance(rad, bool) or not isinstance(rad, (int, float, np.integer, np.floating)) or not rad >= 0:
        raise ValueError(f"rad: expected a non-negative number, got {rad!r}")
    n = _check_int("n", n, 1)
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.integer, np.floating)) or not 0 < delta < 1:
        raise ValueError(f"delta: expected a number in (0, 1), got {delta!r}")
    if empirical:
        return float(emp_risk + 2 * rad + 3 * math.sqrt(math.log(2 / delta) / (2 * n)))
    return float(emp_risk + 2 * rad + math.sqrt(math.log(1 / delta) / (2 * n)))
