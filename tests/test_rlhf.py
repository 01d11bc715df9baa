"""lib.rlhf: Bradley-Terry fits, PPO in the book's sign and its stop-gradient form, the bandit,
the KL-regularised optimum against gradient ascent, the InstructGPT objective, bad input."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from lib import rlhf
from lib.rl import pg


def test_bt_loss_hand_values_and_gradient():
    assert math.isclose(rlhf.bradley_terry_loss(torch.zeros(1), torch.zeros(1)).item(), math.log(2), rel_tol=1e-7)
    g = torch.Generator().manual_seed(0)
    rc = torch.randn(10, generator=g, dtype=torch.float64, requires_grad=True)
    rr = torch.randn(10, generator=g, dtype=torch.float64)
    loss = rlhf.bradley_terry_loss(rc, rr)
    d = (rc - rr).detach()
    assert torch.allclose(loss, -torch.log(torch.sigmoid(d)).mean())
    loss.backward()
    assert torch.allclose(rc.grad, -(1 - torch.sigmoid(d)) / 10)
    assert torch.allclose(rlhf.bradley_terry_loss(rc + 5, rr + 5), loss)
    assert rlhf.bradley_terry_loss(torch.tensor([1000.0]), torch.tensor([0.0])).item() == 0.0
    assert math.isfinite(rlhf.bradley_terry_loss(torch.tensor([0.0]), torch.tensor([1000.0])).item())


def test_elo_conversion():
    # 400 Elo points = odds of 10:1
    assert math.isclose(torch.sigmoid(torch.tensor(rlhf.elo_to_logit(400.0))).item(), 10 / 11, rel_tol=1e-6)
    assert math.isclose(rlhf.logit_to_elo(rlhf.elo_to_logit(123.0)), 123.0)


def test_fit_bt_scores_recovers_league():
    rng = np.random.default_rng(5)
    s_true = np.linspace(-1.5, 1.5, 8)
    i, j = rng.integers(0, 8, 6000), rng.integers(0, 8, 6000)
    keep = i != j
    i, j = i[keep], j[keep]
    i_wins = rng.random(i.size) < 1 / (1 + np.exp(-(s_true[i] - s_true[j])))
    w, lo = np.where(i_wins, i, j), np.where(i_wins, j, i)
    s = rlhf.fit_bt_scores(8, torch.tensor(w), torch.tensor(lo)).numpy()
    assert abs(s.mean()) < 1e-10
    assert np.max(np.abs(s - (s_true - s_true.mean()))) < 0.2
    assert np.all(np.diff(s) > 0)  # the ranking is exact


def test_linear_reward_recovered():
    data = rlhf.make_synthetic_preferences(n_items=150, d=6, n_pairs=4000, seed=11)
    w = rlhf.fit_linear_reward(data["X"], data["chosen"], data["rejected"])
    cos = float(w @ data["w"] / (w.norm() * data["w"].norm()))
    assert cos >= 0.98
    assert stats.kendalltau((data["X"] @ w).numpy(), data["reward"].numpy()).statistic >= 0.9


def test_ppo_objective_signs_and_stopgrad():
    g = torch.Generator().manual_seed(2)
    logp_old = torch.randn(40, generator=g, dtype=torch.float64)
    base = logp_old + 0.5 * torch.randn(40, generator=g, dtype=torch.float64)
    adv = torch.randn(40, generator=g, dtype=torch.float64)
    a = base.clone().requires_grad_(True)
    b = base.clone().requires_grad_(True)
    j_min = rlhf.ppo_clip_objective(a, logp_old, adv, 0.2)
    loss, _ = pg.ppo_clip_loss(base, logp_old, adv, 0.2)
    assert torch.allclose(j_min, -loss)
    j_sg = rlhf.ppo_stopgrad_objective(b, logp_old, adv, 0.2)
    j_min.backward()
    j_sg.backward()
    assert torch.allclose(a.grad, b.grad, atol=1e-14)
    assert not torch.isclose(j_min, j_sg)  # same gradient, different value
    unclipped = rlhf.ppo_clip_objective(base, logp_old, adv, eps=math.inf)
    assert torch.allclose(unclipped, (torch.exp(base - logp_old) * adv).mean())
    per = rlhf.ppo_clip_objective(base, logp_old, adv, reduce=False)
    assert per.shape == (40,) and torch.allclose(per.mean(), j_min.detach())
    rho = rlhf.ppo_ratio(base, logp_old)
    frac = rlhf.clip_fraction(rho, adv, 0.2)
    assert math.isclose(frac, float(((adv > 0) & (rho > 1.2) | (adv < 0) & (rho < 0.8)).double().mean()))


def test_bandit_sampling_and_training():
    bandit = rlhf.SoftmaxBandit([0.0, 1.0, 0.5], noise_std=0.1, seed=0)
    a, r = bandit.sample(torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64), 20000)
    assert abs((a == 1).double().mean().item() - 0.5) < 0.02
    assert abs(r.mean().item() - bandit.expected_reward([0.2, 0.5, 0.3])) < 0.01
    h = rlhf.train_bandit("ppo", iters=30)
    assert h["expected_reward"][0] == pytest.approx(0.1) and h["expected_reward"][-1] > 0.9
    assert h["rho_max"].max() > 1.2  # the clip does not bound the ratio strictly
    h_pg = rlhf.train_bandit("pg_baseline", iters=5)
    assert h_pg["expected_reward"].shape == (6,) and np.all(h_pg["clip_fraction"] == 0)


def test_kl_regularized_optimum_matches_gradient_ascent():
    pi_ref = torch.tensor([0.5, 0.2, 0.2, 0.1], dtype=torch.float64)
    r = torch.tensor([0.0, 1.0, 0.3, 2.0], dtype=torch.float64)
    beta = 0.7
    star = rlhf.kl_regularized_optimum(pi_ref, r, beta)
    theta = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([theta], lr=0.1)
    for _ in range(500):
        loss = -rlhf.kl_regularized_objective(torch.softmax(theta, 0), pi_ref, r, beta)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.allclose(torch.softmax(theta, 0).detach(), star, atol=1e-4)
    # the optimal value is beta log Z
    val = rlhf.kl_regularized_objective(star, pi_ref, r, beta)
    assert torch.isclose(val, beta * torch.logsumexp(torch.log(pi_ref) + r / beta, 0))


def test_instructgpt_objective():
    r = torch.tensor([1.0, 2.0])
    lp, lr_ = torch.tensor([-1.0, -2.0]), torch.tensor([-1.5, -1.0])
    val = rlhf.instructgpt_objective(r, lp, lr_, beta=0.1)
    assert math.isclose(val.item(), ((1 - 0.1 * 0.5) + (2 - 0.1 * -1.0)) / 2, rel_tol=1e-6)
    val2 = rlhf.instructgpt_objective(r, lp, lr_, beta=0.1, ptx_logp=torch.tensor([-3.0]), gamma=2.0)
    assert math.isclose(val2.item(), val.item() - 6.0, rel_tol=1e-6)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: rlhf.bradley_terry_loss(torch.zeros(2), torch.zeros(3)), ValueError, "r_chosen"),
    (lambda: rlhf.bradley_terry_loss(torch.zeros(2), torch.zeros(2), reduction="max"), ValueError, "reduction"),
    (lambda: rlhf.fit_bt_scores(3, [0, 5], [1, 2]), ValueError, "winners"),
    (lambda: rlhf.train_bandit("sac"), ValueError, "method"),
    (lambda: rlhf.SoftmaxBandit([1.0]), ValueError, "means"),
    (lambda: rlhf.kl_regularized_optimum(torch.ones(3) / 3, torch.zeros(3), 0.0), ValueError, "beta"),
    (lambda: rlhf.ppo_clip_objective(torch.zeros(2), torch.zeros(2), torch.zeros(2), eps=-1.0), ValueError, "eps"),
    (lambda: rlhf.elo_to_logit(float("nan")), ValueError, "delta_elo"),
])
def test_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
