"""Linear-Gaussian latent-variable models: factor analysis (FA) and probabilistic PCA (PPCA).

The generative model behind Chapter 7's exact checks (book 7.3-7.5)::

    z ~ N(0, I_k),   x | z ~ N(W z + b, Psi),   Psi = diag(psi) (FA) or sigma^2 I (PPCA)
    p(x)     = N(b, C),  C = W W^T + Psi                                             (marginal)
    p(z | x) = N(Sigma_post W^T Psi^{-1} (x - b), Sigma_post),
               Sigma_post = (I + W^T Psi^{-1} W)^{-1}                                 (posterior)

For a Gaussian q(z|x) = N(m, S) the ELBO has a closed form (Form 2, reconstruction minus KL)::

    ELBO = -1/2 [d log 2 pi + log|Psi| + r^T Psi^{-1} r + tr(W^T Psi^{-1} W S)]
           -1/2 [tr S + m^T m - k - log|S|],                r = x - b - W m

and equals ``log p(x) - KL(q || p(z|x))`` (Form 1). Everything is float64 torch; numpy input is
accepted and converted. ``ppca_mle`` is Tipping & Bishop's closed form; ``em_step_ppca`` and
``em_step_fa`` are one EM iteration each.
"""
from __future__ import annotations

import math

import numpy as np
import torch

DTYPE = torch.float64


# --------------------------------------------------------------------------- input checks
def _tensor(name: str, a, ndim: tuple[int, ...]) -> torch.Tensor:
    if isinstance(a, np.ndarray) or isinstance(a, (list, tuple, float, int)):
        a = torch.as_tensor(np.asarray(a, dtype=np.float64))
    if not isinstance(a, torch.Tensor):
        raise TypeError(f"{name}: expected a torch tensor or numpy array, got {type(a).__name__}")
    if a.ndim not in ndim:
        raise ValueError(f"{name}: expected {' or '.join(map(str, ndim))} dimensions, got shape {tuple(a.shape)}")
    a = a.to(DTYPE)
    if not torch.isfinite(a).all():
        raise ValueError(f"{name}: expected finite entries")
    return a


def kl_gauss(m1, S1, m2, S2) -> torch.Tensor:
    """KL(N(m1, S1) || N(m2, S2)) for full covariances; batched over leading dimensions.

    ``1/2 [tr(S2^{-1} S1) + (m2 - m1)^T S2^{-1} (m2 - m1) - k + log|S2| - log|S1|]``.
    m: [..., k], S: [..., k, k]; returns [...].
    """
    m1, m2 = _tensor("m1", m1, (1, 2)), _tensor("m2", m2, (1, 2))
    S1, S2 = _tensor("S1", S1, (2, 3)), _tensor("S2", S2, (2, 3))
    k = m1.shape[-1]
    if m2.shape[-1] != k or S1.shape[-2:] != (k, k) or S2.shape[-2:] != (k, k):
        raise ValueError(f"S1, S2: expected [..., {k}, {k}] to match the means' last dimension {k}")
    dm = (m2 - m1).unsqueeze(-1)
    tr = torch.diagonal(torch.linalg.solve(S2, S1), dim1=-2, dim2=-1).sum(-1)
    quad = (dm * torch.linalg.solve(S2, dm)).sum((-2, -1))
    return 0.5 * (tr + quad - k + torch.logdet(S2) - torch.logdet(S1))


def gauss_entropy(S) -> torch.Tensor:
    """Differential entropy ``1/2 log det(2 pi e S)`` of N(., S); S: [..., d, d] -> [...]."""
    S = _tensor("S", S, (2, 3))
    d = S.shape[-1]
    return 0.5 * (d * math.log(2 * math.pi * math.e) + torch.logdet(S))


