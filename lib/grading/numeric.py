"""Numeric helpers for writing checks: relative error, a tolerant comparison that says what is off, and a
central-difference gradient (the CS231n way of testing numerical code).

    assert_allclose(beta_hat, want, rtol=1e-8, name="beta_hat")
    # AssertionError: beta_hat: max relative error 3.1e-02 at index [4] (got 1.031, expected 1); expected < 1e-08
"""
from __future__ import annotations

import numpy as np


def _as_float_array(value, name: str) -> np.ndarray:
    """``value`` as a float64 array (torch tensors included); AssertionError with a clear message otherwise."""
    if value is None:
        raise AssertionError(f"{name}: got None (did your function forget to `return` its result?)")
    if value is Ellipsis:
        raise AssertionError(f"{name}: got `...` (replace the placeholder with your answer)")
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{name}: expected numbers, got {type(value).__name__} {value!r:.60}") from None


def rel_error(a, b) -> float:
    """Largest elementwise relative error, max_i |a_i - b_i| / max(1e-300, |a_i| + |b_i|); 0 when equal.

    ``a`` and ``b`` are scalars or arrays of the same shape. Symmetric in ``a`` and ``b``; near 1e-16 means
    agreement to machine precision, above 1e-6 usually a bug.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a, b: expected arrays of the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-300, np.abs(a) + np.abs(b))))


def assert_allclose(got, want, rtol: float = 1e-7, atol: float = 0.0, name: str = "value") -> None:
    """Pass when |got - want| <= atol + rtol |want| elementwise; else AssertionError saying what is off.

    The message names ``name`` and reports, in this order: None or ``...`` instead of an answer, non-numbers,
    a wrong shape, NaN/inf where the expected value is finite, or the worst error with its index, e.g.
    "beta: max relative error 3.1e-02 at index [4] (got 1.031, expected 1); expected < 1e-08".
    """
    if rtol < 0 or atol < 0 or rtol == atol == 0:
        raise ValueError(f"rtol, atol: expected non-negative tolerances, not both zero, got {rtol}, {atol}")
    g, w = _as_float_array(got, name), np.asarray(want, dtype=np.float64)
    if g.shape != w.shape:
        raise AssertionError(f"{name}: expected shape {w.shape}, got shape {g.shape}")
    err = np.where(np.isfinite(g), np.abs(g - w), np.inf)
    tol = atol + rtol * np.abs(w)
    bad = ~(err <= tol)
    if not bad.any():
        return
    worst = np.unravel_index(np.argmax(np.where(bad, err / np.maximum(tol, 1e-300), -1.0)), g.shape)
    at = f" at index {list(map(int, worst))}" if g.ndim else ""
    gv, wv = g[worst], w[worst]
    if not np.isfinite(gv):
        raise AssertionError(f"{name}: {'contains' if g.ndim else 'got'} {gv}{at} (expected {wv:.6g})")
    values = f"{at} (got {gv:.6g}, expected {wv:.6g})"
    if rtol > 0 and wv != 0 and rtol * abs(wv) >= atol:
        raise AssertionError(f"{name}: max relative error {err[worst] / abs(wv):.1e}{values}; expected < {rtol:g}")
    raise AssertionError(f"{name}: max absolute error {err[worst]:.1e}{values}; expected < {tol[worst]:g}")


def numerical_gradient(f, x, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of a scalar function: g_i = (f(x + h e_i) - f(x - h e_i)) / (2h).

    ``x`` is an array of any shape (float64 copy; ``f`` never sees the caller's array); returns an array of
    the same shape. Error O(h^2) for smooth ``f``.
    """
    if not h > 0:
        raise ValueError(f"h: expected a positive step, got {h!r}")
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = float(f(x))
        flat[i] = old - h
        down = float(f(x))
        flat[i] = old
        gflat[i] = (up - down) / (2 * h)
    return grad
