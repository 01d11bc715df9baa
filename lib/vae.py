"""Variational autoencoders (book 7.5-7.6): encoders, decoders, the ELBO, training, IWAE, interpolation.

With a diagonal Gaussian encoder q(z|x) = N(mu(x), diag sigma^2(x)) and the prior N(0, I)::

    z = mu + sigma * eps,  eps ~ N(0, I)                                  (reparametrisation, 7.6.2)
    KL(q || N(0, I)) = 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - log sigma_j^2)   (closed form)
    ELBO(x) = E_eps log p(x | mu + sigma * eps) - KL                        (7.6.3, sign corrected)

``VAE.elbo`` returns the per-example reconstruction, KL and ELBO; the training objective weights the
KL by beta (beta-VAE / KL annealing). ``LinearGaussianVAE`` is the linear special case whose optimum is
PPCA (``to_model`` hands it to :mod:`lib.linear_gaussian` for exact checks).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .linear_gaussian import LinearGaussianModel

LOG2PI = math.log(2 * math.pi)


def _check_pair(mu, logvar):
    for name, a in (("mu", mu), ("logvar", logvar)):
        if not isinstance(a, torch.Tensor):
            raise TypeError(f"{name}: expected a torch tensor, got {type(a).__name__}")
    if mu.shape != logvar.shape:
        raise ValueError(f"logvar: expected the shape of mu {tuple(mu.shape)}, got {tuple(logvar.shape)}")


def _int(name: str, v, low: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {v!r}")
    return int(v)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """``z = mu + exp(logvar / 2) * eps``, eps ~ N(0, I): a differentiable sample of N(mu, diag e^logvar)."""
    _check_pair(mu, logvar)
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_diag_std_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, diag e^logvar) || N(0, I)) = 1/2 sum (e^logvar + mu^2 - 1 - logvar)``; [..., k] -> [...]."""
    _check_pair(mu, logvar)
    return 0.5 * (torch.exp(logvar) + mu ** 2 - 1.0 - logvar).sum(-1)


def _mlp(sizes, act=nn.ReLU) -> nn.Sequential:
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


class GaussianEncoder(nn.Module):
    """x [n, in_dim] -> (mu, logvar), each [n, z_dim]; one hidden layer."""

    def __init__(self, in_dim: int, hidden: int, z_dim: int):
        super().__init__()
        self.z_dim = _int("z_dim", z_dim)
        self.net = _mlp([_int("in_dim", in_dim), _int("hidden", hidden), 2 * self.z_dim])

    def forward(self, x):
        mu, logvar = self.net(x).chunk(2, dim=-1)
        return mu, logvar


class BernoulliDecoder(nn.Module):
    """z -> pixel logits; ``log_prob(x, logits) = -sum BCE`` (for x in [0, 1] this is the usual
    cross-entropy reconstruction term, a proper likelihood only for binary x)."""

    def __init__(self, z_dim: int, hidden: int, out_dim: int):
        super().__init__()
        self.net = _mlp([_int("z_dim", z_dim), _int("hidden", hidden), _int("out_dim", out_dim)])

    def forward(self, z):
        return self.net(z)

    @staticmethod
    def log_prob(x, logits):
        return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)

    @staticmethod
    def mean(logits):
        return torch.sigmoid(logits)


class GaussianDecoder(nn.Module):
    """z -> (mean, logvar) of N(x; mean, diag e^logvar). With ``learn_var`` the variance is a learned
    per-pixel parameter floored at ``min_logvar`` (without a floor the likelihood is unbounded, 7.I);
    otherwise it is fixed at 1."""

    def __init__(self, z_dim: int, hidden: int, out_dim: int, learn_var: bool = False, min_logvar: float = -6.0):
        super().__init__()
        self.net = _mlp([_int("z_dim", z_dim), _int("hidden", hidden), _int("out_dim", out_dim)])
        self.logvar = nn.Parameter(torch.zeros(out_dim), requires_grad=bool(learn_var))
        self.min_logvar = float(min_logvar)

    def forward(self, z):
        mean = self.net(z)
        return mean, torch.clamp(self.logvar, min=self.min_logvar).expand_as(mean)

    @staticmethod
    def log_prob(x, params):
        mean, logvar = params
        return -0.5 * (LOG2PI + logvar + (x - mean) ** 2 * torch.exp(-logvar)).sum(-1)

    @staticmethod
    def mean(params):
        return params[0]


