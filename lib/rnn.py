"""Recurrent networks by hand: the tanh RNN, its backpropagation through time, the memory stream, the LSTM.

Conventions. Sequences are time-first: ``x`` is (T, D) or (T, B, D); the returned states include h_0,
so ``hs`` is (T+1, H) or (T+1, B, H). Gradients are column vectors in the equations and rows in the
code (``v @ W`` is W^T v). Parameters are plain dicts of tensors:

* tanh RNN and memory stream: ``W_rec`` (H, H), ``W_emb`` (H, D), ``b`` (H,), read-out ``W_unemb`` (V, H)::

      vanilla:  h_t = tanh(W_rec h_{t-1} + W_emb x_t + b)                         (4.1)
      stream:   h_t = h_{t-1} + g_t,   g_t = tanh(W_rec h_{t-1} + W_emb x_t + b)   (4.22), (4.39)

* LSTM in the book's layout: ``W_i, W_f, W_c, W_o`` each (H, H + D) acting on [h_{t-1}, x_t], biases
  ``b_i, b_f, b_c, b_o`` (H,)::

      i, f, o = sigma(W_{i,f,o} [h_{t-1}, x_t] + b_{i,f,o}),   dc = tanh(W_c [h_{t-1}, x_t] + b_c)
      c_t = f * c_{t-1} + i * dc,   h_t = o * tanh(c_t)                          (4.45)-(4.50)

  torch.nn.LSTM stores the same numbers as ``weight_ih`` (4H, D) and ``weight_hh`` (4H, H) with the
  gates stacked in the order (i, f, g, o) and two biases; :func:`lstm_params_to_torch` and
  :func:`torch_to_lstm_params` convert. :func:`gru_cell` is the GRU in torch's convention.

For experiments: :func:`init_params` (orthogonal recurrent weights of a chosen scale),
:func:`state_grad_norms` (||dL/dh_t|| by autograd), :class:`RecurrentClassifier` and :func:`train_classifier`.

The loss of :func:`rnn_bptt` is the book's objective J = sum over the batch of log p_y at the final step
(to be maximised, so dJ/ds = y - p); :func:`state_grad_norms` uses the mean cross-entropy, whose
gradients are those of -J / B.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

CELLS = ("vanilla", "stream", "lstm")
GATES = ("i", "f", "c", "o")  # the book's names; torch calls the candidate "g"


# --------------------------------------------------------------------------- input checks
def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _tensor(name: str, a, ndim: tuple[int, ...]) -> torch.Tensor:
    if not isinstance(a, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(a).__name__}")
    if a.ndim not in ndim:
        raise ValueError(f"{name}: expected {' or '.join(map(str, ndim))} dimensions, got shape {tuple(a.shape)}")
    if not a.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got {a.dtype}")
    return a


def _check_shape(name: str, a: torch.Tensor, shape: tuple[int, ...]) -> None:
    if tuple(a.shape) != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {tuple(a.shape)}")


def _rnn_shapes(x, W_rec, W_emb, b) -> tuple[int, int]:
    _tensor("x", x, (2, 3))
    H = _tensor("W_rec", W_rec, (2,)).shape[0]
    _check_shape("W_rec", W_rec, (H, H))
    _check_shape("W_emb", _tensor("W_emb", W_emb, (2,)), (H, x.shape[-1]))
    _check_shape("b", _tensor("b", b, (1,)), (H,))
    if x.shape[0] < 1:
        raise ValueError("x: expected at least one time step")
    return x.shape[0], H


# --------------------------------------------------------------------------- tanh RNN and memory stream
def rnn_forward(x: torch.Tensor, W_rec, W_emb, b, h0=None, residual: bool = False) -> torch.Tensor:
    """All states of the tanh RNN (4.1), or of the memory stream (4.22) with ``residual=True``.

    ``x`` (T, D) or (T, B, D); ``h0`` (H,) or (B, H), default 0. Returns ``hs`` (T+1, [B,] H), hs[0] = h0.
    """
    T, H = _rnn_shapes(x, W_rec, W_emb, b)
    h = x.new_zeros(*x.shape[1:-1], H) if h0 is None else _tensor("h0", h0, (x.ndim - 1,))
    _check_shape("h0", h, (*x.shape[1:-1], H))
    hs = [h]
    for t in range(T):
        g = torch.tanh(h @ W_rec.T + x[t] @ W_emb.T + b)
        h = h + g if residual else g
        hs.append(h)
    return torch.stack(hs)


def rnn_bptt(x, hs, W_rec, W_emb, b, W_unemb, y, residual: bool = False) -> dict:
    """Hand-written backpropagation through time for J = sum_batch log softmax(W_unemb h_T)[y].

    Forward quantities ``hs`` come from :func:`rnn_forward`; ``y`` is one-hot (V,) / (B, V) or class
    indices (B,). With delta_t := dJ/dh_t * tanh'(a_t) (the gradient of the pre-activation a_t)::

        dJ/ds = y - p                      (4.9)      dJ/dW_unemb = dJ/ds h_T^T        (4.11)
        dJ/dh_T = W_unemb^T dJ/ds          (4.10)
        for t = T .. 1:  dJ/dh_{t-1} = W_rec^T delta_t  [+ dJ/dh_t for the stream]     (4.12)
                         dJ/dW_rec += delta_t h_{t-1}^T,  dJ/dW_emb += delta_t x_t^T,  dJ/db += delta_t

    tanh'(a_t) = 1 - h_t^2 for the RNN and 1 - g_t^2 with g_t = h_t - h_{t-1} for the stream. Returns
    the gradients of J (ascent directions) for ``W_rec, W_emb, b, W_unemb`` and ``dh`` (T+1, [B,] H).
    """
    T, H = _rnn_shapes(x, W_rec, W_emb, b)
    _check_shape("hs", _tensor("hs", hs, (x.ndim,)), (T + 1, *x.shape[1:-1], H))
    V = _tensor("W_unemb", W_unemb, (2,)).shape[0]
    _check_shape("W_unemb", W_unemb, (V, H))
    batched = x.ndim == 3
    if not batched:  # work in batch form with B = 1
        x, hs = x[:, None], hs[:, None]
        y = y[None]
    B = x.shape[1]
    if not y.is_floating_point():  # class indices
        if y.shape != (B,) or int(y.min()) < 0 or int(y.max()) >= V:
            raise ValueError(f"y: expected class indices in [0, {V}) of shape ({B},), got shape {tuple(y.shape)}")
        y = F.one_hot(y, V).to(hs.dtype)
    _check_shape("y", y, (B, V))

    s = hs[-1] @ W_unemb.T
    ds = y - torch.softmax(s, -1)                      # (4.9)
    grads = {"W_unemb": ds.T @ hs[-1],                 # (4.11)
             "W_rec": torch.zeros_like(W_rec), "W_emb": torch.zeros_like(W_emb), "b": torch.zeros_like(b)}
    dh = [None] * (T + 1)
    dh[T] = ds @ W_unemb                               # (4.10)
    for t in range(T, 0, -1):
        g = hs[t] - hs[t - 1] if residual else hs[t]   # the tanh output at step t
        delta = dh[t] * (1 - g ** 2)
        dh[t - 1] = delta @ W_rec + (dh[t] if residual else 0)   # (4.12)
        grads["W_rec"] += delta.T @ hs[t - 1]          # (4.13)
        grads["W_emb"] += delta.T @ x[t - 1]           # (4.14)
        grads["b"] += delta.sum(0)
    grads["dh"] = torch.stack(dh) if batched else torch.stack(dh)[:, 0]
    return grads


def jacobian_chain(W_rec, hs, residual: bool = False) -> list[torch.Tensor]:
    """The per-step Jacobians dh_t/dh_{t-1} for t = 1 .. T of one sequence ``hs`` (T+1, H).

    RNN: D_t W_rec with D_t = diag(1 - h_t^2). Stream (corrected 4.27): I + diag(1 - g_t^2) W_rec with
    g_t = h_t - h_{t-1}. The backward map is the transpose: dJ/dh_{t-1} = J_t^T dJ/dh_t, so
    dJ/dh_k = J_{k+1}^T ... J_T^T dJ/dh_T.
    """
    H = _tensor("W_rec", W_rec, (2,)).shape[0]
    _check_shape("W_rec", W_rec, (H, H))
    _tensor("hs", hs, (2,))
    if hs.shape[1] != H or hs.shape[0] < 2:
        raise ValueError(f"hs: expected shape (T+1, {H}) with T >= 1, got {tuple(hs.shape)}")
    eye = torch.eye(H, dtype=W_rec.dtype, device=W_rec.device)
    out = []
    for t in range(1, hs.shape[0]):
        g = hs[t] - hs[t - 1] if residual else hs[t]
        J = (1 - g ** 2)[:, None] * W_rec
        out.append(eye + J if residual else J)
    return out


def memory_stream_paths(dh3, W_rec, g2, g3) -> dict:
    """The four routes from h_3 back to h_1 in a two-step memory stream (corrected 4.42).

    With h_3 = h_1 + g_2 + g_3, delta = dJ/dh_3 and D_t = diag(1 - g_t^2)::

        dJ/dh_1 = delta + W^T D_3 delta + W^T D_2 delta + W^T D_2 W^T D_3 delta = (I + W^T D_2)(I + W^T D_3) delta

    ``dh3``, ``g2``, ``g3`` are (H,) or (B, H). Returns ``identity, via_g3, via_g2, via_both``.
    """
    H = _tensor("W_rec", W_rec, (2,)).shape[0]
    _check_shape("W_rec", W_rec, (H, H))
    for name, v in (("dh3", dh3), ("g2", g2), ("g3", g3)):
        _tensor(name, v, (1, 2))
        if v.shape[-1] != H or v.shape != dh3.shape:
            raise ValueError(f"{name}: expected shape {tuple(dh3.shape[:-1]) + (H,)}, got {tuple(v.shape)}")
    d2, d3 = 1 - g2 ** 2, 1 - g3 ** 2
    via_g3 = (dh3 * d3) @ W_rec               # W^T D_3 delta  (h_1 -> g_3 -> h_3)
    return {"identity": dh3,                  # h_1 -> h_2 -> h_3 along the stream
            "via_g3": via_g3,
            "via_g2": (dh3 * d2) @ W_rec,     # W^T D_2 delta  (h_1 -> g_2 -> h_2 -> h_3)
            "via_both": (via_g3 * d2) @ W_rec}  # W^T D_2 W^T D_3 delta  (h_1 -> g_2 -> h_2 -> g_3 -> h_3)


# --------------------------------------------------------------------------- LSTM
def _lstm_shapes(params: dict) -> tuple[int, int]:
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict of LSTM weights, got {type(params).__name__}")
    missing = [k for g in GATES for k in (f"W_{g}", f"b_{g}") if k not in params]
    if missing:
        raise ValueError(f"params: missing {missing}")
    H, HD = _tensor("params['W_i']", params["W_i"], (2,)).shape
    if HD <= H:
        raise ValueError(f"params['W_i']: expected shape (H, H + D) with D >= 1, got {(H, HD)}")
    for g in GATES:
        _check_shape(f"params['W_{g}']", _tensor(f"params['W_{g}']", params[f"W_{g}"], (2,)), (H, HD))
        _check_shape(f"params['b_{g}']", _tensor(f"params['b_{g}']", params[f"b_{g}"], (1,)), (H,))
    return H, HD - H


def lstm_cell(x, h, c, params: dict) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """One LSTM step (4.45)-(4.50) on z = [h_{t-1}, x_t]. ``x`` ([B,] D), ``h`` and ``c`` ([B,] H).

    Returns ``(h_t, c_t, gates)`` with gates ``i, f, o`` and the candidate ``c`` (Delta c_t).
    """
    H, D = _lstm_shapes(params)
    _tensor("x", x, (1, 2))
    if x.shape[-1] != D:
        raise ValueError(f"x: expected last dimension D = {D}, got shape {tuple(x.shape)}")
    for name, v in (("h", h), ("c", c)):
        _check_shape(name, _tensor(name, v, (x.ndim,)), (*x.shape[:-1], H))
    z = torch.cat([h, x], -1)
    gates = {g: z @ params[f"W_{g}"].T + params[f"b_{g}"] for g in GATES}
    gates = {g: torch.tanh(a) if g == "c" else torch.sigmoid(a) for g, a in gates.items()}
    c = gates["f"] * c + gates["i"] * gates["c"]   # (4.49)
    h = gates["o"] * torch.tanh(c)                 # (4.50)
    return h, c, gates


def lstm_forward(x, params: dict, h0=None, c0=None) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Run :func:`lstm_cell` over ``x`` (T, [B,] D) from h0, c0 (default 0).

    Returns ``hs`` and ``cs`` (T+1, [B,] H) including the initial states, and ``gates`` (T, [B,] H) each.
    """
    H, D = _lstm_shapes(params)
    _tensor("x", x, (2, 3))
    lead = tuple(x.shape[1:-1])
    h = x.new_zeros(*lead, H) if h0 is None else h0
    c = x.new_zeros(*lead, H) if c0 is None else c0
    hs, cs, gs = [h], [c], {g: [] for g in GATES}
    for t in range(x.shape[0]):
        h, c, gates = lstm_cell(x[t], h, c, params)
        hs.append(h)
        cs.append(c)
        for g in GATES:
            gs[g].append(gates[g])
    return torch.stack(hs), torch.stack(cs), {g: torch.stack(v) for g, v in gs.items()}