def gauss_log_prob(x, mean, cov) -> torch.Tensor:
    """log N(x; mean, cov) for x: [n, d], mean: [d], cov: [d, d] -> [n]."""
    x, mean, cov = _tensor("x", x, (2,)), _tensor("mean", mean, (1,)), _tensor("cov", cov, (2,))
    d = mean.shape[0]
    if x.shape[1] != d or cov.shape != (d, d):
        raise ValueError(f"x, cov: expected [n, {d}] and [{d}, {d}], got {tuple(x.shape)} and {tuple(cov.shape)}")
    L = torch.linalg.cholesky(cov)
    u = torch.linalg.solve_triangular(L, (x - mean).T, upper=False)
    return -0.5 * (d * math.log(2 * math.pi) + (u ** 2).sum(0)) - torch.log(torch.diagonal(L)).sum()


# --------------------------------------------------------------------------- the model
class LinearGaussianModel:
    """``x = W z + b + noise``, z ~ N(0, I_k), noise ~ N(0, Psi).

    W: [d, k]; b: [d]; noise_var: a positive scalar (PPCA, Psi = sigma^2 I) or a [d] vector (FA).
    """

    def __init__(self, W, b, noise_var):
        self.W = _tensor("W", W, (2,))
        self.d, self.k = self.W.shape
        self.b = _tensor("b", b, (1,))
        if self.b.shape != (self.d,):
            raise ValueError(f"b: expected shape ({self.d},) to match W, got {tuple(self.b.shape)}")
        nv = _tensor("noise_var", noise_var, (0, 1))
        if nv.ndim == 1 and nv.shape != (self.d,):
            raise ValueError(f"noise_var: expected a scalar or shape ({self.d},), got {tuple(nv.shape)}")
        if (nv <= 0).any():
            raise ValueError("noise_var: expected positive variances")
        self.noise_var = nv
        self.psi = nv.expand(self.d).clone()          # the diagonal of Psi, [d]
        self.isotropic = nv.ndim == 0

    def __repr__(self):
        kind = "PPCA" if self.isotropic else "FA"
        return f"LinearGaussianModel({kind}, d={self.d}, k={self.k})"

    def cov(self) -> torch.Tensor:
        """Marginal covariance ``C = W W^T + Psi``, [d, d]."""
        return self.W @ self.W.T + torch.diag(self.psi)

    def sample(self, n: int, generator: torch.Generator | None = None, return_z: bool = False):
        """n draws of x ([n, d]); with ``return_z`` also the latent codes ([n, k])."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n: expected a positive integer, got {n!r}")
        z = torch.randn(n, self.k, generator=generator, dtype=DTYPE)
        x = z @ self.W.T + self.b + torch.randn(n, self.d, generator=generator, dtype=DTYPE) * self.psi.sqrt()
        return (x, z) if return_z else x

    def _x(self, x) -> torch.Tensor:
        x = _tensor("x", x, (1, 2))
        x = x.reshape(1, -1) if x.ndim == 1 else x
        if x.shape[1] != self.d:
            raise ValueError(f"x: expected {self.d} columns, got {x.shape[1]}")
        return x

    def log_prob(self, x) -> torch.Tensor:
        """Exact marginal ``log N(x; b, W W^T + Psi)``: [n, d] -> [n]."""
        return gauss_log_prob(self._x(x), self.b, self.cov())

    def posterior(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact posterior p(z | x): means [n, k] and the shared covariance [k, k]."""
        x = self._x(x)
        WtPinv = self.W.T / self.psi                   # W^T Psi^{-1}, [k, d]
        cov = torch.linalg.inv(torch.eye(self.k, dtype=DTYPE) + WtPinv @ self.W)
        return (x - self.b) @ (cov @ WtPinv).T, cov

    def _q(self, x, q_mean, q_cov):
        x = self._x(x)
        m = _tensor("q_mean", q_mean, (1, 2))
        m = m.reshape(1, -1) if m.ndim == 1 else m
        if m.shape[1] != self.k or m.shape[0] not in (1, x.shape[0]):
            raise ValueError(f"q_mean: expected [n, {self.k}] with n = {x.shape[0]}")
        S = _tensor("q_cov", q_cov, (2, 3))
        if S.shape[-2:] != (self.k, self.k):
            raise ValueError(f"q_cov: expected [{self.k}, {self.k}] or [n, {self.k}, {self.k}], got {tuple(S.shape)}")
        return x, m, S

    def elbo(self, x, q_mean, q_cov) -> torch.Tensor:
        """Analytic ELBO (Form 2: expected reconstruction minus KL(q || N(0, I))), [n].

        q_mean: [n, k]; q_cov: [k, k] (shared) or [n, k, k].
        """
        x, m, S = self._q(x, q_mean, q_cov)
        r = x - self.b - m @ self.W.T
        WtPW = (self.W.T / self.psi) @ self.W
        trWS = (WtPW * S).sum((-2, -1))                # tr(W^T Psi^{-1} W S), S symmetric
        rec = -0.5 * (self.d * math.log(2 * math.pi) + torch.log(self.psi).sum() + (r ** 2 / self.psi).sum(1) + trWS)
        kl = 0.5 * (torch.diagonal(S, dim1=-2, dim2=-1).sum(-1) + (m ** 2).sum(1) - self.k - torch.logdet(S))
        return rec - kl

    def elbo_form1(self, x, q_mean, q_cov) -> torch.Tensor:
        """Form 1: ``log p(x) - KL(q(z|x) || p(z|x))``, [n]; equals :meth:`elbo` exactly."""
        x, m, S = self._q(x, q_mean, q_cov)
        pm, pS = self.posterior(x)
        return self.log_prob(x) - kl_gauss(m, S, pm, pS)

    def gaps(self, data: "LinearGaussianModel", A, c, S) -> dict:
        """The three gaps of Theorem 35 (book 7.4.5) for data from ``data`` and q(z|x) = N(A x + c, S).

        ``model``: marginal KL(p_data || p_theta); ``inference``: E_x KL(q(.|x) || p_theta(.|x));
        ``total``: KL(p_data(x) q(z|x) || p(z) p_theta(x|z)) computed as a KL between the two joint
        Gaussians over (x, z). Each is computed independently, so ``total = model + inference`` is a check.
        A: [k, d], c: [k], S: [k, k].
        """
        if not isinstance(data, LinearGaussianModel) or data.d != self.d:
            raise TypeError(f"data: expected a LinearGaussianModel with d = {self.d}")
        A, c, S = _tensor("A", A, (2,)), _tensor("c", c, (1,)), _tensor("S", S, (2,))
        if A.shape != (self.k, self.d) or c.shape != (self.k,) or S.shape != (self.k, self.k):
            raise ValueError(f"A, c, S: expected shapes ({self.k}, {self.d}), ({self.k},), ({self.k}, {self.k})")
        mu, C = data.b, data.cov()
        model = kl_gauss(mu, C, self.b, self.cov())
        # E_x KL: the mean gap delta(x) = (A - B) x + c + B b is affine in x, B = Sigma_post W^T Psi^{-1}
        pS = self.posterior(self.b)[1]
        B = pS @ self.W.T / self.psi
        D = A - B
        dbar = D @ mu + c + B @ self.b
        P = torch.linalg.inv(pS)
        inference = kl_gauss(torch.zeros(self.k, dtype=DTYPE), S, torch.zeros(self.k, dtype=DTYPE), pS) \
            + 0.5 * (dbar @ P @ dbar + (P * (D @ C @ D.T)).sum())
        # joint Gaussians over (x, z)
        m_data = torch.cat([mu, A @ mu + c])
        S_data = torch.cat([torch.cat([C, C @ A.T], 1), torch.cat([A @ C, A @ C @ A.T + S], 1)], 0)
        m_model = torch.cat([self.b, torch.zeros(self.k, dtype=DTYPE)])
        S_model = torch.cat([torch.cat([self.cov(), self.W], 1),
                             torch.cat([self.W.T, torch.eye(self.k, dtype=DTYPE)], 1)], 0)
        total = kl_gauss(m_data, S_data, m_model, S_model)
        return dict(model=float(model), inference=float(inference), total=float(total))


