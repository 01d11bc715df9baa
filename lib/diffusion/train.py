"""A short, generic training loop for denoisers: sample a mini-batch, call a loss, take an Adam step.

``loss_fn(model, batch, generator=gen) -> scalar`` is any of :func:`lib.diffusion.losses.ddpm_loss`,
:func:`~lib.diffusion.losses.book_ve_loss`, :func:`lib.diffusion.flow_matching.fm_loss` with its
extra arguments bound (``functools.partial`` or a lambda). The data move to the device once; every
random draw (batch rows, time steps, noise) comes from one generator seeded with ``seed`` on that
device, so a run is reproducible. The learning rate follows one of

* ``"onecycle"``: ``torch.optim.lr_scheduler.OneCycleLR`` (warm up over 30 % of the steps to ``lr``,
  then cosine annealing to ``lr / 1e4``): the schedule that made 4000 steps enough for the 2-D toys;
* ``"cosine"``: cosine decay from ``lr`` to 0; ``"constant"``: ``lr`` throughout.
"""
from __future__ import annotations

import math
import time
from typing import Callable

import torch
from torch import nn

SCHEDULES = ("onecycle", "cosine", "constant")


def train(model: nn.Module, loss_fn: Callable, data: torch.Tensor, steps: int = 4000, batch: int = 512,
          lr: float = 3e-3, device=None, schedule: str = "onecycle", seed: int = 0, log_every: int = 100,
          weight_decay: float = 0.0, grad_clip: float | None = None) -> dict:
    """Train ``model`` in place for ``steps`` Adam(W) steps on mini-batches of ``batch`` rows of ``data``.

    ``data`` (N, ...) is a float tensor of training examples (rows drawn with replacement each step).
    ``grad_clip`` clips the global gradient norm. Returns ``dict(step, loss, seconds)``: ``loss[i]`` is
    the mean training loss over the ``log_every`` steps that end at ``step[i]``; ``seconds`` is the wall
    time of the loop.
    """
    if not isinstance(model, nn.Module) or not any(True for _ in model.parameters()):
        raise TypeError(f"model: expected a torch.nn.Module with parameters, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn: expected a callable (model, batch, generator=...) -> loss, got {type(loss_fn).__name__}")
    if not isinstance(data, torch.Tensor) or not data.is_floating_point() or data.ndim < 2 or data.shape[0] == 0:
        raise ValueError("data: expected a floating tensor of shape (N, ...) with N >= 1")
    for name, v in (("steps", steps), ("batch", batch), ("log_every", log_every)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name}: expected an integer >= 1, got {v!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr: expected a positive number, got {lr!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule: expected one of {SCHEDULES}, got {schedule!r}")
    if grad_clip is not None and not grad_clip > 0:
        raise ValueError(f"grad_clip: expected a positive number or None, got {grad_clip!r}")

    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device).train()
    data = data.to(device=device, dtype=next(model.parameters()).dtype)
    gen = torch.Generator(device=device).manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    if schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    elif schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    else:
        sched = None

    hist = dict(step=[], loss=[], seconds=0.0)
    running = torch.zeros((), device=device)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        idx = torch.randint(0, data.shape[0], (batch,), device=device, generator=gen)
        loss = loss_fn(model, data[idx], generator=gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        if sched is not None:
            sched.step()
        running += loss.detach()
        if step % log_every == 0 or step == steps:
            n = step - (hist["step"][-1] if hist["step"] else 0)
            hist["step"].append(step)
            hist["loss"].append(running.item() / n)
            running.zero_()
    hist["seconds"] = time.perf_counter() - start
    model.eval()
    return hist