def lstm_params_to_torch(params: dict) -> dict:
    """A state_dict for ``nn.LSTM(D, H)``: rows stacked (i, f, g, o); h-columns to weight_hh, x-columns to
    weight_ih; the whole bias in bias_ih and bias_hh = 0."""
    H, D = _lstm_shapes(params)
    W = torch.cat([params[f"W_{g}"] for g in GATES])   # (4H, H + D), torch's order i, f, g, o
    b = torch.cat([params[f"b_{g}"] for g in GATES])
    return {"weight_ih_l0": W[:, H:].clone(), "weight_hh_l0": W[:, :H].clone(),
            "bias_ih_l0": b.clone(), "bias_hh_l0": torch.zeros_like(b)}


def torch_to_lstm_params(lstm) -> dict:
    """The book-layout parameters of a one-layer, one-direction ``nn.LSTM`` or an ``nn.LSTMCell``
    (the two torch biases are added)."""
    if isinstance(lstm, nn.LSTM):
        if lstm.num_layers != 1 or lstm.bidirectional or lstm.proj_size or not lstm.bias:
            raise ValueError("lstm: expected one layer, one direction, no projection, with biases")
        sd = {k: v.detach() for k, v in lstm.state_dict().items()}
        W_ih, W_hh, b = sd["weight_ih_l0"], sd["weight_hh_l0"], sd["bias_ih_l0"] + sd["bias_hh_l0"]
    elif isinstance(lstm, nn.LSTMCell):
        if not lstm.bias:
            raise ValueError("lstm: expected an LSTMCell with biases")
        W_ih, W_hh, b = lstm.weight_ih.detach(), lstm.weight_hh.detach(), (lstm.bias_ih + lstm.bias_hh).detach()
    else:
        raise TypeError(f"lstm: expected torch.nn.LSTM or torch.nn.LSTMCell, got {type(lstm).__name__}")
    W = torch.cat([W_hh, W_ih], 1)
    H = W_hh.shape[1]
    out = {}
    for k, g in enumerate(GATES):
        out[f"W_{g}"] = W[k * H:(k + 1) * H].clone()
        out[f"b_{g}"] = b[k * H:(k + 1) * H].clone()
    return out