# --------------------------------------------------------------------------- fitting
def _data(X, min_rows: int = 2) -> torch.Tensor:
    X = _tensor("X", X, (2,))
    if X.shape[0] < min_rows:
        raise ValueError(f"X: expected at least {min_rows} rows, got {X.shape[0]}")
    return X


def ppca_mle(X, k: int) -> LinearGaussianModel:
    """Tipping & Bishop's closed-form PPCA maximum likelihood (1999).

    With the sample covariance (1/n normalisation) eigen-decomposed as ``U diag(lambda) U^T``, lambda
    descending: ``sigma^2 = mean(lambda_{k+1..d})``, ``W = U_k (Lambda_k - sigma^2 I)^{1/2}`` (rotation
    R = I), ``b = mean(X)``.
    """
    X = _data(X)
    d = X.shape[1]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < d:
        raise ValueError(f"k: expected an integer in [1, {d - 1}], got {k!r}")
    b = X.mean(0)
    Xc = X - b
    lam, U = torch.linalg.eigh(Xc.T @ Xc / X.shape[0])
    lam, U = lam.flip(0), U.flip(1)
    s2 = lam[k:].mean()
    W = U[:, :k] * torch.sqrt(torch.clamp(lam[:k] - s2, min=0.0))
    return LinearGaussianModel(W, b, s2)


