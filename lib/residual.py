"""The residual stream: depth as computational time, a learned iterative algorithm, and its relatives.

A residual block adds an increment to a running vector (the *stream*) instead of replacing it::

    residual, out_proj    h_t = h_{t-1} + W_out^(t) act(W_in^(t) h_{t-1} + b^(t))      (4.75, errata: out map)
    residual, no out_proj h_t = h_{t-1} + act(W^(t) h_{t-1} + b^(t))                     (4.75 as printed)
    plain                 h_t = act(W^(t) h_{t-1} + b^(t))  [then W_out if out_proj]

so the Jacobian of one block is ``I + W_out diag(act'(a_t)) W_in`` and the gradient reaching early
blocks keeps an identity path. The pieces:

* :class:`ResidualMLP`: one-hot token -> embedding -> L blocks -> unembedding ("Barack" -> "Obama");
* :func:`block_grad_norms`: the size of the gradient that reaches each block's parameters;
* :func:`gd_solver`: T steps of gradient descent on ``Q z = b`` (the hand-written iteration), and
  :class:`LearnedIterativeSolver`: T residual steps whose update rule is learned (4.90-4.97);
* :class:`ResidualConvStage`: a conv feature extractor followed by T residual conv refinements
  (4.101-4.102), with per-step kernels (a ResNet stage) or one shared kernel (a recurrent conv layer);
* :class:`TemporalCNN` and :func:`temporal_rf`: the RNN with its horizontal links removed, i.e. a stack
  of causal 1-D convolutions (4.105-4.106), and its receptive field.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

ACTS = {"tanh": torch.tanh, "relu": torch.relu}


# --------------------------------------------------------------------------- input checks
def _check_int(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return value


def _check_act(act) -> str:
    if act not in ACTS:
        raise ValueError(f"act: expected one of {list(ACTS)}, got {act!r}")
    return act


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- residual MLP (4.74-4.80)
class ResidualMLP(nn.Module):
    """Token id -> logits through ``L`` blocks of width ``d`` (the stream), see the module docstring.

    ``forward(x)``: x LongTensor (N,) of ids in [0, vocab) -> logits (N, vocab). With
    ``return_stream=True`` it also returns the stream, a tensor (L+1, N, d) whose row 0 is the
    embedding ``h_0 = W_emb x``. ``gain`` rescales every block weight after torch's default init
    (``gain=1``: U(-1/sqrt(d), 1/sqrt(d))).
    """

    def __init__(self, vocab: int, d: int, L: int, residual: bool = True, out_proj: bool = True,
                 act: str = "tanh", gain: float = 1.0):
        super().__init__()
        self.vocab, self.d, self.L = _check_int("vocab", vocab), _check_int("d", d), _check_int("L", L, 0)
        self.residual, self.out_proj, self.act = bool(residual), bool(out_proj), _check_act(act)
        gain = _check_positive("gain", gain)
        self.embed = nn.Embedding(vocab, d)
        self.w_in = nn.ModuleList(nn.Linear(d, d) for _ in range(L))
        self.w_out = nn.ModuleList(nn.Linear(d, d, bias=False) for _ in range(L)) if out_proj else None
        self.unembed = nn.Linear(d, vocab)
        with torch.no_grad():
            for lin in [*self.w_in, *(self.w_out or [])]:
                lin.weight.mul_(gain)

    def blocks(self) -> list[list[nn.Parameter]]:
        """The parameters of each block, in order (used by :func:`block_grad_norms`)."""
        return [list(self.w_in[t].parameters()) + (list(self.w_out[t].parameters()) if self.out_proj else [])
                for t in range(self.L)]

    def forward(self, x: torch.Tensor, return_stream: bool = False):
        if not isinstance(x, torch.Tensor) or x.dtype != torch.long or x.ndim != 1:
            raise TypeError("x: expected a 1-D LongTensor of token ids (N,)")
        act = ACTS[self.act]
        h = self.embed(x)                                # h_0 = W_emb x
        stream = [h]
        for t in range(self.L):                          # computational time t = 1..L
            u = act(self.w_in[t](h))                     # act(W_in h + b)
            if self.out_proj:
                u = self.w_out[t](u)                     # W_out act(...)
            h = h + u if self.residual else u
            stream.append(h)
        logits = self.unembed(h)
        return (logits, torch.stack(stream)) if return_stream else logits


def block_grad_norms(model: ResidualMLP, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(L,) Euclidean norm of d(mean cross-entropy)/d(block t's parameters), for t = 1..L.

    One forward/backward pass on (x, y); the model's ``.grad`` fields are left as they were.
    """
    if not isinstance(model, ResidualMLP):
        raise TypeError(f"model: expected a ResidualMLP, got {type(model).__name__}")
    if not isinstance(y, torch.Tensor) or y.dtype != torch.long or y.shape != getattr(x, "shape", None):
        raise ValueError("y: expected a LongTensor of labels with the same shape as x")
    params = [p for block in model.blocks() for p in block]
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params)
    out, i = [], 0
    for block in model.blocks():
        g = grads[i:i + len(block)]
        i += len(block)
        out.append(torch.sqrt(sum((gi ** 2).sum() for gi in g)))
    return torch.stack(out).detach() if out else torch.zeros(0)


