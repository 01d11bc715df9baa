"""Weight initialisation and the propagation of signal scale through a deep network at initialisation.

For a layer ``s = W h`` with independent zero-mean weights of variance ``Var W`` (independent of h),

    Var[s_i] = E[s_i^2] = n_in Var[W] E[h_j^2]                                    (second moment of h!)

and the activation turns the pre-activation scale into the next layer's second moment,
``E[phi(s)^2] = c_phi E[s^2]`` with ``c_identity = 1`` and ``c_relu = 1/2`` for a symmetric s. So each
layer multiplies ``E[h^2]`` by ``n_in Var[W] c_phi``; the schemes below choose ``Var[W]`` to make it 1:

    zero           0                          every unit identical (and, with ReLU or tanh, zero)
    normal         sigma^2                    a fixed sigma: the factor n_in sigma^2 c_phi depends on width
    xavier         2 / (n_in + n_out)         Glorot & Bengio: a compromise of the forward (1/n_in)
                                              and backward (1/n_out) conditions for a linear/tanh net
    he             2 / n_in                   He et al.: the forward condition for ReLU
    torch_default  1 / (3 n_in)               torch.nn.Linear's U(-1/sqrt(n_in), 1/sqrt(n_in))

``relu_moments`` gives the closed-form moments of ReLU(z) for z ~ N(0, sigma^2), and
``signal_propagation`` measures, layer by layer, the forward second moment and variance and the size of
the back-propagated gradient of a random deep network (torch; CPU or GPU).
"""
from __future__ import annotations

import math

import numpy as np
import torch

SCHEMES = ("zero", "normal", "xavier", "he", "torch_default")
ACTIVATIONS = ("relu", "tanh", "identity")
# E[phi(s)^2] / E[s^2] for a symmetric s; tanh is contractive (< 1), 1 is its small-signal limit
GAIN_FACTOR = {"relu": 0.5, "tanh": 1.0, "identity": 1.0}


