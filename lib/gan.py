"""Generative adversarial networks (book 7.8): losses, the WGAN-GP critic, training on 2-D toys, and
the divergence calculus on 1-D grids.

A discriminator outputs a *logit* l(x) (D(x) = sigmoid(l)); a WGAN critic outputs a real score f(x).
With ``log sigmoid(l) = -softplus(-l)`` and ``log(1 - sigmoid(l)) = -softplus(l)`` every loss is stable::

    discriminator   L_D = E softplus(-l(x)) + E softplus(l(G(z)))       (-(E log D + E log(1 - D(G))))
    saturating G    L_G = -E softplus(l(G(z)))                           (minimise E log(1 - D(G(z))))
    non-saturating  L_G = E softplus(-l(G(z)))                           (maximise E log D(G(z)), 7.8.4)
    WGAN critic     L_f = E f(G(z)) - E f(x) + lam E (||grad f(x_hat)|| - 1)^2,
                    x_hat = a x + (1 - a) G(z), a ~ U(0, 1)              (Gulrajani et al. 2017)
    WGAN generator  L_G = -E f(G(z))

On a grid with densities p (data) and q (generator) (normalised to mass 1 by the Riemann sum), the optimal discriminator is
``D* = p / (p + q)`` and ``V(D*, G) = 2 JSD(p, q) - log 4``; in 1-D, ``W1 = int |F_p - F_q| dx``.
"""
from __future__ import annotations

import math
from typing import Callable, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

KINDS = ("ns", "saturating", "wgan-gp", "wgan-clip")


def _check_tensor(name: str, t) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(t).__name__}")
    return t


