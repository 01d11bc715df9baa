"""First-order optimisers as plain numpy references on flat vectors, and the quadratic that explains them.

Gradient descent and Polyak's heavy ball, written exactly as the course states them, so that they can
be compared step for step with ``torch.optim.SGD``::

    gd:          x_{t+1} = x_t - eta g_t,                         g_t = grad f(x_t)
    heavy ball:  v_t = gamma v_{t-1} + g_t,  x_{t+1} = x_t - eta v_t,   v_0 = 0,  t = 1, 2, ...

On the quadratic ``f(x) = x^T H x / 2 - b^T x`` with Hessian eigenvalues in [mu, L] both are linear
iterations whose speed is the spectral radius of their iteration matrix
(:func:`iteration_spectral_radius`); the best fixed parameters and their rates have closed forms
(:func:`gd_optimal`, :func:`heavy_ball_optimal`). Paths are arrays of shape (steps + 1, d) whose
row 0 is the start. Chapter 2 adds the stochastic and adaptive optimisers (SGD, Adam) here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


# --------------------------------------------------------------------------- input checks
def _check_vector(name: str, x) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise TypeError(f"{name}: expected a numeric array, got dtype {x.dtype}")
    if x.ndim != 1 or x.shape[0] == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D array of shape (d,), got shape {x.shape}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return x


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not np.isscalar(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


def _check_fraction(name: str, value) -> float:
    if isinstance(value, bool) or not np.isscalar(value) or not 0 <= value < 1:
        raise ValueError(f"{name}: expected a number in [0, 1), got {value!r}")
    return float(value)


def _check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps: expected a non-negative integer, got {steps!r}")
    return int(steps)


def _check_grad_fn(grad_fn) -> None:
    if not callable(grad_fn):
        raise TypeError(f"grad_fn: expected a callable x -> grad f(x), got {type(grad_fn).__name__}")


def _check_mu_L(mu, L) -> tuple[float, float]:
    mu, L = _check_positive("mu", mu), _check_positive("L", L)
    if mu > L:
        raise ValueError(f"mu, L: expected 0 < mu <= L, got mu = {mu} > L = {L}")
    return mu, L


# --------------------------------------------------------------------------- the model problem
@dataclass(frozen=True, eq=False)
class Quadratic:
    """``f(x) = x^T H x / 2 - b^T x`` with ``H`` (d, d) symmetric positive definite and ``b`` (d,).

    ``f`` and ``grad`` accept one point (d,) or a stack of points (..., d). The minimiser solves
    ``H x = b``; ``L`` and ``mu`` are the largest and smallest eigenvalues of ``H``, ``kappa = L / mu``.
    """
    H: np.ndarray
    b: np.ndarray
    eigvals: np.ndarray = field(init=False, repr=False)  # of H, ascending

    def __post_init__(self):
        H = np.asarray(self.H, dtype=np.float64)
        if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
            raise ValueError(f"H: expected a square 2-D array of shape (d, d), got shape {H.shape}")
        if not np.allclose(H, H.T, rtol=1e-12, atol=0):
            raise ValueError("H: expected a symmetric matrix")
        b = _check_vector("b", self.b)
        if b.shape[0] != H.shape[0]:
            raise ValueError(f"b: expected shape ({H.shape[0]},) to match H, got shape {b.shape}")
        eig = np.linalg.eigvalsh(H)
        if eig[0] <= 0:
            raise ValueError(f"H: expected a positive definite matrix, smallest eigenvalue is {eig[0]:.3g}")
        object.__setattr__(self, "H", H)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "eigvals", eig)

    def f(self, x):
        """``x^T H x / 2 - b^T x`` for x of shape (..., d); returns shape (...)."""
        x = np.asarray(x, dtype=np.float64)
        return 0.5 * np.einsum("...i,ij,...j->...", x, self.H, x) - x @ self.b

    def grad(self, x):
        """``H x - b`` for x of shape (..., d)."""
        return np.asarray(x, dtype=np.float64) @ self.H - self.b

    def argmin(self) -> np.ndarray:
        """The minimiser ``H^{-1} b``, shape (d,)."""
        return np.linalg.solve(self.H, self.b)

    @property
    def L(self) -> float:
        return float(self.eigvals[-1])

    @property
    def mu(self) -> float:
        return float(self.eigvals[0])

    @property
    def kappa(self) -> float:
        return self.L / self.mu

    @classmethod
    def ill_conditioned(cls, kappa: float, angle: float = 0.0) -> "Quadratic":
        """A 2-D quadratic with eigenvalues ``L = 1`` and ``mu = 1 / kappa``, minimum 0 at the origin.

        The steep eigenvector is ``(cos angle, sin angle)`` (``angle`` in radians):
        ``H = R diag(1, 1/kappa) R^T`` with ``R`` the rotation by ``angle``, and ``b = 0``.
        """
        kappa = _check_positive("kappa", kappa)
        if kappa < 1:
            raise ValueError(f"kappa: expected a condition number >= 1, got {kappa}")
        if isinstance(angle, bool) or not np.isscalar(angle) or not np.isfinite(angle):
            raise ValueError(f"angle: expected a finite number of radians, got {angle!r}")
        c, s = np.cos(angle), np.sin(angle)
        R = np.array([[c, -s], [s, c]])
        H = R @ np.diag([1.0, 1.0 / kappa]) @ R.T
        return cls(H=(H + H.T) / 2, b=np.zeros(2))


# --------------------------------------------------------------------------- optimisers
def gd(grad_fn: Callable[[np.ndarray], np.ndarray], x0, eta: float, steps: int) -> np.ndarray:
    """Gradient descent ``x_{t+1} = x_t - eta grad_fn(x_t)``; returns the path (steps + 1, d)."""
    _check_grad_fn(grad_fn)
    x = _check_vector("x0", x0)
    eta, steps = _check_positive("eta", eta), _check_steps(steps)
    path = np.empty((steps + 1, x.shape[0]))
    path[0] = x
    for t in range(steps):
        x = x - eta * grad_fn(x)
        path[t + 1] = x
    return path


def heavy_ball(grad_fn: Callable[[np.ndarray], np.ndarray], x0, eta: float, gamma: float,
               steps: int) -> np.ndarray:
    """Polyak's heavy ball: ``v_t = gamma v_{t-1} + grad_fn(x_t)``, ``x_{t+1} = x_t - eta v_t``, ``v_0 = 0``.

    Equivalently ``x_{t+1} = x_t - eta g_t + gamma (x_t - x_{t-1})``, and the same update as
    ``torch.optim.SGD(lr=eta, momentum=gamma)``. ``gamma = 0`` is :func:`gd`. Returns the path (steps + 1, d).
    """
    _check_grad_fn(grad_fn)
    x = _check_vector("x0", x0)
    eta, gamma, steps = _check_positive("eta", eta), _check_fraction("gamma", gamma), _check_steps(steps)
    v = np.zeros_like(x)
    path = np.empty((steps + 1, x.shape[0]))
    path[0] = x
    for t in range(steps):
        v = gamma * v + grad_fn(x)
        x = x - eta * v
        path[t + 1] = x
    return path


# --------------------------------------------------------------------------- theory on quadratics
def gd_optimal(mu: float, L: float) -> tuple[float, float]:
    """The best fixed GD step on a quadratic with eigenvalues in [mu, L] and its rate.

    ``eta = 2 / (L + mu)`` balances ``|1 - eta mu| = |1 - eta L|``; the error then shrinks by
    ``rate = (kappa - 1) / (kappa + 1)`` per step, ``kappa = L / mu``.
    """
    mu, L = _check_mu_L(mu, L)
    kappa = L / mu
    return 2.0 / (L + mu), (kappa - 1) / (kappa + 1)


def heavy_ball_optimal(mu: float, L: float) -> tuple[float, float, float]:
    """Polyak's tuning of the heavy ball on a quadratic with eigenvalues in [mu, L].

    ``eta = 4 / (sqrt(L) + sqrt(mu))^2``, ``gamma = rate^2`` and
    ``rate = (sqrt(kappa) - 1) / (sqrt(kappa) + 1)``: the error shrinks by about ``rate`` per step.
    Returns ``(eta, gamma, rate)``.
    """
    mu, L = _check_mu_L(mu, L)
    r = np.sqrt(L / mu)
    rate = (r - 1) / (r + 1)
    return 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2, rate ** 2, rate


def iteration_spectral_radius(eta: float, gamma: float, eigvals) -> float:
    """The asymptotic rate of the heavy ball (GD when ``gamma = 0``) on a quadratic with Hessian eigenvalues ``eigvals``.

    Along an eigenvector with eigenvalue ``lam`` the error obeys
    ``e_{t+1} = (1 + gamma - eta lam) e_t - gamma e_{t-1}``, i.e. the 2 x 2 iteration matrix
    ``[[1 + gamma - eta lam, -gamma], [1, 0]]``, whose eigenvalues are the roots of
    ``z^2 - a z + gamma = 0`` with ``a = 1 + gamma - eta lam``. Returns the largest root modulus
    over all ``lam``; the iteration converges iff it is < 1, i.e. iff ``0 < eta lam < 2 (1 + gamma)``
    for every ``lam``. (Complex roots have modulus ``sqrt(gamma)``: the oscillating, underdamped regime.)
    """
    eta, gamma = _check_positive("eta", eta), _check_fraction("gamma", gamma)
    lam = _check_vector("eigvals", np.atleast_1d(eigvals))
    a = 1 + gamma - eta * lam
    root = np.sqrt((a * a - 4 * gamma).astype(complex))
    return float(np.max(np.maximum(np.abs(a + root), np.abs(a - root)) / 2))


# --------------------------------------------------------------------------- averages over time
def ema(seq, beta: float, normalized: bool = True, bias_correct: bool = False) -> np.ndarray:
    """Exponential moving averages ``m_t = beta m_{t-1} + c x_t``, ``m_0 = 0``, for t = 1..T.

    ``seq`` has shape (T, ...) and the result has the same shape (row t-1 holds ``m_t``).
    ``c = 1 - beta`` when ``normalized`` (Adam's first moment) and ``c = 1`` otherwise (the heavy
    ball's velocity). ``m_t = c sum_{i<t} beta^i x_{t-i}``: the weights sum to ``1 - beta^t``
    (normalized) or ``(1 - beta^t) / (1 - beta)``. ``bias_correct`` divides by that sum, giving a
    true weighted average of ``x_1..x_t``.
    """
    x = np.asarray(seq)
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise TypeError(f"seq: expected a numeric array, got dtype {x.dtype}")
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"seq: expected an array of shape (T, ...) with T >= 1, got shape {x.shape}")
    beta = _check_fraction("beta", beta)
    c = 1 - beta if normalized else 1.0
    out = np.empty(x.shape)
    m = np.zeros(x.shape[1:])
    for t in range(x.shape[0]):
        m = beta * m + c * x[t]
        out[t] = m
    if bias_correct:
        total = c * (1 - beta ** np.arange(1, x.shape[0] + 1)) / (1 - beta)
        out /= total.reshape((-1,) + (1,) * (x.ndim - 1))
    return out