# --------------------------------------------------------------------------- input checks
def _check_int(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not np.isscalar(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


def _check_choice(name: str, value, options) -> str:
    if value not in options:
        raise ValueError(f"{name}: expected one of {list(options)}, got {value!r}")
    return value


# --------------------------------------------------------------------------- schemes
def scheme_variance(scheme: str, n_in: int, n_out: int | None = None, sigma: float | None = None) -> float:
    """Var[W_ij] of an initialisation scheme for a layer with ``n_in`` inputs and ``n_out`` outputs.

    ``n_out`` is needed by "xavier" only, ``sigma`` (the standard deviation) by "normal" only.
    """
    _check_choice("scheme", scheme, SCHEMES)
    n_in = _check_int("n_in", n_in)
    if scheme == "zero":
        return 0.0
    if scheme == "normal":
        if sigma is None:
            raise ValueError("sigma: the 'normal' scheme needs the standard deviation sigma")
        return _check_positive("sigma", sigma) ** 2
    if scheme == "xavier":
        if n_out is None:
            raise ValueError("n_out: the 'xavier' scheme needs the number of outputs n_out")
        return 2.0 / (n_in + _check_int("n_out", n_out))
    if scheme == "he":
        return 2.0 / n_in
    return 1.0 / (3.0 * n_in)  # torch_default: the variance of U(-a, a) is a^2 / 3 with a = 1/sqrt(n_in)


def init_weight(n_out: int, n_in: int, scheme: str, gain: float = 1.0, rng=None,
                sigma: float | None = None) -> np.ndarray:
    """A weight matrix W (n_out, n_in) (torch's Linear layout: s = W h) drawn by ``scheme``.

    "torch_default" draws U(-a, a) with a = gain / sqrt(n_in), as ``torch.nn.Linear`` does for gain 1;
    every other scheme draws N(0, gain^2 scheme_variance(...)). ``rng`` is a numpy Generator or a seed.
    """
    n_out, n_in = _check_int("n_out", n_out), _check_int("n_in", n_in)
    gain = _check_positive("gain", gain)
    var = scheme_variance(scheme, n_in, n_out, sigma)
    rng = np.random.default_rng(rng)
    if scheme == "torch_default":
        a = gain / math.sqrt(n_in)
        return rng.uniform(-a, a, size=(n_out, n_in))
    return gain * math.sqrt(var) * rng.standard_normal((n_out, n_in))


def relu_moments(sigma: float = 1.0) -> tuple[float, float, float]:
    """(mean, second moment, variance) of ReLU(z) for z ~ N(0, sigma^2), in closed form:

        E[ReLU z] = sigma / sqrt(2 pi),   E[ReLU(z)^2] = sigma^2 / 2,   Var[ReLU z] = sigma^2 (1/2 - 1/(2 pi)).

    It is the second moment, not the variance, that is half of Var[z].
    """
    sigma = _check_positive("sigma", sigma)
    mean = sigma / math.sqrt(2 * math.pi)
    second = sigma ** 2 / 2
    return mean, second, second - mean ** 2


def predicted_multiplier(scheme: str, act: str, width: int, sigma_mult: float = 1.0) -> float:
    """The per-layer factor n_in Var[W] c_phi by which a square layer (width x width) multiplies E[h^2].

    ``sigma_mult`` scales Var[W]; for "normal" Var[W] = sigma_mult / width, i.e. sigma_mult = sigma^2 n_in.
    For tanh, c = 1 is the small-signal value; larger signals are squashed, so the true factor is smaller.
    """
    _check_choice("act", act, ACTIVATIONS)
    return width * _layer_variance(scheme, width, sigma_mult) * GAIN_FACTOR[act]


def _layer_variance(scheme: str, width: int, sigma_mult: float) -> float:
    sigma_mult = _check_positive("sigma_mult", sigma_mult)
    if scheme == "normal":
        return sigma_mult / _check_int("width", width)
    return sigma_mult * scheme_variance(scheme, width, width)


def _activation(act: str):
    """phi and phi' as torch functions of the pre-activation s."""
    if act == "relu":
        return torch.relu, lambda s: (s > 0).to(s.dtype)
    if act == "tanh":
        return torch.tanh, lambda s: 1 - torch.tanh(s) ** 2
    return (lambda s: s), torch.ones_like


# --------------------------------------------------------------------------- signal propagation
def signal_propagation(depth: int, width: int, scheme: str = "he", act: str = "relu", n_samples: int = 1000,
                       sigma_mult: float = 1.0, seed: int = 0, device=None, dtype=torch.float32) -> dict:
    """Forward and backward statistics of a random ``depth``-layer network of constant ``width``.

    The inputs are x ~ N(0, I_width), a batch of ``n_samples``; layer l = 1..depth computes
    s^(l) = h^(l-1) W^(l)T (no bias) and h^(l) = act(s^(l)), with W^(l) (width, width) drawn by ``scheme``
    with variance ``sigma_mult * scheme_variance`` (for "normal": sigma_mult / width, so sigma_mult is
    sigma^2 n_in), uniform for "torch_default", Gaussian otherwise. The backward pass starts from a
    random unit-variance gradient g ~ N(0, I) at the last layer (the gradient of L = sum(g * h^(depth)))
    and applies dL/ds = dL/dh * act'(s), dL/dh^(l-1) = dL/ds W.

    Every array has depth + 1 entries, index 0 being the input x:

    * ``second_moment[l]``: mean of (h^(l)_i)^2 over units and inputs (E[h^2]);
    * ``variance[l]``: the per-unit variance over the inputs, averaged over units (Var[h]);
    * ``pre_second_moment[l]``: E[(s^(l))^2] (entry 0 repeats the input's);
    * ``grad_norm[l]``: root mean square of dL/dh^(l) (entry ``depth`` is that of g);
    * ``dead[l]``: fraction of units that are 0 for every input (0 at the input);
    * ``identical[l]``: whether all units of the layer compute the same function on the batch.

    Also ``multiplier`` (the predicted per-layer factor of E[h^2]) and ``layer_variance`` (Var W).
    All random numbers come from ``torch.Generator().manual_seed(seed)`` on the CPU, in this order:
    x (n_samples, width), g (n_samples, width), then W^(1), ..., W^(depth) (each ``torch.randn`` scaled,
    or ``torch.rand`` mapped to U(-a, a) for "torch_default"), so the same seed gives the same network
    on every device; the tensors are then moved to ``device``.
    """
    depth, width = _check_int("depth", depth), _check_int("width", width)
    n_samples = _check_int("n_samples", n_samples, low=2)
    seed = _check_int("seed", seed, low=0)
    _check_choice("scheme", scheme, SCHEMES)
    _check_choice("act", act, ACTIVATIONS)
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype: expected torch.float32 or torch.float64, got {dtype!r}")
    var_w = _layer_variance(scheme, width, sigma_mult)
    device = torch.device("cpu") if device is None else torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    phi, dphi = _activation(act)

    x = torch.randn(n_samples, width, generator=gen, dtype=dtype)
    g = torch.randn(n_samples, width, generator=gen, dtype=dtype)
    weights = []
    for _ in range(depth):
        if scheme == "torch_default":
            a = math.sqrt(3 * var_w)  # U(-a, a) has variance a^2 / 3
            w = (2 * torch.rand(width, width, generator=gen, dtype=dtype) - 1) * a
        else:
            w = math.sqrt(var_w) * torch.randn(width, width, generator=gen, dtype=dtype)
        weights.append(w.to(device))

    def unit_variance(h, second):  # per-unit variance over the batch (unbiased), averaged over units
        return (second - h.mean(dim=0).pow(2).mean()) * n_samples / (n_samples - 1)

    h, pre = x.to(device), []
    stats = dict(second_moment=[h.pow(2).mean()], variance=[unit_variance(h, h.pow(2).mean())],
                 pre_second_moment=[h.pow(2).mean()], dead=[torch.zeros((), device=device)],
                 identical=[torch.tensor(False, device=device)])
    for w in weights:
        s = h @ w.T
        h = phi(s)
        pre.append(s)
        second = h.pow(2).mean()
        stats["second_moment"].append(second)
        stats["variance"].append(unit_variance(h, second))
        stats["pre_second_moment"].append(s.pow(2).mean())
        stats["dead"].append((h.abs().amax(dim=0) == 0).to(dtype).mean())
        stats["identical"].append((h.amax(dim=1) == h.amin(dim=1)).all())

    delta = g.to(device)
    grads = [delta.pow(2).mean().sqrt()]
    for w, s in zip(reversed(weights), reversed(pre)):
        delta = (delta * dphi(s)) @ w
        grads.append(delta.pow(2).mean().sqrt())
    stats["grad_norm"] = grads[::-1]

    out = {k: torch.stack(v).cpu().numpy().astype(float if k != "identical" else bool) for k, v in stats.items()}
    out["multiplier"] = predicted_multiplier(scheme, act, width, sigma_mult)
    out["layer_variance"] = var_w
    return out
