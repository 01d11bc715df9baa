"""Device, seeds and threads: the first thing every notebook calls (through ``lib.setup()``).

Every torch function in the course takes a ``device`` argument and runs unchanged on CPU and GPU.
Checks of exactness run in float64 on the CPU; the GPU only speeds up the larger, non-graded runs.
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch
from threadpoolctl import threadpool_limits

# Small models train fastest on one thread when the two cores of a laptop or CI machine are busy
# (kernel, book build, browser and other jobs share them). Measured on the 2-core machine under load
# (2026-11-22): 600 full-batch Adam steps of a 2-64-64-1 MLP on 1000 points took 0.8-2.3 s with one
# thread and 26-38 s with two, as the threads fight over busy cores. numpy's BLAS behaves the same way
# (hundreds of small SVDs: 18.6 s with two threads, 1.1 s with one), so both get the same limit.
# COURSE_THREADS overrides.
DEFAULT_THREADS = 1


def get_device(prefer: str | None = None) -> torch.device:
    """The device to train on: ``COURSE_DEVICE`` if set, else cuda, else mps, else cpu.

    ``prefer`` (or the environment variable ``COURSE_DEVICE``) forces one of "cpu", "cuda", "mps";
    asking for one that is not available raises ``ValueError`` rather than silently using another.
    """
    choice = prefer or os.environ.get("COURSE_DEVICE") or "auto"
    choice = choice.strip().lower()
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if choice == "auto":
        return torch.device(next(name for name in ("cuda", "mps", "cpu") if available[name]))
    if choice not in available:
        raise ValueError(f"device: expected one of 'auto', 'cpu', 'cuda', 'mps', got {choice!r}")
    if not available[choice]:
        raise ValueError(f"device: {choice!r} was requested but is not available on this machine")
    return torch.device(choice)


def seed_everything(seed: int = 0) -> None:
    """Seed python's ``random``, numpy's global generator and torch (all devices)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed))
    torch.manual_seed(int(seed))


def setup(seed: int = 0, threads: int | None = None, device: str | None = None) -> torch.device:
    """Seed everything, set the CPU thread count of torch and of numpy's BLAS, and return the device.

    ``threads`` defaults to ``COURSE_THREADS`` or ``DEFAULT_THREADS``. On a GPU, matrix products
    are kept in full float32 (no TF32) so that CPU and GPU results agree to float32 precision.
    """
    seed_everything(seed)
    if threads is None:
        threads = int(os.environ.get("COURSE_THREADS", DEFAULT_THREADS))
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads: expected a positive integer, got {threads!r}")
    torch.set_num_threads(threads)
    # BLAS and OpenMP libraries read these when they load: scipy's and scikit-learn's own copies are loaded
    # later (on their first import), so the limit below alone would not reach them
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    threadpool_limits(limits=threads)  # the libraries loaded so far (numpy's BLAS); stays in force
    dev = get_device(device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return dev
