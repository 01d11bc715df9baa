"""AdaBoost: forward stagewise minimisation of the exponential loss with +-1 base learners (Algorithm 10).

The model is a weighted vote of classifiers ``h_m(x) in {-1, +1}``::

    f_M(x) = sum_m alpha_m h_m(x)                                                  (9.57)

fitted to minimise the average exponential loss ``(1/n) sum_i exp(-y_i f(x_i))`` (9.58-9.59), one term
at a time. Round m keeps the earlier terms fixed, which turns the loss into a weighted problem with
weights ``w_i^(m) proportional to exp(-y_i f_{m-1}(x_i))``. For a fixed ``alpha > 0`` the best ``h`` is the
one with the smallest weighted error ``eps_m``, and the best ``alpha`` for it is::

    alpha_m = 1/2 log((1 - eps_m) / eps_m)                                         (9.72-9.73)

after which the weights are multiplied by ``exp(-alpha_m y_i h_m(x_i))`` and normalised (9.74-9.77).
This module performs that update in the equivalent form used by scikit-learn's SAMME (multiply the
misclassified weights by ``exp(2 alpha_m)``, then normalise), so it reproduces
``sklearn.ensemble.AdaBoostClassifier`` to rounding error, including its stopping rules:

* ``eps_m == 0``: the learner is perfect on the weighted data; keep it with ``alpha = 1/2`` and stop;
* ``eps_m >= 1/2``: the learner is no better than chance; drop it and stop (an error if it is the first).

With ``learning_rate = 1`` the average exponential loss after M rounds equals the product of the
normalisers, ``prod_m 2 sqrt(eps_m (1 - eps_m))`` (:attr:`AdaBoost.bound_`), and it bounds the training
0-1 error because ``1{y f <= 0} <= exp(-y f)`` (9.61).

Labels are -1 and +1 throughout. Shapes: ``X`` is (n, p), ``y`` is (n,).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np


# --------------------------------------------------------------------------- input checks
def _check_X(X, p: int | None = None) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype.kind in "biu":
        X = X.astype(np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X: expected a non-empty 2-D array (n, p), got shape {X.shape}")
    if X.dtype.kind not in "f":
        raise TypeError(f"X: expected a real-valued array, got dtype {X.dtype}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X: expected finite values (no nan or inf)")
    if p is not None and X.shape[1] != p:
        raise ValueError(f"X: expected {p} columns as in fit, got {X.shape[1]}")
    return X


def _check_labels(y, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y: expected shape ({n},) to match X, got {y.shape}")
    if not np.all(np.isin(y, (-1, 1))):
        raise ValueError("y: expected labels in {-1, +1}")
    return y.astype(np.float64)


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- one round, in closed form
def optimal_alpha(eps: float) -> float:
    """The step that minimises the weighted exponential loss for a learner with weighted error ``eps``:
    ``1/2 log((1 - eps) / eps)`` (9.73); positive exactly when ``eps < 1/2``."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not 0 < eps < 1:
        raise ValueError(f"eps: expected a number in (0, 1), got {eps!r}")
    return 0.5 * math.log((1.0 - eps) / eps)


def weighted_exp_loss(alpha: float, w, y, h) -> float:
    """``sum_i w_i exp(-alpha y_i h_i)`` (9.70): the loss of round m as a function of the step alpha.

    It equals ``(e^alpha - e^-alpha) sum_{y_i != h_i} w_i + e^-alpha sum_i w_i``, so for alpha > 0 the
    learner with the smallest weighted error wins, whatever alpha is.
    """
    w, y, h = (np.asarray(a, dtype=np.float64) for a in (w, y, h))
    if not (w.shape == y.shape == h.shape) or w.ndim != 1:
        raise ValueError(f"w, y, h: expected three 1-D arrays of one length, got {w.shape}, {y.shape}, {h.shape}")
    return float(np.sum(w * np.exp(-alpha * y * h)))


