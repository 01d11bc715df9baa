"""Quantum mechanics of a finite system written as a linear complex RNN (complex128 torch, hbar = 1).

The loop (4.144-4.149), with a measurement basis ``E`` (unitary; its columns are the basis states)::

    h = E[:, x0]                      embed the observed outcome
    h(t) = exp(-i H t) h              evolve: h' = -i H h, H Hermitian, so the step is unitary
    s = E^dagger h                    read out the amplitudes (conjugate transpose, not plain transpose)
    p_k = |s_k|^2 / ||s||^2           the Born rule; ||s|| = ||h|| = 1, so the denominator is 1
    x ~ p                             sample an outcome
    h = E[:, x]                       collapse: re-embed the outcome

:func:`measurement_rnn` runs it. :func:`zeno_survival` is the closed form for a qubit driven by
``H = (omega / 2) sigma_x`` and measured n times in the computational basis during time T:
``cos(omega T / (2 n))^(2 n)``.
"""
from __future__ import annotations

import math

import torch

CDTYPE = torch.complex128


def _matrix(name: str, value) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if value.ndim != 2 or value.shape[0] != value.shape[1]:
        raise ValueError(f"{name}: expected a square matrix, got shape {tuple(value.shape)}")
    return value.to(CDTYPE)


def _state(name: str, value, n: int) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if value.ndim < 1 or value.shape[-1] != n:
        raise ValueError(f"{name}: expected shape (..., {n}), got {tuple(value.shape)}")
    return value.to(CDTYPE)


def pauli() -> dict:
    """The Pauli matrices ``{'x', 'y', 'z'}`` (2, 2), complex128."""
    return dict(x=torch.tensor([[0, 1], [1, 0]], dtype=CDTYPE),
                y=torch.tensor([[0, -1j], [1j, 0]], dtype=CDTYPE),
                z=torch.tensor([[1, 0], [0, -1]], dtype=CDTYPE))


def qubit_hamiltonian(omega: float, axis: str = "x") -> torch.Tensor:
    """``H = (omega / 2) sigma_axis``: the state rotates about ``axis`` at angular frequency ``omega``."""
    if isinstance(omega, bool) or not isinstance(omega, (int, float)) or not math.isfinite(omega):
        raise ValueError(f"omega: expected a finite number, got {omega!r}")
    if axis not in ("x", "y", "z"):
        raise ValueError(f"axis: expected 'x', 'y' or 'z', got {axis!r}")
    return omega / 2 * pauli()[axis]


def evolve(H, h0, t) -> torch.Tensor:
    """``exp(-i H t) h0``. ``t`` a number (returns (n,)) or a 1-D tensor/list of times (returns (T, n))."""
    H = _matrix("H", H)
    if not torch.allclose(H, H.mH, atol=1e-12):
        raise ValueError("H: expected a Hermitian matrix (H = H^dagger)")
    h0 = _state("h0", h0, H.shape[0])
    ts = torch.as_tensor(t, dtype=torch.float64)
    if ts.ndim > 1:
        raise ValueError(f"t: expected a number or a 1-D sequence of times, got shape {tuple(ts.shape)}")
    U = torch.linalg.matrix_exp(-1j * H * ts.reshape(-1, 1, 1).to(CDTYPE))  # (T, n, n)
    h = U @ h0
    return h[0] if ts.ndim == 0 else h


def is_unitary(U, atol: float = 1e-12) -> bool:
    """Whether ``U^dagger U = I`` to ``atol``."""
    U = _matrix("U", U)
    eye = torch.eye(U.shape[0], dtype=CDTYPE)
    return bool(torch.allclose(U.mH @ U, eye, atol=atol, rtol=0))


def born(h, E=None) -> torch.Tensor:
    """Born probabilities ``p_k = |(E^dagger h)_k|^2 / ||E^dagger h||^2``, (..., n) real; ``E=None`` is the identity."""
    if not isinstance(h, torch.Tensor):
        raise TypeError(f"h: expected a torch.Tensor, got {type(h).__name__}")
    h = h.to(CDTYPE)
    s = h if E is None else h @ _matrix("E", E).conj()  # rows: s = E^dagger h for each state
    p = s.abs() ** 2
    return p / p.sum(-1, keepdim=True)


def measure(h, E=None, generator: torch.Generator | None = None) -> int:
    """Sample one outcome index from ``born(h, E)``."""
    p = born(h, E)
    if p.ndim != 1:
        raise ValueError(f"h: expected one state of shape (n,), got {tuple(h.shape)}")
    return int(torch.multinomial(p, 1, generator=generator))


def collapse(E, k: int) -> torch.Tensor:
    """The state after observing outcome ``k``: the basis vector ``E[:, k]``."""
    E = _matrix("E", E)
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < E.shape[0]:
        raise ValueError(f"k: expected an outcome index in [0, {E.shape[0]}), got {k!r}")
    return E[:, k].clone()


def measurement_rnn(H, E, h0, dt: float, n_steps: int, measure_every: int | None = None, seed: int = 0) -> dict:
    """Run the evolve-read-sample-collapse loop for ``n_steps`` steps of ``U = exp(-i H dt)``.

    After every ``measure_every`` steps (None: never) an outcome is sampled and the state collapses.
    Returns ``dict(ts (n_steps+1,), probs (n_steps+1, n) Born probabilities in basis E before any
    collapse at that time, outcomes [(step, k), ...], states (n_steps+1, n) after collapse)``.
    """
    H = _matrix("H", H)
    n = H.shape[0]
    E = torch.eye(n, dtype=CDTYPE) if E is None else _matrix("E", E)
    if not is_unitary(E, 1e-10):
        raise ValueError("E: expected a unitary measurement basis (E^dagger E = I)")
    h = _state("h0", h0, n)
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not dt > 0:
        raise ValueError(f"dt: expected a positive number, got {dt!r}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 0:
        raise ValueError(f"n_steps: expected a non-negative integer, got {n_steps!r}")
    if measure_every is not None and (isinstance(measure_every, bool) or not isinstance(measure_every, int)
                                      or measure_every < 1):
        raise ValueError(f"measure_every: expected None or a positive integer, got {measure_every!r}")
    gen = torch.Generator().manual_seed(seed)
    U = torch.linalg.matrix_exp(-1j * H * dt)
    probs, states, outcomes = [born(h, E)], [h], []
    for step in range(1, n_steps + 1):
        h = U @ h
        probs.append(born(h, E))
        if measure_every is not None and step % measure_every == 0:
            k = measure(h, E, gen)
            outcomes.append((step, k))
            h = collapse(E, k)
        states.append(h)
    return dict(ts=torch.arange(n_steps + 1, dtype=torch.float64) * dt, probs=torch.stack(probs),
                outcomes=outcomes, states=torch.stack(states))


def zeno_survival(omega: float, T: float, n: int) -> float:
    """Probability that all of n equally spaced measurements during T find ``|0>`` for ``H = (omega/2) sigma_x``:
    ``cos(omega T / (2 n))^(2 n)``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    return math.cos(omega * T / (2 * n)) ** (2 * n)


def rotated_basis(theta: float) -> torch.Tensor:
    """The real orthonormal basis turned by ``theta``: columns ``(cos, sin)`` and ``(-sin, cos)``, complex128."""
    if isinstance(theta, bool) or not isinstance(theta, (int, float)) or not math.isfinite(theta):
        raise ValueError(f"theta: expected a finite number, got {theta!r}")
    c, s = math.cos(theta), math.sin(theta)
    return torch.tensor([[c, -s], [s, c]], dtype=CDTYPE)