class VAE(nn.Module):
    """An encoder q(z|x), a decoder p(x|z) and the prior N(0, I)."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        if not hasattr(decoder, "log_prob") or not hasattr(decoder, "mean"):
            raise TypeError("decoder: expected a module with log_prob(x, params) and mean(params)")
        self.encoder, self.decoder = encoder, decoder
        self.z_dim = encoder.z_dim

    def _x(self, x):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x: expected a torch tensor, got {type(x).__name__}")
        return x.reshape(x.shape[0], -1) if x.ndim > 2 else x

    def encode(self, x):
        """(mu, logvar) of q(z | x), each [n, z_dim]."""
        return self.encoder(self._x(x))

    def decode(self, z):
        """The decoder's mean image for each code: [n, z_dim] -> [n, out_dim]."""
        return self.decoder.mean(self.decoder(z))

    def elbo(self, x, n_samples: int = 1, beta: float = 1.0, generator=None) -> dict:
        """Per-example ``rec`` (Monte Carlo over ``n_samples`` reparametrised draws), ``kl`` (closed
        form), ``elbo = rec - kl`` and the training ``objective = rec - beta kl``; each [n]."""
        x = self._x(x)
        L = _int("n_samples", n_samples)
        mu, logvar = self.encoder(x)
        z = reparameterize(mu.expand(L, *mu.shape), logvar.expand(L, *logvar.shape), generator)
        rec = self.decoder.log_prob(x, self.decoder(z)).mean(0)
        kl = kl_diag_std_normal(mu, logvar)
        return dict(elbo=rec - kl, rec=rec, kl=kl, objective=rec - beta * kl)

    def iwae(self, x, K: int, generator=None) -> torch.Tensor:
        """Importance-weighted bound ``log (1/K) sum_k p(x, z_k) / q(z_k | x)``, z_k ~ q; [n].
        K = 1 is the ELBO; the bound rises towards log p(x) as K grows (Burda et al. 2016)."""
        x = self._x(x)
        K = _int("K", K)
        mu, logvar = self.encoder(x)
        z = reparameterize(mu.expand(K, *mu.shape), logvar.expand(K, *logvar.shape), generator)
        log_q = -0.5 * (LOG2PI + logvar + (z - mu) ** 2 * torch.exp(-logvar)).sum(-1)
        log_prior = -0.5 * (LOG2PI + z ** 2).sum(-1)
        log_w = self.decoder.log_prob(x, self.decoder(z)) + log_prior - log_q
        return torch.logsumexp(log_w, 0) - math.log(K)

    @torch.no_grad()
    def sample(self, n: int, generator=None) -> torch.Tensor:
        """Decoder means at n prior draws z ~ N(0, I): [n, out_dim]."""
        p = next(self.parameters())
        z = torch.randn(_int("n", n), self.z_dim, generator=generator, dtype=p.dtype, device=p.device)
        return self.decode(z)

    @torch.no_grad()
    def interpolate(self, xa, xb, n: int = 9, mode: str = "linear") -> tuple[torch.Tensor, torch.Tensor]:
        """Codes and decoded means along a path between the encoder means of two inputs.

        ``linear``: ``(1 - t) z_a + t z_b``; ``slerp``: the great-circle path (norms interpolated
        linearly), which stays in the typical shell of N(0, I). Returns (z [n, k], x [n, out_dim]).
        """
        if mode not in ("linear", "slerp"):
            raise ValueError(f"mode: expected 'linear' or 'slerp', got {mode!r}")
        za, zb = self.encode(xa.reshape(1, -1))[0][0], self.encode(xb.reshape(1, -1))[0][0]
        t = torch.linspace(0, 1, _int("n", n, 2), dtype=za.dtype, device=za.device)[:, None]
        z = slerp(za, zb, t) if mode == "slerp" else (1 - t) * za + t * zb
        return z, self.decode(z)


