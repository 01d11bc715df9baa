"""AlphaZero-style self-play on small board games: search is the teacher, the network memorises it.

One iteration (Silver et al. 2017, simplified to one network that plays both sides):

1. **self-play**: play games with MCTS guided by the current network (:class:`lib.rl.mcts.NetEvaluator`);
   root Dirichlet noise and sampling moves from ``pi ~ N^(1/tau)`` keep the games varied;
2. **targets**: for every position, the search policy ``pi(a|s) = N(s,a) / sum_b N(s,b)`` and the final
   outcome ``z`` from the perspective of the player to move at ``s`` (negamax); each position is
   augmented with the board's symmetries;
3. **training**: minimise, over minibatches of the most recent positions,

       l(theta) = (z - v_theta(s))^2 - pi^T log p_theta(.|s)   (+ c ||theta||^2 as Adam weight decay)   (8.138)

   where ``p_theta`` is a softmax restricted to the legal moves.

The network (:class:`PolicyValueNet`) reads the mover-relative planes of :meth:`BoardGame.encode` and has
two heads: move logits and a ``tanh`` value in [-1, 1].
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import mcts as M


class PolicyValueNet(nn.Module):
    """MLP trunk on the flattened planes (3 * cells), a policy head (A logits) and a value head (tanh)."""

    def __init__(self, game, hidden: int = 64, n_layers: int = 2):
        super().__init__()
        if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
            raise ValueError(f"hidden: expected a positive integer, got {hidden!r}")
        d = 3 * game.rows * game.cols
        layers = []
        for _ in range(n_layers):
            layers += [nn.Linear(d, hidden), nn.ReLU()]
            d = hidden
        self.trunk = nn.Sequential(*layers)
        self.policy = nn.Linear(d, game.action_size)
        self.value = nn.Linear(d, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` (B, 3 * cells) -> logits (B, A), value (B,)."""
        h = self.trunk(x)
        return self.policy(h), torch.tanh(self.value(h)).squeeze(-1)

    @torch.no_grad()
    def predict(self, game, states) -> tuple[np.ndarray, np.ndarray]:
        """Priors over legal moves (B, A) and values (B,) for a list of states, as numpy."""
        dev = next(self.parameters()).device
        x = torch.as_tensor(game.encode_batch(states), device=dev)
        mask = torch.as_tensor(np.stack([game.legal_mask(s) for s in states]), device=dev)
        logits, v = self(x)
        p = torch.softmax(masked_logits(logits, mask).double(), -1)
        return p.double().cpu().numpy(), v.double().cpu().numpy()


