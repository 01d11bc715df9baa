"""Losses for boosting: value, gradient and Hessian in the margin f, and margin losses of z = y f.

Two views of the same functions:

* **Loss objects** with ``value(y, f)``, ``grad(y, f)``, ``hess(y, f)`` (elementwise, shape (n,)),
  ``init_margin(y)`` (the best constant margin) and ``link(f)`` (margin -> prediction). A Newton booster
  needs only ``grad`` and ``hess``:

  ================  ==============  ==================================  ===============  ==============
  loss              labels          l(y, f)                             g = dl/df        h = d2l/df2
  ================  ==============  ==================================  ===============  ==============
  SquaredLoss       real            (y - f)^2 / 2                       f - y            1
  LogisticLoss      {0, 1}          (1 - y) f + log(1 + e^{-f})         p - y            p (1 - p)
  ExponentialLoss   {-1, +1}        e^{-y f}                            -y e^{-y f}      e^{-y f}
  ================  ==============  ==================================  ===============  ==============

  with ``p = sigmoid(f)``. The logistic Hessian is floored at 1e-16, as xgboost does, so that the
  working response ``-g / h`` stays finite.

* **Margin losses** of ``z = y f`` with ``y`` in {-1, +1}: ``zero_one``, ``hinge``, ``logistic_margin``,
  ``exponential`` and their derivatives, plus the population minimizers
  ``argmin_f  eta l(f) + (1 - eta) l(-f)`` for ``eta = P(Y = +1 | x)``, in closed form and numerically.

Everything is numerically stable for |f| up to several hundred (``np.logaddexp``, ``scipy.special.expit``).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, special

HESS_FLOOR = 1e-16  # xgboost's floor on the logistic Hessian


def _arrays(y, f) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64)
    f = np.asarray(f, dtype=np.float64)
    if y.shape != f.shape and y.ndim and f.ndim:
        try:
            np.broadcast_shapes(y.shape, f.shape)
        except ValueError:
            raise ValueError(f"y, f: shapes {y.shape} and {f.shape} do not broadcast") from None
    return y, f


def _check_labels(y: np.ndarray, allowed: tuple, name: str) -> None:
    if not np.isin(y, allowed).all():
        raise ValueError(f"y: {name} expects labels in {allowed}, got values {np.unique(y)[:5]}")


class SquaredLoss:
    """``l = (y - f)^2 / 2``: g = f - y, h = 1; identity link; best constant = mean(y)."""

    name = "squared"

    def value(self, y, f):
        y, f = _arrays(y, f)
        return 0.5 * (y - f) ** 2

    def grad(self, y, f):
        y, f = _arrays(y, f)
        return f - y

    def hess(self, y, f):
        y, f = _arrays(y, f)
        return np.ones(np.broadcast_shapes(y.shape, f.shape))

    def init_margin(self, y, sample_weight=None) -> float:
        y = np.asarray(y, dtype=np.float64)
        return float(np.average(y, weights=sample_weight))

    def link(self, f):
        return np.asarray(f, dtype=np.float64)

    def __repr__(self):
        return "SquaredLoss()"


class LogisticLoss:
    """Negative log-likelihood of a Bernoulli label y in {0, 1} with ``p = sigmoid(f)``.

    ``l = (1 - y) f + log(1 + e^{-f}) = logaddexp(0, f) - y f``, g = p - y, h = max(p (1 - p), 1e-16);
    link = sigmoid; best constant = logit(mean y).
    """

    name = "logistic"

    def value(self, y, f):
        y, f = _arrays(y, f)
        _check_labels(y, (0.0, 1.0), "LogisticLoss")
        return np.logaddexp(0.0, f) - y * f

    def grad(self, y, f):
        y, f = _arrays(y, f)
        _check_labels(y, (0.0, 1.0), "LogisticLoss")
        return special.expit(f) - y

    def hess(self, y, f):
        y, f = _arrays(y, f)
        _check_labels(y, (0.0, 1.0), "LogisticLoss")
        p = special.expit(f)
        return np.broadcast_to(np.maximum(p * (1.0 - p), HESS_FLOOR), np.broadcast_shapes(y.shape, f.shape)).copy()

    def init_margin(self, y, sample_weight=None) -> float:
        y = np.asarray(y, dtype=np.float64)
        _check_labels(y, (0.0, 1.0), "LogisticLoss")
        m = float(np.average(y, weights=sample_weight))
        if not 0 < m < 1:
            raise ValueError("y: both classes are needed for a finite best constant margin")
        return float(special.logit(m))

    def link(self, f):
        return special.expit(np.asarray(f, dtype=np.float64))

    def __repr__(self):
        return "LogisticLoss()"


class ExponentialLoss:
    """AdaBoost's loss ``l = exp(-y f)`` for y in {-1, +1}: g = -y e^{-yf}, h = e^{-yf}.

    link = sigmoid(2 f) (the probability implied by half the log-odds); best constant = atanh(mean y)
    = 1/2 log(P(+1) / P(-1)).
    """

    name = "exponential"

    def value(self, y, f):
        y, f = _arrays(y, f)
        _check_labels(y, (-1.0, 1.0), "ExponentialLoss")
        return np.exp(-y * f)

    def grad(self, y, f):
        y, f = _arrays(y, f)
        _check_labels(y, (-1.0, 1.0), "ExponentialLoss")
        return -y * np.exp(-y * f)

    def hess(self, y, f):
        y, f = _arrays(y, f)
        _check_labels(y, (-1.0, 1.0), "ExponentialLoss")
        return np.exp(-y * f)

    def init_margin(self, y, sample_weight=None) -> float:
        y = np.asarray(y, dtype=np.float64)
        _check_labels(y, (-1.0, 1.0), "ExponentialLoss")
        m = float(np.average(y, weights=sample_weight))
        if not -1 < m < 1:
            raise ValueError("y: both classes are needed for a finite best constant margin")
        return float(np.arctanh(m))

    def link(self, f):
        return special.expit(2.0 * np.asarray(f, dtype=np.float64))

    def __repr__(self):
        return "ExponentialLoss()"


LOSSES = {"squared": SquaredLoss, "logistic": LogisticLoss, "exponential": ExponentialLoss}


def get_loss(loss):
    """A loss object from a name in ``LOSSES`` or an object with ``grad`` and ``hess``."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"loss: expected one of {sorted(LOSSES)} or a loss object, got {loss!r}")
        return LOSSES[loss]()
    if not (callable(getattr(loss, "grad", None)) and callable(getattr(loss, "hess", None))):
        raise TypeError(f"loss: expected a name or an object with grad(y, f) and hess(y, f), got {type(loss).__name__}")
    return loss


