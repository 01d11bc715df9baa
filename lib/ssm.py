"""Linear state space models (SSMs): one system, two ways to compute it, and its discretisations.

The discrete linear time-invariant (LTI) system with state ``h_t`` (size N)::

    h_t = A h_{t-1} + B x_t,      y_t = C h_t,      h_0 = 0,   t = 1..L         (4.107-4.108)

unrolls into a causal convolution with the kernel ``K_k = C A^k B``::

    y_t = sum_{k=0}^{t-1} K_k x_{t-k}                                            (4.116, finite sum)

:func:`ssm_recurrent` runs the loop (constant memory, one step at a time), :func:`ssm_kernel` builds the
kernel by repeated multiplication and :func:`causal_conv` applies it directly or through the FFT.

Continuous time ``h'(t) = A h(t) + B x(t)`` becomes a discrete system with step ``dt`` through
:func:`discretize_euler` (``I + A dt``, ``B dt``), :func:`discretize_zoh` (zero-order hold, exact for an
input held constant over each step; ``A_d = e^{A dt}``, ``B_d = int_0^dt e^{A s} ds B``, computed as a
block of one matrix exponential, so a singular ``A`` is fine) and :func:`discretize_bilinear`
(Tustin). :func:`discretize_zoh_diag` is the elementwise ZOH for a diagonal ``A``, and
:func:`euler_power` is ``(I + A dt / n)^n``, which tends to ``e^{A dt}``.

:class:`DiagLTISSM` is a trainable layer with one diagonal SSM per channel (S4D-real initialisation);
it runs as a convolution (training) or as a recurrence (generation) with identical outputs.
:func:`smoothing_task_batch` generates a small sequence-to-sequence task for it.

Shapes: a scalar-input, scalar-output system has ``B, C`` of shape (N,) and ``x`` of shape (L,) or
(batch, L). A multi-channel system has ``B`` (N, D_in), ``C`` (D_out, N) and ``x`` (L, D_in) or
(batch, L, D_in). Everything is torch and works in float64 on any device.
"""
from __future__ import annotations

import math

import torch
from torch import nn


# --------------------------------------------------------------------------- input checks
def _tensor(name: str, value, ndims: tuple[int, ...]) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if value.ndim not in ndims:
        raise ValueError(f"{name}: expected {' or '.join(str(n) for n in ndims)} dimensions, got shape "
                         f"{tuple(value.shape)}")
    return value


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


