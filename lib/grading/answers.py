"""Reading a student's answer inside a check: is it there, is it numbers of the right shape, is it close to
the reference, and does it look like a known mistake. Every helper raises ``AssertionError`` with a message
meant for the student (the grader shows it), never anything else.

    got = close(student_grad, want, 1e-10, "grad_W", mistakes={"the book's sign": -want})
    # AssertionError: grad_W: max relative error 2.0e+00 at index [0, 1] ...; expected < 1e-10. This looks like
    # the book's sign.
"""
from __future__ import annotations

import numpy as np
import torch

from .numeric import assert_allclose


def answered(value, name: str):
    """``value`` itself, unless the student left the stub (``None`` or ``...``) in place."""
    assert value is not None, f"{name} returned None: fill in the function (and `return` the result)"
    assert value is not Ellipsis, f"{name} returned `...`: replace the placeholder with your code"
    return value


def _numpy(value):
    """A torch tensor as a numpy array (float64 for real tensors); anything else unchanged."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return value.numpy() if value.is_complex() else value.to(torch.float64).numpy()
    return value


def as_array(value, name: str, shape: tuple | None = None, dtype=float) -> np.ndarray:
    """The answer as a finite float64 (or ``dtype``) array, optionally of a given shape; tensors accepted."""
    answered(value, name)
    try:
        arr = np.asarray(_numpy(value), dtype=dtype)
    except (TypeError, ValueError):
        raise AssertionError(f"{name}: expected an array of numbers, got {type(value).__name__} {value!r:.60}") from None
    if shape is not None and arr.shape != tuple(shape):
        raise AssertionError(f"{name}: expected shape {tuple(shape)}, got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    assert not bad.any(), (f"{name}: {int(bad.sum())} entries are nan or inf (the first at index "
                           f"{np.argwhere(bad)[0].tolist()}): an overflow, or an iteration that diverged?")
    return arr


def as_number(value, name: str) -> float:
    """The answer as one finite float."""
    arr = as_array(value, name)
    assert arr.size == 1, f"{name}: expected a single number, got an array of shape {arr.shape}"
    return float(arr.reshape(()))


def looks_like(got, mistakes: dict) -> str:
    """' This looks like <label>.' for the first known wrong answer equal to ``got`` (to 1e-6), else ''."""
    try:
        got = np.asarray(_numpy(got))
    except (TypeError, ValueError):
        return ""
    for label, wrong in mistakes.items():
        wrong = np.asarray(_numpy(wrong))
        if wrong.shape == got.shape and np.all(np.isfinite(wrong)) and np.allclose(
                got, wrong, rtol=1e-6, atol=1e-9 * max(1.0, np.abs(wrong).max(initial=0.0))):
            return f" This looks like {label}."
    return ""


def near(got: float, want: float, atol: float, name: str, mistakes: dict | None = None) -> None:
    """Assert ``|got - want| <= atol`` (an absolute tolerance, for numbers whose right value may be 0);
    name a known mistake when ``got`` matches one."""
    assert abs(got - want) <= atol, (f"{name}: got {got:.10g}, expected {want:.10g} (error {abs(got - want):.1e}, "
                                     f"allowed {atol:.1e})." + looks_like(got, mistakes or {}))


def items(value, name: str, n: int = 2) -> tuple:
    """``value`` as a tuple of exactly ``n`` items (a tuple or list answer), else a message saying what came."""
    answered(value, name)
    assert isinstance(value, (tuple, list)) and len(value) == n, \
        f"{name}: expected a tuple of {n} items, got {type(value).__name__} {value!r:.80}"
    return tuple(value)


def close(got, want, tol: float, name: str, mistakes: dict | None = None) -> np.ndarray:
    """Assert ``got`` ~ ``want`` entrywise to ``tol`` relative to the largest entry of ``want`` (complex
    allowed); name a known mistake when ``got`` matches one. Returns ``got`` as an array."""
    want = np.asarray(_numpy(want))
    is_complex = np.iscomplexobj(want)
    got_arr = as_array(got, name, dtype=complex if is_complex else float)
    mistakes = mistakes or {}
    if got_arr.shape != want.shape:
        raise AssertionError(f"{name}: expected shape {want.shape}, got shape {got_arr.shape}." + looks_like(got_arr, mistakes))
    scale = max(np.abs(want).max(initial=0.0), 1e-12)
    if is_complex:
        err = np.abs(got_arr - want)
        if err.max(initial=0.0) > tol * scale:
            i = np.unravel_index(np.argmax(err), err.shape)
            raise AssertionError(f"{name}: max error {err[i]:.1e} at index {list(map(int, i))} (got {got_arr[i]:.6g}, "
                                 f"expected {want[i]:.6g}); expected < {tol * scale:.1e}." + looks_like(got_arr, mistakes))
        return got_arr
    try:
        assert_allclose(got_arr, want.astype(float), rtol=tol, atol=tol * scale, name=name)
    except AssertionError as exc:
        raise AssertionError(str(exc).rstrip(".") + "." + looks_like(got_arr, mistakes)) from None
    return got_arr


def unchanged(copies: dict, originals: dict, func: str) -> None:
    """Assert the student's function left each input (``copies[name]``) equal to ``originals[name]``."""
    for name, arr in copies.items():
        assert np.array_equal(np.asarray(_numpy(arr)), originals[name]), \
            f"{func} changed its input `{name}` in place; work on a copy"


def tensor64(a) -> torch.Tensor:
    """``a`` as a float64 CPU tensor (the precision every reference computation uses)."""
    return torch.tensor(np.asarray(a, dtype=float), dtype=torch.float64)
