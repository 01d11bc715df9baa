"""Superposition: more features than dimensions, stored in nearly orthogonal directions.

An orthonormal basis of R^m has only m directions, but *nearly* orthogonal directions are plentiful:
independent random unit vectors in R^m have pairwise cosines with mean 0 and variance 1/m
(:func:`random_unit_vectors`, :func:`cosine_matrix`). Elhage et al. (2022, "Toy Models of
Superposition") show that a network uses them when features are sparse. Their toy model compresses
``n`` features into ``m < n`` dimensions and decodes with a ReLU::

    h = W x  (W: m x n),     x_hat = ReLU(W^T h + b),     loss = mean_batch sum_i I_i (x_i - x_hat_i)^2

with importances ``I_i = decay^i`` and inputs whose features are 0 with probability ``sparsity`` and
uniform on [0, 1] otherwise. Feature i is "represented" when its column ``W_i`` has norm near 1
(:func:`represented_features`). Dense inputs give about m represented features (the m most important,
stored orthogonally); sparse inputs give many more.
"""
from __future__ import annotations

import numpy as np
import torch


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def random_unit_vectors(n: int, d: int, seed: int = 0) -> np.ndarray:
    """``n`` independent uniformly random unit vectors in R^d, as the rows of an (n, d) array."""
    n, d = _check_int("n", n, 1), _check_int("d", d, 1)
    V = np.random.default_rng(seed).standard_normal((n, d))
    return V / np.linalg.norm(V, axis=1, keepdims=True)


def cosine_matrix(V) -> np.ndarray:
    """Pairwise cosine similarities (n, n) of the rows of V (n, d)."""
    V = np.asarray(V, dtype=float)
    if V.ndim != 2 or min(V.shape) == 0:
        raise ValueError(f"V: expected a non-empty 2-D array (n, d), got shape {V.shape}")
    norms = np.linalg.norm(V, axis=1, keepdims=True)
    if np.any(norms == 0) or not np.all(np.isfinite(V)):
        raise ValueError("V: expected finite, non-zero rows")
    U = V / norms
    return U @ U.T


def train_toy_superposition(n_features: int = 20, m: int = 5, sparsity=0.9, importance_decay: float = 0.9,
                            steps: int = 2000, batch: int = 256, lr: float = 1e-2, seed: int = 0,
                            device=None) -> tuple[np.ndarray, np.ndarray]:
    """Train Elhage et al.'s ReLU-output toy model with Adam, on a fresh random batch every step.

    Returns ``W`` (m, n_features) and ``b`` (n_features,). ``sparsity`` may also be a sequence of S
    values: then S independent models are trained side by side in one loop (same cost per step) and
    the results are stacked, ``W`` (S, m, n_features) and ``b`` (S, n_features).
    """
    n_features, m = _check_int("n_features", n_features, 1), _check_int("m", m, 1)
    steps, batch = _check_int("steps", steps, 1), _check_int("batch", batch, 1)
    single = np.ndim(sparsity) == 0
    S = np.atleast_1d(np.asarray(sparsity, dtype=float))
    if S.ndim != 1 or S.size == 0 or np.any(S < 0) or np.any(S >= 1):
        raise ValueError(f"sparsity: expected a number (or a sequence of numbers) in [0, 1), got {sparsity!r}")
    if not 0 < importance_decay <= 1:
        raise ValueError(f"importance_decay: expected a number in (0, 1], got {importance_decay!r}")
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr: expected a positive finite number, got {lr!r}")
    device = torch.device(device or "cpu")
    gen = torch.Generator().manual_seed(seed)
    W = torch.stack([torch.nn.init.xavier_normal_(torch.empty(m, n_features), generator=gen) for _ in S])
    W = W.to(device).requires_grad_()                                   # (S, m, n)
    b = torch.zeros(len(S), 1, n_features, device=device, requires_grad=True)
    importance = (importance_decay ** torch.arange(n_features, dtype=torch.float32)).to(device)
    keep_prob = torch.as_tensor(1 - S, dtype=torch.float32)[:, None, None]
    opt = torch.optim.Adam([W, b], lr=lr)
    for _ in range(steps):
        x = torch.rand(len(S), batch, n_features, generator=gen)
        x = (x * (torch.rand(len(S), batch, n_features, generator=gen) < keep_prob)).to(device)
        x_hat = torch.relu(x @ W.transpose(1, 2) @ W + b)              # (S, batch, n)
        loss = (importance * (x - x_hat) ** 2).sum(dim=2).mean(dim=1).sum()  # the S models are independent
        opt.zero_grad()
        loss.backward()
        opt.step()
    W, b = W.detach().cpu().numpy(), b.detach().cpu().numpy()[:, 0]
    return (W[0], b[0]) if single else (W, b)


def represented_features(W, thresh: float = 0.5) -> int:
    """How many columns of W (m, n) have norm above ``thresh`` (the features the model stores)."""
    W = np.asarray(W, dtype=float)
    if W.ndim != 2:
        raise ValueError(f"W: expected a 2-D array (m, n_features), got shape {W.shape}")
    if not np.isfinite(thresh) or thresh <= 0:
        raise ValueError(f"thresh: expected a positive number, got {thresh!r}")
    return int(np.sum(np.linalg.norm(W, axis=0) > thresh))


def superposition_readout(d: int, k: int, n_trials: int = 50, seed: int = 0) -> dict:
    """Superpose ``k`` random unit features with coefficient 1 in R^d and read each one back by projection.

    With unit directions u_1..u_k (independent, uniform on the sphere) the stored vector is
    ``h = sum_j u_j`` and the projection read-out of feature i is ``u_i^T h = 1 + sum_{j != i} u_i^T u_j``.
    The error is the interference term; each cosine has mean 0 and variance 1/d and the terms are
    uncorrelated, so its root mean square is exactly ``sqrt((k - 1) / d)`` in expectation: small when
    k << d, never zero once k > 1 (unless the directions are exactly orthogonal).

    Returns ``dict(errors (n_trials * k,), rms, theory = sqrt((k-1)/d), d, k)``: every read-out error of
    every trial (one fresh set of directions per trial).
    """
    d, k, n_trials = _check_int("d", d, 1), _check_int("k", k, 1), _check_int("n_trials", n_trials, 1)
    rng = np.random.default_rng(seed)
    errors = np.empty((n_trials, k))
    for t in range(n_trials):  # one (k, d) set of directions at a time keeps memory at k * d
        U = rng.standard_normal((k, d))
        U /= np.linalg.norm(U, axis=1, keepdims=True)
        errors[t] = U @ U.sum(axis=0) - 1.0
    errors = errors.ravel()
    return dict(errors=errors, rms=float(np.sqrt(np.mean(errors ** 2))), theory=float(np.sqrt((k - 1) / d)),
                d=d, k=k)
