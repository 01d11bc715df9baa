"""Offline (batch) reinforcement learning on tabular MDPs: datasets, coverage, exact evaluation.

An offline learner gets a fixed dataset ``D`` of transitions collected by a behaviour policy ``pi_beta`` and
may not interact. Plain Q-learning on ``D`` bootstraps through ``max_a' Q(s', a')``, including actions that
never appear in ``D``; their values are never corrected by data, so errors there are free to be optimistic
and the greedy policy follows them. Conservative Q-learning (CQL) adds
``alpha E_{s ~ D}[logsumexp_a Q(s, a) - Q(s, a_D)]`` to the loss (see :func:`lib.rl.dqn.fitted_q`).

Because the MDP is known, every learned Q can be judged exactly: :func:`evaluate_greedy_exact` solves the
Bellman equation of its greedy policy.
"""
from __future__ import annotations

import numpy as np

from .mdp import TabularMDP, greedy, policy_evaluation, sample_episodes


def collect_dataset(mdp: TabularMDP, behavior_pi, n_episodes: int, max_steps: int, rng: np.random.Generator) -> dict:
    """Episodes of ``behavior_pi`` (S, A) flattened into transitions: 1-D arrays ``states, actions, rewards,
    next_states, terminated``."""
    ep = sample_episodes(mdp, behavior_pi, n_episodes, max_steps, rng)
    ok = ep["valid"]
    return dict(states=ep["states"][:, :-1][ok], actions=ep["actions"][ok], rewards=ep["rewards"][ok],
                next_states=ep["states"][:, 1:][ok], terminated=ep["terminated"][ok])


def collect_uniform(mdp: TabularMDP, n: int, rng: np.random.Generator) -> dict:
    """``n`` transitions from uniformly random non-terminal states and uniformly random actions (full coverage:
    the off-policy data from which Q-learning can recover Q*)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy Generator, got {type(rng).__name__}")
    live = np.flatnonzero(~mdp.terminal)
    s = live[rng.integers(0, live.size, n)]
    a = rng.integers(0, mdp.n_actions, n)
    cum = np.cumsum(mdp.T[s, a], 1)
    s2 = np.minimum((rng.random((n, 1)) > cum).sum(1), mdp.n_states - 1)
    r = mdp.R[s, a, s2] if mdp.R.ndim == 3 else mdp.R[s, a]
    return dict(states=s, actions=a, rewards=r, next_states=s2, terminated=mdp.terminal[s2])


def coverage(dataset: dict, n_states: int, n_actions: int) -> np.ndarray:
    """Visit counts ``N[s, a]`` (S, A) of the dataset's state-action pairs."""
    N = np.zeros((n_states, n_actions), dtype=np.int64)
    np.add.at(N, (np.asarray(dataset["states"]), np.asarray(dataset["actions"])), 1)
    return N


def evaluate_greedy_exact(mdp: TabularMDP, Q) -> float:
    """The exact value ``mu0 . v_pi`` of the greedy policy of ``Q`` (a linear solve; needs gamma < 1 or a
    policy that terminates)."""
    return float(mdp.mu0 @ policy_evaluation(mdp, greedy(Q)))