def gru_cell(x, h, params: dict) -> torch.Tensor:
    """One GRU step in torch's convention (``nn.GRU``, gates ordered r, z, n), on z = [h_{t-1}, x_t]::

        r = sigma(W_r z + b_r),   u = sigma(W_z z + b_z)
        n = tanh(W_n[:, H:] x + b_n + r * (W_n[:, :H] h + b_hn)),   h_t = (1 - u) * n + u * h

    ``params``: ``W_r, W_z, W_n`` (H, H + D) and ``b_r, b_z, b_n, b_hn`` (H,). The GRU has one state: the
    update gate u interpolates between keeping h and writing n, a forget and an input gate tied together.
    """
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict of GRU weights, got {type(params).__name__}")
    missing = [k for k in ("W_r", "W_z", "W_n", "b_r", "b_z", "b_n", "b_hn") if k not in params]
    if missing:
        raise ValueError(f"params: missing {missing}")
    H = _tensor("h", h, (1, 2)).shape[-1]
    _tensor("x", x, (h.ndim,))
    for k in ("W_r", "W_z", "W_n"):
        _check_shape(f"params['{k}']", _tensor(f"params['{k}']", params[k], (2,)), (H, H + x.shape[-1]))
    z = torch.cat([h, x], -1)
    r = torch.sigmoid(z @ params["W_r"].T + params["b_r"])
    u = torch.sigmoid(z @ params["W_z"].T + params["b_z"])
    W_n = params["W_n"]
    n = torch.tanh(x @ W_n[:, H:].T + params["b_n"] + r * (h @ W_n[:, :H].T + params["b_hn"]))
    return (1 - u) * n + u * h


