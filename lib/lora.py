"""Low-rank adaptation (LoRA): train a rank-r correction to a frozen linear layer.

A frozen layer ``y = W x + b`` (W of shape (d_out, d_in)) becomes ::

    y = W x + b + (alpha / r) B A x,     B (d_out, r) starts at 0,  A (r, d_in) starts N(0, 1/d_in),

so at initialisation the adapted layer equals the base one, and training touches only
``r (d_in + d_out)`` numbers instead of ``d_in d_out`` (Hu et al., 2022). Read as an associative memory,
the SVD of ``B A`` is a set of at most r new key -> value pairs added to the ones W already stores.
``merge`` folds the update into an ordinary ``nn.Linear`` (no inference cost). LoRA+ (Hayou et al.,
2024) gives B a larger learning rate than A (:func:`lora_plus_param_groups`).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn


def _check_rank(r, d_in: int, d_out: int) -> int:
    if isinstance(r, bool) or not isinstance(r, int) or not 1 <= r <= min(d_in, d_out):
        raise ValueError(f"r: expected an integer in [1, min(d_in, d_out) = {min(d_in, d_out)}], got {r!r}")
    return r


class LoRALinear(nn.Module):
    """``base(x) + (alpha / r) x A^T B^T`` with ``base`` frozen. ``alpha`` defaults to r (scale 1)."""

    def __init__(self, base: nn.Linear, r: int, alpha: float | None = None):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"base: expected an nn.Linear, got {type(base).__name__}")
        d_out, d_in = base.weight.shape
        self.r = _check_rank(r, d_in, d_out)
        alpha = float(r if alpha is None else alpha)
        if not math.isfinite(alpha) or alpha <= 0:
            raise ValueError(f"alpha: expected a positive number, got {alpha!r}")
        self.alpha, self.scale = alpha, alpha / r
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        kw = dict(device=base.weight.device, dtype=base.weight.dtype)
        self.A = nn.Parameter(torch.randn(r, d_in, **kw) / math.sqrt(d_in))
        self.B = nn.Parameter(torch.zeros(d_out, r, **kw))

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (..., d_in) -> (..., d_out); the low-rank path never forms the (d_out, d_in) matrix."""
        return self.base(x) + self.scale * (x @ self.A.T) @ self.B.T

    def delta_weight(self) -> torch.Tensor:
        """``(alpha / r) B A``, shape (d_out, d_in), rank at most r."""
        return self.scale * self.B @ self.A

    def merged_weight(self) -> torch.Tensor:
        """``W + (alpha / r) B A``."""
        return self.base.weight + self.delta_weight()

    @torch.no_grad()
    def merge(self) -> nn.Linear:
        """A plain ``nn.Linear`` computing the same function (the base layer is left untouched)."""
        out = nn.Linear(self.in_features, self.out_features, bias=self.base.bias is not None,
                        device=self.base.weight.device, dtype=self.base.weight.dtype)
        out.weight.copy_(self.merged_weight())
        if self.base.bias is not None:
            out.bias.copy_(self.base.bias)
        return out

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, r={self.r}, alpha={self.alpha:g}"


def apply_lora(model: nn.Module, targets: list[str] | Callable[[str, nn.Module], bool], r: int,
               alpha: float | None = None) -> list[str]:
    """Freeze ``model`` and wrap the chosen ``nn.Linear`` submodules in :class:`LoRALinear`, in place.

    ``targets``: exact module names (as in ``model.named_modules()``) or a predicate ``(name, module)``.
    Returns the names replaced; afterwards only the A and B matrices are trainable.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    modules = dict(model.named_modules())
    if callable(targets):
        names = [n for n, m in modules.items() if isinstance(m, nn.Linear) and targets(n, m)]
    elif isinstance(targets, (list, tuple)) and all(isinstance(t, str) for t in targets):
        names = list(targets)
        for n in names:
            if n not in modules:
                raise ValueError(f"targets: no submodule named {n!r}")
            if not isinstance(modules[n], nn.Linear):
                raise ValueError(f"targets: {n!r} is a {type(modules[n]).__name__}, expected an nn.Linear")
    else:
        raise TypeError("targets: expected a list of module names or a callable (name, module) -> bool")
    if not names:
        raise ValueError("targets: matched no nn.Linear submodule")
    for p in model.parameters():
        p.requires_grad_(False)
    for n in names:
        parent_name, _, child = n.rpartition(".")
        parent = modules[parent_name] if parent_name else model
        setattr(parent, child, LoRALinear(modules[n], r, alpha))
    return names


def lora_param_count(d_in: int, d_out: int, r: int) -> int:
    """Trainable numbers of one adapted matrix: ``r (d_in + d_out)``."""
    for name, v in (("d_in", d_in), ("d_out", d_out)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name}: expected a positive integer, got {v!r}")
    return _check_rank(r, d_in, d_out) * (d_in + d_out)


def lora_plus_param_groups(model: nn.Module, lr_A: float, ratio: float = 16.0) -> list[dict]:
    """Optimizer groups for LoRA+: every A at ``lr_A``, every B at ``ratio * lr_A``."""
    if not (isinstance(lr_A, (int, float)) and lr_A > 0 and math.isfinite(lr_A)):
        raise ValueError(f"lr_A: expected a positive number, got {lr_A!r}")
    if not (isinstance(ratio, (int, float)) and ratio > 0 and math.isfinite(ratio)):
        raise ValueError(f"ratio: expected a positive number, got {ratio!r}")
    layers = [m for m in model.modules() if isinstance(m, LoRALinear)]
    if not layers:
        raise ValueError("model: contains no LoRALinear layer (call apply_lora first)")
    return [dict(params=[m.A for m in layers], lr=float(lr_A)),
            dict(params=[m.B for m in layers], lr=float(lr_A * ratio))]
