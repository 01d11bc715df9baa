"""Hidden checks for the Chapter 8 exercises (grading only; a failure shows as "hidden check failed").

They use cases the notebook never shows (other seeds and sizes, a discount near 1, longer search paths, the
search as the second player from other openings, rollouts with many parallel environments, another MDP for the
REINFORCE bias test) and verify that the student's functions leave their inputs unchanged. References come from
the helpers of the public checks.
"""
from __future__ import annotations

import numpy as np
import torch

from lib.checks.ch08_rl import (_az_case, _az_ref, _batch_copy, _best_moves, _board, _call_az, _call_mcts,
                                _call_ppo, _call_targets, _check_backup_path, _check_q1_random, _check_unbiased, _close,
                                _dqn_case, _dqn_ref, _gae_mistakes, _gae_ref, _gae_rollout, _near, _nets_copy, _params,
                                _ppo_ref, _puct_ref, _random_mdp, _random_policy, _targets_ref, _tensor, _tuple,
                                _unchanged)
from lib.grading import check


# --------------------------------------------------------------------------- q1
@check("q1", points=1)
def hidden_other_mdps_and_no_mutation(policy_evaluation, value_iteration):
    rng = np.random.default_rng(9101)
    _check_q1_random(policy_evaluation, value_iteration, rng, 5, "hidden")
    T, R, gamma = _random_mdp(rng, 6, 2, n_terminal=1, gamma=0.995)
    pi = _random_policy(rng, 6, 2)
    originals = dict(T=T, R=R, pi=pi)
    copies = {k: v.copy() for k, v in originals.items()}
    policy_evaluation(copies["T"], copies["R"], copies["pi"], gamma)
    value_iteration(copies["T"], copies["R"], gamma, 1e-10)
    _unchanged(copies, originals, "the q1 functions")


# --------------------------------------------------------------------------- q2
@check("q2", points=1)
def hidden_long_paths_and_no_mutation(puct_scores, backup):
    rng = np.random.default_rng(9121)
    _check_backup_path(backup, rng, 7, -0.25, "a 7-ply path with leaf value v = -0.25")
    _check_backup_path(backup, rng, 2, 0.0, "a 2-ply path with leaf value v = 0 (a draw)")
    Q, N, P = rng.uniform(-1, 1, 9), rng.integers(0, 100, 9).astype(float), rng.dirichlet(np.ones(9))
    originals = dict(Q=Q, N=N, P=P)
    copies = {k: v.copy() for k, v in originals.items()}
    got = puct_scores(copies["Q"], copies["N"], copies["P"], 3.0)
    _unchanged(copies, originals, "puct_scores")
    _close(got, _puct_ref(Q, N, P, 3.0), 1e-10, "puct_scores with 9 actions, c = 3")


# --------------------------------------------------------------------------- q3
@check("q3", points=1)
def hidden_other_positions(run_mcts):
    positions = [(1, 0, 0, 0, -1, 0, 0, 0, 1), (-1, 0, 0, 0, 1, 0, 0, 0, 1), (0, 0, 0, 0, 0, 1, 0, -1, 0),
                 (-1, 0, 0, 0, -1, 1, 0, 1, 0), (0, 1, 0, 0, 0, -1, 0, -1, 1)]
    for k, s in enumerate(positions):
        a, N, Q = _call_mcts(run_mcts, s, 600, 2.0, 9131 + k, f"run_mcts on {_board(s)}")
        assert abs(N.sum() - 600) < 1e-9, f"root visits on {_board(s)} sum to {N.sum():g}, expected 600"
        best = _best_moves(s)
        assert a in best, f"on {_board(s)} the search played {a}; the optimal moves are {sorted(best)}"


# --------------------------------------------------------------------------- q4
@check("q4", points=1)
def hidden_longer_record_and_no_mutation(make_targets, az_loss):
    rng = np.random.default_rng(9141)
    visits = rng.integers(0, 50, (7, 9)).astype(float) + np.eye(7, 9) * 60
    players = np.array([1.0, -1] * 3 + [1.0])
    originals = dict(visits=visits, players=players)
    copies = {k: v.copy() for k, v in originals.items()}
    make_targets(copies["visits"], copies["players"], -1, 0.7)
    _unchanged(copies, originals, "make_targets")
    pi, z = _call_targets(make_targets, visits, players, -1, 0.7, "make_targets on a 7-move record")
    want_pi, want_z = _targets_ref(visits, players, -1, 0.7)
    _close(pi, want_pi, 1e-10, "pi at temperature 0.7")
    _close(z, want_z, 1e-12, "z for an O win")
    case = _az_case(9142, B=12, A=9)
    loss, *_ = _call_az(az_loss, *case, "az_loss on a batch of 12 with 9 moves")
    _near(float(loss), float(_az_ref(*case)), 1e-10, "az_loss on a batch of 12 with 9 moves")