def masked_logits(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Illegal moves get a logit of -inf... almost: a large negative number, so rows stay finite."""
    return logits.masked_fill(~mask, -1e9)


def az_loss(logits: torch.Tensor, value: torch.Tensor, pi: torch.Tensor, z: torch.Tensor,
            mask: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
    """``mean[(z - v)^2] + mean[-sum_a pi(a) log p(a)]`` with ``p = softmax`` over legal moves (8.138).

    Shapes: logits (B, A), value (B,), pi (B, A) rows summing to 1, z (B,), mask (B, A) bool or None.
    """
    if logits.ndim != 2 or pi.shape != logits.shape:
        raise ValueError(f"pi: expected the shape of logits {tuple(logits.shape)}, got {tuple(pi.shape)}")
    if value.shape != z.shape or value.shape != logits.shape[:1]:
        raise ValueError(f"value, z: expected shape ({logits.shape[0]},), got {tuple(value.shape)}, {tuple(z.shape)}")
    if mask is not None:
        logits = masked_logits(logits, mask)
    logp = torch.log_softmax(logits, -1)
    v_loss = ((z - value) ** 2).mean()
    p_loss = -(pi * logp).sum(-1).mean()
    return v_loss + p_loss, {"value": float(v_loss.detach()), "policy": float(p_loss.detach())}


@dataclass
class GameRecord:
    states: list
    pis: list            # search policies N / sum N, one (A,) per state
    winner: int          # +1 X, -1 O, 0 draw


def self_play_game(game, search: M.MCTS, n_sims: int, temperature_moves: int, rng: np.random.Generator) -> GameRecord:
    """One game of the search against itself. Moves are sampled from ``pi ~ N`` for the first
    ``temperature_moves`` plies and are the most visited afterwards; the recorded target is ``N / sum N``."""
    s = game.initial_state()
    states, pis = [], []
    while not game.is_terminal(s):
        root = search.run(search.new_root(s), n_sims)
        pi = M.search_policy(root, 1.0)
        states.append(s)
        pis.append(pi)
        a = int(rng.choice(len(pi), p=pi)) if len(states) <= temperature_moves else M.best_action(root)
        s = game.next_state(s, a)
    return GameRecord(states, pis, game.winner(s))


def make_targets(game, records: list[GameRecord], augment: bool = True) -> tuple[np.ndarray, ...]:
    """Arrays ``X`` (n, 3 * cells), ``PI`` (n, A), ``Z`` (n,), ``MASK`` (n, A): ``z = winner * mover``
    (the outcome for the player to move at each state); ``augment`` adds every board symmetry."""
    X, PI, Z, MASK = [], [], [], []
    for rec in records:
        for s, pi in zip(rec.states, rec.pis):
            x, z, m = game.encode(s).reshape(-1), float(rec.winner * game.to_play(s)), game.legal_mask(s)
            pairs = game.symmetries(x, np.stack([pi, m])) if augment else [(x, np.stack([pi, m]))]
            for xs, pm in pairs:
                X.append(xs)
                PI.append(pm[0])
                MASK.append(pm[1] > 0)
                Z.append(z)
    return (np.array(X, dtype=np.float32), np.array(PI, dtype=np.float32), np.array(Z, dtype=np.float32),
            np.array(MASK, dtype=bool))


def policy_accuracy(game, net, solver, states) -> float:
    """Fraction of ``states`` where the network's most probable move is optimal (keeps the exact value)."""
    P, _ = net.predict(game, states)
    return float(np.mean([int(np.argmax(p)) in solver.best_actions(s) for p, s in zip(P, states)]))


@dataclass
class History:
    iteration: list = field(default_factory=list)
    loss_value: list = field(default_factory=list)
    loss_policy: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    outcomes: list = field(default_factory=list)   # X wins / draws / O wins in that iteration's self-play
    seconds: list = field(default_factory=list)


def train_alphazero(game, net: PolicyValueNet, iterations: int = 20, games_per_iter: int = 20, n_sims: int = 30,
                    train_steps: int = 100, batch_size: int = 128, lr: float = 3e-3, weight_decay: float = 1e-4,
                    c_puct: float = 1.5, dirichlet_alpha: float = 1.0, temperature_moves: int = 9,
                    buffer_iters: int = 4, budget_s: float | None = None, solver=None, eval_states=None,
                    prefill_states=None, seed: int = 0, device: str | torch.device = "cpu") -> History:
    """The loop of the module docstring. The replay buffer keeps the positions of the last ``buffer_iters``
    iterations. Stops early after the iteration that exceeds ``budget_s`` seconds. With ``solver`` and
    ``eval_states``, records the raw policy's optimal-move rate after each iteration. ``prefill_states``
    (e.g. every non-terminal position of a small game) are evaluated in one batch before each self-play
    phase, so the search never waits for a single-position forward pass."""
    for name, v in dict(iterations=iterations, games_per_iter=games_per_iter, n_sims=n_sims,
                        train_steps=train_steps, batch_size=batch_size).items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name}: expected a positive integer, got {v!r}")
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    net.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    evaluator = M.NetEvaluator(net)
    search = M.MCTS(game, evaluator, M.MCTSConfig(c_puct=c_puct, dirichlet_alpha=dirichlet_alpha, seed=seed))
    hist, buffer, t0 = History(), [], time.perf_counter()
    for it in range(1, iterations + 1):
        net.eval()
        evaluator.clear()
        if prefill_states is not None:
            evaluator.prefill(game, prefill_states)
        records = [self_play_game(game, search, n_sims, temperature_moves, rng) for _ in range(games_per_iter)]
        buffer = (buffer + [make_targets(game, records)])[-buffer_iters:]
        X, PI, Z, MASK = (torch.as_tensor(np.concatenate(a), device=device) for a in zip(*buffer))
        net.train()
        lv = lp = 0.0
        for _ in range(train_steps):
            idx = torch.randint(len(X), (batch_size,), generator=gen).to(device)
            logits, v = net(X[idx])
            loss, parts = az_loss(logits, v, PI[idx], Z[idx], MASK[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            lv, lp = lv + parts["value"] / train_steps, lp + parts["policy"] / train_steps
        net.eval()
        w = [r.winner for r in records]
        hist.iteration.append(it)
        hist.loss_value.append(lv)
        hist.loss_policy.append(lp)
        hist.outcomes.append((w.count(1), w.count(0), w.count(-1)))
        if solver is not None and eval_states is not None:
            hist.accuracy.append(policy_accuracy(game, net, solver, eval_states))
        hist.seconds.append(time.perf_counter() - t0)
        if budget_s is not None and hist.seconds[-1] > budget_s:
            break
    evaluator.clear()
    return hist


def net_player(game, net: PolicyValueNet):
    """System 1: the network's most probable move, no search."""
    return lambda s: int(np.argmax(net.predict(game, [s])[0][0]))
