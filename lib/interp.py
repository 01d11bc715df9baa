"""Looking inside a :class:`lib.transformer.TinyGPT`: attention maps, the logit lens, ablations.

* :func:`attention_maps`: the weights of every head of every layer, (L, H, T, T);
* :func:`logit_lens`: read the residual stream after each half-layer with the model's own final norm
  and unembedding, ``p = softmax(W_U Norm(h))``, to see when the answer appears;
* :func:`ablation` / :func:`ablate`: set one sublayer's output (attention or MLP of one layer) to zero
  and see what the model can no longer do; attention moves information between positions (context),
  the MLP works on one position (memory).

All functions take one sequence: ids of shape (T,) or (1, T).
"""
from __future__ import annotations

import contextlib

import torch

from .transformer import TinyGPT

COMPONENTS = ("attn", "mlp")


def _check(model, idx) -> torch.Tensor:
    if not isinstance(model, TinyGPT):
        raise TypeError(f"model: expected a TinyGPT, got {type(model).__name__}")
    if not isinstance(idx, torch.Tensor) or idx.dtype != torch.long:
        raise TypeError("idx: expected a LongTensor of token ids")
    if idx.ndim == 1:
        idx = idx[None]
    if idx.ndim != 2 or idx.shape[0] != 1:
        raise ValueError(f"idx: expected one sequence, shape (T,) or (1, T), got {tuple(idx.shape)}")
    return idx.to(model.tok_emb.weight.device)


def _check_layer(model: TinyGPT, component: str, layer: int) -> None:
    if component not in COMPONENTS:
        raise ValueError(f"component: expected one of {COMPONENTS}, got {component!r}")
    n = len(model.blocks)
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < n:
        raise ValueError(f"layer: expected an integer in [0, {n}), got {layer!r}")


@torch.no_grad()
def attention_maps(model: TinyGPT, idx: torch.Tensor) -> torch.Tensor:
    """Attention weights of every layer and head, shape (L, H, T, T), row = query, column = key."""
    idx = _check(model, idx)
    h = model.embed(idx)
    maps = []
    for block in model.blocks:
        a, w = block.attn(block.ln1(h), return_weights=True)
        h = h + a
        h = h + block.mlp(block.ln2(h))
        maps.append(w[0])
    return torch.stack(maps).cpu()


@torch.no_grad()
def logit_lens(model: TinyGPT, idx: torch.Tensor, position: int = -1) -> list[tuple[str, torch.Tensor]]:
    """Next-token probabilities (V,) read from the stream at ``position`` after each half-layer.

    Returns ``[("embed", p), ("L0.attn", p), ("L0.mlp", p), ...]``; the last equals the model's output.
    """
    idx = _check(model, idx)
    T = idx.shape[1]
    if isinstance(position, bool) or not isinstance(position, int) or not -T <= position < T:
        raise ValueError(f"position: expected an integer in [{-T}, {T}), got {position!r}")
    return [(name, torch.softmax(model.unembed(h[0, position]).double(), -1).cpu())
            for name, h in model.residual_stream(idx)]


@contextlib.contextmanager
def ablation(model: TinyGPT, component: str, layer: int):
    """Inside the ``with`` block, ``blocks[layer].attn`` (or ``.mlp``) outputs zeros."""
    _check_layer(model, component, layer)
    module = getattr(model.blocks[layer], component)

    def zero(mod, inputs, output):  # attention may also return its weights: keep those
        if isinstance(output, tuple):
            return (torch.zeros_like(output[0]), *output[1:])
        return torch.zeros_like(output)

    handle = module.register_forward_hook(zero)
    try:
        yield model
    finally:
        handle.remove()


@torch.no_grad()
def ablate(model: TinyGPT, idx: torch.Tensor, *, component: str, layer: int) -> torch.Tensor:
    """Logits (1, T, V) with the output of ``component`` ("attn" or "mlp") in ``layer`` set to zero."""
    idx = _check(model, idx)
    with ablation(model, component, layer):
        return model(idx)
