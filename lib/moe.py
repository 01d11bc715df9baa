"""Mixture of experts: a router picks k of E expert MLPs per token and mixes their outputs.

For a token h (d,) the router computes probabilities ``p = softmax(W_r h / temperature)`` (E,). A softmax
never returns an exact zero, so these weights alone are *dense*; sparsity comes from keeping only the
top-k entries. The gates g (E,) are zero outside the top k; inside they are ::

    k = 1 (Switch Transformer):  g_top = p_top           (not renormalised)
    k >= 2 (GShard, Mixtral):     g_j = p_j / sum_{i in top-k} p_i

and the layer returns ``sum_j g_j MLP_j(h)``. Renormalising a single gate would make it exactly 1, and the
router would receive no gradient from the task loss at all; that is why the k = 1 default keeps p_top.

The Switch load-balancing loss ``E sum_j f_j P_j`` (f_j: share of tokens whose top-1 expert is j, P_j:
mean router probability of j) equals 1 for a uniform load and grows when a few experts take everything.

``MoE(dispatch="dense")`` runs every expert on every token and multiplies by the (mostly zero) gates, the
simplest correct form; ``dispatch="sparse"`` runs each expert only on the tokens routed to it, as real
systems do. Both give the same output and gradients.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DISPATCH = ("dense", "sparse")


def _check_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


class TopKRouter(nn.Module):
    """Linear router ``d -> E`` with top-k gates. ``renormalize`` defaults to ``k >= 2`` (see module doc)."""

    def __init__(self, d: int, n_experts: int, k: int = 2, renormalize: bool | None = None, bias: bool = False):
        super().__init__()
        self.d, self.n_experts = _check_int("d", d), _check_int("n_experts", n_experts)
        self.k = _check_int("k", k)
        if k > n_experts:
            raise ValueError(f"k: expected at most n_experts = {n_experts}, got {k}")
        if renormalize is not None and not isinstance(renormalize, bool):
            raise TypeError(f"renormalize: expected None or a bool, got {renormalize!r}")
        self.renormalize = (k >= 2) if renormalize is None else renormalize
        self.proj = nn.Linear(d, n_experts, bias=bias)

    def forward(self, h: torch.Tensor, temperature: float = 1.0, k: int | None = None):
        """h (..., d) -> ``(gates (..., E), probs (..., E), topk_idx (..., k))``.

        ``temperature`` and ``k`` can be changed at inference time without retraining.
        """
        if not isinstance(h, torch.Tensor) or h.shape[-1] != self.d:
            raise ValueError(f"h: expected a tensor with last dimension d = {self.d}, got "
                             f"{tuple(h.shape) if isinstance(h, torch.Tensor) else type(h).__name__}")
        if not temperature > 0:
            raise ValueError(f"temperature: expected a positive number, got {temperature!r}")
        k = self.k if k is None else _check_int("k", k)
        if k > self.n_experts:
            raise ValueError(f"k: expected at most n_experts = {self.n_experts}, got {k}")
        probs = F.softmax(self.proj(h) / temperature, dim=-1)
        top_p, top_idx = probs.topk(k, dim=-1)
        if self.renormalize:
            top_p = top_p / top_p.sum(dim=-1, keepdim=True)
        gates = torch.zeros_like(probs).scatter(-1, top_idx, top_p)
        return gates, probs, top_idx


def load_balancing_loss(probs: torch.Tensor, topk_idx: torch.Tensor, n_experts: int) -> torch.Tensor:
    """Switch auxiliary loss ``E sum_j f_j P_j`` over all tokens; 1 when the load is uniform.

    probs (..., E), topk_idx (..., k): column 0 holds each token's top-1 expert (``topk`` sorts).
    Only P_j carries a gradient (f_j counts tokens).
    """
    n_experts = _check_int("n_experts", n_experts)
    if probs.shape[-1] != n_experts or topk_idx.shape[:-1] != probs.shape[:-1]:
        raise ValueError(f"probs, topk_idx: expected shapes (..., {n_experts}) and (..., k) with the same leading "
                         f"dimensions, got {tuple(probs.shape)} and {tuple(topk_idx.shape)}")
    P = probs.reshape(-1, n_experts).mean(dim=0)
    f = F.one_hot(topk_idx[..., 0].reshape(-1), n_experts).to(probs.dtype).mean(dim=0)
    return n_experts * (f * P).sum()


def expert_mlp(d: int, d_ff: int, d_out: int) -> nn.Sequential:
    """One expert: ``d -> d_ff -> d_out`` with a GELU."""
    return nn.Sequential(nn.Linear(d, d_ff), nn.GELU(), nn.Linear(d_ff, d_out))


class MoE(nn.Module):
    """``sum_j g_j(h) MLP_j(h)`` over E experts, h (..., d) -> (..., d_out).

    ``d_ff`` defaults to 4d and ``d_out`` to d; ``router_bias`` adds a bias to the router (useful when the
    input has no constant feature, as in a 1-D regression).
    """

    def __init__(self, d: int, n_experts: int = 4, k: int = 2, d_ff: int | None = None, dispatch: str = "dense",
                 d_out: int | None = None, renormalize: bool | None = None, router_bias: bool = False):
        super().__init__()
        if dispatch not in DISPATCH:
            raise ValueError(f"dispatch: expected one of {DISPATCH}, got {dispatch!r}")
        self.dispatch = dispatch
        self.router = TopKRouter(d, n_experts, k, renormalize, bias=router_bias)
        d_ff = 4 * d if d_ff is None else _check_int("d_ff", d_ff)
        self.d_out = d if d_out is None else _check_int("d_out", d_out)
        self.experts = nn.ModuleList(expert_mlp(d, d_ff, self.d_out) for _ in range(n_experts))

    def forward(self, h: torch.Tensor, return_aux: bool = False, temperature: float = 1.0, k: int | None = None):
        """Output (..., d_out); with ``return_aux`` also ``dict(gates, probs, topk_idx, load_balancing)``."""
        gates, probs, top_idx = self.router(h, temperature=temperature, k=k)
        flat_h, flat_g = h.reshape(-1, h.shape[-1]), gates.reshape(-1, gates.shape[-1])
        if self.dispatch == "dense":
            outs = torch.stack([e(flat_h) for e in self.experts], dim=1)        # (n, E, d_out)
            y = (flat_g.unsqueeze(-1) * outs).sum(dim=1)
        else:
            y = flat_h.new_zeros(flat_h.shape[0], self.d_out)
            routed = torch.zeros_like(flat_g, dtype=torch.bool).scatter(-1, top_idx.reshape(-1, top_idx.shape[-1]), True)
            for j, expert in enumerate(self.experts):
                rows = routed[:, j].nonzero(as_tuple=True)[0]
                if rows.numel():
                    y = y.index_add(0, rows, flat_g[rows, j, None] * expert(flat_h[rows]))
        y = y.reshape(*h.shape[:-1], self.d_out)
        if not return_aux:
            return y
        aux = dict(gates=gates, probs=probs, topk_idx=top_idx,
                   load_balancing=load_balancing_loss(probs, top_idx, len(self.experts)))
        return y, aux
