"""Piecewise-linear regression with hinge (ReLU) features at equally spaced knots.

The model of the book's section 1.4 takes a scalar input ``x`` and the features

    h_j(x) = max(0, x - c_j),   c_j = x_min + j * Delta,   Delta = (x_max - x_min) / (p + 1),  j = 1..p

so that ``s(x) = beta_0 + sum_j beta_j h_j(x)``: a broken line whose slope changes by ``beta_j`` at
knot ``c_j``. There is no linear term, so ``s`` is constant (``= beta_0``) left of the first knot.
The same model is a one-hidden-layer ReLU network whose first layer is frozen (weight 1, bias -c_j).

Fits: plain least squares (the minimum-norm interpolant once ``p + 1 > n``), ridge and lasso, both
with an unpenalised intercept and the book's convention ``1/2 RSS + lam * penalty``. As ``p`` grows
the minimum-norm interpolant tends to the cubic spline through the data with zero slope at the left
end and zero curvature at the right end (``spline_limit``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from .regression import fit_least_squares, lasso_cd, min_norm_solution

PENALTIES = ("none", "ridge", "lasso")


def _real_vector(name: str, a) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D array of shape (n,), got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return arr


def _real_number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return float(value)


def hinge_knots(p: int, xmin: float, xmax: float) -> np.ndarray:
    """The ``p`` equally spaced interior knots ``c_j = xmin + j (xmax - xmin) / (p + 1)``, ``j = 1..p``.

    Returns shape ``(p,)``; ``p = 0`` gives an empty array (the constant model).
    """
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
        raise TypeError(f"p: expected a non-negative integer, got {type(p).__name__}")
    if p < 0:
        raise ValueError(f"p: expected a non-negative integer, got {p!r}")
    xmin, xmax = _real_number("xmin", xmin), _real_number("xmax", xmax)
    if not xmax > xmin:
        raise ValueError(f"xmax: expected a number > xmin={xmin}, got {xmax}")
    return xmin + np.arange(1, p + 1) * (xmax - xmin) / (p + 1)


def hinge_features(x, knots, intercept: bool = True) -> np.ndarray:
    """The design matrix ``Phi[i, j] = max(0, x_i - c_j)``, with a leading column of ones if ``intercept``.

    ``x``: ``(n,)``, ``knots``: ``(p,)`` (may be empty). Returns ``(n, p + 1)`` or ``(n, p)``.
    """
    x = _real_vector("x", x)
    knots = np.asarray(knots, dtype=np.float64)
    if knots.ndim != 1:
        raise ValueError(f"knots: expected a 1-D array of shape (p,), got shape {knots.shape}")
    hinges = np.maximum(0.0, x[:, None] - knots[None, :])
    return np.column_stack([np.ones_like(x), hinges]) if intercept else hinges


@dataclass(frozen=True)
class PiecewiseLinearFit:
    """A fitted broken line: ``s(x) = beta[0] + sum_j beta[j] max(0, x - knots[j-1])``."""

    knots: np.ndarray  # (p,)
    beta: np.ndarray  # (p + 1,), intercept first; beta[j] is the change of slope at knots[j-1]
    penalty: str
    lam: float

    def predict(self, x) -> np.ndarray:
        """``s(x)`` at the points ``x`` (shape ``(m,)``); returns ``(m,)``."""
        return hinge_features(x, self.knots) @ self.beta

    @property
    def active_knots(self) -> np.ndarray:
        """The knots where the slope really changes: ``|beta_j| > 1e-10 * max_k |beta_k|``."""
        slopes = np.abs(self.beta[1:])
        return self.knots[slopes > 1e-10 * max(slopes.max(initial=0.0), np.finfo(float).tiny)]


def fit_piecewise_linear(x, y, p: int, penalty: str = "none", lam: float = 0.0,
                         xmin: float | None = None, xmax: float | None = None) -> PiecewiseLinearFit:
    """Fit ``s(x) = beta_0 + sum_j beta_j max(0, x - c_j)`` with ``p`` knots spread over ``[xmin, xmax]``.

    ``x``, ``y``: ``(n,)``; ``xmin``, ``xmax`` default to the range of ``x`` (the book's choice).
    ``penalty``:

    * ``"none"``: least squares, ``beta = Phi^+ y``; with ``p + 1 > n`` columns this is the
      minimum-norm interpolant ``argmin{|beta|^2 : Phi beta = y}`` (``lam`` must be 0);
    * ``"ridge"``: minimise ``1/2 |y - Phi beta|^2 + lam * sum_{j>=1} beta_j^2``;
    * ``"lasso"``: minimise ``1/2 |y - Phi beta|^2 + lam * sum_{j>=1} |beta_j|`` (coordinate descent).

    The intercept ``beta_0`` is never penalised by ridge or lasso.
    """
    x = _real_vector("x", x)
    y = _real_vector("y", y)
    if y.shape != x.shape:
        raise ValueError(f"y: expected shape {x.shape} to match x, got shape {y.shape}")
    if penalty not in PENALTIES:
        raise ValueError(f"penalty: expected one of {PENALTIES}, got {penalty!r}")
    lam = _real_number("lam", lam)
    if lam < 0 or (penalty == "none" and lam != 0):
        raise ValueError(f"lam: expected 0 for penalty='none' and >= 0 otherwise, got {lam}")
    knots = hinge_knots(p, x.min() if xmin is None else xmin, x.max() if xmax is None else xmax)
    hinges = hinge_features(x, knots, intercept=False)
    if penalty == "none":
        beta = min_norm_solution(np.column_stack([np.ones_like(x), hinges]), y)
    elif penalty == "ridge":
        beta = fit_least_squares(hinges, y, ridge=lam, fit_intercept=True)
    else:
        beta = lasso_cd(hinges, y, lam, fit_intercept=True)
    return PiecewiseLinearFit(knots=knots, beta=beta, penalty=penalty, lam=lam)


def spline_limit(x, y) -> CubicSpline:
    """The ``p -> infinity`` limit of the minimum-norm hinge interpolant with knots over the data range.

    With dense knots ``beta_j ~ s''(c_j) Delta``, so ``sum_j beta_j^2 ~ Delta * integral s''(x)^2 dx``:
    the minimum-norm interpolant minimises the curvature energy. Because every hinge is flat to
    its left, the fit starts with slope 0 at ``min(x)``; nothing forces curvature beyond ``max(x)``.
    The limit is the cubic spline through the data with ``s'(x_min) = 0`` and ``s''(x_max) = 0``.
    ``x`` (distinct values), ``y``: ``(n,)`` with ``n >= 2``.
    """
    x = _real_vector("x", x)
    y = _real_vector("y", y)
    if y.shape != x.shape:
        raise ValueError(f"y: expected shape {x.shape} to match x, got shape {y.shape}")
    order = np.argsort(x)
    x, y = x[order], y[order]
    if x.size < 2 or np.any(np.diff(x) <= 0):
        raise ValueError("x: expected at least two distinct values, with no repeats")
    return CubicSpline(x, y, bc_type=((1, 0.0), (2, 0.0)))