# ---- margin losses of z = y f, y in {-1, +1} ----------------------------------------------------------

def zero_one(z):
    """``1{z <= 0}``: a zero margin counts as an error."""
    return (np.asarray(z, dtype=np.float64) <= 0).astype(np.float64)


def hinge(z):
    """``max(0, 1 - z)``."""
    return np.maximum(0.0, 1.0 - np.asarray(z, dtype=np.float64))


def logistic_margin(z):
    """``log(1 + e^{-z})`` (natural log; divide by log 2 for the version that passes through (0, 1))."""
    return np.logaddexp(0.0, -np.asarray(z, dtype=np.float64))


def exponential(z):
    """``e^{-z}``."""
    return np.exp(-np.asarray(z, dtype=np.float64))


def d_hinge(z):
    """A subgradient of the hinge: -1 for z < 1, 0 for z >= 1 (0 at the kink by convention)."""
    return -(np.asarray(z, dtype=np.float64) < 1).astype(np.float64)


def d_logistic(z):
    """``-1 / (1 + e^z) = -sigmoid(-z)``, bounded by 1 in absolute value."""
    return -special.expit(-np.asarray(z, dtype=np.float64))


def d_exponential(z):
    """``-e^{-z}``, unbounded as z -> -infinity."""
    return -np.exp(-np.asarray(z, dtype=np.float64))


MARGIN_LOSSES = {"zero_one": zero_one, "hinge": hinge, "logistic": logistic_margin, "exponential": exponential}


def _check_eta(eta) -> float:
    if isinstance(eta, bool) or not isinstance(eta, (int, float, np.integer, np.floating)) or not 0 < eta < 1:
        raise ValueError(f"eta: expected a probability strictly between 0 and 1, got {eta!r}")
    return float(eta)


def population_minimizer(loss_name: str, eta: float) -> float:
    """``argmin_f eta l(f) + (1 - eta) l(-f)`` in closed form.

    hinge: sign(2 eta - 1) (0 at eta = 1/2); logistic: log(eta / (1 - eta)); exponential: half of that;
    squared (margin loss (1 - z)^2): 2 eta - 1.
    """
    eta = _check_eta(eta)
    if loss_name == "hinge":
        return float(np.sign(2 * eta - 1))
    if loss_name == "logistic":
        return float(np.log(eta / (1 - eta)))
    if loss_name == "exponential":
        return float(0.5 * np.log(eta / (1 - eta)))
    if loss_name == "squared":
        return 2 * eta - 1
    raise ValueError(f"loss_name: expected 'hinge', 'logistic', 'exponential' or 'squared', got {loss_name!r}")


def population_minimizer_numeric(loss_fn, eta: float, bounds: tuple = (-20.0, 20.0)) -> float:
    """Minimise ``eta loss_fn(f) + (1 - eta) loss_fn(-f)`` over f in ``bounds`` with a bounded scalar search."""
    eta = _check_eta(eta)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn: expected a callable margin loss, got {type(loss_fn).__name__}")
    risk = lambda f: float(eta * loss_fn(f) + (1 - eta) * loss_fn(-f))  # noqa: E731
    res = optimize.minimize_scalar(risk, bounds=bounds, method="bounded", options=dict(xatol=1e-12))
    return float(res.x)
