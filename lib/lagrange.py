"""Lagrange multipliers at work: maximum entropy, backpropagation as adjoints, the trust-region step.

For ``min f(x)`` subject to equality constraints ``c_k(x) = 0`` the Lagrangian is
``L(x, lambda) = f(x) - sum_k lambda_k c_k(x)``; at a regular optimum ``grad f = sum_k lambda_k grad c_k``
(the gradients are parallel for one constraint). Under a constraint qualification these conditions
are necessary, not sufficient: they also hold at maxima and saddle points.

* :func:`maxent_on_grid`: maximise the entropy ``-sum p log p`` on a grid subject to ``sum p = 1``, mean
  ``mu`` and variance ``var``. Stationarity gives ``p_i = exp(l0 + l1 x_i + l2 (x_i - mu)^2)``; the
  three multipliers are found by Newton's method on the (convex) dual. On a fine grid the answer is the
  discretised Gaussian ``N(mu, var)``, with ``l1 = 0`` and ``l2 = -1/(2 var)``.
* :func:`adjoints_via_lagrange`: for a layered network ``z^i = f^i(z^{i-1}, W^i)`` the Lagrangian
  ``Loss(z^L) - sum_i lambda_i^T (z^i - f^i(z^{i-1}, W^i))`` is stationary in ``z^i`` when
  ``lambda_L = grad_{z^L} Loss`` and ``lambda_i = (d f^{i+1} / d z^i)^T lambda_{i+1}``: the multipliers
  are the adjoints of backpropagation, and ``grad_{W^i} Loss = (d f^i / d W^i)^T lambda_i``.
* :func:`trust_region_step`: ``max g^T d`` subject to ``1/2 d^T F d <= delta`` has the solution
  ``d = sqrt(2 delta / g^T F^{-1} g) F^{-1} g`` (natural gradient with a step length set by delta; TRPO).
* :func:`saddle_toy` and :func:`gda_toy`: ``min x^2`` s.t. ``x >= 1`` with ``L = x^2 - alpha (x - 1)``,
  dual function ``g(alpha) = alpha - alpha^2 / 4``, saddle point ``(x, alpha) = (1, 2)``, value 1.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


# --------------------------------------------------------------------------- input checks
def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


def _finite(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return float(value)


def _count(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- maximum entropy
def maxent_on_grid(grid, mean: float, var: float, n_newton: int = 50, tol: float = 1e-13):
    """Maximum-entropy distribution on ``grid`` with the given mean and variance.

    Minimises the dual ``phi(l) = log sum_i exp(l1 x_i + l2 (x_i - mu)^2) - l1 mu - l2 var`` by damped
    Newton steps (its gradient is the moment mismatch, its Hessian the covariance of the features).
    Returns ``(p, multipliers)``: probabilities ``p`` (sum 1, same shape as grid) and
    ``(l0, l1, l2)`` with ``p_i = exp(l0 + l1 x_i + l2 (x_i - mu)^2)`` (``l0 = -log Z``).
    """
    x = np.asarray(grid, dtype=float)
    if x.ndim != 1 or x.size < 3 or not np.all(np.isfinite(x)):
        raise ValueError(f"grid: expected a finite 1-D array of at least 3 points, got shape {x.shape}")
    mu, var = _finite("mean", mean), _positive("var", var)
    if not x.min() < mu < x.max():
        raise ValueError(f"mean: expected a value inside the grid ({x.min()}, {x.max()}), got {mu}")
    n_newton = _count("n_newton", n_newton)
    F = np.stack([x, (x - mu) ** 2], axis=1)               # features whose averages are constrained
    target = np.array([mu, var])

    def dual(lam):
        s = F @ lam
        m = s.max()
        logZ = m + math.log(np.exp(s - m).sum())
        return logZ - lam @ target, np.exp(s - logZ)

    lam = np.array([0.0, -0.5 / var])                       # any start works; this one is close
    val, p = dual(lam)
    for _ in range(n_newton):
        mean_F = p @ F
        grad = mean_F - target
        if np.abs(grad).max() < tol * max(1.0, var):
            break
        Fc = F - mean_F
        H = Fc.T @ (p[:, None] * Fc)
        step = np.linalg.solve(H + 1e-300 * np.eye(2), grad)
        t = 1.0
        while True:                                          # backtracking keeps the dual decreasing
            new_val, new_p = dual(lam - t * step)
            if new_val <= val - 1e-4 * t * grad @ step or t < 1e-12:
                break
            t /= 2
        lam, val, p = lam - t * step, new_val, new_p
    l0 = -(val + lam @ target)                               # -log Z
    return p, (float(l0), float(lam[0]), float(lam[1]))


def entropy(p) -> float:
    """``-sum p log p`` (with ``0 log 0 = 0``)."""
    p = np.asarray(p, dtype=float)
    if np.any(p < 0):
        raise ValueError("p: expected non-negative probabilities")
    q = p[p > 0]
    return float(-(q * np.log(q)).sum())


# --------------------------------------------------------------------------- backprop as adjoints
_ACTIVATIONS = {nn.ReLU: lambda z: (z > 0).to(z.dtype),
                nn.Tanh: lambda z: 1 - torch.tanh(z) ** 2,
                nn.Sigmoid: lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z)),
                nn.Identity: lambda z: torch.ones_like(z)}


def adjoints_via_lagrange(mlp: nn.Sequential, x: torch.Tensor, y: torch.Tensor, loss_fn) -> dict:
    """Backpropagation written as the multiplier recursion of the layer-constrained Lagrangian.

    ``mlp`` is an ``nn.Sequential`` of ``nn.Linear`` and elementwise activations (ReLU, Tanh, Sigmoid,
    Identity); every module is one constraint ``z^i = f^i(z^{i-1})`` with ``z^0 = x``. Only the terminal
    condition ``lambda_L = grad_{z^L} loss_fn(z^L, y)`` uses autograd (the loss's own gradient); the rest
    is the hand-written recursion ``lambda_{i-1} = (d f^i / d z^{i-1})^T lambda_i``:
    ``W^T lambda`` through a linear layer, ``sigma'(z^{i-1}) * lambda`` through an activation.

    Returns ``dict(activations=[z^1..z^L], adjoints=[lambda_1..lambda_L], loss, param_grads)`` where
    ``param_grads`` maps each linear layer's parameter names (``"0.weight"``, ...) to
    ``(d f^i / d W^i)^T lambda_i``, i.e. ``lambda_i^T z^{i-1}`` and ``sum lambda_i``.
    """
    if not isinstance(mlp, nn.Sequential) or len(mlp) == 0:
        raise TypeError(f"mlp: expected a non-empty torch.nn.Sequential, got {type(mlp).__name__}")
    for k, m in enumerate(mlp):
        if not isinstance(m, (nn.Linear, *_ACTIVATIONS)):
            raise TypeError(f"mlp: layer {k} is {type(m).__name__}; expected Linear, ReLU, Tanh, Sigmoid or Identity")
    if not isinstance(x, torch.Tensor) or x.ndim != 2:
        raise ValueError(f"x: expected a (batch, features) torch.Tensor, got {getattr(x, 'shape', type(x))}")
    if not callable(loss_fn):
        raise TypeError("loss_fn: expected a callable loss_fn(output, y) -> scalar tensor")
    with torch.no_grad():                                   # forward pass: the constraints, satisfied
        zs = [x]
        for m in mlp:
            zs.append(m(zs[-1]))
    out = zs[-1].detach().requires_grad_(True)
    loss = loss_fn(out, y)
    if loss.ndim != 0:
        raise ValueError("loss_fn: expected a scalar loss")
    lam = torch.autograd.grad(loss, out)[0]                 # terminal condition lambda_L
    adjoints, grads = [lam], {}
    for k in range(len(mlp) - 1, -1, -1):                   # lambda_{k} from lambda_{k+1}, layer by layer
        m, z_in = mlp[k], zs[k]
        if isinstance(m, nn.Linear):
            grads[f"{k}.weight"] = lam.T @ z_in
            if m.bias is not None:
                grads[f"{k}.bias"] = lam.sum(dim=0)
            lam = lam @ m.weight
        else:
            lam = _ACTIVATIONS[type(m)](z_in) * lam
        if k > 0:
            adjoints.append(lam)
    adjoints.reverse()
    return dict(activations=zs[1:], adjoints=adjoints, loss=float(loss.detach()), param_grads=grads)


# --------------------------------------------------------------------------- trust region
def trust_region_step(g, F, delta: float) -> np.ndarray:
    """``argmax_d g^T d`` s.t. ``1/2 d^T F d <= delta`` for a symmetric positive definite ``F``.

    Stationarity ``g = nu F d`` gives ``d = F^{-1} g / nu``; the constraint is active, which fixes
    ``nu = sqrt(g^T F^{-1} g / (2 delta))``: ``d = sqrt(2 delta / (g^T F^{-1} g)) F^{-1} g``.
    """
    g = np.asarray(g, dtype=float)
    F = np.asarray(F, dtype=float)
    if g.ndim != 1 or g.size == 0:
        raise ValueError(f"g: expected a non-empty 1-D array, got shape {g.shape}")
    if F.shape != (g.size, g.size) or not np.allclose(F, F.T):
        raise ValueError(f"F: expected a symmetric ({g.size}, {g.size}) matrix, got shape {F.shape}")
    delta = _positive("delta", delta)
    try:
        Lc = np.linalg.cholesky(F)
    except np.linalg.LinAlgError:
        raise ValueError("F: expected a positive definite matrix") from None
    Fg = np.linalg.solve(Lc.T, np.linalg.solve(Lc, g))
    q = float(g @ Fg)
    if q == 0:
        return np.zeros_like(g)
    return math.sqrt(2 * delta / q) * Fg


# --------------------------------------------------------------------------- the 1-D saddle
def saddle_toy(x_grid=None, alpha_grid=None) -> dict:
    """``min x^2`` s.t. ``x >= 1``, with ``L(x, alpha) = x^2 - alpha (x - 1)``, ``alpha >= 0``.

    Returns ``dict(x, alpha, L (len(alpha), len(x)), dual (g(alpha) = alpha - alpha^2/4, attained at
    x = alpha / 2), primal (max over alpha >= 0: x^2 where x >= 1, +inf elsewhere), p_star = 1,
    saddle = (1, 2))``.
    """
    x = np.linspace(-1.0, 3.0, 81) if x_grid is None else np.asarray(x_grid, dtype=float)
    a = np.linspace(0.0, 4.0, 81) if alpha_grid is None else np.asarray(alpha_grid, dtype=float)
    if x.ndim != 1 or a.ndim != 1 or x.size == 0 or a.size == 0:
        raise ValueError("x_grid, alpha_grid: expected non-empty 1-D arrays")
    if np.any(a < 0):
        raise ValueError("alpha_grid: expected alpha >= 0 (the multiplier of an inequality)")
    L = x[None, :] ** 2 - a[:, None] * (x[None, :] - 1)
    return dict(x=x, alpha=a, L=L, dual=a - a ** 2 / 4, x_of_alpha=a / 2,
                primal=np.where(x >= 1, x ** 2, np.inf), p_star=1.0, saddle=(1.0, 2.0))


def gda_toy(x0: float = -0.5, alpha0: float = 0.0, lr: float = 0.2, steps: int = 100) -> np.ndarray:
    """Projected gradient descent-ascent on the toy Lagrangian: ``x <- x - lr (2x - alpha)``,
    ``alpha <- max(0, alpha + lr (1 - x))`` (simultaneous). Returns the path, shape (steps + 1, 2)."""
    x, a = _finite("x0", x0), _finite("alpha0", alpha0)
    if a < 0:
        raise ValueError(f"alpha0: expected alpha0 >= 0, got {a}")
    lr, steps = _positive("lr", lr), _count("steps", steps)
    path = np.empty((steps + 1, 2))
    path[0] = x, a
    for t in range(steps):
        x, a = x - lr * (2 * x - a), max(0.0, a + lr * (1 - x))
        path[t + 1] = x, a
    return path
