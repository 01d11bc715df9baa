"""The Chapter 8 exercise checks (public and hidden) accept right answers and reject known-wrong ones.

Each check function is called directly with implementations written here: correct references (and alternative
correct formulations) must pass every check of their question; each known-wrong mutant must fail at least one
check of its question with a message. The mutants include the chapter's own slips (spec section 9): the backup
that adds the same leaf value on every edge (8.61, E7), the PUCT score with no guard at a fresh node (8.54, E8),
the REINFORCE estimator without the gamma^t factor (8.81, E3), a search that plays the highest PUCT score or the
prior instead of the most visited move (8.138, E11), the DQN/critic target that carries gradient (8.90, E5), and
the PPO objective returned as the quantity to minimise (8.121, E21). Stubs that return None score 0 everywhere,
and junk return values give assertion messages, never crashes.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lib.grading import load_checks
from tests.checks_support import (JUNK, JUNK_IDS, assert_blank_scores_zero, assert_junk_explained, assert_named,
                                  assert_public_and_hidden, assert_rejected, failures as _failures)

SPECS = load_checks("ch08_rl", hidden=True)
QUESTIONS = [f"q{i}" for i in range(1, 10)]


# --------------------------------------------------------------------------- correct references
def policy_evaluation(T, R, pi, gamma, mistake=""):
    P = np.einsum("sa,sat->st", pi, T)
    r = (pi * R).sum(1)
    if mistake == "transposed":
        P = P.T
    if mistake == "gamma on reward":
        r = gamma * r
    return np.linalg.solve(np.eye(len(r)) - gamma * P, r)


def value_iteration(T, R, gamma, tol, mistake=""):
    Q = np.zeros_like(R)
    while True:
        v = Q.mean(1) if mistake == "mean" else Q.max(1)
        new = gamma * (R + T @ v) if mistake == "gamma on reward" else R + gamma * T @ v
        done = np.abs(new - Q).max() < tol
        Q = new
        if done or mistake == "one sweep":
            return Q


def puct_scores(Q, N, P, c, mistake=""):
    total = np.sqrt(N.sum()) if mistake == "no guard" else np.sqrt(max(N.sum(), 1.0))
    if mistake == "child sqrt":
        total = np.sqrt(N)
    denom = np.maximum(N, 1e-12) if mistake == "no 1+" else 1.0 + N
    return Q + c * P * total / denom


def backup(path, value, mistake=""):
    for stats, a in reversed(path):
        if mistake != "no flip":
            value = -value
        stats["N"][a] += 1
        stats["W"][a] += (-value if mistake == "flip late" else value)


def _rollout(game, s, rng):
    player = game.to_play(s)
    while not game.is_terminal(s):
        s = game.next_state(s, rng.choice(game.legal_actions(s)))
    v = game.terminal_value(s)
    return v if game.to_play(s) == player else -v


def run_mcts(game, state, n_sims, c, rng, mistake=""):
    A = game.action_size
    stats = {}

    def expand(s):
        legal = np.zeros(A)
        legal[game.legal_actions(s)] = 1.0
        stats[s] = (np.zeros(A), np.zeros(A), legal)

    expand(state)
    for _ in range(n_sims):
        s, path = state, []
        while s in stats and not game.is_terminal(s):
            N, W, legal = stats[s]
            Q = np.divide(W, N, out=np.zeros(A), where=N > 0)
            U = c * (legal / legal.sum()) * np.sqrt(max(N.sum(), 1.0)) / (1.0 + N)
            a = int(np.argmax(np.where(legal > 0, Q + U, -np.inf)))
            path.append((s, a))
            s = game.next_state(s, a)
        if game.is_terminal(s):
            v = game.terminal_value(s)
        else:
            expand(s)
            v = _rollout(game, s, rng)
            if mistake == "rollout sign":
                v = -v
        for s_, a in reversed(path):
            v = v if mistake == "no flip" else -v
            stats[s_][0][a] += 1
            stats[s_][1][a] += v
    N, W, legal = stats[state]
    Q = np.divide(W, N, out=np.zeros(A), where=N > 0)
    if mistake == "first legal":
        return int(np.flatnonzero(legal)[0]), N, Q
    if mistake == "max Q + U":
        return int(np.argmax(np.where(legal > 0, Q + c * np.sqrt(N.sum()) / (1 + N) / legal.sum(), -np.inf))), N, Q
    return int(np.argmax(N)), N, Q


def make_targets(visits, players, winner, temperature, mistake=""):
    visits = np.asarray(visits, float)
    if temperature == 0:
        pi = np.zeros_like(visits)
        pi[np.arange(len(visits)), visits.argmax(1)] = 1.0
    else:
        w = visits ** (temperature if mistake == "N^tau" else 1.0 / temperature)
        pi = w / w.sum(1, keepdims=True)
    z = np.full(len(players), float(winner)) if mistake == "X view" else winner * np.asarray(players, float)
    return pi, z


def az_loss(logits, value, pi, z, mask, mistake=""):
    if mistake != "no mask":
        logits = logits.masked_fill(~mask, float("-inf"))
    logp = torch.log_softmax(logits, dim=-1)
    logp = torch.where(mask, logp, torch.zeros_like(logp))
    ce = -(pi * logp).sum(-1).mean()
    return ((z - value) ** 2).mean() + (-ce if mistake == "ce sign" else ce)


def gae(rewards, values, dones, last_value, gamma, lam, truncated=None, final_values=None, mistake=""):
    dones = np.asarray(dones, float)
    trunc = np.zeros_like(dones) if truncated is None else np.asarray(truncated, float)
    fin = np.zeros_like(values) if final_values is None else final_values
    if mistake == "truncation as termination":
        dones, trunc = np.maximum(dones, trunc), np.zeros_like(trunc)
    adv = np.zeros_like(values, dtype=float)
    next_adv, next_value = np.zeros_like(last_value, dtype=float), np.asarray(last_value, float)
    for t in reversed(range(len(rewards))):
        nv = np.where(trunc[t] > 0, fin[t], next_value)
        keep = 1.0 if mistake == "through terminal" else 1.0 - dones[t]
        delta = rewards[t] + gamma * keep * nv - values[t]
        carry = 1.0 if mistake == "through terminal" else (1.0 - dones[t]) * (1.0 - trunc[t])
        if mistake == "carry across":
            carry = 1.0 - trunc[t]
        adv[t] = delta + (lam if mistake == "no gamma" else gamma * lam) * carry * next_adv
        next_adv, next_value = adv[t], values[t]
    return adv, adv + values


def dqn_loss(q_online, q_target, batch, gamma, mistake=""):
    q = q_online(batch["obs"]).gather(1, batch["actions"].long()[:, None]).squeeze(1)
    net = q_online if mistake == "online target" else q_target
    mask = 1.0 if mistake == "no mask" else 1.0 - batch["terminated"]
    if mistake in ("online target", "target grad"):
        y = batch["rewards"] + gamma * mask * net(batch["next_obs"]).max(1).values
    else:
        with torch.no_grad():
            y = batch["rewards"] + gamma * mask * net(batch["next_obs"]).max(1).values
    if mistake == "huber":
        return torch.nn.functional.smooth_l1_loss(q, y)
    return ((q - y) ** 2).mean()


def polyak_update(target, online, tau, mistake=""):
    with torch.no_grad():
        for pt, po in zip(target.parameters(), online.parameters()):
            if mistake == "swapped":
                pt.mul_(tau).add_((1 - tau) * po)
            elif mistake == "local":
                pt = (1 - tau) * pt + tau * po  # noqa: F841 (the mistake: nothing is written back)
            else:
                pt.lerp_(po, tau)


def reinforce_gradient(states, actions, rewards, lengths, logits, gamma, baseline=None, mistake=""):
    E = len(states)
    z = np.exp(logits - logits.max(1, keepdims=True))
    pi = z / z.sum(1, keepdims=True)
    out = np.zeros((E,) + logits.shape)
    for e in range(E):
        L = lengths[e]
        disc = gamma ** np.arange(L)
        G = np.array([np.sum(disc[: L - t] * rewards[e, t:L]) for t in range(L)])
        if mistake == "total return":
            G = np.full(L, G[0] if L else 0.0)
        if mistake == "undiscounted":
            G = np.cumsum(rewards[e, :L][::-1])[::-1]
        b = 0.0 if baseline is None else baseline[states[e, :L]]
        w = (G - b) * (1.0 if mistake in ("no gamma^t", "undiscounted") else disc)
        for t in range(L):
            g = -pi[states[e, t]].copy()
            g[actions[e, t]] += 1.0
            out[e, states[e, t]] += (-w[t] if mistake == "sign" else w[t]) * g
    return out


def ppo_clip_loss(logp_new, logp_old, adv, eps, mistake=""):
    r = torch.exp(logp_new - logp_old)
    clipped = torch.clamp(r, 1 - eps, 1 + eps) * adv
    if mistake == "clip A":
        clipped = r * adv.clamp(1 - eps, 1 + eps)
    pick = torch.maximum if mistake == "max" else torch.minimum
    obj = pick(r * adv, clipped).mean()
    frac = float(((r - 1).abs() > eps).double().mean())
    if mistake == "frac of positive":
        frac = float((r > 1 + eps).double().mean())
    return (obj if mistake == "no sign" else -obj), frac


def random_shooting(model, reward, state, horizon, n_samples, n_actions, rng, mistake=""):
    plans = rng.integers(0, n_actions, (n_samples, horizon))
    S = np.repeat(np.asarray(state, float)[None], n_samples, axis=0)
    total = np.zeros(n_samples)
    for t in range(horizon):
        S2 = model(S, plans[:, t])
        total += reward(S, plans[:, t], S2) * (0.0 if mistake == "first step only" and t > 0 else 1.0)
        S = S2
    if mistake == "mean":
        means = [total[plans[:, 0] == a].mean() if (plans[:, 0] == a).any() else -np.inf for a in range(n_actions)]
        return int(np.argmax(means))
    best = int(np.argmin(total)) if mistake == "argmin" else int(np.argmax(total))
    return int(plans[best, -1 if mistake == "last action" else 0])


REFERENCE = dict(policy_evaluation=policy_evaluation, value_iteration=value_iteration, puct_scores=puct_scores,
                 backup=backup, run_mcts=run_mcts, make_targets=make_targets, az_loss=az_loss, gae=gae,
                 dqn_loss=dqn_loss, polyak_update=polyak_update, reinforce_gradient=reinforce_gradient,
                 ppo_clip_loss=ppo_clip_loss, random_shooting=random_shooting)


def failures(question, namespace):
    with np.errstate(all="ignore"):
        return _failures(SPECS, question, namespace)


def test_layout_and_points():
    assert_public_and_hidden(SPECS, QUESTIONS, (30, 60))


@pytest.mark.parametrize("question", QUESTIONS)
def test_reference_passes_public_and_hidden(question):
    assert failures(question, REFERENCE) == {}


# --------------------------------------------------------------------------- other correct answers
def _value_iteration_by_policy_iteration(T, R, gamma, tol):
    S, A = R.shape
    greedy = np.zeros(S, int)
    while True:
        v = policy_evaluation(T, R, np.eye(A)[greedy], gamma)
        Q = R + gamma * T @ v
        if np.all(Q[np.arange(S), greedy] >= Q.max(1) - 1e-12):
            return Q
        greedy = Q.argmax(1)


def _polyak_by_state_dict(target, online, tau):
    new = {k: (1 - tau) * v + tau * online.state_dict()[k] for k, v in target.state_dict().items()}
    target.load_state_dict(new)


def _gae_by_definition(rewards, values, dones, last_value, gamma, lam, truncated=None, final_values=None):
    from lib.checks.ch08_rl import _gae_ref
    return _gae_ref(rewards, values, dones, last_value, gamma, lam, truncated, final_values)


def _az_loss_with_log_softmax_of_masked(logits, value, pi, z, mask):
    logp = torch.log_softmax(logits.masked_fill(~mask, -1e9), -1)
    return torch.mean((z - value) ** 2) - torch.mean(torch.sum(pi * logp, -1))


ALTERNATIVES = [
    ("q1", "Q* by policy iteration", dict(value_iteration=_value_iteration_by_policy_iteration)),
    ("q4", "masked logits -1e9", dict(az_loss=_az_loss_with_log_softmax_of_masked)),
    ("q5", "GAE as a double sum", dict(gae=_gae_by_definition)),
    ("q6", "Polyak via state_dict", dict(polyak_update=_polyak_by_state_dict)),
    ("q8", "tensor clip fraction", dict(ppo_clip_loss=lambda *a: (ppo_clip_loss(*a)[0],
                                                                  torch.tensor(ppo_clip_loss(*a)[1])))),
]


@pytest.mark.parametrize("question, label, overrides", ALTERNATIVES, ids=[a[1] for a in ALTERNATIVES])
def test_alternative_correct_answers_pass(question, label, overrides):
    assert failures(question, {**REFERENCE, **overrides}) == {}


# --------------------------------------------------------------------------- known-wrong answers
def _m(func, mistake):
    return lambda *a, **k: func(*a, **k, mistake=mistake)


MUTANTS = [  # (question, label, overrides, caught by a public check)
    ("q1", "P_pi transposed", dict(policy_evaluation=_m(policy_evaluation, "transposed")), True),
    ("q1", "policy evaluation: gamma on the reward", dict(policy_evaluation=_m(policy_evaluation, "gamma on reward")),
     True),
    ("q1", "value iteration: gamma on the reward", dict(value_iteration=_m(value_iteration, "gamma on reward")), True),
    ("q1", "mean instead of max", dict(value_iteration=_m(value_iteration, "mean")), True),
    ("q1", "one sweep only", dict(value_iteration=_m(value_iteration, "one sweep")), True),
    ("q2", "sqrt of the child's N", dict(puct_scores=_m(puct_scores, "child sqrt")), True),
    ("q2", "1 + N omitted", dict(puct_scores=_m(puct_scores, "no 1+")), True),
    ("q2", "no guard at a fresh node (8.54)", dict(puct_scores=_m(puct_scores, "no guard")), True),
    ("q2", "same value on every edge (8.61)", dict(backup=_m(backup, "no flip")), True),
    ("q2", "sign flipped one ply late", dict(backup=_m(backup, "flip late")), True),
    ("q3", "search without the sign flip", dict(run_mcts=_m(run_mcts, "no flip")), True),
    ("q3", "rollout value from the wrong side", dict(run_mcts=_m(run_mcts, "rollout sign")), True),
    ("q3", "plays the prior's argmax, not the most visited", dict(run_mcts=_m(run_mcts, "first legal")), True),
    ("q3", "plays the PUCT argmax (8.138)", dict(run_mcts=_m(run_mcts, "max Q + U")), True),
    ("q4", "z from X's view", dict(make_targets=_m(make_targets, "X view")), True),
    ("q4", "N^tau", dict(make_targets=_m(make_targets, "N^tau")), True),
    ("q4", "softmax over illegal moves", dict(az_loss=_m(az_loss, "no mask")), True),
    ("q4", "cross-entropy sign", dict(az_loss=_m(az_loss, "ce sign")), True),
    ("q5", "bootstrapping through the terminal", dict(gae=_m(gae, "through terminal")), True),
    ("q5", "advantage carried across a termination", dict(gae=_m(gae, "carry across")), True),
    ("q5", "lambda without gamma", dict(gae=_m(gae, "no gamma")), True),
    ("q5", "truncation treated as termination", dict(gae=_m(gae, "truncation as termination")), True),
    ("q6", "target from the online net, with gradient", dict(dqn_loss=_m(dqn_loss, "online target")), True),
    ("q6", "terminal not masked", dict(dqn_loss=_m(dqn_loss, "no mask")), True),
    ("q6", "gradient through the target (8.90)", dict(dqn_loss=_m(dqn_loss, "target grad")), True),
    ("q6", "Huber instead of squared error", dict(dqn_loss=_m(dqn_loss, "huber")), True),
    ("q6", "tau and 1 - tau swapped", dict(polyak_update=_m(polyak_update, "swapped")), True),
    ("q6", "update not written back", dict(polyak_update=_m(polyak_update, "local")), True),
    ("q7", "no gamma^t (8.81)", dict(reinforce_gradient=_m(reinforce_gradient, "no gamma^t")), True),
    ("q7", "the chapter's undiscounted R_t", dict(reinforce_gradient=_m(reinforce_gradient, "undiscounted")), True),
    ("q7", "total return on every step", dict(reinforce_gradient=_m(reinforce_gradient, "total return")), True),
    ("q7", "sign error", dict(reinforce_gradient=_m(reinforce_gradient, "sign")), True),
    ("q8", "max instead of min", dict(ppo_clip_loss=_m(ppo_clip_loss, "max")), True),
    ("q8", "clipping A", dict(ppo_clip_loss=_m(ppo_clip_loss, "clip A")), True),
    ("q8", "objective, not loss (8.121)", dict(ppo_clip_loss=_m(ppo_clip_loss, "no sign")), True),
    ("q8", "clip fraction of one side only", dict(ppo_clip_loss=_m(ppo_clip_loss, "frac of positive")), True),
    ("q9", "best average first action", dict(random_shooting=_m(random_shooting, "mean")), True),
    ("q9", "lowest total (costs read as rewards)", dict(random_shooting=_m(random_shooting, "argmin")), True),
    ("q9", "last action of the best plan", dict(random_shooting=_m(random_shooting, "last action")), True),
    ("q9", "greedy: first reward only", dict(random_shooting=_m(random_shooting, "first step only")), True),
]


@pytest.mark.parametrize("question, label, overrides, public", MUTANTS, ids=[m[1] for m in MUTANTS])
def test_mutant_is_rejected(question, label, overrides, public):
    assert_rejected(SPECS, question, REFERENCE, overrides, label, public)


def _overrides(label):
    return next(m[2] for m in MUTANTS if m[1] == label)


def test_book_mistakes_are_named_in_the_messages():
    cases = [("q2", _overrides("same value on every edge (8.61)"), "(8.61)"),
             ("q2", _overrides("no guard at a fresh node (8.54)"), "fresh node"),
             ("q7", _overrides("no gamma^t (8.81)"), "(8.81)"),
             ("q6", _overrides("terminal not masked"), "terminal transition"),
             ("q6", _overrides("gradient through the target (8.90)"), "semi-gradient"),
             ("q8", _overrides("objective, not loss (8.121)"), "not the loss"),
             ("q4", _overrides("z from X's view"), "X's view"),
             ("q5", _overrides("truncation treated as termination"), "time limit"),
             ("q3", _overrides("plays the PUCT argmax (8.138)"), "most visited")]
    assert_named(SPECS, REFERENCE, cases)


# --------------------------------------------------------------------------- stubs and junk answers
def _namespace_returning(value):
    return {name: (lambda *args, **kwargs: value) for name in REFERENCE}


def test_none_stubs_score_zero_on_every_question():
    assert_blank_scores_zero(SPECS, _namespace_returning(None), QUESTIONS)


@pytest.mark.parametrize("junk", JUNK, ids=JUNK_IDS)
def test_junk_answers_fail_with_messages(junk):
    assert_junk_explained(SPECS, _namespace_returning(junk), QUESTIONS, junk)


def test_references_reproduce_the_chapter_numbers():
    """Facts the spec states, from this file's references (the checks compute theirs independently)."""
    A, _ = gae(np.array([1.0, 0, 2]), np.array([0.5, 1.0, 0.5]), np.array([0, 0, 1]), np.array(0.0), 0.9, 0.8)
    np.testing.assert_allclose(A, [1.7816, 0.53, 1.5], atol=1e-12)
    late = puct_scores(np.array([0.3, 0.6]), np.array([50.0, 20.0]), np.array([0.8, 0.2]), 1.0)
    np.testing.assert_allclose(late, [0.431, 0.680], atol=1e-3)
    c = 0.3 / (0.8 * np.sqrt(70) / 51 - 0.2 * np.sqrt(70) / 21)
    assert abs(c - 5.82) < 0.01