def _count(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return value


def _system(A, B, C):
    """Check (A, B, C); return them with B as (N, D_in), C as (D_out, N) and whether each was 1-D."""
    A = _tensor("A", A, (2,))
    N = A.shape[0]
    if A.shape != (N, N):
        raise ValueError(f"A: expected a square matrix (N, N), got shape {tuple(A.shape)}")
    B = _tensor("B", B, (1, 2))
    C = _tensor("C", C, (1, 2))
    b1, c1 = B.ndim == 1, C.ndim == 1
    B2 = B[:, None] if b1 else B
    C2 = C[None, :] if c1 else C
    if B2.shape[0] != N:
        raise ValueError(f"B: expected {N} rows to match A, got shape {tuple(B.shape)}")
    if C2.shape[1] != N:
        raise ValueError(f"C: expected {N} columns to match A, got shape {tuple(C.shape)}")
    return A, B2, C2, b1, c1


# --------------------------------------------------------------------------- the two views
def ssm_recurrent(A, B, C, x, h0=None):
    """Run ``h_t = A h_{t-1} + B x_t``, ``y_t = C h_t`` over the time axis.

    ``x``: (L,) or (batch, L) when ``B`` is (N,); (L, D_in) or (batch, L, D_in) when ``B`` is (N, D_in).
    Returns ``(y, hs)``: ``y`` has the time layout of ``x`` with D_out channels (none when ``C`` is 1-D),
    ``hs`` is (..., L, N), the states h_1..h_L.
    """
    A, B2, C2, b1, c1 = _system(A, B, C)
    x = _tensor("x", x, (1, 2) if b1 else (2, 3))
    xs = x[..., None] if b1 else x  # (..., L, D_in)
    if xs.shape[-1] != B2.shape[1]:
        raise ValueError(f"x: expected {B2.shape[1]} input channels to match B, got shape {tuple(x.shape)}")
    N = A.shape[0]
    h = torch.zeros(*xs.shape[:-2], N, dtype=torch.result_type(A, xs), device=xs.device)
    if h0 is not None:
        h = h + _tensor("h0", h0, (1, 2))
    hs = []
    for t in range(xs.shape[-2]):
        h = h @ A.T + xs[..., t, :] @ B2.T
        hs.append(h)
    hs = torch.stack(hs, dim=-2)
    y = hs @ C2.T  # (..., L, D_out)
    return (y[..., 0] if c1 else y), hs


def ssm_kernel(A, B, C, L: int) -> torch.Tensor:
    """The convolution kernel ``K_k = C A^k B`` for k = 0..L-1, by repeated multiplication.

    Returns (L,) when ``B`` and ``C`` are both 1-D, otherwise (L, D_out, D_in) (a 1-D ``B`` counts as
    one input channel, a 1-D ``C`` as one output channel).
    """
    A, B2, C2, b1, c1 = _system(A, B, C)
    L = _count("L", L)
    out, AkB = [], B2  # A^k B, updated in place of a matrix power per k
    for _ in range(L):
        out.append(C2 @ AkB)
        AkB = A @ AkB
    K = torch.stack(out)  # (L, D_out, D_in)
    return K[:, 0, 0] if (b1 and c1) else K


def causal_conv(K, x, method: str = "direct") -> torch.Tensor:
    """``y_t = sum_{k=0}^{t} K_k x_{t-k}`` (time index from 0), directly or by FFT.

    ``K`` (Lk,) with ``x`` (..., L), or ``K`` (Lk, D_out, D_in) with ``x`` (..., L, D_in). Kernel taps
    beyond L are unused; a shorter kernel counts as zero-padded. The FFT pads to length 2L so that
    the circular convolution it computes equals the linear (causal) one.
    """
    K = _tensor("K", K, (1, 3))
    if method not in ("direct", "fft"):
        raise ValueError(f"method: expected 'direct' or 'fft', got {method!r}")
    scalar = K.ndim == 1
    x = _tensor("x", x, (1, 2, 3, 4) if scalar else (2, 3, 4))
    K3 = K[:, None, None] if scalar else K
    xs = x[..., None] if scalar else x
    if xs.shape[-1] != K3.shape[2]:
        raise ValueError(f"x: expected {K3.shape[2]} input channels to match K, got shape {tuple(x.shape)}")
    L = xs.shape[-2]
    K3 = K3[:L]
    if method == "direct":
        y = torch.zeros(*xs.shape[:-1], K3.shape[1], dtype=torch.result_type(K3, xs), device=xs.device)
        for k in range(K3.shape[0]):  # shift the input by k steps and apply the tap K_k
            y[..., k:, :] += xs[..., :L - k, :] @ K3[k].T
    else:
        n = 2 * L
        Kf = torch.fft.rfft(K3, n=n, dim=0)                    # (F, D_out, D_in)
        Xf = torch.fft.rfft(xs, n=n, dim=-2)                   # (..., F, D_in)
        Yf = torch.einsum("foi,...fi->...fo", Kf, Xf)
        y = torch.fft.irfft(Yf, n=n, dim=-2)[..., :L, :]
    return y[..., 0] if scalar else y


# --------------------------------------------------------------------------- discretisation
def _cont(A, B, dt):
    A = _tensor("A", A, (2,))
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"A: expected a square matrix (N, N), got shape {tuple(A.shape)}")
    B = _tensor("B", B, (1, 2))
    if B.shape[0] != A.shape[0]:
        raise ValueError(f"B: expected {A.shape[0]} rows to match A, got shape {tuple(B.shape)}")
    return A, B, _positive("dt", dt)


def discretize_euler(A, B, dt):
    """Forward Euler: ``A_d = I + A dt``, ``B_d = B dt`` (4.118-4.120)."""
    A, B, dt = _cont(A, B, dt)
    return torch.eye(A.shape[0], dtype=A.dtype, device=A.device) + A * dt, B * dt