# --------------------------------------------------------------------------- q5
@check("q5", points=1)
def hidden_many_envs_and_no_mutation(gae):
    rng = np.random.default_rng(9151)
    r, v, term, trunc, fin, last = _gae_rollout(rng, 64, 8, p_end=0.05)
    originals = dict(r=r, v=v, term=term, trunc=trunc, fin=fin)
    copies = {k: x.copy() for k, x in originals.items()}
    got = _tuple(gae(copies["r"], copies["v"], copies["term"], last.copy(), 0.99, 0.95, truncated=copies["trunc"],
                     final_values=copies["fin"]), "gae on 8 envs x 64 steps")
    _unchanged(copies, originals, "gae")
    want, _ = _gae_ref(r, v, term, last, 0.99, 0.95, trunc, fin)
    _close(got[0], want, 1e-10, "advantages for 8 envs x 64 steps (gamma 0.99, lam 0.95)",
           _gae_mistakes(r, v, term, last, 0.99, 0.95, trunc, fin))


# --------------------------------------------------------------------------- q6
@check("q6", points=1)
def hidden_bigger_batch_and_no_mutation(dqn_loss, polyak_update):
    online, target, batch = _dqn_case(9161, B=32, d=4, A=5)
    batch["terminated"] = (torch.arange(32) % 4 == 0).double()
    originals = {k: v.clone() for k, v in batch.items()}
    copy_batch = _batch_copy(batch)
    on, ta = _nets_copy(online, target)
    loss = _tensor(dqn_loss(on, ta, copy_batch, 0.99), "dqn_loss on 32 transitions")
    with torch.no_grad():
        _near(float(loss.detach()), float(_dqn_ref(online, target, batch, 0.99)), 1e-10, "dqn_loss on 32 transitions")
    for k in originals:
        assert torch.equal(copy_batch[k], originals[k]), f"dqn_loss changed batch[{k!r}] in place"
    t0, o0 = _params(target), _params(online)
    polyak_update(target, online, 0.005)
    for p, a, b in zip(target.parameters(), t0, o0):
        _close(p.detach().numpy(), (0.995 * a + 0.005 * b).numpy(), 1e-12, "target after one update with tau = 0.005")


# --------------------------------------------------------------------------- q7
@check("q7", points=1)
def hidden_another_policy(reinforce_gradient):
    _check_unbiased(reinforce_gradient, 9171, "another policy on the 4-state MDP", with_baseline=False)


# --------------------------------------------------------------------------- q8
@check("q8", points=1)
def hidden_other_eps_and_no_mutation(ppo_clip_loss):
    g = torch.Generator().manual_seed(9181)
    adv = torch.randn(200, generator=g, dtype=torch.float64)
    logp_old = -torch.rand(200, generator=g, dtype=torch.float64) * 2
    logp_new = logp_old + 0.3 * torch.randn(200, generator=g, dtype=torch.float64)
    copies = dict(adv=adv.clone(), logp_old=logp_old.clone())
    loss, frac = _call_ppo(ppo_clip_loss, logp_new.clone(), copies["logp_old"], copies["adv"], 0.15,
                           "ppo_clip_loss (eps = 0.15, batch of 200)")
    _unchanged(copies, dict(adv=adv.numpy(), logp_old=logp_old.numpy()), "ppo_clip_loss")
    want, want_frac = _ppo_ref(logp_new, logp_old, adv, 0.15)
    _near(float(loss), float(want), 1e-10, "ppo_clip_loss with eps = 0.15 on 200 samples")
    _near(frac, want_frac, 1e-6, "clip fraction with eps = 0.15")


# --------------------------------------------------------------------------- q9
@check("q9", points=1)
def hidden_longer_horizon_and_no_mutation(random_shooting):
    from lib.checks.ch08_rl import _call_shooting, _line_model, _line_reward
    state = np.array([4.2])
    a = _call_shooting(random_shooting, _line_model, _line_reward, state, 5, 2000, 3, 9191,
                       "random_shooting from x = 4.2 (horizon 5, 2000 samples)")
    assert a == 0, f"from x = 4.2 every best 5-step plan starts by moving left (action 0); got {a}"
    copies = dict(state=state.copy())
    random_shooting(_line_model, _line_reward, copies["state"], 3, 50, 3, np.random.default_rng(0))
    _unchanged(copies, dict(state=state), "random_shooting")
