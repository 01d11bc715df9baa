"""RLHF pieces on top of :mod:`lib.rl.pg`: Bradley-Terry reward models, a softmax bandit, PPO in the
book's sign, and the KL-regularised objective.

Bradley-Terry (book eq. 5.19x). Items (teams, responses) have scores ``s``; the chance that ``a`` beats
``b`` is ``P(a > b) = sigmoid(s_a - s_b)``. A reward model maximises ``sum log sigmoid(r_w - r_l)`` over
(winner, loser) pairs; :func:`bradley_terry_loss` is its negative mean. Elo uses base 10 and the scale
400: ``P = 1 / (1 + 10^(-dElo/400))``, so ``ds = dElo ln(10) / 400`` (:func:`elo_to_logit`).

The bandit (an "LM that answers with one token"): a policy ``pi = softmax(theta)`` over K arms; arm k
pays ``means[k]`` plus Gaussian noise. PPO in the book's sign (to maximise)::

    rho = pi_theta(y) / pi_old(y),   J_PPO = mean( min(rho A, clip(rho, 1-eps, 1+eps) A) )     (5.208)

which is ``-lib.rl.pg.ppo_clip_loss``. The stop-gradient variant (after 5.210) returns ``sg(rho) A`` on
the clipped cases: the same gradient, a different value.

KL-regularised RLHF objective (InstructGPT eq. 2, missing from the book's section 5.14)::

    J(pi) = E_{y~pi}[ r(y) ] - beta KL(pi || pi_ref),   optimum  pi*(y) = pi_ref(y) e^{r(y)/beta} / Z
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
from torch.nn import functional as F

from .rl import pg


def _tensor(name: str, value) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {value.dtype}")
    return value


def _positive(name: str, value, allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or (
            math.isinf(value) and not allow_inf) or math.isnan(value):
        raise ValueError(f"{name}: expected a positive number, got {value!r}")
    return float(value)


def _count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- Bradley-Terry
def bradley_terry_prob(r_a: torch.Tensor, r_b: torch.Tensor) -> torch.Tensor:
    """``P(a beats b) = sigmoid(r_a - r_b)``, elementwise."""
    return torch.sigmoid(_tensor("r_a", r_a) - _tensor("r_b", r_b))


def bradley_terry_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """``-log sigmoid(r_chosen - r_rejected)`` (the negative of the book's J_RM), reduced by "mean",
    "sum" or "none". Computed with ``softplus(-d)`` so large margins do not overflow."""
    r_chosen, r_rejected = _tensor("r_chosen", r_chosen), _tensor("r_rejected", r_rejected)
    if r_chosen.shape != r_rejected.shape:
        raise ValueError(f"r_chosen, r_rejected: expected equal shapes, got {tuple(r_chosen.shape)} "
                         f"and {tuple(r_rejected.shape)}")
    per_pair = F.softplus(-(r_chosen - r_rejected))
    if reduction == "mean":
        return per_pair.mean()
    if reduction == "sum":
        return per_pair.sum()
    if reduction == "none":
        return per_pair
    raise ValueError(f"reduction: expected 'mean', 'sum' or 'none', got {reduction!r}")


def elo_to_logit(delta_elo: float) -> float:
    """Elo difference -> Bradley-Terry score difference: ``dElo ln(10) / 400``."""
    if isinstance(delta_elo, bool) or not isinstance(delta_elo, (int, float)) or not math.isfinite(delta_elo):
        raise ValueError(f"delta_elo: expected a finite number, got {delta_elo!r}")
    return float(delta_elo) * math.log(10.0) / 400.0


def logit_to_elo(delta_s: float) -> float:
    """Inverse of :func:`elo_to_logit`: ``ds 400 / ln(10)``."""
    if isinstance(delta_s, bool) or not isinstance(delta_s, (int, float)) or not math.isfinite(delta_s):
        raise ValueError(f"delta_s: expected a finite number, got {delta_s!r}")
    return float(delta_s) * 400.0 / math.log(10.0)


def _index(name: str, value, n: int) -> torch.Tensor:
    t = torch.as_tensor(value)
    if t.dtype not in (torch.int32, torch.int64) or t.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D integer array, got {getattr(value, 'dtype', type(value).__name__)}")
    if t.numel() and (t.min() < 0 or t.max() >= n):
        raise ValueError(f"{name}: expected indices in 0..{n - 1}")
    return t.long()


def _lbfgs(params: torch.Tensor, closure_loss, iters: int) -> torch.Tensor:
    opt = torch.optim.LBFGS([params], lr=1.0, max_iter=iters, tolerance_grad=1e-10, tolerance_change=1e-14,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = closure_loss(params)
        loss.backward()
        return loss

    opt.step(closure)
    return params.detach()


def fit_bt_scores(n_items: int, winners, losers, *, l2: float = 1e-3, iters: int = 200) -> torch.Tensor:
    """Maximum-likelihood Bradley-Terry scores (float64, centred to mean 0) from game outcomes.

    Minimises ``mean_g softplus(-(s[winner_g] - s[loser_g])) + l2 ||s||^2`` with L-BFGS; the small ``l2``
    keeps an unbeaten item finite. Scores are defined only up to a constant, hence the centring.
    """
    n_items = _count("n_items", n_items, 2)
    w, lo = _index("winners", winners, n_items), _index("losers", losers, n_items)
    if w.shape != lo.shape or w.numel() == 0:
        raise ValueError(f"winners, losers: expected equal non-empty lengths, got {w.numel()} and {lo.numel()}")
    if isinstance(l2, bool) or not isinstance(l2, (int, float)) or l2 < 0:
        raise ValueError(f"l2: expected a number >= 0, got {l2!r}")
    iters = _count("iters", iters)
    # margins s[w] - s[l] as a product with a +1/-1 design matrix (its backward is a plain matmul,
    # much faster than the scatter-add behind the backward of fancy indexing)
    D = F.one_hot(w, n_items).to(torch.float64) - F.one_hot(lo, n_items).to(torch.float64)
    zero = torch.zeros(D.shape[0], dtype=torch.float64)
    s = torch.zeros(n_items, dtype=torch.float64, requires_grad=True)
    s = _lbfgs(s, lambda s: bradley_terry_loss(D @ s, zero) + l2 * (s ** 2).sum(), iters)
    return s - s.mean()


def make_synthetic_preferences(n_items: int = 200, d: int = 8, n_pairs: int = 3000, seed: int = 0) -> dict:
    """Responses with features ``X`` (n_items, d) and a hidden linear reward ``r = X w`` (|w| = 2).

    Each of ``n_pairs`` random pairs (i, j), i != j, is labelled by a Bradley-Terry coin flip with
    ``P(i preferred) = sigmoid(r_i - r_j)``. Returns ``dict(X, w, reward, chosen, rejected)`` (float64
    tensors and int64 index tensors).
    """
    n_items, d, n_pairs = _count("n_items", n_items, 2), _count("d", d), _count("n_pairs", n_pairs)
    g = torch.Generator().manual_seed(int(seed))
    X = torch.randn(n_items, d, generator=g, dtype=torch.float64)
    w = torch.randn(d, generator=g, dtype=torch.float64)
    w = 2.0 * w / w.norm()
    r = X @ w
    i = torch.randint(0, n_items, (n_pairs,), generator=g)
    j = (i + torch.randint(1, n_items, (n_pairs,), generator=g)) % n_items  # never equal to i
    i_wins = torch.rand(n_pairs, generator=g, dtype=torch.float64) < torch.sigmoid(r[i] - r[j])
    chosen, rejected = torch.where(i_wins, i, j), torch.where(i_wins, j, i)
    return dict(X=X, w=w, reward=r, chosen=chosen, rejected=rejected)


def fit_linear_reward(X: torch.Tensor, chosen, rejected, *, l2: float = 1e-4, iters: int = 100) -> torch.Tensor:
    """Linear reward model ``r = X w`` fitted to preference pairs by Bradley-Terry maximum likelihood
    (L-BFGS, float64, ridge ``l2 ||w||^2``). Returns ``w`` (d,)."""
    X = _tensor("X", X)
    if X.ndim != 2:
        raise ValueError(f"X: expected shape (n_items, d), got {tuple(X.shape)}")
    c, r = _index("chosen", chosen, X.shape[0]), _index("rejected", rejected, X.shape[0])
    if c.shape != r.shape or c.numel() == 0:
        raise ValueError("chosen, rejected: expected equal non-empty lengths")
    Xd = X.detach().to(torch.float64)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    return _lbfgs(w, lambda w: bradley_terry_loss(Xd[c] @ w, Xd[r] @ w) + l2 * (w ** 2).sum(), _count("iters", iters))


# --------------------------------------------------------------------------- the bandit
class SoftmaxBandit:
    """K arms; pulling arm k pays ``means[k] + noise_std * N(0, 1)``. Seeded, float64."""

    def __init__(self, means, noise_std: float = 0.5, seed: int = 0):
        self.means = torch.as_tensor(np.asarray(means, dtype=np.float64))
        if self.means.ndim != 1 or self.means.numel() < 2:
            raise ValueError(f"means: expected a 1-D array with at least two arms, got {means!r}")
        if isinstance(noise_std, bool) or not isinstance(noise_std, (int, float)) or noise_std < 0:
            raise ValueError(f"noise_std: expected a number >= 0, got {noise_std!r}")
        self.noise_std = float(noise_std)
        self.gen = torch.Generator().manual_seed(int(seed))

    @property
    def n_arms(self) -> int:
        return self.means.numel()

    def _pi(self, pi) -> torch.Tensor:
        pi = torch.as_tensor(pi, dtype=torch.float64).detach()
        if pi.shape != self.means.shape or torch.any(pi < 0) or abs(float(pi.sum()) - 1.0) > 1e-8:
            raise ValueError(f"pi: expected a probability vector over {self.n_arms} arms")
        return pi

    def sample(self, pi, n: int):
        """Draw ``n`` actions from ``pi`` and their noisy rewards: ``(actions (n,) int64, rewards (n,))``."""
        pi, n = self._pi(pi), _count("n", n)
        actions = torch.multinomial(pi, n, replacement=True, generator=self.gen)
        noise = torch.randn(n, generator=self.gen, dtype=torch.float64)
        return actions, self.means[actions] + self.noise_std * noise

    def expected_reward(self, pi) -> float:
        """``sum_k pi_k means_k``."""
        return float(self._pi(pi) @ self.means)


def default_bandit_means(n_arms: int = 10, best: int = 3) -> np.ndarray:
    """One arm pays 1, the others 0: a uniform policy earns 1/K."""
    m = np.zeros(_count("n_arms", n_arms, 2))
    m[best] = 1.0
    return m


# --------------------------------------------------------------------------- PPO, book's sign
def ppo_ratio(logp_new: torch.Tensor, logp_old: torch.Tensor) -> torch.Tensor:
    """``rho = exp(logp_new - logp_old)`` (``logp_old`` is detached)."""
    return torch.exp(_tensor("logp_new", logp_new) - _tensor("logp_old", logp_old).detach())


def ppo_clip_objective(logp_new, logp_old, adv, eps: float = 0.2, reduce: bool = True) -> torch.Tensor:
    """``min(rho A, clip(rho, 1-eps, 1+eps) A)`` (eq. 5.208), the value to maximise; its mean equals
    ``-lib.rl.pg.ppo_clip_loss``. ``reduce=False`` returns the per-sample values. ``eps=inf`` gives the
    unclipped importance-sampling objective ``rho A``."""
    eps = _positive("eps", eps, allow_inf=True)
    if reduce and math.isfinite(eps):
        loss, _ = pg.ppo_clip_loss(logp_new, logp_old, adv, eps)
        return -loss
    rho = ppo_ratio(logp_new, logp_old)
    adv = _tensor("adv", adv).detach()
    if rho.shape != adv.shape:
        raise ValueError(f"adv: expected shape {tuple(rho.shape)}, got {tuple(adv.shape)}")
    per = torch.minimum(rho * adv, torch.clamp(rho, 1.0 - eps, 1.0 + eps) * adv)
    return per.mean() if reduce else per


def ppo_stopgrad_objective(logp_new, logp_old, adv, eps: float = 0.2, reduce: bool = True) -> torch.Tensor:
    """The book's stop-gradient form (after 5.210): ``sg(rho) A`` where the clip is active (A > 0 and
    rho > 1+eps, or A < 0 and rho < 1-eps), ``rho A`` elsewhere. Same gradient as
    :func:`ppo_clip_objective`, but the clipped samples contribute ``rho A`` instead of ``(1 +- eps) A``."""
    eps = _positive("eps", eps)
    rho = ppo_ratio(logp_new, logp_old)
    adv = _tensor("adv", adv).detach()
    if rho.shape != adv.shape:
        raise ValueError(f"adv: expected shape {tuple(rho.shape)}, got {tuple(adv.shape)}")
    clipped = ((adv > 0) & (rho > 1 + eps)) | ((adv < 0) & (rho < 1 - eps))
    per = torch.where(clipped, rho.detach() * adv, rho * adv)
    return per.mean() if reduce else per


def clip_fraction(ratio: torch.Tensor, adv: torch.Tensor, eps: float) -> float:
    """Fraction of samples whose gradient the clip switches off (A > 0, rho > 1+eps or A < 0, rho < 1-eps)."""
    ratio, adv, eps = _tensor("ratio", ratio), _tensor("adv", adv), _positive("eps", eps)
    if ratio.shape != adv.shape or ratio.numel() == 0:
        raise ValueError("ratio, adv: expected equal non-empty shapes")
    active = ((adv > 0) & (ratio > 1 + eps)) | ((adv < 0) & (ratio < 1 - eps))
    return float(active.double().mean())


Method = Literal["pg", "pg_baseline", "is", "ppo"]


def train_bandit(method: Method, *, iters: int = 30, batch: int = 256, epochs: int = 8, eps: float = 0.2,
                 lr: float = 0.5, seed: int = 0, means=None, noise_std: float = 0.5) -> dict:
    """Train a softmax policy over the bandit's arms (logits start at 0) with plain SGD on the logits.

    Every iteration samples ``batch`` pulls from the current policy ``pi_old`` and then:

    * ``"pg"``: one REINFORCE step (no baseline);
    * ``"pg_baseline"``: one REINFORCE step with the batch mean reward as baseline;
    * ``"is"``: ``epochs`` steps on the importance-sampled objective ``mean(rho A)``, ``A = r - mean(r)``;
    * ``"ppo"``: ``epochs`` steps on the clipped objective (5.208) with the same ``A``.

    Returns ``dict(expected_reward (iters + 1,), rho_max, rho_min, clip_fraction (iters,), pi (K,))``;
    ``rho_max/min`` are the extreme ratios pi_new/pi_old over the batch after the iteration's last step,
    and ``clip_fraction`` is measured at the start of the last epoch.
    """
    if method not in ("pg", "pg_baseline", "is", "ppo"):
        raise ValueError(f"method: expected 'pg', 'pg_baseline', 'is' or 'ppo', got {method!r}")
    iters, batch, epochs = _count("iters", iters), _count("batch", batch), _count("epochs", epochs)
    eps, lr = _positive("eps", eps), _positive("lr", lr)
    bandit = SoftmaxBandit(default_bandit_means() if means is None else means, noise_std, seed)
    theta = torch.zeros(bandit.n_arms, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([theta], lr=lr)
    hist = dict(expected_reward=[bandit.expected_reward(torch.softmax(theta, 0))], rho_max=[], rho_min=[],
                clip_fraction=[])
    n_steps = 1 if method in ("pg", "pg_baseline") else epochs
    for _ in range(iters):
        with torch.no_grad():
            logp_all_old = torch.log_softmax(theta, 0)
        actions, rewards = bandit.sample(logp_all_old.exp(), batch)
        logp_old = logp_all_old[actions]
        adv = rewards - rewards.mean()
        frac = 0.0
        for _ in range(n_steps):
            logp = torch.log_softmax(theta, 0)[actions]
            if method == "pg":
                loss = pg.reinforce_loss(logp[:, None], rewards[:, None])
            elif method == "pg_baseline":
                loss = pg.reinforce_loss(logp[:, None], rewards[:, None], baseline=rewards.mean())
            elif method == "is":
                loss = -ppo_clip_objective(logp, logp_old, adv, eps=math.inf)
            else:
                loss = -ppo_clip_objective(logp, logp_old, adv, eps=eps)
            frac = clip_fraction(ppo_ratio(logp.detach(), logp_old), adv, eps)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            rho = ppo_ratio(torch.log_softmax(theta, 0)[actions], logp_old)
            hist["rho_max"].append(float(rho.max()))
            hist["rho_min"].append(float(rho.min()))
            hist["clip_fraction"].append(frac)
            hist["expected_reward"].append(bandit.expected_reward(torch.softmax(theta, 0)))
    out = {k: np.asarray(v) for k, v in hist.items()}
    out["pi"] = torch.softmax(theta.detach(), 0).numpy()
    return out


# --------------------------------------------------------------------------- KL-regularised objective
def kl_regularized_objective(pi: torch.Tensor, pi_ref: torch.Tensor, rewards: torch.Tensor, beta: float) -> torch.Tensor:
    """``sum_y pi(y) r(y) - beta KL(pi || pi_ref)`` for categorical ``pi`` and ``pi_ref`` (K,)."""
    pi, pi_ref, rewards = _tensor("pi", pi), _tensor("pi_ref", pi_ref), _tensor("rewards", rewards)
    beta = _positive("beta", beta)
    return (pi * rewards).sum() - beta * (pi * (torch.log(pi) - torch.log(pi_ref))).sum()


def kl_regularized_optimum(pi_ref: torch.Tensor, rewards: torch.Tensor, beta: float) -> torch.Tensor:
    """The maximiser of :func:`kl_regularized_objective`: ``pi_ref e^{r/beta}``, normalised (computed in
    log space)."""
    pi_ref, rewards = _tensor("pi_ref", pi_ref), _tensor("rewards", rewards)
    if pi_ref.shape != rewards.shape or pi_ref.ndim != 1:
        raise ValueError(f"pi_ref, rewards: expected equal 1-D shapes, got {tuple(pi_ref.shape)} and {tuple(rewards.shape)}")
    if torch.any(pi_ref < 0) or abs(float(pi_ref.sum()) - 1.0) > 1e-6:
        raise ValueError("pi_ref: expected a probability vector")
    beta = _positive("beta", beta)
    return torch.softmax(torch.log(pi_ref) + rewards / beta, 0)


def instructgpt_objective(reward, logp_policy, logp_ref, beta: float = 0.02, ptx_logp=None,
                          gamma: float = 27.8) -> torch.Tensor:
    """InstructGPT's objective (Ouyang et al. 2022, eq. 2), to maximise, as a batch mean::

        mean( r(x, y) - beta (log pi(y|x) - log pi_ref(y|x)) )  +  gamma mean( log pi(x_pretrain) )

    ``reward``, ``logp_policy``, ``logp_ref`` have one shape (N,) (sequence-level log-probabilities);
    the pretraining term is added only when ``ptx_logp`` is given (PPO-ptx)."""
    reward, logp_policy, logp_ref = _tensor("reward", reward), _tensor("logp_policy", logp_policy), _tensor("logp_ref", logp_ref)
    if not (reward.shape == logp_policy.shape == logp_ref.shape):
        raise ValueError("reward, logp_policy, logp_ref: expected one shape")
    beta = _positive("beta", beta)
    if isinstance(beta, bool):
        raise ValueError("beta: expected a number")
    out = (reward - beta * (logp_policy - logp_ref)).mean()
    if ptx_logp is not None:
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or gamma < 0:
            raise ValueError(f"gamma: expected a number >= 0, got {gamma!r}")
        out = out + gamma * _tensor("ptx_logp", ptx_logp).mean()
    return out