def _e_step(model: LinearGaussianModel, Xc: torch.Tensor):
    """Posterior means [n, k] and the summed second moments sum_n E[z z^T], [k, k]."""
    m, S = model.posterior(Xc + model.b)
    return m, Xc.shape[0] * S + m.T @ m


def em_step_ppca(model: LinearGaussianModel, X) -> LinearGaussianModel:
    """One EM iteration for PPCA (isotropic noise); b is set to the sample mean (its MLE).

    E: ``E z_n`` and ``sum E z z^T`` under p(z | x_n). M: ``W = (sum xc_n E z_n^T)(sum E z z^T)^{-1}``,
    ``sigma^2 = (1 / n d) sum [|xc_n|^2 - 2 E z_n^T W^T xc_n + tr(E z z^T W^T W)]``.
    """
    if not isinstance(model, LinearGaussianModel) or not model.isotropic:
        raise TypeError("model: expected a PPCA LinearGaussianModel (scalar noise_var)")
    X = _data(X)
    n, d = X.shape
    b = X.mean(0)
    Xc = X - b
    model = LinearGaussianModel(model.W, b, model.noise_var)
    Ez, Ezz = _e_step(model, Xc)
    W = torch.linalg.solve(Ezz, Ez.T @ Xc).T
    s2 = ((Xc ** 2).sum() - 2 * (Ez * (Xc @ W)).sum() + (Ezz * (W.T @ W)).sum()) / (n * d)
    return LinearGaussianModel(W, b, s2)


def em_step_fa(model: LinearGaussianModel, X) -> LinearGaussianModel:
    """One EM iteration for factor analysis (diagonal noise): as PPCA, with
    ``Psi = diag(S_x - W (1/n) sum E z_n xc_n^T)``, S_x the sample covariance."""
    if not isinstance(model, LinearGaussianModel):
        raise TypeError("model: expected a LinearGaussianModel")
    X = _data(X)
    n = X.shape[0]
    b = X.mean(0)
    Xc = X - b
    model = LinearGaussianModel(model.W, b, model.psi)
    Ez, Ezz = _e_step(model, Xc)
    W = torch.linalg.solve(Ezz, Ez.T @ Xc).T
    psi = ((Xc ** 2).sum(0) - (W * (Xc.T @ Ez)).sum(1)) / n
    return LinearGaussianModel(W, b, torch.clamp(psi, min=1e-12))


def principal_cosines(W1, W2) -> torch.Tensor:
    """Cosines of the principal angles between the column spaces of W1 and W2 (descending)."""
    Q1, _ = torch.linalg.qr(_tensor("W1", W1, (2,)))
    Q2, _ = torch.linalg.qr(_tensor("W2", W2, (2,)))
    return torch.linalg.svdvals(Q1.T @ Q2)