# --------------------------------------------------------------------------- networks
def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """G: R^z_dim -> R^out_dim, an MLP with ``depth`` hidden layers of width ``hidden``; z ~ N(0, I)."""

    def __init__(self, z_dim: int = 2, hidden: int = 64, out_dim: int = 2, depth: int = 2):
        super().__init__()
        self.z_dim = z_dim
        self.net = _mlp([z_dim] + [hidden] * depth + [out_dim])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` generated points, [n, out_dim]."""
        p = next(self.parameters())
        z = torch.randn(n, self.z_dim, generator=generator, device=p.device, dtype=p.dtype)
        return self(z)


class MLPDiscriminator(nn.Module):
    """l: R^in_dim -> R, a logit (GAN) or a critic value (WGAN): no sigmoid at the end. Output [n]."""

    def __init__(self, in_dim: int = 2, hidden: int = 64, depth: int = 2):
        super().__init__()
        self.net = _mlp([in_dim] + [hidden] * depth + [1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


# --------------------------------------------------------------------------- losses
def d_loss_bce(logit_real: torch.Tensor, logit_fake: torch.Tensor) -> torch.Tensor:
    """Discriminator loss, real labelled 1 and fake 0: ``mean softplus(-l_real) + mean softplus(l_fake)``."""
    _check_tensor("logit_real", logit_real), _check_tensor("logit_fake", logit_fake)
    return F.softplus(-logit_real).mean() + F.softplus(logit_fake).mean()


def g_loss_saturating(logit_fake: torch.Tensor) -> torch.Tensor:
    """The minimax generator loss ``E log(1 - D(G(z))) = -mean softplus(l_fake)`` (flat where D rejects)."""
    return -F.softplus(_check_tensor("logit_fake", logit_fake)).mean()


def g_loss_nonsaturating(logit_fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating loss ``-E log D(G(z)) = mean softplus(-l_fake)``."""
    return F.softplus(-_check_tensor("logit_fake", logit_fake)).mean()


def wgan_critic_loss(f_real: torch.Tensor, f_fake: torch.Tensor) -> torch.Tensor:
    """``E f(G(z)) - E f(x)``: minimising it maximises the Kantorovich-Rubinstein objective."""
    return _check_tensor("f_fake", f_fake).mean() - _check_tensor("f_real", f_real).mean()


def wgan_gen_loss(f_fake: torch.Tensor) -> torch.Tensor:
    """``-E f(G(z))``."""
    return -_check_tensor("f_fake", f_fake).mean()


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], x_real: torch.Tensor, x_fake: torch.Tensor,
                     lam: float = 10.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """``lam * mean_i (||grad f(x_hat_i)|| - 1)^2`` at ``x_hat_i = a_i x_real_i + (1 - a_i) x_fake_i``,
    ``a_i ~ U(0, 1)``; x_real, x_fake: [n, d]. Differentiable in the critic's parameters."""
    _check_tensor("x_real", x_real), _check_tensor("x_fake", x_fake)
    if x_real.shape != x_fake.shape or x_real.ndim != 2:
        raise ValueError(f"x_real, x_fake: expected two [n, d] tensors of one shape, got "
                         f"{tuple(x_real.shape)} and {tuple(x_fake.shape)}")
    if not lam >= 0:
        raise ValueError(f"lam: expected a non-negative number, got {lam!r}")
    where = generator.device if generator is not None else x_real.device  # a CPU generator may drive GPU tensors
    a = torch.rand(x_real.shape[0], 1, generator=generator, device=where, dtype=x_real.dtype).to(x_real.device)
    x_hat = (a * x_real + (1 - a) * x_fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return lam * ((grad.norm(dim=1) - 1) ** 2).mean()


@torch.no_grad()
def clip_weights_(critic: nn.Module, c: float = 0.01) -> None:
    """Weight clipping (Arjovsky et al. 2017): every parameter into [-c, c], in place."""
    if not c > 0:
        raise ValueError(f"c: expected a positive number, got {c!r}")
    for p in critic.parameters():
        p.clamp_(-c, c)


# --------------------------------------------------------------------------- training
def train_gan(G: nn.Module, D: nn.Module, data, kind: Literal["ns", "saturating", "wgan-gp", "wgan-clip"] = "ns",
              steps: int = 2000, n_critic: int = 1, batch: int = 256, lr: float = 1e-3,
              betas: tuple[float, float] = (0.5, 0.999), lam: float = 10.0, clip: float = 0.01,
              snapshot_every: int | None = None, n_snapshot: int = 512, grid_lim: float = 3.0, grid_n: int = 40,
              device=None, generator: torch.Generator | None = None) -> dict:
    """Alternate ``n_critic`` discriminator/critic steps and one generator step (Adam), ``steps`` times.

    data: the training set, [N, d] tensor or array (minibatches drawn with replacement).
    Returns ``dict(history=dict(d_loss, g_loss), snapshots=[...])``; every ``snapshot_every`` steps (and
    at the end) a snapshot ``dict(step, samples [n_snapshot, d] from fixed z, grid [grid_n, grid_n], lim)``
    where grid holds D = sigmoid(logit) (GAN) or the critic value (WGAN) on ``[-grid_lim, grid_lim]^2``
    (row i is y_i, column j is x_j), all numpy.
    """
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    for name, v in dict(steps=steps, n_critic=n_critic, batch=batch).items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name}: expected a positive integer, got {v!r}")
    if snapshot_every is not None and (not isinstance(snapshot_every, int) or snapshot_every < 1):
        raise ValueError(f"snapshot_every: expected None or a positive integer, got {snapshot_every!r}")
    device = torch.device(device or "cpu")
    X = torch.as_tensor(np.asarray(data) if not isinstance(data, torch.Tensor) else data,
                        dtype=torch.float32, device=device)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"data: expected an [N, d] array with N >= 2, got shape {tuple(X.shape)}")
    G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    gen = generator or torch.Generator(device="cpu").manual_seed(0)
    z_dim = G.z_dim

    def noise(n):
        return torch.randn(n, z_dim, generator=gen).to(device)

    def real(n):
        return X[torch.randint(0, X.shape[0], (n,), generator=gen).to(device)]

    z_fixed = noise(n_snapshot)
    g1 = torch.linspace(-grid_lim, grid_lim, grid_n)
    gy, gx = torch.meshgrid(g1, g1, indexing="ij")
    grid_pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1).to(device)
    wgan = kind.startswith("wgan")
    hist = dict(d_loss=[], g_loss=[])
    snaps = []

    def snapshot(step):
        with torch.no_grad():
            val = D(grid_pts) if wgan else torch.sigmoid(D(grid_pts))
            snaps.append(dict(step=step, samples=G(z_fixed).cpu().numpy(),
                              grid=val.reshape(grid_n, grid_n).cpu().numpy(), lim=grid_lim))

    for step in range(1, steps + 1):
        for _ in range(n_critic):
            xr, xf = real(batch), G(noise(batch)).detach()
            lr_, lf_ = D(xr), D(xf)
            if kind == "wgan-gp":
                loss_d = wgan_critic_loss(lr_, lf_) + gradient_penalty(D, xr, xf, lam, generator=gen)
            elif kind == "wgan-clip":
                loss_d = wgan_critic_loss(lr_, lf_)
            else:
                loss_d = d_loss_bce(lr_, lf_)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            if kind == "wgan-clip":
                clip_weights_(D, clip)
        lf = D(G(noise(batch)))
        loss_g = {"ns": g_loss_nonsaturating, "saturating": g_loss_saturating}.get(kind, wgan_gen_loss)(lf)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        hist["d_loss"].append(loss_d.item())
        hist["g_loss"].append(loss_g.item())
        if snapshot_every and (step % snapshot_every == 0 or step == 1):
            snapshot(step)
    if snapshot_every and snaps[-1]["step"] != steps:
        snapshot(steps)
    return dict(history={k: np.array(v) for k, v in hist.items()}, snapshots=snaps)


def train_critic_1d(x_p: torch.Tensor, x_q: torch.Tensor, steps: int = 1000, lam: float = 10.0, hidden: int = 64,
                    batch: int = 256, lr: float = 1e-3, generator: torch.Generator | None = None,
                    device=None) -> tuple[nn.Module, float]:
    """Fit a WGAN-GP critic between two fixed 1-D samples x_p, x_q ([N, 1] each) and return it with its
    estimate ``mean f(x_p) - mean f(x_q)`` of W1 on the full samples (biased up by the penalty).

    In 1-D the penalty (|f'| - 1)^2 is a barrier of height lam at slope 0, so a critic initialised with
    the wrong sign of slope stays there (a local optimum near the negative of W1). The last layer starts
    at zero (f = 0), so the data, not the random initialisation, choose the sign."""
    for name, t in (("x_p", x_p), ("x_q", x_q)):
        if _check_tensor(name, t).ndim != 2 or t.shape[1] != 1:
            raise ValueError(f"{name}: expected an [N, 1] tensor, got {tuple(t.shape)}")
    gen = generator or torch.Generator().manual_seed(0)
    device = torch.device(device or "cpu")
    x_p, x_q = x_p.to(device), x_q.to(device)
    f = MLPDiscriminator(in_dim=1, hidden=hidden).to(device=device, dtype=x_p.dtype)
    nn.init.zeros_(f.net[-1].weight), nn.init.zeros_(f.net[-1].bias)
    opt = torch.optim.Adam(f.parameters(), lr=lr, betas=(0.5, 0.9))
    for _ in range(steps):
        xp = x_p[torch.randint(0, len(x_p), (batch,), generator=gen).to(device)]
        xq = x_q[torch.randint(0, len(x_q), (batch,), generator=gen).to(device)]
        loss = wgan_critic_loss(f(xp), f(xq)) + gradient_penalty(f, xp, xq, lam, generator=gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        return f, (f(x_p).mean() - f(x_q).mean()).item()


def gp_linear_critic_estimate(theta: float, lam: float) -> float:
    """For P, Q differing by a shift theta, the best *linear* critic f(x) = s x under the penalty
    ``lam (s - 1)^2`` has slope ``s = 1 + |theta| / (2 lam)``, so its estimate is ``|theta| + theta^2 / (2 lam)``."""
    if not lam > 0:
        raise ValueError(f"lam: expected a positive number, got {lam!r}")
    return abs(theta) + theta ** 2 / (2 * lam)


# --------------------------------------------------------------------------- divergences on a grid
def _densities(p, q, dx=None):
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape or p.ndim != 1:
        raise ValueError(f"p, q: expected two 1-D arrays of one shape, got {p.shape} and {q.shape}")
    if np.any(p < 0) or np.any(q < 0) or not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
        raise ValueError("p, q: expected finite non-negative densities")
    if dx is not None:
        if not dx > 0:
            raise ValueError(f"dx: expected a positive grid spacing, got {dx!r}")
        if p.sum() == 0 or q.sum() == 0:
            raise ValueError("p, q: expected densities with positive mass")
        p, q = p / (p.sum() * dx), q / (q.sum() * dx)  # mass 1 on the grid (Riemann sum)
    return p, q


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """``D*(x) = p_data / (p_data + p_g)`` (1/2 where both vanish)."""
    p, q = _densities(p_data, p_g)
    s = p + q
    return np.divide(p, s, out=np.full_like(p, 0.5), where=s > 0)


def gan_value_grid(d, p_data, p_g, dx: float) -> float:
    """``V(D, G) = int p_data log D + p_g log(1 - D) dx`` on a grid (0 log 0 = 0). The logs' arguments are
    floored at 1e-300: where one density is a 1e-17 tail of the other, D* rounds to exactly 0 or 1."""
    p, q = _densities(p_data, p_g, dx)
    d = np.asarray(d, dtype=np.float64)
    if d.shape != p.shape or np.any((d < 0) | (d > 1)):
        raise ValueError(f"d: expected values in [0, 1] of shape {p.shape}")
    a = np.where(p > 0, p * np.log(np.maximum(d, 1e-300)), 0.0)
    b = np.where(q > 0, q * np.log(np.maximum(1 - d, 1e-300)), 0.0)
    return float((a + b).sum() * dx)


def kl_grid(p, q, dx: float) -> float:
    """``KL(p || q) = int p log(p / q) dx``; inf when p puts mass where q has none."""
    p, q = _densities(p, q, dx)
    if np.any((p > 0) & (q == 0)):
        return math.inf
    m = p > 0
    return float((p[m] * np.log(p[m] / q[m])).sum() * dx)


def js_divergence_grid(p, q, dx: float) -> float:
    """``JSD(p, q) = KL(p || m)/2 + KL(q || m)/2`` with ``m = (p + q)/2``, in nats; at most log 2."""
    p, q = _densities(p, q, dx)
    m = (p + q) / 2
    return 0.5 * kl_grid(p, m, dx) + 0.5 * kl_grid(q, m, dx)


def w1_grid(p, q, dx: float) -> float:
    """``W1 = int |F_p - F_q| dx`` for densities on a uniform 1-D grid."""
    p, q = _densities(p, q, dx)
    return float(np.abs(np.cumsum(p - q) * dx).sum() * dx)


# --------------------------------------------------------------------------- diagnostics
def birthday_duplicates(samples, threshold: float) -> int:
    """Number of pairs i < j with ``||x_i - x_j|| < threshold`` in one batch [s, d] (Arora & Zhang 2017):
    a support of about N distinguishable points gives duplicates in batches of size ~ sqrt(N)."""
    x = torch.as_tensor(np.asarray(samples) if not isinstance(samples, torch.Tensor) else samples,
                        dtype=torch.float64)
    if x.ndim != 2:
        raise ValueError(f"samples: expected an [s, d] array, got shape {tuple(x.shape)}")
    if not threshold > 0:
        raise ValueError(f"threshold: expected a positive number, got {threshold!r}")
    d = torch.cdist(x, x)
    return int(torch.triu(d < threshold, diagonal=1).sum())
