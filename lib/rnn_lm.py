"""Stacked recurrent networks: the two-layer RNN by hand, a small language model, and sampling from it.

Two layers (4.51-4.54), time-first, column vectors written as rows of a batch::

    h1_t = tanh(W_rec1 h1_{t-1} + W_emb1 x_t + b1)        a1_t = the tanh argument
    h2_t = tanh(W_rec2 h2_{t-1} + W_assoc h1_t + b2)      a2_t = the tanh argument
    s    = W_unemb h2_T,   p = softmax(s),   J = log p_y  (maximised, the book's sign)

Backpropagation through time in delta form (the corrected 4.55-4.60), delta = dJ/da::

    delta2_T = (W_unemb^T (y - p)) * (1 - h2_T^2)
    delta2_t = (W_rec2^T delta2_{t+1}) * (1 - h2_t^2)                                 t < T
    delta1_t = (W_assoc^T delta2_t + W_rec1^T delta1_{t+1}) * (1 - h1_t^2)          (delta1_{T+1} = 0)
    dJ/dW_assoc = sum_t delta2_t h1_t^T,  dJ/dW_rec2 = sum_t delta2_t h2_{t-1}^T,  dJ/db2 = sum_t delta2_t
    dJ/dW_emb1  = sum_t delta1_t x_t^T,   dJ/dW_rec1 = sum_t delta1_t h1_{t-1}^T,  dJ/db1 = sum_t delta1_t

Layer 2 at time t is needed before layer 1 at time t. :class:`RNNLM` is the same idea with torch
modules (or the memory-stream cell) and any number of layers; :func:`generate` samples from it one
token at a time, carrying only the last state (constant memory per token, 4.61-4.64).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

PARAM_KEYS = ("W_emb1", "W_rec1", "b1", "W_assoc", "W_rec2", "b2", "W_unemb")
CELLS = ("rnn", "stream", "lstm", "gru")


# --------------------------------------------------------------------------- input checks
def _check_int(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return value


def _check_params(p) -> tuple[int, int, int, int]:
    if not isinstance(p, dict) or set(PARAM_KEYS) - p.keys():
        raise ValueError(f"p: expected a dict with keys {PARAM_KEYS}")
    H1, D = p["W_emb1"].shape
    H2 = p["W_rec2"].shape[0]
    V = p["W_unemb"].shape[0]
    expected = {"W_emb1": (H1, D), "W_rec1": (H1, H1), "b1": (H1,), "W_assoc": (H2, H1),
                "W_rec2": (H2, H2), "b2": (H2,), "W_unemb": (V, H2)}
    for k, shape in expected.items():
        if tuple(p[k].shape) != shape:
            raise ValueError(f"p[{k!r}]: expected shape {shape}, got {tuple(p[k].shape)}")
    return D, H1, H2, V


def _check_x(x, D: int) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[2] != D or x.shape[0] == 0:
        raise ValueError(f"x: expected a tensor of shape (T >= 1, B, {D}), got {getattr(x, 'shape', type(x).__name__)}")
    return x


# --------------------------------------------------------------------------- two layers by hand
def two_layer_rnn_forward(x: torch.Tensor, p: dict):
    """(4.51-4.54) with h1_0 = h2_0 = 0. x (T, B, D) -> h1s (T+1, B, H1), h2s (T+1, B, H2), s (B, V).

    Equals ``torch.nn.RNN(D, H, num_layers=2)`` with weight_ih_l0 = W_emb1, weight_hh_l0 = W_rec1,
    bias_ih_l0 = b1, weight_ih_l1 = W_assoc, weight_hh_l1 = W_rec2, bias_ih_l1 = b2, bias_hh = 0
    (see :func:`torch_rnn_from_params`).
    """
    D, H1, H2, _ = _check_params(p)
    x = _check_x(x, D)
    h1 = x.new_zeros(x.shape[1], H1)
    h2 = x.new_zeros(x.shape[1], H2)
    h1s, h2s = [h1], [h2]
    for t in range(x.shape[0]):
        h1 = torch.tanh(h1 @ p["W_rec1"].T + x[t] @ p["W_emb1"].T + p["b1"])
        h2 = torch.tanh(h2 @ p["W_rec2"].T + h1 @ p["W_assoc"].T + p["b2"])
        h1s.append(h1)
        h2s.append(h2)
    s = h2 @ p["W_unemb"].T
    return torch.stack(h1s), torch.stack(h2s), s


def two_layer_rnn_bptt(x: torch.Tensor, h1s: torch.Tensor, h2s: torch.Tensor, p: dict, y: torch.Tensor) -> dict:
    """Gradients of J = sum_b log softmax(s_b)[y_b] (to be maximised) in delta form; see the module docstring.

    ``y`` LongTensor (B,) of targets. Returns dJ/d(each key of ``p``) plus ``delta1`` (T, B, H1) and
    ``delta2`` (T, B, H2), the gradients of the tanh arguments a1_t, a2_t for t = 1..T.
    """
    D, H1, H2, V = _check_params(p)
    x = _check_x(x, D)
    T, B = x.shape[:2]
    if h1s.shape != (T + 1, B, H1) or h2s.shape != (T + 1, B, H2):
        raise ValueError("h1s, h2s: expected the states returned by two_layer_rnn_forward(x, p)")
    if not isinstance(y, torch.Tensor) or y.dtype != torch.long or y.shape != (B,):
        raise ValueError(f"y: expected a LongTensor of shape ({B},) with class indices")
    prob = torch.softmax(h2s[T] @ p["W_unemb"].T, dim=1)
    g = F.one_hot(y, V).to(prob.dtype) - prob                       # dJ/ds = y - p   (4.9)
    grads = {k: torch.zeros_like(p[k]) for k in PARAM_KEYS}
    grads["W_unemb"] = g.T @ h2s[T]
    d1 = [None] * T
    d2 = [None] * T
    up2 = g @ p["W_unemb"]                                          # dJ/dh2_T from the read-out
    next1 = x.new_zeros(B, H1)
    for t in range(T, 0, -1):                                       # t = T..1, layer 2 before layer 1
        delta2 = up2 * (1 - h2s[t] ** 2)
        delta1 = (delta2 @ p["W_assoc"] + next1) * (1 - h1s[t] ** 2)
        grads["W_rec2"] += delta2.T @ h2s[t - 1]
        grads["W_assoc"] += delta2.T @ h1s[t]
        grads["b2"] += delta2.sum(0)
        grads["W_rec1"] += delta1.T @ h1s[t - 1]
        grads["W_emb1"] += delta1.T @ x[t - 1]
        grads["b1"] += delta1.sum(0)
        d1[t - 1], d2[t - 1] = delta1, delta2
        up2 = delta2 @ p["W_rec2"]                                  # W_rec2^T delta2_t, reaches h2_{t-1}
        next1 = delta1 @ p["W_rec1"]                                # W_rec1^T delta1_t, reaches h1_{t-1}
    grads["delta1"], grads["delta2"] = torch.stack(d1), torch.stack(d2)
    return grads


def torch_rnn_from_params(p: dict) -> nn.RNN:
    """A ``torch.nn.RNN(num_layers=2, nonlinearity='tanh')`` holding the weights of ``p`` (bias_hh = 0)."""
    D, H1, H2, _ = _check_params(p)
    if H1 != H2:
        raise ValueError("p: nn.RNN stacks layers of one width, so H1 must equal H2")
    rnn = nn.RNN(D, H1, num_layers=2, dtype=p["W_emb1"].dtype, device=p["W_emb1"].device)
    with torch.no_grad():
        for name, key in [("weight_ih_l0", "W_emb1"), ("weight_hh_l0", "W_rec1"), ("bias_ih_l0", "b1"),
                          ("weight_ih_l1", "W_assoc"), ("weight_hh_l1", "W_rec2"), ("bias_ih_l1", "b2")]:
            getattr(rnn, name).copy_(p[key])
        rnn.bias_hh_l0.zero_()
        rnn.bias_hh_l1.zero_()
    return rnn


# --------------------------------------------------------------------------- language model
class StreamRNN(nn.Module):
    """One memory-stream layer, h_t = h_{t-1} + tanh(W_rec h_{t-1} + W_in x_t + b) (4.22, per layer 4.65-4.70).

    The interface of a one-layer ``nn.RNN``: ``forward(x (T, B, d_in), h0 (1, B, H) or None)`` ->
    ``(outputs (T, B, H), h_T (1, B, H))``.
    """

    def __init__(self, d_in: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.w_in = nn.Linear(d_in, hidden)
        self.w_rec = nn.Linear(hidden, hidden, bias=False)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        h = x.new_zeros(x.shape[1], self.hidden) if h0 is None else h0[0]
        inp = self.w_in(x)                                  # all W_in x_t + b at once
        outs = []
        for t in range(x.shape[0]):
            h = h + torch.tanh(self.w_rec(h) + inp[t])
            outs.append(h)
        return torch.stack(outs), h.unsqueeze(0)


class RNNLM(nn.Module):
    """Token ids -> next-token logits through ``layers`` recurrent layers of width ``hidden``.

    ``cell``: "rnn" (tanh ``nn.RNN``), "stream" (:class:`StreamRNN`), "lstm" or "gru" (torch).
    ``residual_between_layers=True`` adds each layer's output to its input from layer 2 on (a residual
    stream across depth, 4.71-4.72). ``forward(x, state=None)``: x LongTensor (T, B) -> logits
    (T, B, vocab) and the final state: a tensor (layers, B, hidden), or a pair (h, c) of them for the LSTM.
    """

    def __init__(self, vocab: int, d_emb: int, hidden: int, layers: int = 1, cell: str = "rnn",
                 residual_between_layers: bool = False):
        super().__init__()
        _check_int("vocab", vocab), _check_int("d_emb", d_emb), _check_int("hidden", hidden)
        self.layers = _check_int("layers", layers)
        if cell not in CELLS:
            raise ValueError(f"cell: expected one of {list(CELLS)}, got {cell!r}")
        self.cell, self.residual = cell, bool(residual_between_layers)
        make = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU, "stream": StreamRNN}[cell]
        self.embed = nn.Embedding(vocab, d_emb)
        self.rnns = nn.ModuleList(make(d_emb if l == 0 else hidden, hidden) for l in range(layers))
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x: torch.Tensor, state=None):
        if not isinstance(x, torch.Tensor) or x.dtype != torch.long or x.ndim != 2:
            raise TypeError("x: expected a LongTensor of token ids of shape (T, B)")
        inp = self.embed(x)
        new = []
        for l, rnn in enumerate(self.rnns):
            if state is None:
                s = None
            elif self.cell == "lstm":
                s = (state[0][l:l + 1], state[1][l:l + 1])
            else:
                s = state[l:l + 1]
            out, s = rnn(inp, s)
            inp = inp + out if (self.residual and l > 0) else out
            new.append(s)
        if self.cell == "lstm":
            state = (torch.cat([s[0] for s in new]), torch.cat([s[1] for s in new]))
        else:
            state = torch.cat(new)
        return self.head(inp), state


def train_char_lm(model: RNNLM, ids: torch.Tensor, steps: int = 200, seq_len: int = 64, batch: int = 16,
                  lr: float = 1e-2, clip: float = 1.0, generator: torch.Generator | None = None) -> list[float]:
    """Adam on random windows of ``ids`` (1-D LongTensor): predict ids[i+1..i+seq_len] from ids[i..i+seq_len-1].

    Returns the mean cross-entropy (nats per character) of every step.
    """
    if not isinstance(model, RNNLM):
        raise TypeError(f"model: expected an RNNLM, got {type(model).__name__}")
    if not isinstance(ids, torch.Tensor) or ids.dtype != torch.long or ids.ndim != 1:
        raise TypeError("ids: expected a 1-D LongTensor of token ids")
    _check_int("steps", steps, 0), _check_int("seq_len", seq_len), _check_int("batch", batch)
    if ids.numel() < seq_len + 1:
        raise ValueError(f"seq_len: expected at most len(ids) - 1 = {ids.numel() - 1}, got {seq_len}")
    dev = next(model.parameters()).device
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(steps):
        start = torch.randint(0, ids.numel() - seq_len, (batch,), generator=generator)
        win = torch.stack([ids[s:s + seq_len + 1] for s in start.tolist()], dim=1).to(dev)  # (seq_len+1, B)
        logits, _ = model(win[:-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), win[1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def generate(model: RNNLM, prefix_ids, n: int, temperature: float = 1.0,
             generator: torch.Generator | None = None) -> list[int]:
    """Sample ``n`` tokens after ``prefix_ids`` (non-empty list or 1-D tensor of ids), one at a time.

    Only the last state and the last logits are kept between steps (constant memory and time per
    token, 4.61-4.64). ``temperature`` > 0 divides the logits; 0 takes the argmax (greedy). Sampling
    uses ``generator`` (a CPU ``torch.Generator``) on CPU probabilities. Returns the n new ids.
    """
    if not isinstance(model, RNNLM):
        raise TypeError(f"model: expected an RNNLM, got {type(model).__name__}")
    ids = [int(i) for i in (prefix_ids.tolist() if isinstance(prefix_ids, torch.Tensor) else prefix_ids)]
    vocab = model.head.out_features
    if not ids or not all(0 <= i < vocab for i in ids):
        raise ValueError(f"prefix_ids: expected a non-empty sequence of ids in [0, {vocab})")
    _check_int("n", n, 0)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not math.isfinite(temperature) \
            or temperature < 0:
        raise ValueError(f"temperature: expected a finite number >= 0, got {temperature!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device
    logits, state = model(torch.tensor(ids, device=dev).unsqueeze(1))
    last = logits[-1, 0]
    out = []
    for _ in range(n):
        if temperature == 0:
            nxt = int(last.argmax())
        else:
            prob = torch.softmax(last.double().cpu() / temperature, dim=0)
            nxt = int(torch.multinomial(prob, 1, generator=generator))
        out.append(nxt)
        logits, state = model(torch.tensor([[nxt]], device=dev), state)
        last = logits[-1, 0]
    model.train(was_training)
    return out