# --------------------------------------------------------------------------- initialisation
def _orthogonal(n: int, gen: torch.Generator, dtype) -> torch.Tensor:
    Q, R = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    return (Q * torch.sign(torch.diagonal(R))).to(dtype)


def init_params(cell: str, D: int, H: int, V: int, rec_scale: float = 1.0, input_gain: float = 1.0,
                forget_bias: float = 0.0, seed: int = 0, dtype=torch.float32, device=None) -> dict:
    """Random parameters for ``cell`` in CELLS, drawn on the CPU from a seeded generator, then moved.

    The recurrent matrix (each gate's h-block for the LSTM) is ``rec_scale`` times a random orthogonal
    matrix, so all its singular values equal ``rec_scale``. Input weights are N(0, input_gain^2): a
    one-hot input adds one column of them to the pre-activation, so ``input_gain`` sets how far tanh is
    driven into saturation. Biases are 0 except the LSTM's forget bias. ``W_unemb`` (V, H) is N(0, 1/H).
    """
    _check_choice("cell", cell, CELLS)
    D, H, V = _check_int("D", D, 1), _check_int("H", H, 1), _check_int("V", V, 1)
    for name, v in (("rec_scale", rec_scale), ("input_gain", input_gain), ("forget_bias", forget_bias)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not math.isfinite(v):
            raise ValueError(f"{name}: expected a finite number, got {v!r}")
    if rec_scale < 0 or input_gain < 0:
        raise ValueError("rec_scale, input_gain: expected non-negative numbers")
    gen = torch.Generator().manual_seed(_check_int("seed", seed, 0))
    f64 = torch.float64
    if cell == "lstm":
        p = {}
        for g in GATES:
            W_h = rec_scale * _orthogonal(H, gen, f64)
            W_x = input_gain * torch.randn(H, D, generator=gen, dtype=f64)
            p[f"W_{g}"] = torch.cat([W_h, W_x], 1)
            p[f"b_{g}"] = torch.full((H,), float(forget_bias) if g == "f" else 0.0, dtype=f64)
    else:
        p = {"W_rec": rec_scale * _orthogonal(H, gen, f64),
             "W_emb": input_gain * torch.randn(H, D, generator=gen, dtype=f64),
             "b": torch.zeros(H, dtype=f64)}
    p["W_unemb"] = torch.randn(V, H, generator=gen, dtype=f64) / math.sqrt(H)
    return {k: v.to(dtype=dtype, device=device) for k, v in p.items()}


# --------------------------------------------------------------------------- gradients through time
def run_cell(cell: str, x, params: dict) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Run ``cell`` over ``x`` (T, B, D) step by step. Returns the list of states per step t = 1 .. T
    (for the LSTM the pair (h_t, c_t) concatenated, (B, 2H)) and the final scores (B, V)."""
    _check_choice("cell", cell, CELLS)
    _tensor("x", x, (3,))
    states = []
    if cell == "lstm":
        H, _ = _lstm_shapes(params)
        h = c = x.new_zeros(x.shape[1], H)
        for t in range(x.shape[0]):
            h, c, _ = lstm_cell(x[t], h, c, params)
            states.append(torch.cat([h, c], -1))
    else:
        H = params["W_rec"].shape[0]
        h = x.new_zeros(x.shape[1], H)
        for t in range(x.shape[0]):
            g = torch.tanh(h @ params["W_rec"].T + x[t] @ params["W_emb"].T + params["b"])
            h = h + g if cell == "stream" else g
            states.append(h)
    return states, h @ params["W_unemb"].T


def state_grad_norms(params: dict, x, y, cell: str = "vanilla") -> torch.Tensor:
    """||dL/dh_t|| for t = 1 .. T by autograd (``retain_grad``), L = mean cross-entropy at the last step.

    ``x`` (T, B, D), ``y`` (B,) class indices. The norm is over the whole batch (Frobenius). For the
    LSTM the state is (h_t, c_t) and the norm covers both. Returns a float64 tensor (T,) on the CPU.
    """
    _tensor("x", x, (3,))
    if not isinstance(y, torch.Tensor) or y.shape != (x.shape[1],) or y.is_floating_point():
        raise ValueError(f"y: expected integer class indices of shape ({x.shape[1]},)")
    leaves = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    if cell == "lstm":  # states are a concatenation; differentiate w.r.t. h and c themselves
        H, _ = _lstm_shapes(leaves)
        h = c = x.new_zeros(x.shape[1], H)
        pairs = []
        for t in range(x.shape[0]):
            h, c, _ = lstm_cell(x[t], h, c, leaves)
            h.retain_grad()
            c.retain_grad()
            pairs.append((h, c))
        loss = F.cross_entropy(h @ leaves["W_unemb"].T, y)
        loss.backward()
        norms = [torch.sqrt(hh.grad.pow(2).sum() + cc.grad.pow(2).sum()) for hh, cc in pairs]
    else:
        states, scores = run_cell(cell, x, leaves)
        for s in states:
            s.retain_grad()
        F.cross_entropy(scores, y).backward()
        norms = [s.grad.norm() for s in states]
    return torch.stack(norms).detach().to("cpu", torch.float64)


# --------------------------------------------------------------------------- a sequence classifier
class RecurrentClassifier(nn.Module):
    """Read a sequence (T, B, D) with ``cell`` and classify from the last hidden state: scores (B, V).

    The parameters are those of :func:`init_params` (orthogonal recurrent weights), held as
    ``nn.Parameter`` so that any torch optimiser trains them.
    """

    def __init__(self, cell: str, D: int, H: int, V: int, forget_bias: float = 0.0, seed: int = 0,
                 dtype=torch.float32, device=None):
        super().__init__()
        self.cell = _check_choice("cell", cell, CELLS)
        self.p = nn.ParameterDict({k: nn.Parameter(v) for k, v in
                                   init_params(cell, D, H, V, forget_bias=forget_bias, seed=seed,
                                               input_gain=1.0 / math.sqrt(D), dtype=dtype, device=device).items()})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores (B, V) for ``x`` (T, B, D): the same numbers as :func:`run_cell`, computed faster by
        projecting all inputs at once (and, for the LSTM, the four gates in one product)."""
        p = self.p
        if self.cell == "lstm":
            H = p["b_i"].shape[0]
            W = torch.cat([p[f"W_{g}"] for g in GATES])                  # (4H, H + D)
            xin = x @ W[:, H:].T + torch.cat([p[f"b_{g}"] for g in GATES])
            h = c = x.new_zeros(x.shape[1], H)
            for t in range(x.shape[0]):
                i, f, dc, o = (h @ W[:, :H].T + xin[t]).chunk(4, -1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(dc)
                h = torch.sigmoid(o) * torch.tanh(c)
        else:
            xin = x @ p["W_emb"].T + p["b"]
            h = x.new_zeros(x.shape[1], p["W_rec"].shape[0])
            for t in range(x.shape[0]):
                g = torch.tanh(h @ p["W_rec"].T + xin[t])
                h = h + g if self.cell == "stream" else g
        return h @ p["W_unemb"].T


def train_classifier(model: RecurrentClassifier, batch_fn, steps: int = 400, lr: float = 3e-3,
                     clip: float | None = 1.0, eval_batch=None) -> dict:
    """Adam on fresh batches ``x, y = batch_fn()`` for ``steps`` steps, clipping the gradient norm.

    Returns ``loss`` (per step) and, if ``eval_batch=(x, y)`` is given, ``accuracy`` on it at the end.
    """
    if not isinstance(model, RecurrentClassifier):
        raise TypeError(f"model: expected a RecurrentClassifier, got {type(model).__name__}")
    if not callable(batch_fn):
        raise TypeError("batch_fn: expected a callable returning (x, y)")
    steps = _check_int("steps", steps, 1)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        x, y = batch_fn()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())
    out = {"loss": np.array(losses)}
    if eval_batch is not None:
        with torch.no_grad():
            xe, ye = eval_batch
            out["accuracy"] = float((model(xe).argmax(-1) == ye).float().mean())
    return out