# --------------------------------------------------------------------------- iterative solvers (4.90-4.97)
def _check_system(Q, b) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(Q, torch.Tensor) or not isinstance(b, torch.Tensor):
        raise TypeError("Q, b: expected torch tensors")
    if Q.ndim not in (2, 3) or Q.shape[-1] != Q.shape[-2]:
        raise ValueError(f"Q: expected shape (n, n) or (B, n, n), got {tuple(Q.shape)}")
    if b.shape != Q.shape[:-1]:
        raise ValueError(f"b: expected shape {tuple(Q.shape[:-1])} to match Q, got {tuple(b.shape)}")
    return Q, b


def gd_solver(Q: torch.Tensor, b: torch.Tensor, T: int, eta=None) -> torch.Tensor:
    """T steps of gradient descent on f(z) = z^T Q z / 2 - b^T z, from z_0 = 0: z_t = z_{t-1} - eta (Q z_{t-1} - b).

    Q (n, n) or (B, n, n), symmetric positive definite; b (n,) or (B, n). ``eta=None`` uses the best
    fixed step for each system, 2 / (lambda_max + lambda_min), whose error contracts by at least
    (kappa - 1) / (kappa + 1) per step. Returns z_T with the shape of b.
    """
    Q, b = _check_system(Q, b)
    T = _check_int("T", T, 0)
    if eta is None:
        lam = torch.linalg.eigvalsh(Q)
        eta = 2.0 / (lam[..., -1] + lam[..., 0])
        if Q.ndim == 3:
            eta = eta[:, None]
    else:
        eta = _check_positive("eta", eta)
    z = torch.zeros_like(b)
    for _ in range(T):
        r = b - (Q @ z.unsqueeze(-1)).squeeze(-1)       # -grad f(z)
        z = z + eta * r
    return z


class LearnedIterativeSolver(nn.Module):
    """T residual steps with a learned update: z_t = z_{t-1} + W_out^(t) tanh(W_in^(t) f_t + c^(t)), z_0 = 0.

    The features ``f_t`` are ``[b, z_{t-1}]`` when ``condition_on_Q=False`` (then only a fixed Q can be
    solved: the net must learn Q^{-1} itself), and ``[b, z_{t-1}, r_{t-1}, vec(Q)]`` with the residual
    ``r = b - Q z`` when ``condition_on_Q=True`` (one net for every Q). ``forward(Q, b)``: Q (B, n, n),
    b (B, n) -> z_T (B, n); ``return_path=True`` also returns (T+1, B, n). Each step has its own
    weights: computational steps are not shared (4.99).
    """

    def __init__(self, n: int, T: int, hidden: int = 32, condition_on_Q: bool = True):
        super().__init__()
        self.n, self.T, self.hidden = _check_int("n", n), _check_int("T", T), _check_int("hidden", hidden)
        self.condition_on_Q = bool(condition_on_Q)
        f = 3 * n + n * n if self.condition_on_Q else 2 * n
        self.w_in = nn.ModuleList(nn.Linear(f, hidden) for _ in range(T))
        self.w_out = nn.ModuleList(nn.Linear(hidden, n, bias=False) for _ in range(T))

    def forward(self, Q: torch.Tensor, b: torch.Tensor, return_path: bool = False):
        Q, b = _check_system(Q, b)
        if Q.ndim != 3 or b.shape[-1] != self.n:
            raise ValueError(f"Q, b: expected shapes (B, {self.n}, {self.n}) and (B, {self.n})")
        z = torch.zeros_like(b)
        path = [z]
        for t in range(self.T):                          # for t in 1..T: the for-loop of (4.93-4.97)
            if self.condition_on_Q:
                r = b - (Q @ z.unsqueeze(-1)).squeeze(-1)
                feats = torch.cat([b, z, r, Q.flatten(1)], dim=1)
            else:
                feats = torch.cat([b, z], dim=1)
            z = z + self.w_out[t](torch.tanh(self.w_in[t](feats)))
            path.append(z)
        return (z, torch.stack(path)) if return_path else z


