"""AlphaZero pieces: the loss by hand, targets from a hand-made record, and a short training run vs the solver."""
import numpy as np
import pytest
import torch

from lib.rl import alphazero as AZ
from lib.rl import mcts as M
from lib.rl.games import Negamax, TicTacToe, all_states

G = TicTacToe()
SOLVER = Negamax(G)
POSITIONS = [s for s in all_states(G) if not G.is_terminal(s)]


def test_loss_by_hand_and_mask():
    logits = torch.tensor([[0.0, np.log(2.0), 3.0], [1.0, 1.0, 1.0]], dtype=torch.float64, requires_grad=True)
    value = torch.tensor([0.5, -0.2], dtype=torch.float64, requires_grad=True)
    pi = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], dtype=torch.float64)
    z = torch.tensor([1.0, 0.0], dtype=torch.float64)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    loss, parts = AZ.az_loss(logits, value, pi, z, mask)
    v_hand = ((1 - 0.5) ** 2 + 0.2 ** 2) / 2
    p_hand = (-(0.5 * np.log(1 / 3) + 0.5 * np.log(2 / 3)) + np.log(3)) / 2
    assert abs(parts["value"] - v_hand) < 1e-12 and abs(parts["policy"] - p_hand) < 1e-12
    assert abs(loss.item() - v_hand - p_hand) < 1e-12
    loss.backward()
    assert logits.grad[0, 2] == 0 and torch.all(torch.isfinite(logits.grad)) and value.grad.abs().min() > 0


def test_targets_signs_and_symmetries():
    s0 = G.initial_state()
    s1 = G.next_state(s0, 4)
    s2 = G.next_state(s1, 0)
    pis = [np.eye(9)[4], np.eye(9)[0], G.legal_mask(s2) / 7]
    rec = AZ.GameRecord(states=[s0, s1, s2], pis=pis, winner=1)   # X won
    X, PI, Z, MASK = AZ.make_targets(G, [rec], augment=False)
    np.testing.assert_array_equal(Z, [1, -1, 1])                  # z from each mover's perspective
    np.testing.assert_array_equal(X[1].reshape(3, 3, 3)[1, 1, 1], 1)  # X's centre stone is O's "opponent" plane
    Xa, PIa, Za, MASKa = AZ.make_targets(G, [rec], augment=True)
    assert len(Xa) == 24 and np.allclose(PIa.sum(1), 1)
    # every augmented copy is consistent: the target's mass lies on legal moves of the transformed board
    assert np.all(PIa[~MASKa] == 0)
    corner_targets = PIa[8:16].argmax(1)
    assert sorted(set(corner_targets)) == [0, 2, 6, 8]           # the corner reply maps to the four corners
    draw = AZ.make_targets(G, [AZ.GameRecord([s0], [pis[0]], 0)], augment=False)[2]
    assert draw[0] == 0


def test_predict_is_masked_softmax():
    net = AZ.PolicyValueNet(G, hidden=16)
    s = G.next_state(G.next_state(G.initial_state(), 4), 0)
    P, v = net.predict(G, [s, G.initial_state()])
    assert P.shape == (2, 9) and P[0, 0] == 0 and P[0, 4] == 0 and np.allclose(P.sum(1), 1) and np.all(np.abs(v) <= 1)
    x = torch.as_tensor(G.encode_batch([s]))
    logits, _ = net(x)
    ref = torch.softmax(logits[0, [1, 2, 3, 5, 6, 7, 8]].double(), 0).detach().numpy()
    np.testing.assert_allclose(P[0, [1, 2, 3, 5, 6, 7, 8]], ref, atol=1e-6)


def test_self_play_game_record():
    net = AZ.PolicyValueNet(G, hidden=16)
    search = M.MCTS(G, M.NetEvaluator(net), M.MCTSConfig(c_puct=1.5, dirichlet_alpha=1.0))
    rec = AZ.self_play_game(G, search, 10, 9, np.random.default_rng(0))
    assert 5 <= len(rec.states) <= 9 and rec.winner in (-1, 0, 1)
    for s, pi in zip(rec.states, rec.pis):
        assert abs(pi.sum() - 1) < 1e-12 and np.all(pi[~G.legal_mask(s)] == 0)
        np.testing.assert_allclose(pi * 10, np.round(pi * 10))   # visit counts / 10 simulations


@pytest.mark.slow
def test_training_learns_optimal_moves():
    torch.manual_seed(0)
    net = AZ.PolicyValueNet(G, hidden=64)
    before = AZ.policy_accuracy(G, net, SOLVER, POSITIONS)
    hist = AZ.train_alphazero(G, net, iterations=8, games_per_iter=20, n_sims=30, train_steps=100,
                              solver=SOLVER, eval_states=POSITIONS, prefill_states=POSITIONS, seed=1)
    assert hist.accuracy[-1] > 0.85 > before
    assert len(hist.loss_value) == 8 and hist.loss_value[-1] < hist.loss_value[0]


def test_bad_input():
    with pytest.raises(ValueError, match="pi"):
        AZ.az_loss(torch.zeros(2, 3), torch.zeros(2), torch.zeros(2, 4), torch.zeros(2))
    with pytest.raises(ValueError, match="value, z"):
        AZ.az_loss(torch.zeros(2, 3), torch.zeros(3), torch.zeros(2, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="hidden"):
        AZ.PolicyValueNet(G, hidden=0)
    with pytest.raises(ValueError, match="iterations"):
        AZ.train_alphazero(G, AZ.PolicyValueNet(G, 8), iterations=0)
