"""Multi-layer perceptrons in torch: build, train, inspect (CPU and GPU alike).

The network maps a batch ``X`` of shape (N, d_0) to scores of shape (N, d_L)::

    h^(0) = x,   s^(l) = W^(l) h^(l-1) + b^(l),   h^(l) = phi(s^(l))   (l = 1 .. L-1),
    s = s^(L) = W^(L) h^(L-1) + b^(L)            (no nonlinearity on the output: scores / logits)

``make_mlp`` builds it as an ``nn.Sequential`` of ``Linear`` and activation modules with a chosen
initialisation; ``train`` fits it by maximum likelihood (BCE, cross-entropy or squared error) with
Adam, SGD or heavy-ball momentum, full-batch or in mini-batches. The inspection helpers read off the
geometry of ReLU networks: the kinks of a 1-D network, the fold lines of a 2-D one and the number of
linear regions (distinct activation patterns) in a box.

Everything takes a ``device``; initial weights are drawn on the CPU from their own seeded generator and
then moved, so a model is the same on every device and the global random state is left alone.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity}
INITS = ("torch_default", "he", "xavier", "zero")
LOSSES = ("bce", "ce", "mse")
OPTIMIZERS = ("adam", "sgd", "momentum")


# --------------------------------------------------------------------------- input checks
def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if not any(True for _ in model.parameters()):
        raise ValueError("model: expected a module with parameters")
    return model


def _linears(model: nn.Module) -> list[nn.Linear]:
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("model: expected a network made of nn.Linear layers (e.g. from make_mlp)")
    return layers


def _model_device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    p = next(model.parameters())
    return p.device, p.dtype


BATCH_NDIM = (2, 3, 4, 5)  # what train/accuracy take: (N, d), sequences (N, T, d), images (N, C, H, W), volumes


def _as_tensor(name: str, a, dtype, device, ndim: tuple[int, ...]) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        t = a.detach()
    else:
        arr = np.asarray(a)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError(f"{name}: expected a numeric array or tensor, got dtype {arr.dtype}")
        t = torch.as_tensor(arr)
    if t.ndim not in ndim:
        raise ValueError(f"{name}: expected a tensor with {' or '.join(map(str, ndim))} dimensions, "
                         f"got shape {tuple(t.shape)}")
    t = t.to(device=device, dtype=dtype)
    if t.is_floating_point() and not torch.isfinite(t).all():
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return t


# --------------------------------------------------------------------------- building
def make_mlp(sizes: Sequence[int], act: str = "relu", init: str = "torch_default", device=None,
             dtype: torch.dtype = torch.float32, seed: int = 0) -> nn.Sequential:
    """An MLP with layer widths ``sizes = [d_0, d_1, ..., d_L]`` and activation ``act`` between layers.

    ``init`` picks the weight distribution (biases are zero except for ``torch_default``):

    * ``"torch_default"``: what ``nn.Linear`` does, W and b ~ U[-1/sqrt(n_in), 1/sqrt(n_in)] (Var W = 1/(3 n_in));
    * ``"he"``: ``kaiming_normal_`` for ReLU, Var W = 2/n_in;
    * ``"xavier"``: ``xavier_normal_``, Var W = 2/(n_in + n_out);
    * ``"zero"``: every weight and bias 0 (a stationary point for ReLU networks; shown in the chapter).

    The weights are drawn on the CPU from ``torch.Generator().manual_seed(seed)``, so the same seed gives
    the same network on every device.
    """
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes: expected a sequence of layer widths like [2, 64, 1], got {type(sizes).__name__}")
    if len(sizes) < 2:
        raise ValueError(f"sizes: expected at least an input and an output width, got {list(sizes)!r}")
    sizes = [_check_int(f"sizes[{i}]", s, 1) for i, s in enumerate(sizes)]
    _check_choice("act", act, tuple(ACTIVATIONS))
    _check_choice("init", init, INITS)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype: expected a floating torch.dtype such as torch.float32, got {dtype!r}")
    seed = _check_int("seed", seed, 0)

    gen = torch.Generator().manual_seed(seed)
    layers: list[nn.Module] = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        with torch.random.fork_rng(devices=[]):  # nn.Linear's own init draws from the global generator
            lin = nn.Linear(n_in, n_out, dtype=dtype)
        with torch.no_grad():
            if init == "torch_default":
                bound = 1.0 / math.sqrt(n_in)
                lin.weight.uniform_(-bound, bound, generator=gen)
                lin.bias.uniform_(-bound, bound, generator=gen)
            elif init == "he":
                nn.init.kaiming_normal_(lin.weight, nonlinearity="relu", generator=gen)
                lin.bias.zero_()
            elif init == "xavier":
                nn.init.xavier_normal_(lin.weight, generator=gen)
                lin.bias.zero_()
            else:
                lin.weight.zero_()
                lin.bias.zero_()
        layers.append(lin)
        if l < len(sizes) - 2:
            layers.append(ACTIVATIONS[act]())
    model = nn.Sequential(*layers)
    return model.to(device) if device is not None else model


# --------------------------------------------------------------------------- training
@dataclass
class History:
    """What ``train`` recorded, one entry per epoch.

    ``loss``: the mean of the mini-batch losses seen during the epoch (for full batch: the loss before
    that epoch's step). ``accuracy``: training accuracy at the end of the epoch (if recorded).
    ``val_loss`` / ``val_accuracy``: the same on the validation set passed as ``val``. ``steps``: the
    number of parameter updates made.
    """
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    steps: int = 0


def _targets(y, loss: str, n: int, device, dtype) -> torch.Tensor:
    if loss == "ce":
        t = _as_tensor("y", y, None, device, (1,))
        if t.is_floating_point() and not torch.equal(t, t.round()):
            raise ValueError("y: expected integer class labels for loss='ce'")
        t = t.long()
    else:
        t = _as_tensor("y", y, dtype, device, (1, 2))
    if t.shape[0] != n:
        raise ValueError(f"y: expected {n} targets (one per row of X), got {t.shape[0]}")
    return t


def loss_value(scores: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """The mean negative log-likelihood: BCE with logits, softmax cross-entropy, or squared error.

    ``scores`` (N, d_L). For "bce" and "mse" a 1-D ``y`` is matched to a single output column.
    """
    _check_choice("loss", loss, LOSSES)
    if loss == "ce":
        return F.cross_entropy(scores, y)
    if y.ndim == 1:
        if scores.shape[1] != 1:
            raise ValueError(f"y: a 1-D target needs one output unit, the model has {scores.shape[1]}")
        scores = scores[:, 0]
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(scores, y)
    return F.mse_loss(scores, y)


def _accuracy(scores: torch.Tensor, y: torch.Tensor, loss: str) -> float:
    if loss == "ce":
        return (scores.argmax(1) == y).double().mean().item()
    if loss == "bce":
        pred = (scores > 0).to(y.dtype)
        return (pred.reshape(y.shape) == y).double().mean().item()
    raise ValueError("record: 'accuracy' needs loss='bce' or 'ce'")


def accuracy(model: nn.Module, X, y, loss: str = "ce") -> float:
    """Fraction of rows classified right: argmax of the scores ("ce") or score > 0 ("bce")."""
    _check_model(model)
    _check_choice("loss", loss, ("bce", "ce"))
    dev, dtype = _model_device_dtype(model)
    X = _as_tensor("X", X, dtype, dev, BATCH_NDIM)
    y = _targets(y, loss, X.shape[0], dev, dtype)
    with torch.no_grad():
        return _accuracy(model(X), y, loss)


def train(model: nn.Module, X, y, loss: str = "bce", optimizer: str = "adam", lr: float = 1e-3,
          epochs: int = 100, batch_size: int | None = None, seed: int = 0, device=None,
          record: Sequence[str] = ("loss",), val=None, momentum: float = 0.9, weight_decay: float = 0.0,
          drop_last: bool = False, callback: Callable[[int, nn.Module], None] | None = None) -> History:
    """Fit ``model`` to (X, y) in place and return the per-epoch :class:`History`.

    ``X``: (N, d_0), or a batch of images (N, C, H, W) or other (N, ...) inputs the model accepts. ``y``: class labels (N,) for "ce"; 0/1 labels (N,) or (N, 1) for "bce";
    targets (N,) or (N, d_L) for "mse". Each epoch reshuffles the rows (a CPU generator seeded with
    ``seed``) and takes one step per mini-batch of ``batch_size`` rows (``None``: one full-batch step);
    the last, shorter batch is kept unless ``drop_last``. ``optimizer`` is ``torch.optim.Adam``,
    plain ``SGD`` or ``SGD`` with heavy-ball ``momentum``. ``record`` may contain "loss" and
    "accuracy"; ``val=(X_val, y_val)`` adds validation curves. ``callback(epoch, model)`` runs after
    every epoch (e.g. to take snapshots). ``device`` moves the model there first (default: where it is).
    """
    _check_model(model)
    _check_choice("loss", loss, LOSSES)
    _check_choice("optimizer", optimizer, OPTIMIZERS)
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr: expected a positive finite number, got {lr!r}")
    epochs = _check_int("epochs", epochs, 0)
    seed = _check_int("seed", seed, 0)
    if isinstance(record, str) or not set(record) <= {"loss", "accuracy"}:
        raise ValueError(f"record: expected a tuple drawn from ('loss', 'accuracy'), got {record!r}")
    if "accuracy" in record and loss == "mse":
        raise ValueError("record: 'accuracy' needs loss='bce' or 'ce'")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum: expected a number in [0, 1), got {momentum!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback: expected a callable (epoch, model) -> None, got {type(callback).__name__}")
    if device is not None:
        model.to(device)
    dev, dtype = _model_device_dtype(model)
    X = _as_tensor("X", X, dtype, dev, BATCH_NDIM)
    n = X.shape[0]
    if n == 0:
        raise ValueError("X: expected at least one row")
    y = _targets(y, loss, n, dev, dtype)
    if batch_size is None:
        batch_size = n
    batch_size = _check_int("batch_size", batch_size, 1)
    if drop_last and batch_size > n:
        raise ValueError(f"batch_size: {batch_size} exceeds N = {n} with drop_last=True (no batch left)")
    if val is not None:
        if not isinstance(val, (tuple, list)) or len(val) != 2:
            raise TypeError("val: expected a pair (X_val, y_val)")
        Xv = _as_tensor("val[0]", val[0], dtype, dev, BATCH_NDIM)
        yv = _targets(val[1], loss, Xv.shape[0], dev, dtype)

    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay,
                              momentum=momentum if optimizer == "momentum" else 0.0)
    gen = torch.Generator().manual_seed(seed)
    hist = History()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(n, generator=gen).to(dev) if batch_size < n else None
        total, seen = 0.0, 0
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            idx = order[start:start + batch_size] if order is not None else slice(None)
            xb, yb = X[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            value = loss_value(model(xb), yb, loss)
            value.backward()
            opt.step()
            hist.steps += 1
            total += value.item() * xb.shape[0]
            seen += xb.shape[0]
        if "loss" in record:
            hist.loss.append(total / seen)
        if "accuracy" in record or val is not None:
            model.eval()
            with torch.no_grad():
                if "accuracy" in record:
                    hist.accuracy.append(_accuracy(model(X), y, loss))
                if val is not None:
                    sv = model(Xv)
                    hist.val_loss.append(loss_value(sv, yv, loss).item())
                    if "accuracy" in record:
                        hist.val_accuracy.append(_accuracy(sv, yv, loss))
            model.train()
        if callback is not None:
            callback(epoch, model)
    return hist


# --------------------------------------------------------------------------- parameters as one vector
def flat_params(model: nn.Module) -> torch.Tensor:
    """All parameters concatenated in ``model.parameters()`` order (a detached 1-D copy)."""
    _check_model(model)
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()


def set_flat_params(model: nn.Module, v) -> nn.Module:
    """Write the 1-D vector ``v`` (as from :func:`flat_params`) back into ``model``; returns ``model``."""
    _check_model(model)
    dev, dtype = _model_device_dtype(model)
    v = _as_tensor("v", v, dtype, dev, (1,))
    total = sum(p.numel() for p in model.parameters())
    if v.numel() != total:
        raise ValueError(f"v: expected {total} entries (the model's parameter count), got {v.numel()}")
    with torch.no_grad():
        start = 0
        for p in model.parameters():
            p.copy_(v[start:start + p.numel()].reshape(p.shape))
            start += p.numel()
    return model


# --------------------------------------------------------------------------- inspection
def layer_activations(model: nn.Sequential, X) -> list[torch.Tensor]:
    """``[h^(0) = X, h^(1), ..., h^(L-1), s]``: the input, every hidden layer after its nonlinearity,
    and the output scores, each detached with shape (N, d_l)."""
    _check_model(model)
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model: expected an nn.Sequential (e.g. from make_mlp), got {type(model).__name__}")
    _linears(model)
    dev, dtype = _model_device_dtype(model)
    h = _as_tensor("X", X, dtype, dev, (2,))
    mods = list(model)
    out = [h]
    with torch.no_grad():
        for i, m in enumerate(mods):
            h = m(h)
            nxt = mods[i + 1] if i + 1 < len(mods) else None
            if i + 1 == len(mods) or (not isinstance(m, nn.Linear) and isinstance(nxt, nn.Linear)):
                out.append(h)
    return out


def kinks_1d(model: nn.Module) -> np.ndarray:
    """Kink positions ``x_k = -b_k / w_k`` of the first layer of a network with one input (shape (K,)).

    A unit with ``w_k = 0`` is constant and has no kink: its entry is NaN.
    """
    first = _linears(_check_model(model))[0]
    if first.in_features != 1:
        raise ValueError(f"model: expected one input feature, the first layer has {first.in_features}")
    w = first.weight.detach().cpu().double().numpy()[:, 0]
    b = first.bias.detach().cpu().double().numpy()
    out = np.full_like(w, np.nan)
    np.divide(-b, w, out=out, where=w != 0)
    return out


def fold_lines_2d(model: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """First-layer ``(W1, b1)`` of a network with two inputs, shapes (K, 2) and (K,): unit k folds
    the plane along the line ``W1[k] @ x + b1[k] = 0``."""
    first = _linears(_check_model(model))[0]
    if first.in_features != 2:
        raise ValueError(f"model: expected two input features, the first layer has {first.in_features}")
    return (first.weight.detach().cpu().double().numpy(), first.bias.detach().cpu().double().numpy())


def activation_patterns(model: nn.Sequential, X) -> np.ndarray:
    """Boolean (N, total hidden units): which hidden units are active (pre-activation > 0) at each row."""
    _check_model(model)
    dev, dtype = _model_device_dtype(model)
    h = _as_tensor("X", X, dtype, dev, (2,))
    mods = list(model)
    bits = []
    with torch.no_grad():
        for i, m in enumerate(mods):
            h = m(h)
            if isinstance(m, nn.Linear) and i + 1 < len(mods):
                bits.append((h > 0).cpu().numpy())
    if not bits:
        return np.zeros((h.shape[0], 0), dtype=bool)
    return np.concatenate(bits, axis=1)


def count_regions_2d(model: nn.Sequential, box=(-2.0, 2.0, -2.0, 2.0), res: int = 400) -> int:
    """Number of distinct activation patterns on a ``res`` x ``res`` grid over ``box = (x0, x1, y0, y1)``.

    For one hidden layer each pattern is one convex linear region, so this counts the pieces of the
    piecewise-linear surface (regions thinner than the grid spacing can be missed). K lines in general
    position make at most ``1 + K + K(K-1)/2`` regions.
    """
    first = _linears(_check_model(model))[0]
    if first.in_features != 2:
        raise ValueError(f"model: expected two input features, the first layer has {first.in_features}")
    box = np.asarray(box, dtype=float)
    if box.shape != (4,) or not np.all(np.isfinite(box)) or box[0] >= box[1] or box[2] >= box[3]:
        raise ValueError(f"box: expected (x0, x1, y0, y1) with x0 < x1 and y0 < y1, got {box.tolist()!r}")
    res = _check_int("res", res, 2)
    g1, g2 = np.meshgrid(np.linspace(box[0], box[1], res), np.linspace(box[2], box[3], res))
    pats = activation_patterns(model, np.column_stack([g1.ravel(), g2.ravel()]))
    if pats.shape[1] == 0:
        return 1
    return int(np.unique(np.packbits(pats, axis=1), axis=0).shape[0])