def discretize_zoh(A, B, dt):
    """Zero-order hold: ``A_d = e^{A dt}``, ``B_d = (int_0^dt e^{A s} ds) B``.

    Both are blocks of one exponential: ``expm([[A, B], [0, 0]] dt) = [[A_d, B_d], [0, I]]``. No inverse
    of ``A`` is needed, so this is right for a singular ``A`` too (where ``(e^{A dt} - I) A^{-1} B``
    is undefined).
    """
    A, B, dt = _cont(A, B, dt)
    B2 = B[:, None] if B.ndim == 1 else B
    N, M = A.shape[0], B2.shape[1]
    dtype = torch.result_type(A, B2)
    aug = torch.zeros(N + M, N + M, dtype=dtype, device=A.device)
    aug[:N, :N], aug[:N, N:] = A, B2
    E = torch.linalg.matrix_exp(aug * dt)
    Bd = E[:N, N:]
    return E[:N, :N], (Bd[:, 0] if B.ndim == 1 else Bd)


def discretize_bilinear(A, B, dt):
    """Bilinear (Tustin): ``A_d = (I - A dt/2)^{-1} (I + A dt/2)``, ``B_d = (I - A dt/2)^{-1} B dt``."""
    A, B, dt = _cont(A, B, dt)
    eye = torch.eye(A.shape[0], dtype=A.dtype, device=A.device)
    left = eye - A * (dt / 2)
    return torch.linalg.solve(left, eye + A * (dt / 2)), torch.linalg.solve(left, B * dt)


def discretize_zoh_diag(a, b, dt):
    """ZOH for a diagonal ``A = diag(a)``: ``a_bar = e^{a dt}``, ``b_bar = (e^{a dt} - 1) / a * b``.

    ``a``, ``b`` real tensors of equal (broadcastable) shape; ``dt`` a positive number or a positive
    tensor broadcastable with ``a``. ``expm1`` keeps the ratio accurate for small ``a dt``; at ``a = 0``
    the ratio is its limit ``dt``.
    """
    a = _tensor("a", a, (0, 1, 2, 3))
    b = _tensor("b", b, (0, 1, 2, 3))
    if not isinstance(dt, torch.Tensor):
        dt = torch.as_tensor(_positive("dt", dt), dtype=a.dtype, device=a.device)
    elif not bool((dt > 0).all()):
        raise ValueError("dt: expected positive step sizes")
    adt = a * dt
    safe = torch.where(a == 0, torch.ones_like(a), a)
    ratio = torch.where(a == 0, dt * torch.ones_like(adt), torch.expm1(adt) / safe)
    return torch.exp(adt), ratio * b


def euler_power(A, dt, n: int) -> torch.Tensor:
    """``(I + A dt / n)^n``: n Euler sub-steps of the homogeneous system, which tends to ``e^{A dt}`` (4.121-4.126)."""
    A = _tensor("A", A, (2,))
    dt, n = _positive("dt", dt), _count("n", n)
    eye = torch.eye(A.shape[0], dtype=A.dtype, device=A.device)
    return torch.linalg.matrix_power(eye + A * (dt / n), n)