def slerp(za: torch.Tensor, zb: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation of directions, linear interpolation of norms; t: [m, 1] -> [m, k]."""
    ra, rb = za.norm(), zb.norm()
    ua, ub = za / ra, zb / rb
    omega = torch.arccos(torch.clamp(ua @ ub, -1.0, 1.0))
    if float(omega) < 1e-6:
        u = (1 - t) * ua + t * ub
    else:
        u = (torch.sin((1 - t) * omega) * ua + torch.sin(t * omega) * ub) / torch.sin(omega)
    return ((1 - t) * ra + t * rb) * u


class LinearGaussianVAE(nn.Module):
    """Linear encoder and decoder: q(z|x) = N(V (x - b) + c, diag e^q_logvar) (or a full Cholesky
    factor when ``diag_q=False``), p(x|z) = N(W z + b, sigma^2 I). The ELBO is estimated by
    reparametrisation; ``to_model`` gives the PPCA model for exact likelihoods."""

    def __init__(self, d: int, k: int, diag_q: bool = True, dtype=torch.float64):
        super().__init__()
        self.d, self.k, self.diag_q = _int("d", d), _int("k", k), bool(diag_q)
        f = dict(dtype=dtype)
        self.W = nn.Parameter(0.1 * torch.randn(d, k, **f))
        self.b = nn.Parameter(torch.zeros(d, **f))
        self.log_s2 = nn.Parameter(torch.zeros((), **f))
        self.V = nn.Parameter(0.1 * torch.randn(k, d, **f))
        self.c = nn.Parameter(torch.zeros(k, **f))
        self.q_logvar = nn.Parameter(torch.zeros(k, **f))
        self.q_offdiag = None if diag_q else nn.Parameter(torch.zeros(k, k, **f))

    def q_cov_factor(self) -> torch.Tensor:
        """Lower-triangular L with q's covariance L L^T, [k, k]."""
        L = torch.diag(torch.exp(0.5 * self.q_logvar))
        return L if self.q_offdiag is None else L + torch.tril(self.q_offdiag, -1)

    def elbo(self, x, n_samples: int = 1, generator=None) -> dict:
        """Monte Carlo ELBO per example (reconstruction by reparametrisation, closed-form KL)."""
        m = (x - self.b) @ self.V.T + self.c
        L = self.q_cov_factor()
        eps = torch.randn(_int("n_samples", n_samples), *m.shape, generator=generator, dtype=m.dtype, device=m.device)
        z = m + eps @ L.T
        s2 = torch.exp(self.log_s2)
        rec = (-0.5 * (self.d * (LOG2PI + self.log_s2) + ((x - z @ self.W.T - self.b) ** 2).sum(-1) / s2)).mean(0)
        S = L @ L.T
        kl = 0.5 * (torch.diagonal(S).sum() + (m ** 2).sum(-1) - self.k - 2 * torch.log(torch.diagonal(L)).sum())
        return dict(elbo=rec - kl, rec=rec, kl=kl, objective=rec - kl)

    @torch.no_grad()
    def to_model(self) -> LinearGaussianModel:
        return LinearGaussianModel(self.W.detach().cpu(), self.b.detach().cpu(), torch.exp(self.log_s2).cpu())

    @torch.no_grad()
    def q_params(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        """q's means [n, k] and its covariance [k, k] (shared by all x)."""
        L = self.q_cov_factor()
        return (x - self.b) @ self.V.T + self.c, L @ L.T


def train_vae(vae: nn.Module, X, steps: int = 3000, batch: int = 128, lr: float = 2e-3,
              beta_schedule: float | Callable[[int], float] | None = None, n_samples: int = 1,
              device=None, generator: torch.Generator | None = None) -> dict:
    """Adam on minus the (beta-weighted) ELBO over random minibatches of X.

    ``beta_schedule``: None (beta = 1), a constant, or a function of the step (KL annealing).
    Returns the history ``dict(elbo, rec, kl)`` of minibatch means, one entry per step.
    """
    if not isinstance(vae, nn.Module) or not hasattr(vae, "elbo"):
        raise TypeError("vae: expected a VAE or LinearGaussianVAE")
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"X: expected a torch tensor, got {type(X).__name__}")
    steps, batch = _int("steps", steps), _int("batch", batch)
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr: expected a positive number, got {lr!r}")
    device = torch.device(device) if device is not None else next(vae.parameters()).device
    vae.to(device)
    X = X.reshape(X.shape[0], -1).to(device, next(vae.parameters()).dtype)
    beta = beta_schedule if callable(beta_schedule) else (lambda _s, b=1.0 if beta_schedule is None else float(beta_schedule): b)
    opt = torch.optim.Adam(vae.parameters(), lr=lr)
    hist = dict(elbo=[], rec=[], kl=[])
    n = X.shape[0]
    for step in range(steps):
        idx = torch.randint(n, (min(batch, n),), generator=generator).to(device)
        out = vae.elbo(X[idx], n_samples=n_samples) if isinstance(vae, LinearGaussianVAE) else \
            vae.elbo(X[idx], n_samples=n_samples, beta=beta(step))
        obj = out["rec"] - beta(step) * out["kl"]
        opt.zero_grad(set_to_none=True)
        (-obj.mean()).backward()
        opt.step()
        for key in hist:
            hist[key].append(float(out[key].detach().mean()))
    return hist


# --------------------------------------------------------------------------- gradient estimators
def pathwise_grad(f: Callable, mu: torch.Tensor, logvar: torch.Tensor, n: int, generator=None) -> torch.Tensor:
    """n single-sample estimates of ``d/d mu E_{z ~ N(mu, e^logvar)} f(z)`` by reparametrisation:
    ``grad_mu f(mu + sigma eps)``. mu, logvar: [k]; f maps [n, k] -> [n]; returns [n, k]."""
    _check_pair(mu, logvar)
    m = mu.detach().expand(_int("n", n), *mu.shape).clone().requires_grad_(True)
    z = reparameterize(m, logvar.detach().expand_as(m), generator)
    (g,) = torch.autograd.grad(f(z).sum(), m)
    return g


def score_function_grad(f: Callable, mu: torch.Tensor, logvar: torch.Tensor, n: int, generator=None) -> torch.Tensor:
    """n single-sample REINFORCE estimates ``f(z) grad_mu log q(z) = f(z) (z - mu) / sigma^2``, z ~ q;
    f needs no gradient. Returns [n, k]."""
    _check_pair(mu, logvar)
    with torch.no_grad():
        z = reparameterize(mu.expand(_int("n", n), *mu.shape), logvar.expand(n, *logvar.shape), generator)
        return f(z)[:, None] * (z - mu) * torch.exp(-logvar)
