"""The selective SSM of Mamba (Gu and Dao, 2023): an SSM whose step size and input/output maps read the input.

Each of D channels runs its own diagonal SSM of state size N on a scalar stream ``u_t``::

    A = -exp(A_log)                     (D, N), learned but input-independent, S4D-real init A_n = -n
    dt_t = softplus(dt_proj(u_t) + bias)    (D,)   step size, a function of the token
    B_t = B_proj(u_t), C_t = C_proj(u_t)    (N,)   shared by the channels, functions of the token
    A_bar_t = exp(dt_t A)                                     (elementwise)
    B_bar_t = dt_t B_t            (Euler, as in the reference code)  or  (exp(dt_t A) - 1) / A * B_t  (ZOH)
    h_t = A_bar_t * h_{t-1} + B_bar_t u_t,     y_t = C_t . h_t + D u_t

Small ``dt_t`` keeps the state and ignores the token; large ``dt_t`` forgets the state and stores the
token. Because ``A_bar_t`` changes with t there is no single convolution kernel: the parallel
computation is a scan of the first-order recurrence ``h_t = a_t h_{t-1} + b_t``, which is associative
(:func:`associative_scan`, Hillis and Steele's ``ceil(log2 L)`` rounds).

Shapes as in the reference ``selective_scan_ref``: ``u, dt`` (batch, L, D); ``A`` (D, N); ``B, C``
(batch, L, N); ``D`` (D,). :func:`latest_marked_value_batch` makes the task that needs selectivity.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _tensor(name: str, value, ndim: int) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if value.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {tuple(value.shape)}")
    return value


def _count(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return value


def _discretize(u, dt, A, B, C, D, method):
    """Check shapes; return ``(A_bar, B_bar u)``, each (batch, L, D, N)."""
    u, dt, A = _tensor("u", u, 3), _tensor("dt", dt, 3), _tensor("A", A, 2)
    B, C = _tensor("B", B, 3), _tensor("C", C, 3)
    b, L, d = u.shape
    if dt.shape != u.shape:
        raise ValueError(f"dt: expected shape {tuple(u.shape)} like u, got {tuple(dt.shape)}")
    if A.shape[0] != d:
        raise ValueError(f"A: expected (D={d}, N), got shape {tuple(A.shape)}")
    n = A.shape[1]
    for name, m in (("B", B), ("C", C)):
        if m.shape != (b, L, n):
            raise ValueError(f"{name}: expected shape {(b, L, n)}, got {tuple(m.shape)}")
    if D is not None and _tensor("D", D, 1).shape != (d,):
        raise ValueError(f"D: expected shape ({d},), got {tuple(D.shape)}")
    if method not in ("euler", "zoh"):
        raise ValueError(f"method: expected 'euler' or 'zoh', got {method!r}")
    dA = dt[..., None] * A                               # (b, L, D, N)
    A_bar = torch.exp(dA)
    if method == "euler":
        B_bar = dt[..., None] * B[:, :, None, :]
    else:
        B_bar = torch.expm1(dA) / A * B[:, :, None, :]
    return A_bar, B_bar * u[..., None]


def selective_scan_sequential(u, dt, A, B, C, D=None, method: str = "euler") -> torch.Tensor:
    """The selective SSM as a loop over time (the constant-memory inference form). Returns y (batch, L, D)."""
    A_bar, Bu = _discretize(u, dt, A, B, C, D, method)
    h = torch.zeros_like(Bu[:, 0])
    ys = []
    for t in range(u.shape[1]):
        h = A_bar[:, t] * h + Bu[:, t]
        ys.append((h * C[:, t, None, :]).sum(-1))
    y = torch.stack(ys, dim=1)
    return y if D is None else y + D * u


def associative_scan(a, b, dim: int = 1, return_rounds: bool = False):
    """All prefixes of ``h_t = a_t h_{t-1} + b_t`` (``h_0 = 0``) along ``dim``, Hillis-Steele style.

    The pairs compose associatively: ``(a1, b1) then (a2, b2) = (a2 a1, a2 b1 + b2)``. Round r combines
    every position with the one ``2^r`` steps earlier, so after ``ceil(log2 L)`` rounds position t holds
    the composition of all steps up to t, and its ``b`` is ``h_t``. Every round is one elementwise
    operation over the whole sequence. Returns ``h`` (shape of ``b``), and the number of rounds if asked.
    """
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor):
        raise TypeError("a, b: expected torch.Tensors")
    if a.shape != b.shape:
        raise ValueError(f"a: expected the shape of b {tuple(b.shape)}, got {tuple(a.shape)}")
    if not -b.ndim <= dim < b.ndim:
        raise ValueError(f"dim: expected an axis of a {b.ndim}-dimensional tensor, got {dim}")
    a, b = a.movedim(dim, 0), b.movedim(dim, 0)
    L, offset, rounds = a.shape[0], 1, 0
    while offset < L:
        a_prev, b_prev = a[:-offset], b[:-offset]
        b = torch.cat([b[:offset], a[offset:] * b_prev + b[offset:]])
        a = torch.cat([a[:offset], a[offset:] * a_prev])
        offset, rounds = 2 * offset, rounds + 1
    h = b.movedim(0, dim)
    return (h, rounds) if return_rounds else h


def selective_scan_parallel(u, dt, A, B, C, D=None, method: str = "euler") -> torch.Tensor:
    """The same map as :func:`selective_scan_sequential`, through :func:`associative_scan` over time."""
    A_bar, Bu = _discretize(u, dt, A, B, C, D, method)
    hs = associative_scan(A_bar, Bu, dim=1)              # (b, L, D, N)
    y = (hs * C[:, :, None, :]).sum(-1)
    return y if D is None else y + D * u


def gate_identity(z):
    """Both sides of ``exp(-softplus(z)) = 1 - sigmoid(z)``: with N = 1, A = -1, B = 1 and ZOH the
    selective SSM is the gated update ``h_t = (1 - g_t) h_{t-1} + g_t x_t``, ``g_t = sigmoid(z_t)``."""
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"z: expected a torch.Tensor, got {type(z).__name__}")
    return torch.exp(-F.softplus(z)), 1 - torch.sigmoid(z)


class SelectiveSSM(nn.Module):
    """A single selective SSM layer: ``x (batch, L, d_in) -> y (batch, L, d_out)``.

    ``in_proj`` maps the input to D = ``d_model`` channels ``u``; from ``u`` come ``dt`` (through a rank
    ``dt_rank`` bottleneck ``dt_proj``, plus a bias, then softplus), ``B`` and ``C`` (linear projections
    ``B_proj``, ``C_proj``). ``A = -exp(A_log)`` and ``D`` are plain parameters. With
    ``selective=False`` the step ``dt = softplus(dt_bias)`` and ``B``, ``C`` are learned constants:
    the same layer without selection, an LTI baseline. ``out_proj`` maps back to ``d_out`` (default
    ``d_in``). ``method`` is the discretisation of ``B``.
    """

    def __init__(self, d_in: int, d_model: int, N: int, dt_rank: int | None = None, selective: bool = True,
                 d_out: int | None = None, method: str = "euler", dt_min: float = 1e-3, dt_max: float = 1e-1):
        super().__init__()
        d_in, d_model, N = _count("d_in", d_in), _count("d_model", d_model), _count("N", N)
        dt_rank = math.ceil(d_model / 16) if dt_rank is None else _count("dt_rank", dt_rank)
        d_out = d_in if d_out is None else _count("d_out", d_out)
        if method not in ("euler", "zoh"):
            raise ValueError(f"method: expected 'euler' or 'zoh', got {method!r}")
        self.selective, self.method = bool(selective), method
        self.in_proj = nn.Linear(d_in, d_model)
        # dt initialised log-uniformly in [dt_min, dt_max] through the inverse softplus of the bias
        dt0 = torch.exp(torch.rand(d_model) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        self.dt_bias = nn.Parameter(dt0 + torch.log(-torch.expm1(-dt0)))
        self.A_log = nn.Parameter(torch.log(torch.arange(1, N + 1, dtype=torch.float32)).repeat(d_model, 1))
        self.D = nn.Parameter(torch.ones(d_model))
        if self.selective:
            self.dt_proj = nn.Sequential(nn.Linear(d_model, dt_rank, bias=False), nn.Linear(dt_rank, d_model, bias=False))
            self.B_proj = nn.Linear(d_model, N, bias=False)
            self.C_proj = nn.Linear(d_model, N, bias=False)
        else:
            self.B = nn.Parameter(torch.randn(N) / math.sqrt(N))
            self.C = nn.Parameter(torch.randn(N) / math.sqrt(N))
        self.out_proj = nn.Linear(d_model, d_out)

    def ssm_inputs(self, x: torch.Tensor):
        """``(u, dt, A, B, C)`` for the scan: the per-token quantities the layer feeds to it."""
        x = _tensor("x", x, 3)
        u = self.in_proj(x)
        A = -torch.exp(self.A_log)
        if self.selective:
            dt = F.softplus(self.dt_proj(u) + self.dt_bias)
            B, C = self.B_proj(u), self.C_proj(u)
        else:
            b, L, _ = u.shape
            dt = F.softplus(self.dt_bias).expand(b, L, -1)
            B, C = self.B.expand(b, L, -1), self.C.expand(b, L, -1)
        return u, dt, A, B, C

    def forward(self, x: torch.Tensor, parallel: bool = True) -> torch.Tensor:
        u, dt, A, B, C = self.ssm_inputs(x)
        scan = selective_scan_parallel if parallel else selective_scan_sequential
        return self.out_proj(scan(u, dt, A, B, C, self.D, method=self.method))


def latest_marked_value_batch(bs: int, L: int, p: float = 0.15, generator: torch.Generator | None = None,
                              dtype=torch.float32):
    """The "latest marked value" task: remember the value at the most recent marked position.

    ``x`` (bs, L, 2): channel 0 standard-normal values, channel 1 marks (1 with probability ``p``).
    ``y`` (bs, L): the value at the latest mark at or before t (0 before the first mark). The gap since
    the last mark varies, so no fixed kernel can do it: the model must decide per token what to keep.
    """
    bs, L = _count("bs", bs), _count("L", L)
    if not 0 < p < 1:
        raise ValueError(f"p: expected a probability in (0, 1), got {p!r}")
    values = torch.randn(bs, L, generator=generator, dtype=dtype)
    marks = (torch.rand(bs, L, generator=generator) < p).to(dtype)
    y = torch.zeros(bs, L, dtype=dtype)
    last = torch.zeros(bs, dtype=dtype)
    for t in range(L):
        last = torch.where(marks[:, t] > 0, values[:, t], last)
        y[:, t] = last
    return torch.stack([values, marks], dim=-1), y
