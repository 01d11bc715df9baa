"""Gaussian mixtures as an exact oracle for diffusion models (Chapters 6 and 7).

A mixture ``p(x) = sum_k pi_k N(x; mu_k, C_k)`` stays a mixture under every noising process of the course,
``x_t = a x_0 + b eps`` with ``eps ~ N(0, I)``::

    p_t(x) = sum_k pi_k N(x; a mu_k, S_k),        S_k = a^2 C_k + b^2 I                        (noised law)

so the score, the posterior mean of the clean point and the flow-matching velocity are all available in
closed form. With the responsibilities ``r_k(x) = pi_k N(x; a mu_k, S_k) / p_t(x)``::

    grad log p_t(x) = - sum_k r_k(x) S_k^{-1} (x - a mu_k)                                       (score)
    E[x_0 | x_t]    =   sum_k r_k(x) (mu_k + a C_k S_k^{-1} (x - a mu_k))                        (Tweedie)
    E[eps | x_t]    =   sum_k r_k(x) b S_k^{-1} (x - a mu_k)          = - b grad log p_t(x)
    E[x_0 - x_1 | x_t] with x_t = (1 - t) x_0 + t x_1: E[x_0 | x_t] - E[eps | x_t] at a = 1 - t, b = t

The last two are computed per component by Gaussian conditioning, so the velocity is regular at t = 1 (where
the formula ``(x + t s) / (1 - t)`` divides by zero). Everything runs in float64 torch on the mixture's
device; numpy inputs are converted, and a torch input gets its answer back in its own dtype and device.

Shapes: ``d`` data dimensions, ``K`` components, ``n`` points. ``a`` and ``b`` are numbers or tensors of
shape (n,) (one noise level per point, as in a training batch).
"""
from __future__ import annotations

import math

import numpy as np
import torch

F64 = torch.float64


# --------------------------------------------------------------------------- input checks
def _as_tensor(value, name: str, device=None) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        t = value
    elif isinstance(value, (np.ndarray, list, tuple, float, int)):
        t = torch.as_tensor(np.asarray(value, dtype=np.float64))
    else:
        raise TypeError(f"{name}: expected a torch tensor, numpy array or list, got {type(value).__name__}")
    t = t.to(device=device, dtype=F64)
    if not torch.isfinite(t).all():
        raise ValueError(f"{name}: expected finite values")
    return t


def _level(v, name: str, n: int, device) -> torch.Tensor:
    """A noise coefficient as a float64 tensor of shape (1,) or (n,)."""
    v = _as_tensor(v, name, device).reshape(-1)
    if v.numel() not in (1, n):
        raise ValueError(f"{name}: expected a number or a tensor of shape ({n},), got {v.numel()} values")
    return v


