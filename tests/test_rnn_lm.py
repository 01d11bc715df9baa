"""lib.rnn_lm: the hand two-layer RNN against nn.RNN and autograd, the RNNLM against torch modules, sampling."""
import math

import pytest
import torch
import torch.nn.functional as F

from lib import rnn_lm as R


def _params(D=5, H=6, V=4, seed=3, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    shapes = {"W_emb1": (H, D), "W_rec1": (H, H), "b1": (H,), "W_assoc": (H, H), "W_rec2": (H, H),
              "b2": (H,), "W_unemb": (V, H)}
    return {k: 0.7 * torch.randn(*s, generator=g, dtype=dtype) for k, s in shapes.items()}


def test_forward_matches_torch_two_layer_rnn():
    p = _params()
    x = torch.randn(7, 3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    h1s, h2s, s = R.two_layer_rnn_forward(x, p)
    rnn = R.torch_rnn_from_params(p)
    out, hn = rnn(x)
    torch.testing.assert_close(h2s[1:], out, rtol=0, atol=1e-12)
    torch.testing.assert_close(hn[0], h1s[-1], rtol=0, atol=1e-12)
    torch.testing.assert_close(s, out[-1] @ p["W_unemb"].T, rtol=0, atol=1e-12)
    assert (h1s[0] == 0).all() and h1s.shape == (8, 3, 6)


@pytest.mark.parametrize("T,B,H1,H2", [(1, 2, 4, 3), (6, 3, 5, 7)])
def test_bptt_delta_form_matches_autograd(T, B, H1, H2):
    g = torch.Generator().manual_seed(T + H2)
    D, V = 4, 5
    shapes = {"W_emb1": (H1, D), "W_rec1": (H1, H1), "b1": (H1,), "W_assoc": (H2, H1), "W_rec2": (H2, H2),
              "b2": (H2,), "W_unemb": (V, H2)}
    p = {k: torch.randn(*s, generator=g, dtype=torch.float64).requires_grad_() for k, s in shapes.items()}
    x = torch.randn(T, B, D, generator=g, dtype=torch.float64)
    y = torch.randint(0, V, (B,), generator=g)
    h1s, h2s, s = R.two_layer_rnn_forward(x, p)
    J = torch.log_softmax(s, 1)[torch.arange(B), y].sum()
    auto = dict(zip(R.PARAM_KEYS, torch.autograd.grad(J, [p[k] for k in R.PARAM_KEYS])))
    with torch.no_grad():
        hand = R.two_layer_rnn_bptt(x, h1s.detach(), h2s.detach(), {k: v.detach() for k, v in p.items()}, y)
    for k in R.PARAM_KEYS:
        torch.testing.assert_close(hand[k], auto[k], rtol=0, atol=1e-10)
    assert hand["delta1"].shape == (T, B, H1) and hand["delta2"].shape == (T, B, H2)


def test_deltas_are_gradients_of_preactivations():
    p = _params()
    x = torch.randn(4, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    y = torch.tensor([1, 3])
    # recompute the forward keeping the pre-activations a1_t, a2_t
    h1 = torch.zeros(2, 6, dtype=torch.float64)
    h2 = torch.zeros(2, 6, dtype=torch.float64)
    a1s, a2s = [], []
    for t in range(4):
        a1 = (h1 @ p["W_rec1"].T + x[t] @ p["W_emb1"].T + p["b1"]).detach().requires_grad_()
        h1 = torch.tanh(a1)
        a2 = (h2 @ p["W_rec2"].T + h1 @ p["W_assoc"].T + p["b2"]).detach().requires_grad_()
        a1s.append(a1), a2s.append(a2)
        h2 = torch.tanh(a2)
    # each a_t above is a fresh leaf, so only the last one (on which J depends directly) is checked here
    h1s, h2s, s = R.two_layer_rnn_forward(x, p)
    hand = R.two_layer_rnn_bptt(x, h1s, h2s, p, y)
    J = torch.log_softmax(torch.tanh(a2s[-1]) @ p["W_unemb"].T, 1)[torch.arange(2), y].sum()
    (gT,) = torch.autograd.grad(J, a2s[-1])
    torch.testing.assert_close(hand["delta2"][-1], gT, rtol=0, atol=1e-12)
    # dJ/dh (the book's label) differs from delta by the factor 1 - h^2
    dh = gT / (1 - h2s[-1] ** 2)
    assert not torch.allclose(dh, hand["delta2"][-1])


def test_two_layer_bad_inputs():
    p = _params()
    with pytest.raises(ValueError, match="p: expected a dict"):
        R.two_layer_rnn_forward(torch.zeros(2, 1, 5), {"W_emb1": p["W_emb1"]})
    bad = dict(p, b2=torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"p\['b2'\]: expected shape"):
        R.two_layer_rnn_forward(torch.zeros(2, 1, 5, dtype=torch.float64), bad)
    with pytest.raises(ValueError, match="x: expected a tensor of shape"):
        R.two_layer_rnn_forward(torch.zeros(2, 5, dtype=torch.float64), p)
    x = torch.zeros(2, 1, 5, dtype=torch.float64)
    h1s, h2s, _ = R.two_layer_rnn_forward(x, p)
    with pytest.raises(ValueError, match="y: expected a LongTensor"):
        R.two_layer_rnn_bptt(x, h1s, h2s, p, torch.tensor([0.0]))
    with pytest.raises(ValueError, match="h1s, h2s"):
        R.two_layer_rnn_bptt(x, h1s[1:], h2s, p, torch.tensor([0]))


@pytest.mark.parametrize("cell,mod", [("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)])
def test_rnnlm_matches_a_stacked_torch_module(cell, mod):
    torch.manual_seed(0)
    m = R.RNNLM(11, 6, 8, layers=2, cell=cell).double()
    ref = mod(6, 8, num_layers=2).double()
    with torch.no_grad():
        for l in range(2):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(ref, f"{name}_l{l}").copy_(getattr(m.rnns[l], f"{name}_l0"))
    x = torch.randint(0, 11, (9, 3))
    logits, state = m(x)
    out, ref_state = ref(m.embed(x))
    torch.testing.assert_close(logits, m.head(out), rtol=0, atol=1e-12)
    if cell == "lstm":
        torch.testing.assert_close(state[0], ref_state[0]), torch.testing.assert_close(state[1], ref_state[1])
    else:
        torch.testing.assert_close(state, ref_state)
    # running in two chunks, carrying the state, gives the same logits
    l1, s1 = m(x[:4])
    l2, _ = m(x[4:], s1)
    torch.testing.assert_close(torch.cat([l1, l2]), logits, rtol=0, atol=1e-12)


def test_stream_cell_and_residual_between_layers():
    torch.manual_seed(1)
    m = R.RNNLM(7, 5, 4, layers=2, cell="stream", residual_between_layers=True).double()
    x = torch.randint(0, 7, (6, 2))
    logits, state = m(x)
    # by hand: per-layer streams, layer 2 added onto layer 1's outputs
    e = m.embed(x)
    h = [torch.zeros(2, 4, dtype=torch.float64) for _ in range(2)]
    top = []
    for t in range(6):
        r0, r1 = m.rnns
        h[0] = h[0] + torch.tanh(r0.w_rec(h[0]) + r0.w_in(e[t]))
        h[1] = h[1] + torch.tanh(r1.w_rec(h[1]) + r1.w_in(h[0]))
        top.append(h[0] + h[1])
    torch.testing.assert_close(logits, m.head(torch.stack(top)), rtol=0, atol=1e-12)
    torch.testing.assert_close(state, torch.stack(h), rtol=0, atol=1e-12)


def test_training_lowers_the_loss_and_generate_is_reproducible():
    torch.manual_seed(0)
    ids = torch.tensor([0, 1, 2, 3, 4] * 30)
    m = R.RNNLM(5, 8, 16, layers=2, cell="gru")
    losses = R.train_char_lm(m, ids, steps=60, seq_len=10, batch=4, lr=2e-2, generator=torch.Generator().manual_seed(0))
    assert losses[0] > 0.8 * math.log(5) and min(losses[-5:]) < 0.2
    greedy = R.generate(m, [0, 1], 8, temperature=0)
    assert greedy == [2, 3, 4, 0, 1, 2, 3, 4]
    a = R.generate(m, torch.tensor([3]), 20, generator=torch.Generator().manual_seed(5))
    b = R.generate(m, [3], 20, generator=torch.Generator().manual_seed(5))
    assert a == b and len(a) == 20 and all(0 <= i < 5 for i in a)


def test_rnnlm_and_generate_bad_inputs():
    with pytest.raises(ValueError, match="cell: expected one of"):
        R.RNNLM(5, 4, 4, cell="transformer")
    with pytest.raises(ValueError, match="layers: expected an integer"):
        R.RNNLM(5, 4, 4, layers=0)
    m = R.RNNLM(5, 4, 4)
    with pytest.raises(TypeError, match="x: expected a LongTensor"):
        m(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="prefix_ids"):
        R.generate(m, [7], 3)
    with pytest.raises(ValueError, match="prefix_ids"):
        R.generate(m, [], 3)
    with pytest.raises(ValueError, match="temperature"):
        R.generate(m, [1], 3, temperature=-1.0)
    with pytest.raises(TypeError, match="generator"):
        R.generate(m, [1], 3, generator=0)
    with pytest.raises(ValueError, match="seq_len"):
        R.train_char_lm(m, torch.arange(5), seq_len=10)
