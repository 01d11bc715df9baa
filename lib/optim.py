"""First-order optimisers as plain numpy references on flat vectors, and the quadratic that explains them.

Gradient descent and Polyak's heavy ball, written exactly as the course states them, so that they can
be compared step for step with ``torch.optim.SGD``::

    gd:          x_{t+1} = x_t - eta g_t,                         g_t = grad f(x_t)
    heavy ball:  v_t = gamma v_{t-1} + g_t,  x_{t+1} = x_t - eta v_t,   v_0 = 0,  t = 1, 2, ...

On the quadratic ``f(x) = x^T H x / 2 - b^T x`` with Hessian eigenvalues in [mu, L] both are linear
iterations whose speed is the spectral radius of their iteration matrix
(:func:`iteration_spectral_radius`); the best fixed parameters and their rates have closed forms
(:func:`gd_optimal`, :func:`heavy_ball_optimal`). Paths are arrays of shape (steps + 1, d) whose
row 0 is the start.

Chapter 2 adds, each equal step by step to its ``torch.optim`` counterpart in float64 (the tests check
100 steps): :func:`sgd` (with momentum, Nesterov and L2 weight decay), :func:`nesterov`,
:func:`adagrad`, :func:`rmsprop`, :func:`adam` and :func:`adamw`; the book's simplified Adam
(:func:`adam_book_simplified`, Algorithm 3) and :func:`adam_uncorrected`, which it equals after a
rescaling; :class:`RefAdam`, Adam written out as a ``torch.optim.Optimizer`` for networks; learning-rate schedules that equal ``torch.optim.lr_scheduler``; and mini-batch sampling
with the exact variance of a mini-batch gradient. Wherever an optimiser takes ``lr`` it accepts a
positive number or an array of shape (steps,) of per-step rates (a schedule).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch


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


# =========================================================================== Chapter 2
# Every optimiser below reads ``g_t = grad_fn(x_t)`` once per step and returns the path
# (steps + 1, d). ``grad_fn`` may be stochastic (a mini-batch gradient closing over a generator).
def _check_lr(lr, steps: int) -> np.ndarray:
    """A positive number, or an array (steps,) of positive per-step rates; returns the array (steps,)."""
    if np.isscalar(lr):
        return np.full(steps, _check_positive("lr", lr))
    a = np.asarray(lr)
    if a.dtype == object or not np.issubdtype(a.dtype, np.number) or a.ndim != 1 or a.shape[0] != steps:
        raise ValueError(f"lr: expected a positive number or an array of shape ({steps},), got {lr!r:.60}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a) & (a > 0)):
        raise ValueError("lr: expected positive finite per-step rates")
    return a


def _check_nonneg(name: str, value) -> float:
    if isinstance(value, bool) or not np.isscalar(value) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a non-negative finite number, got {value!r}")
    return float(value)


def _check_betas(betas) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas: expected a pair (beta1, beta2), got {betas!r}")
    return _check_fraction("betas[0]", betas[0]), _check_fraction("betas[1]", betas[1])


def _start(grad_fn, x0, steps) -> tuple[np.ndarray, int, np.ndarray]:
    _check_grad_fn(grad_fn)
    x, steps = _check_vector("x0", x0), _check_steps(steps)
    path = np.empty((steps + 1, x.shape[0]))
    path[0] = x
    return x, steps, path


# --------------------------------------------------------------------------- SGD, momentum, Nesterov
def sgd(grad_fn: Callable[[np.ndarray], np.ndarray], x0, lr, steps: int, momentum: float = 0.0,
        nesterov: bool = False, weight_decay: float = 0.0) -> np.ndarray:
    """``torch.optim.SGD`` (``dampening = 0``) on a flat vector; returns the path (steps + 1, d).

    ``g = grad_fn(x_t) + weight_decay x_t`` (L2 added to the gradient), ``v_t = momentum v_{t-1} + g``
    (``v_0 = 0``), then ``x_{t+1} = x_t - lr_t d`` with ``d = v_t`` (heavy ball) or, with ``nesterov``,
    ``d = g + momentum v_t`` (the gradient plus one more momentum step: a look-ahead).
    ``momentum = 0`` is plain (stochastic) gradient descent.
    """
    x, steps, path = _start(grad_fn, x0, steps)
    lr = _check_lr(lr, steps)
    momentum, weight_decay = _check_fraction("momentum", momentum), _check_nonneg("weight_decay", weight_decay)
    if nesterov and momentum == 0:
        raise ValueError("nesterov: expected momentum > 0 with nesterov=True (as torch requires)")
    v = np.zeros_like(x)
    for t in range(steps):
        g = grad_fn(x) + weight_decay * x
        v = momentum * v + g
        x = x - lr[t] * (g + momentum * v if nesterov else v)
        path[t + 1] = x
    return path


def nesterov(grad_fn: Callable[[np.ndarray], np.ndarray], x0, eta: float, gamma: float, steps: int) -> np.ndarray:
    """Nesterov momentum in torch's form: ``v_t = gamma v_{t-1} + g_t``, ``x_{t+1} = x_t - eta (g_t + gamma v_t)``.

    Same arguments as :func:`heavy_ball`; equal to ``torch.optim.SGD(lr=eta, momentum=gamma, nesterov=True)``.
    """
    return sgd(grad_fn, x0, _check_positive("eta", eta), steps, momentum=_check_fraction("gamma", gamma),
               nesterov=gamma > 0)


# --------------------------------------------------------------------------- AdaGrad and RMSProp
def adagrad(grad_fn: Callable[[np.ndarray], np.ndarray], x0, lr=1e-2, steps: int = 100, eps: float = 1e-10,
            initial_accumulator_value: float = 0.0) -> np.ndarray:
    """``torch.optim.Adagrad`` (``lr_decay = 0``): ``G_t = G_{t-1} + g_t^2``, ``x_{t+1} = x_t - lr g_t / (sqrt(G_t) + eps)``.

    The squares are summed over all steps, so each coordinate's effective rate only falls.
    (Torch puts ``eps`` outside the square root; some notes put it inside: the difference only
    shows in exact trajectory comparisons.)
    """
    x, steps, path = _start(grad_fn, x0, steps)
    lr, eps = _check_lr(lr, steps), _check_nonneg("eps", eps)
    G = np.full_like(x, _check_nonneg("initial_accumulator_value", initial_accumulator_value))
    for t in range(steps):
        g = grad_fn(x)
        G = G + g * g
        x = x - lr[t] * (g / (np.sqrt(G) + eps))
        path[t + 1] = x
    return path


def rmsprop(grad_fn: Callable[[np.ndarray], np.ndarray], x0, lr=1e-2, steps: int = 100, alpha: float = 0.99,
            eps: float = 1e-8, momentum: float = 0.0) -> np.ndarray:
    """``torch.optim.RMSprop`` (not centred): ``G_t = alpha G_{t-1} + (1 - alpha) g_t^2``,
    ``b_t = momentum b_{t-1} + g_t / (sqrt(G_t) + eps)``, ``x_{t+1} = x_t - lr b_t``.

    An exponential moving average replaces AdaGrad's sum, so old gradients are forgotten.
    """
    x, steps, path = _start(grad_fn, x0, steps)
    lr, eps = _check_lr(lr, steps), _check_nonneg("eps", eps)
    alpha, momentum = _check_fraction("alpha", alpha), _check_fraction("momentum", momentum)
    G, b = np.zeros_like(x), np.zeros_like(x)
    for t in range(steps):
        g = grad_fn(x)
        G = alpha * G + (1 - alpha) * g * g
        b = momentum * b + g / (np.sqrt(G) + eps)
        x = x - lr[t] * b
        path[t + 1] = x
    return path


# --------------------------------------------------------------------------- Adam and AdamW
def _adam_loop(grad_fn, x0, lr, betas, eps, steps, bias_correction, l2, decoupled, eps_inside=False):
    x, steps, path = _start(grad_fn, x0, steps)
    lr = _check_lr(lr, steps)
    (b1, b2), eps = _check_betas(betas), _check_nonneg("eps", eps)
    m, v = np.zeros_like(x), np.zeros_like(x)
    for t in range(1, steps + 1):
        g = grad_fn(x) + l2 * x                           # Adam + L2: decay enters the gradient
        x = x * (1 - lr[t - 1] * decoupled)               # AdamW: shrink the weights directly
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if bias_correction else (m, v)
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        x = x - lr[t - 1] * m_hat / denom
        path[t] = x
    return path


def adam(grad_fn: Callable[[np.ndarray], np.ndarray], x0, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
         steps: int = 100, bias_correction: bool = True, weight_decay: float = 0.0) -> np.ndarray:
    """Adam (Kingma & Ba 2015) exactly as ``torch.optim.Adam``; returns the path (steps + 1, d).

    ``m_t = beta1 m_{t-1} + (1 - beta1) g_t``, ``v_t = beta2 v_{t-1} + (1 - beta2) g_t^2``,
    ``m_hat = m_t / (1 - beta1^t)``, ``v_hat = v_t / (1 - beta2^t)``,
    ``x_t = x_{t-1} - lr m_hat / (sqrt(v_hat) + eps)``, with ``eps`` outside the root and ``t = 1, 2, ...``.
    ``bias_correction=False`` drops the two divisions. ``weight_decay`` adds ``weight_decay x`` to the
    gradient (L2, torch's coupled form); for decoupled decay use :func:`adamw`.
    """
    return _adam_loop(grad_fn, x0, lr, betas, eps, steps, bias_correction,
                      _check_nonneg("weight_decay", weight_decay), 0.0)


def adamw(grad_fn: Callable[[np.ndarray], np.ndarray], x0, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
          weight_decay: float = 1e-2, steps: int = 100) -> np.ndarray:
    """AdamW (Loshchilov & Hutter 2019) as ``torch.optim.AdamW``: first ``x <- (1 - lr weight_decay) x``,
    then the Adam step on ``grad_fn(x)`` alone. The decay bypasses the adaptive scaling, unlike
    ``adam(weight_decay=...)``, where coordinates with large gradients are barely regularised.
    """
    return _adam_loop(grad_fn, x0, lr, betas, eps, steps, True, 0.0,
                      _check_nonneg("weight_decay", weight_decay))


def adam_uncorrected(grad_fn: Callable[[np.ndarray], np.ndarray], x0, lr, betas, eps_inside: float,
                     steps: int) -> np.ndarray:
    """Adam without bias correction and with ``eps`` inside the root: ``x_t = x_{t-1} - lr m_t / sqrt(v_t + eps_inside)``."""
    return _adam_loop(grad_fn, x0, lr, betas, eps_inside, steps, False, 0.0, 0.0, eps_inside=True)


def adam_book_simplified(grad_fn: Callable[[np.ndarray], np.ndarray], x0, eta: float, beta1: float, beta2: float,
                         eps: float, steps: int) -> np.ndarray:
    """The book's Algorithm 3 ("Adam, simplified"), which is *not* Adam.

    ``v_t = beta1 v_{t-1} + g_t``, ``G_t = beta2 G_{t-1} + g_t^2``, ``x_t = x_{t-1} - eta v_t / sqrt(G_t + eps)``:
    no ``(1 - beta)`` factors, no bias correction, ``eps`` inside the root. Since ``v_t = m_t / (1 - beta1)``
    and ``G_t = v^Adam_t / (1 - beta2)``, it equals :func:`adam_uncorrected` with
    ``lr = eta sqrt(1 - beta2) / (1 - beta1)`` and ``eps_inside = eps (1 - beta2)`` (see
    :func:`book_to_uncorrected`).
    """
    x, steps, path = _start(grad_fn, x0, steps)
    eta, eps = _check_positive("eta", eta), _check_nonneg("eps", eps)
    beta1, beta2 = _check_fraction("beta1", beta1), _check_fraction("beta2", beta2)
    v, G = np.zeros_like(x), np.zeros_like(x)
    for t in range(steps):
        g = grad_fn(x)
        v = beta1 * v + g
        G = beta2 * G + g * g
        x = x - eta * v / np.sqrt(G + eps)
        path[t + 1] = x
    return path


def book_to_uncorrected(eta: float, beta1: float, beta2: float, eps: float) -> tuple[float, float]:
    """The ``(lr, eps_inside)`` for which :func:`adam_uncorrected` equals Algorithm 3:
    ``(eta sqrt(1 - beta2) / (1 - beta1), eps (1 - beta2))``."""
    eta, eps = _check_positive("eta", eta), _check_nonneg("eps", eps)
    beta1, beta2 = _check_fraction("beta1", beta1), _check_fraction("beta2", beta2)
    return eta * np.sqrt(1 - beta2) / (1 - beta1), eps * (1 - beta2)


class RefAdam(torch.optim.Optimizer):
    """Adam (``decoupled=True``: AdamW) written out by hand for torch parameters: the teaching version of
    ``torch.optim.Adam`` / ``AdamW``, the same update as :func:`adam` / :func:`adamw` applied tensor by tensor.

    Per parameter tensor ``p`` with gradient ``g`` it keeps ``m``, ``v`` and the step count ``t``;
    ``weight_decay`` is added to the gradient (L2) or, when ``decoupled``, shrinks ``p`` by ``1 - lr wd`` first.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled: bool = False):
        defaults = dict(lr=_check_positive("lr", lr), betas=_check_betas(betas), eps=_check_nonneg("eps", eps),
                        weight_decay=_check_nonneg("weight_decay", weight_decay), decoupled=bool(decoupled))
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["t"], state["m"], state["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                g = p.grad
                if group["decoupled"]:
                    p.mul_(1 - lr * wd)
                elif wd:
                    g = g + wd * p
                state["t"] += 1
                t, m, v = state["t"], state["m"], state["v"]
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
                p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
        return loss


# --------------------------------------------------------------------------- learning-rate schedules
# Each returns the rates (steps,) that the optimiser uses at steps 0, 1, ..., steps - 1, i.e. what
# ``optimizer.param_groups[0]["lr"]`` reads before the t-th ``optimizer.step()`` under the torch scheduler.
def step_schedule(lr: float, steps: int, step_size: int, gamma: float = 0.1) -> np.ndarray:
    """``lr gamma^floor(t / step_size)``: ``torch.optim.lr_scheduler.StepLR``."""
    lr, steps = _check_positive("lr", lr), _check_steps(steps)
    if isinstance(step_size, bool) or not isinstance(step_size, (int, np.integer)) or step_size < 1:
        raise ValueError(f"step_size: expected a positive integer, got {step_size!r}")
    return lr * _check_positive("gamma", gamma) ** (np.arange(steps) // step_size)


def exponential_schedule(lr: float, steps: int, gamma: float) -> np.ndarray:
    """``lr gamma^t``: ``torch.optim.lr_scheduler.ExponentialLR``."""
    lr, steps = _check_positive("lr", lr), _check_steps(steps)
    return lr * _check_positive("gamma", gamma) ** np.arange(steps)


def cosine_schedule(lr: float, steps: int, T_max: int | None = None, eta_min: float = 0.0) -> np.ndarray:
    """``eta_min + (lr - eta_min) (1 + cos(pi t / T_max)) / 2``: ``CosineAnnealingLR`` (``T_max`` defaults to ``steps``)."""
    lr, steps = _check_positive("lr", lr), _check_steps(steps)
    T_max = steps if T_max is None else T_max
    if isinstance(T_max, bool) or not isinstance(T_max, (int, np.integer)) or T_max < 1:
        raise ValueError(f"T_max: expected a positive integer, got {T_max!r}")
    eta_min = _check_nonneg("eta_min", eta_min)
    return eta_min + (lr - eta_min) * (1 + np.cos(np.pi * np.arange(steps) / T_max)) / 2


def warmup_schedule(lr: float, steps: int, warmup: int, start_factor: float = 0.1) -> np.ndarray:
    """A linear ramp from ``start_factor lr`` to ``lr`` over ``warmup`` steps, then constant: ``LinearLR``."""
    lr, steps = _check_positive("lr", lr), _check_steps(steps)
    if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or warmup < 1:
        raise ValueError(f"warmup: expected a positive integer, got {warmup!r}")
    start_factor = _check_positive("start_factor", start_factor)
    if start_factor > 1:
        raise ValueError(f"start_factor: expected a number in (0, 1], got {start_factor}")
    t = np.minimum(np.arange(steps), warmup)
    return lr * (start_factor + (1 - start_factor) * t / warmup)


def warmup_cosine_schedule(lr: float, steps: int, warmup: int, start_factor: float = 0.1,
                           eta_min: float = 0.0) -> np.ndarray:
    """Linear warm-up for ``warmup`` steps, then cosine decay to ``eta_min`` over the remaining steps:
    ``SequentialLR([LinearLR, CosineAnnealingLR(T_max=steps - warmup)], milestones=[warmup])``."""
    head = warmup_schedule(lr, steps, warmup, start_factor)[:warmup]
    if steps <= warmup:
        raise ValueError(f"warmup: expected fewer warm-up steps than steps = {steps}, got {warmup}")
    return np.concatenate([head, cosine_schedule(lr, steps - warmup, eta_min=eta_min)])


# --------------------------------------------------------------------------- mini-batches
def minibatch_indices(N: int, B: int, epochs: int = 1, shuffle: bool = True, drop_last: bool = True,
                      seed: int = 0) -> list[np.ndarray]:
    """The index batches of ``epochs`` passes over ``N`` examples in batches of ``B``.

    Each epoch is a fresh permutation (``shuffle``) or ``0..N-1`` in order, cut into ``floor(N / B)``
    batches of size ``B``; the remainder is dropped (``drop_last``) or kept as one smaller batch,
    as ``torch.utils.data.DataLoader`` does by default. ``E`` epochs give ``E floor(N / B)`` updates.
    """
    for name, value, low in (("N", N, 1), ("B", B, 1), ("epochs", epochs, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    if B > N:
        raise ValueError(f"B: expected a batch size <= N = {N}, got {B}")
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(epochs):
        order = rng.permutation(N) if shuffle else np.arange(N)
        stop = N - N % B if drop_last else N
        batches += [order[i:i + B] for i in range(0, stop, B)]
    return batches


def _check_grads(per_example_grads) -> np.ndarray:
    g = np.asarray(per_example_grads)
    if g.dtype == object or not np.issubdtype(g.dtype, np.number):
        raise TypeError(f"per_example_grads: expected a numeric array, got dtype {g.dtype}")
    if g.ndim == 1:
        g = g[:, None]
    if g.ndim != 2 or g.shape[0] < 2:
        raise ValueError(f"per_example_grads: expected shape (N,) or (N, d) with N >= 2, got {np.shape(per_example_grads)}")
    g = g.astype(np.float64)
    if not np.all(np.isfinite(g)):
        raise ValueError("per_example_grads: expected finite values, found NaN or inf")
    return g


def _check_batch(B, N: int, replace: bool) -> int:
    if isinstance(B, bool) or not isinstance(B, (int, np.integer)) or B < 1 or (not replace and B > N):
        top = "" if replace else f" and <= N = {N} without replacement"
        raise ValueError(f"B: expected an integer >= 1{top}, got {B!r}")
    return int(B)


def minibatch_grad_variance(per_example_grads, B: int, replace: bool = False) -> float:
    """The exact variance ``E||g_B - g_bar||^2`` of the mean of ``B`` of the ``N`` per-example gradients.

    ``per_example_grads`` is (N, d) (or (N,)); ``g_bar`` is their mean and ``S^2 = mean_i ||g_i - g_bar||^2``
    their population variance (summed over coordinates). A uniformly random batch has
    ``E g_B = g_bar`` (unbiased) and variance ``S^2 / B`` when drawn with replacement, and
    ``S^2 / B (N - B) / (N - 1)`` without: the finite-population correction, which is 0 at ``B = N``.
    """
    g = _check_grads(per_example_grads)
    N = g.shape[0]
    B = _check_batch(B, N, replace)
    S2 = np.mean(np.sum((g - g.mean(axis=0)) ** 2, axis=1))
    return float(S2 / B if replace else S2 / B * (N - B) / (N - 1))


def empirical_minibatch_variance(per_example_grads, B: int, n_draws: int = 1000, seed: int = 0,
                                 replace: bool = False) -> float:
    """Monte Carlo estimate of :func:`minibatch_grad_variance`: the mean of ``||g_B - g_bar||^2`` over
    ``n_draws`` random batches (``g_bar`` is known, so the estimate is unbiased)."""
    g = _check_grads(per_example_grads)
    N = g.shape[0]
    B = _check_batch(B, N, replace)
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise ValueError(f"n_draws: expected a positive integer, got {n_draws!r}")
    rng = np.random.default_rng(seed)
    if replace:
        idx = rng.integers(0, N, size=(n_draws, B))
    else:  # the first B entries of independent random permutations
        idx = np.argpartition(rng.random((n_draws, N)), B - 1, axis=1)[:, :B]
    g_bar, total = g.mean(axis=0), 0.0
    chunk = max(1, 2 ** 22 // (B * g.shape[1]))  # draws per slice: at most ~4M numbers (32 MB) at a time
    for start in range(0, n_draws, chunk):
        means = g[idx[start:start + chunk]].mean(axis=1)
        total += np.sum((means - g_bar) ** 2)
    return float(total / n_draws)