# --------------------------------------------------------------------------- a trainable layer
class DiagLTISSM(nn.Module):
    """One diagonal SSM of state size N per channel, shared over time (LTI), discretised by ZOH.

    Per channel d: ``a = -exp(A_log[d])`` (S4D-real init ``a_n = -n``), step ``dt_d = exp(log_dt[d])``
    drawn log-uniformly in [dt_min, dt_max], ``h_t = a_bar h_{t-1} + b_bar x_t``,
    ``y_t = C[d] . h_t + D[d] x_t``. Input and output are (batch, L, d_model).
    ``mode='conv'`` uses the kernel ``K_k = sum_n C_n a_bar_n^k b_bar_n`` and an FFT convolution;
    ``mode='recurrent'`` runs the loop. Both compute the same function.
    """

    def __init__(self, d_model: int, N: int, dt_min: float = 1e-3, dt_max: float = 1e-1, mode: str = "conv"):
        super().__init__()
        d_model, N = _count("d_model", d_model), _count("N", N)
        dt_min, dt_max = _positive("dt_min", dt_min), _positive("dt_max", dt_max)
        if dt_min > dt_max:
            raise ValueError(f"dt_min: expected dt_min <= dt_max, got {dt_min} > {dt_max}")
        self.mode = mode
        self.A_log = nn.Parameter(torch.log(torch.arange(1, N + 1, dtype=torch.float32)).repeat(d_model, 1))
        u = torch.rand(d_model)
        self.log_dt = nn.Parameter(math.log(dt_min) + u * (math.log(dt_max) - math.log(dt_min)))
        self.B = nn.Parameter(torch.ones(d_model, N))
        self.C = nn.Parameter(torch.randn(d_model, N) / math.sqrt(N))
        self.D = nn.Parameter(torch.zeros(d_model))

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in ("conv", "recurrent"):
            raise ValueError(f"mode: expected 'conv' or 'recurrent', got {value!r}")
        self._mode = value

    def discrete(self):
        """``(a_bar, b_bar)``, each (d_model, N)."""
        a = -torch.exp(self.A_log)
        return discretize_zoh_diag(a, self.B, torch.exp(self.log_dt)[:, None])

    def kernel(self, L: int) -> torch.Tensor:
        """``K`` of shape (L, d_model): ``K[k, d] = sum_n C[d, n] a_bar[d, n]^k b_bar[d, n]``."""
        a_bar, b_bar = self.discrete()
        k = torch.arange(L, dtype=a_bar.dtype, device=a_bar.device)
        powers = a_bar[None] ** k[:, None, None]  # (L, d_model, N)
        return (powers * (self.C * b_bar)[None]).sum(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _tensor("x", x, (3,))
        if x.shape[-1] != self.D.shape[0]:
            raise ValueError(f"x: expected (batch, L, {self.D.shape[0]}), got shape {tuple(x.shape)}")
        L = x.shape[1]
        if self.mode == "conv":
            K = self.kernel(L)
            n = 2 * L
            y = torch.fft.irfft(torch.fft.rfft(K, n=n, dim=0)[None] * torch.fft.rfft(x, n=n, dim=1), n=n, dim=1)[:, :L]
        else:
            a_bar, b_bar = self.discrete()
            h = torch.zeros(x.shape[0], *a_bar.shape, dtype=x.dtype, device=x.device)
            ys = []
            for t in range(L):
                h = a_bar * h + b_bar * x[:, t, :, None]
                ys.append((h * self.C).sum(-1))
            y = torch.stack(ys, dim=1)
        return y + self.D * x


# --------------------------------------------------------------------------- a task for it
def smoothing_task_batch(bs: int, L: int, kind: str = "ema", delay: int = 4, alpha: float = 0.1,
                         generator: torch.Generator | None = None, dtype=torch.float32):
    """A batch of a sequence-to-sequence task that an LTI system can solve.

    Inputs ``x`` (bs, L, 1) are standard normal. ``kind='ema'``: ``y_t = (1-alpha) y_{t-1} + alpha x_t``;
    ``kind='delay'``: ``y_t = x_{t-delay}`` (0 before the start). Returns ``(x, y)``, both (bs, L, 1).
    """
    bs, L = _count("bs", bs), _count("L", L)
    if kind not in ("ema", "delay"):
        raise ValueError(f"kind: expected 'ema' or 'delay', got {kind!r}")
    x = torch.randn(bs, L, 1, generator=generator, dtype=dtype)
    if kind == "delay":
        delay = _count("delay", delay, 0)
        y = torch.zeros_like(x)
        if delay < L:
            y[:, delay:] = x[:, :L - delay]
        return x, y
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha: expected a number in (0, 1], got {alpha!r}")
    y = torch.zeros_like(x)
    prev = torch.zeros(bs, 1, dtype=dtype)
    for t in range(L):
        prev = (1 - alpha) * prev + alpha * x[:, t]
        y[:, t] = prev
    return x, y