# --------------------------------------------------------------------------- the ensemble
class AdaBoost:
    """Discrete AdaBoost (Algorithm 10) with scikit-learn's stopping rules.

    Parameters
    ----------
    n_estimators : maximal number of rounds M.
    base_learner : a callable returning a fresh, unfitted learner with ``fit(X, y, sample_weight)`` and
        ``predict(X) -> {-1, +1}``; default ``lambda: DecisionStump("gini")`` from :mod:`lib.trees`
        (the stump scikit-learn grows: weighted Gini, not weighted error).
    learning_rate : shrinks every step, ``alpha_m = lr * 1/2 log((1 - eps_m) / eps_m)``.

    Attributes after ``fit`` (M = number of rounds kept)
    ----------------------------------------------------
    learners_ : list of M fitted learners.
    alphas_ : (M,) the book's alpha_m; scikit-learn's ``estimator_weights_`` are ``2 * alphas_``.
    errors_ : (M,) weighted errors eps_m.
    weights_ : (M, n) the normalised weights w^(m) that round m was fitted with (row 0 is 1/n).
    final_weights_ : (n,) the weights after the last update, the ones round M + 1 would use.
    staged_train_error_, staged_exp_loss_ : (M,) training 0-1 error and average exp(-y f_m) after m rounds.
    bound_ : (M,) ``cumprod(2 sqrt(eps_m (1 - eps_m)))``; equal to ``staged_exp_loss_`` when lr = 1.
    """

    def __init__(self, n_estimators: int = 50, base_learner: Callable | None = None, learning_rate: float = 1.0):
        if isinstance(n_estimators, bool) or not isinstance(n_estimators, (int, np.integer)) or n_estimators < 1:
            raise ValueError(f"n_estimators: expected an integer >= 1, got {n_estimators!r}")
        if base_learner is not None and not callable(base_learner):
            raise TypeError(f"base_learner: expected a callable that returns a learner, got {type(base_learner).__name__}")
        self.n_estimators = int(n_estimators)
        self.base_learner = base_learner
        self.learning_rate = _positive("learning_rate", learning_rate)

    def _new_learner(self):
        if self.base_learner is None:
            from .trees import DecisionStump
            return DecisionStump("gini")
        return self.base_learner()

    def fit(self, X, y) -> "AdaBoost":
        """Run up to ``n_estimators`` rounds on ``X`` (n, p) and labels ``y`` in {-1, +1}."""
        X = _check_X(X)
        n = X.shape[0]
        y = _check_labels(y, n)
        w = np.full(n, 1.0 / n)
        tiny = np.finfo(np.float64).eps
        learners, alphas, errors, history = [], [], [], []
        F = np.zeros(n)
        for m in range(self.n_estimators):
            w = np.maximum(w, tiny)                     # as scikit-learn: keep weights away from 0
            h = self._new_learner().fit(X, y, sample_weight=w)
            pred = np.asarray(h.predict(X), dtype=np.float64)
            miss = pred != y
            eps = float(np.average(miss, weights=w))
            if eps >= 0.5:                              # no better than chance: drop it and stop
                if not learners:
                    raise ValueError("base_learner: the first learner has weighted error >= 1/2; "
                                     "AdaBoost cannot start")
                break
            alpha = 0.5 if eps <= 0 else self.learning_rate * 0.5 * math.log((1.0 - eps) / eps)
            learners.append(h)
            alphas.append(alpha)
            errors.append(eps)
            history.append(w.copy())
            F += alpha * pred
            if eps <= 0:                                # perfect on the weighted data: stop
                break
            w = np.exp(np.log(w) + 2.0 * alpha * miss)  # = w exp(-alpha y h) up to a constant factor
            w /= w.sum()
        self.learners_ = learners
        self.alphas_ = np.array(alphas)
        self.errors_ = np.array(errors)
        self.weights_ = np.array(history)
        self.final_weights_ = w
        self.n_features_in_ = X.shape[1]
        margins = y * np.cumsum(self.alphas_[:, None] * np.array([l.predict(X) for l in learners]), axis=0)
        self.staged_train_error_ = np.mean(margins <= 0, axis=1)
        self.staged_exp_loss_ = np.mean(np.exp(-margins), axis=1)
        self.bound_ = np.cumprod(2.0 * np.sqrt(self.errors_ * (1.0 - self.errors_)))
        return self

    def _check_fitted(self, X) -> np.ndarray:
        if not hasattr(self, "learners_"):
            raise RuntimeError("AdaBoost: call fit(X, y) first")
        return _check_X(X, self.n_features_in_)

    def staged_decision_function(self, X):
        """Yield ``f_m(X) = sum_{k <= m} alpha_k h_k(X)``, shape (n,), for m = 1..M."""
        X = self._check_fitted(X)
        f = np.zeros(X.shape[0])
        for alpha, h in zip(self.alphas_, self.learners_):
            f = f + alpha * np.asarray(h.predict(X), dtype=np.float64)
            yield f

    def decision_function(self, X) -> np.ndarray:
        """The margin ``f_M(X) = sum_m alpha_m h_m(X)``, shape (n,)."""
        X = self._check_fitted(X)
        return sum(a * np.asarray(h.predict(X), dtype=np.float64) for a, h in zip(self.alphas_, self.learners_))

    def decision_function_sklearn(self, X) -> np.ndarray:
        """scikit-learn's normalised score ``2 sum alpha_m h_m(X) / sum alpha_m``, in [-2, 2]."""
        return 2.0 * self.decision_function(X) / self.alphas_.sum()

    def predict(self, X) -> np.ndarray:
        """``sign f_M(X)`` in {-1, +1}, with a tie (f = 0) going to -1 as in scikit-learn."""
        return np.where(self.decision_function(X) > 0, 1, -1)