# --------------------------------------------------------------------------- the mixture
class GaussianMixture:
    """``sum_k weights[k] N(means[k], covs[k])`` in float64.

    weights: (K,) non-negative, normalised here. means: (K, d). covs: (K,) isotropic variances or (K, d, d)
    symmetric positive-definite matrices; stored as (K, d, d) in the attribute ``covs``.
    """

    def __init__(self, weights, means, covs, device=None):
        self.means = _as_tensor(means, "means", device).detach()
        if self.means.ndim != 2:
            raise ValueError(f"means: expected shape (K, d), got {tuple(self.means.shape)}")
        K, d = self.means.shape
        w = _as_tensor(weights, "weights", device).detach()
        if w.shape != (K,) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"weights: expected {K} non-negative numbers with a positive sum, got shape "
                             f"{tuple(w.shape)}")
        self.weights = w / w.sum()
        c = _as_tensor(covs, "covs", device).detach()
        if c.shape == (K,):
            if (c <= 0).any():
                raise ValueError("covs: isotropic variances must be positive")
            c = c[:, None, None] * torch.eye(d, dtype=F64, device=c.device)
        if c.shape != (K, d, d):
            raise ValueError(f"covs: expected shape ({K},) or ({K}, {d}, {d}), got {tuple(c.shape)}")
        if not torch.allclose(c, c.transpose(1, 2)) or torch.linalg.cholesky_ex(c).info.any():
            raise ValueError("covs: expected symmetric positive-definite matrices")
        self.covs = c
        self.device = self.means.device

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def n_components(self) -> int:
        return self.means.shape[0]

    def __repr__(self) -> str:
        return f"GaussianMixture(K={self.n_components}, d={self.dim}, device={self.device})"

    def to(self, device) -> "GaussianMixture":
        return GaussianMixture(self.weights, self.means, self.covs, device=device)

    def component(self, k: int) -> "GaussianMixture":
        """The k-th component alone (a class-conditional law, e.g. for classifier-free guidance)."""
        if not 0 <= int(k) < self.n_components:
            raise ValueError(f"k: expected an index in [0, {self.n_components}), got {k}")
        return GaussianMixture(self.weights[k:k + 1], self.means[k:k + 1], self.covs[k:k + 1])

    def noised(self, a: float, b: float) -> "GaussianMixture":
        """The law of ``a X + b eps``: weights kept, means ``a mu_k``, covariances ``a^2 C_k + b^2 I``."""
        a, b = float(a), float(b)
        eye = torch.eye(self.dim, dtype=F64, device=self.device)
        return GaussianMixture(self.weights, a * self.means, a * a * self.covs + b * b * eye)

    # ----------------------------------------------------------------------- sampling
    def sample(self, n: int, generator: torch.Generator | None = None):
        """n draws: (x (n, d), labels (n,) long). The generator must live on the mixture's device."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n: expected a positive integer, got {n!r}")
        labels = torch.multinomial(self.weights, int(n), replacement=True, generator=generator)
        z = torch.randn(int(n), self.dim, dtype=F64, device=self.device, generator=generator)
        L = torch.linalg.cholesky(self.covs)
        return self.means[labels] + (L[labels] @ z[:, :, None])[:, :, 0], labels

    # ----------------------------------------------------------------------- per-component algebra
    def _prepare(self, x, a=1.0, b=0.0):
        """x as float64 (n, d), the noised covariances S (m, K, d, d) with m in {1, n}, and a (m, 1, 1)."""
        out_like = x if isinstance(x, torch.Tensor) and x.is_floating_point() else None
        xt = _as_tensor(x, "x", self.device)
        if xt.ndim != 2 or xt.shape[1] != self.dim:
            raise ValueError(f"x: expected shape (n, {self.dim}), got {tuple(xt.shape)}")
        n = xt.shape[0]
        a, b = _level(a, "a", n, self.device), _level(b, "b", n, self.device)
        eye = torch.eye(self.dim, dtype=F64, device=self.device)
        S = (a * a)[:, None, None, None] * self.covs + (b * b)[:, None, None, None] * eye
        return xt, S, a[:, None, None], b[:, None, None], out_like

    def _terms(self, x, a=1.0, b=0.0):
        """Shared pieces: x, a, b, S^{-1}(x - a mu_k) (n, K, d), responsibilities (n, K), log p_t (n,)."""
        xt, S, a3, b3, out_like = self._prepare(x, a, b)
        L = torch.linalg.cholesky(S)                                       # (m, K, d, d)
        P = torch.cholesky_inverse(L)                                      # S^{-1}
        diff = xt[:, None, :] - a3 * self.means                            # (n, K, d)
        prec_diff = torch.einsum("mkde,nke->nkd", P, diff) if P.shape[0] == 1 else \
            torch.einsum("nkde,nke->nkd", P, diff)
        logdet = 2 * torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1)  # (m, K)
        log_comp = -0.5 * ((diff * prec_diff).sum(-1) + logdet + self.dim * math.log(2 * math.pi))
        log_joint = torch.log(self.weights) + log_comp                     # (n, K)
        log_p = torch.logsumexp(log_joint, dim=1)
        resp = torch.exp(log_joint - log_p[:, None])
        return xt, a3, b3, prec_diff, resp, log_p, out_like

    @staticmethod
    def _out(value: torch.Tensor, like):
        return value if like is None else value.to(dtype=like.dtype, device=like.device)

    # ----------------------------------------------------------------------- densities and scores
    def log_prob(self, x):
        """log p(x), shape (n,)."""
        *_, log_p, like = self._terms(x)
        return self._out(log_p, like)

    def responsibilities(self, x, a=1.0, b=0.0):
        """Posterior component probabilities r_k(x) under the noised law, shape (n, K)."""
        *_, resp, _, like = self._terms(x, a, b)
        return self._out(resp, like)

    def score(self, x):
        """grad_x log p(x), shape (n, d)."""
        return self.score_t(x, 1.0, 0.0)

    def score_t(self, x, a, b):
        """grad_x log p_t(x) for the law of ``a X + b eps``, shape (n, d)."""
        _, _, _, prec_diff, resp, _, like = self._terms(x, a, b)
        return self._out(-(resp[..., None] * prec_diff).sum(1), like)

    def _posterior(self, x, a, b):
        """E[x_0 | x_t] and E[eps | x_t] by per-component Gaussian conditioning, each (n, d)."""
        _, a3, b3, prec_diff, resp, _, like = self._terms(x, a, b)
        x0_k = self.means + a3 * torch.einsum("kde,nke->nkd", self.covs, prec_diff)
        eps_k = b3 * prec_diff
        r = resp[..., None]
        return (r * x0_k).sum(1), (r * eps_k).sum(1), like

    def posterior_mean_x0(self, x_t, a, b):
        """E[x_0 | x_t] for x_t = a x_0 + b eps, shape (n, d) (ground truth for Tweedie's formula)."""
        x0, _, like = self._posterior(x_t, a, b)
        return self._out(x0, like)

    def posterior_mean_eps(self, x_t, a, b):
        """E[eps | x_t] for x_t = a x_0 + b eps, shape (n, d) (the ideal noise predictor, = -b score)."""
        _, eps, like = self._posterior(x_t, a, b)
        return self._out(eps, like)

    def flow_velocity(self, x, t):
        """E[x_0 - x_1 | x_t] for x_t = (1 - t) x_0 + t x_1, x_1 ~ N(0, I); t in [0, 1], shape (n, d)."""
        t = _as_tensor(t, "t", self.device)
        if (t < 0).any() or (t > 1).any():
            raise ValueError("t: expected values in [0, 1]")
        x0, eps, like = self._posterior(x, 1 - t, t)
        return self._out(x0 - eps, like)

    def density_grid(self, xlim, ylim, n: int = 80, a: float = 1.0, b: float = 0.0) -> np.ndarray:
        """Density of the noised law on an n x n grid (2-D only): ``out[i, j]`` at (x = xs[j], y = ys[i])."""
        if self.dim != 2:
            raise ValueError(f"density_grid: the mixture must be 2-D, it is {self.dim}-D")
        xs = torch.linspace(float(xlim[0]), float(xlim[1]), n, dtype=F64, device=self.device)
        ys = torch.linspace(float(ylim[0]), float(ylim[1]), n, dtype=F64, device=self.device)
        Y, X = torch.meshgrid(ys, xs, indexing="ij")
        pts = torch.stack([X.reshape(-1), Y.reshape(-1)], 1)
        return torch.exp(self.noised(a, b).log_prob(pts)).reshape(n, n).cpu().numpy()


# --------------------------------------------------------------------------- toy data sets
def ring_gmm(K: int = 8, radius: float = 2.0, std: float = 0.1, weights=None, device=None) -> GaussianMixture:
    """K isotropic Gaussians (std ``std``) evenly spaced on a circle of radius ``radius``.

    ``weights=[0.51] + [0.07] * 7`` gives the imbalanced ring used to study mode collapse.
    """
    if K < 1 or radius < 0 or std <= 0:
        raise ValueError(f"ring_gmm: expected K >= 1, radius >= 0, std > 0, got {K}, {radius}, {std}")
    ang = torch.arange(K, dtype=F64) * (2 * math.pi / K)
    means = radius * torch.stack([torch.cos(ang), torch.sin(ang)], 1)
    w = torch.full((K,), 1.0 / K, dtype=F64) if weights is None else weights
    return GaussianMixture(w, means, torch.full((K,), std ** 2, dtype=F64), device=device)


def _moons_curve(u: torch.Tensor) -> torch.Tensor:
    """Points on the two moons for u in [0, 2): u < 1 upper arc, u >= 1 lower arc; centred, scale 1.5."""
    upper = u < 1
    ang = math.pi * torch.where(upper, u, u - 1)
    x = torch.where(upper, torch.cos(ang), 1 - torch.cos(ang))
    y = torch.where(upper, torch.sin(ang), 0.5 - torch.sin(ang))
    return 1.5 * torch.stack([x - 0.5, y - 0.25], 1)


def _spiral_curve(u: torch.Tensor, turns: float = 1.5) -> torch.Tensor:
    """A planar Archimedean spiral for u in [0, 1]: radius 0.3 + 1.9 u, angle 2 pi turns u."""
    r, ang = 0.3 + 1.9 * u, 2 * math.pi * turns * u
    return torch.stack([r * torch.cos(ang), r * torch.sin(ang)], 1)


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")


def moons_gmm(n_components: int = 24, std: float = 0.08, device=None) -> GaussianMixture:
    """Two moons approximated by equal-weight isotropic Gaussians spaced evenly along both arcs."""
    if n_components < 2 or n_components % 2 or std <= 0:
        raise ValueError(f"moons_gmm: expected an even n_components >= 2 and std > 0, got {n_components}, {std}")
    half = n_components // 2
    u = torch.cat([torch.linspace(0, 1, half, dtype=F64), 1 + torch.linspace(0, 1, half, dtype=F64)])
    u[half - 1] = 1 - 1e-12                                      # the last point of the upper arc stays upper
    return GaussianMixture(torch.ones(n_components, dtype=F64), _moons_curve(u),
                           torch.full((n_components,), std ** 2, dtype=F64), device=device)


def spiral_gmm(n_components: int = 30, std: float = 0.06, turns: float = 1.5, device=None) -> GaussianMixture:
    """A spiral approximated by isotropic Gaussians spaced evenly in arc length, weights proportional to the
    local arc length so the mixture matches the density of :func:`spiral`."""
    if n_components < 2 or std <= 0:
        raise ValueError(f"spiral_gmm: expected n_components >= 2 and std > 0, got {n_components}, {std}")
    fine = torch.linspace(0, 1, 4001, dtype=F64)
    pts = _spiral_curve(fine, turns)
    arc = torch.cat([torch.zeros(1, dtype=F64), torch.cumsum((pts[1:] - pts[:-1]).norm(dim=1), 0)])
    targets = torch.linspace(0, float(arc[-1]), n_components, dtype=F64)
    u = torch.from_numpy(np.interp(targets.numpy(), arc.numpy(), fine.numpy()))
    # spiral() draws u uniformly, so the density per unit of u is flat: weight each component by the u-width
    # of its arc-length cell
    edges = torch.cat([u[:1], (u[1:] + u[:-1]) / 2, u[-1:]])
    w = edges[1:] - edges[:-1]
    return GaussianMixture(w, _spiral_curve(u, turns), torch.full((n_components,), std ** 2, dtype=F64),
                           device=device)


def two_moons(n: int, noise: float = 0.05, generator: torch.Generator | None = None) -> torch.Tensor:
    """n raw points on the two moons (same curve as :func:`moons_gmm`) plus N(0, noise^2 I), float64 (n, 2)."""
    _check_n(n)
    u = 2 * torch.rand(n, dtype=F64, generator=generator)
    return _moons_curve(u) + noise * torch.randn(n, 2, dtype=F64, generator=generator)


def spiral(n: int, noise: float = 0.05, turns: float = 1.5, generator: torch.Generator | None = None) -> torch.Tensor:
    """n raw points on the spiral of :func:`spiral_gmm` (u uniform) plus N(0, noise^2 I), float64 (n, 2)."""
    _check_n(n)
    u = torch.rand(n, dtype=F64, generator=generator)
    return _spiral_curve(u, turns) + noise * torch.randn(n, 2, dtype=F64, generator=generator)