# --------------------------------------------------------------------------- residual conv stage (4.101-4.102)
class ResidualConvStage(nn.Module):
    """h^(0) = conv_0(x); h^(t) = h^(t-1) + tanh(conv_t(h^(t-1))) for t = 1..T ('same' padding).

    x (B, c_in, H, W) -> (B, c, H, W). ``share_weights=True`` uses one kernel for every t (a recurrent
    conv layer, T applications of the same map); otherwise each step has its own (a ResNet stage).
    """

    def __init__(self, c_in: int, c: int, T: int, k: int = 3, share_weights: bool = False):
        super().__init__()
        _check_int("c_in", c_in), _check_int("c", c), _check_int("T", T, 0)
        if _check_int("k", k) % 2 == 0:
            raise ValueError(f"k: expected an odd kernel size (for 'same' padding), got {k}")
        self.T, self.share_weights = T, bool(share_weights)
        self.conv0 = nn.Conv2d(c_in, c, k, padding=k // 2)
        n_kernels = min(T, 1) if self.share_weights else T
        self.convs = nn.ModuleList(nn.Conv2d(c, c, k, padding=k // 2) for _ in range(n_kernels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 4:
            raise ValueError("x: expected a tensor of shape (B, c_in, H, W)")
        h = self.conv0(x)
        for t in range(self.T):
            conv = self.convs[0 if self.share_weights else t]
            h = h + torch.tanh(conv(h))
        return h


# --------------------------------------------------------------------------- temporal CNN (4.105-4.106)
def temporal_rf(kernel: int, layers: int, dilation: int = 1) -> int:
    """Receptive field (in steps) of ``layers`` causal convolutions of width ``kernel``.

    Layer l (0-based) has dilation ``dilation**l``, so RF = 1 + (K-1) sum_l dilation^l, which is
    (K-1) L + 1 without dilation and grows exponentially with it.
    """
    _check_int("kernel", kernel), _check_int("layers", layers, 0), _check_int("dilation", dilation)
    return 1 + (kernel - 1) * sum(dilation ** l for l in range(layers))


class TemporalCNN(nn.Module):
    """An RNN without horizontal links: h^(1)_t = tanh(W_emb x_t + b) (4.105), then ``layers`` causal convs

        h^(l+1)_t = tanh( sum_{j=0}^{K-1} W^(l)_j h^(l)_{t - j * dil_l} + b^(l) ),   dil_l = dilation**l   (4.106)

    with W^(l)_j = conv.weight[:, :, K-1-j] (torch correlates) and zeros before t = 0 (left padding
    (K-1) dil_l). x (B, T, d_in) -> (B, T, d_hidden); output t
    sees inputs t - RF + 1 .. t only (:func:`temporal_rf`), and all positions are computed at once.
    """

    def __init__(self, d_in: int, d_hidden: int, kernel: int, layers: int, dilation: int = 1):
        super().__init__()
        _check_int("d_in", d_in), _check_int("d_hidden", d_hidden)
        self.kernel, self.layers = _check_int("kernel", kernel), _check_int("layers", layers, 0)
        self.dilation = _check_int("dilation", dilation)
        self.embed = nn.Linear(d_in, d_hidden)
        self.convs = nn.ModuleList(nn.Conv1d(d_hidden, d_hidden, kernel, dilation=dilation ** l)
                                   for l in range(layers))

    @property
    def receptive_field(self) -> int:
        return temporal_rf(self.kernel, self.layers, self.dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 3:
            raise ValueError("x: expected a tensor of shape (B, T, d_in)")
        h = torch.tanh(self.embed(x)).transpose(1, 2)   # (B, d_hidden, T)
        for conv in self.convs:
            pad = (conv.kernel_size[0] - 1) * conv.dilation[0]
            h = torch.tanh(conv(F.pad(h, (pad, 0))))     # causal: pad on the left only
        return h.transpose(1, 2)
