"""lib.rnn against torch.nn.RNN, torch.nn.LSTM / LSTMCell and autograd (float64), plus bad inputs."""
import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from lib import rnn
from lib import sequences as S

torch.set_num_threads(1)
f64 = torch.float64


def _rnn_params(D=5, H=7, V=6, seed=0, scale=0.6):
    g = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(H, H, generator=g, dtype=f64), torch.randn(H, D, generator=g, dtype=f64),
            0.3 * torch.randn(H, generator=g, dtype=f64), torch.randn(V, H, generator=g, dtype=f64))


def test_rnn_forward_matches_torch_rnn_batched_and_unbatched():
    W_rec, W_emb, b, _ = _rnn_params()
    ref = nn.RNN(5, 7, nonlinearity="tanh").double()
    with torch.no_grad():
        ref.weight_ih_l0.copy_(W_emb), ref.weight_hh_l0.copy_(W_rec)
        ref.bias_ih_l0.copy_(b), ref.bias_hh_l0.zero_()
    x = torch.randn(9, 3, 5, dtype=f64, generator=torch.Generator().manual_seed(1))
    h0 = torch.randn(3, 7, dtype=f64, generator=torch.Generator().manual_seed(2))
    hs = rnn.rnn_forward(x, W_rec, W_emb, b, h0=h0)
    out, hT = ref(x, h0[None])
    assert hs.shape == (10, 3, 7)
    torch.testing.assert_close(hs[0], h0)
    torch.testing.assert_close(hs[1:], out, atol=1e-13, rtol=0)
    torch.testing.assert_close(rnn.rnn_forward(x[:, 1], W_rec, W_emb, b)[1:], ref(x[:, 1])[0], atol=1e-13, rtol=0)


def test_memory_stream_forward_adds_the_tanh_update():
    W_rec, W_emb, b, _ = _rnn_params(seed=3)
    x = torch.randn(6, 2, 5, dtype=f64)
    hs = rnn.rnn_forward(x, W_rec, W_emb, b, residual=True)
    for t in range(1, 7):
        g = torch.tanh(hs[t - 1] @ W_rec.T + x[t - 1] @ W_emb.T + b)
        torch.testing.assert_close(hs[t], hs[t - 1] + g)
    assert hs.abs().max() > 1  # the stream is not confined to (-1, 1)


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("batched", [False, True])
def test_rnn_bptt_matches_autograd(residual, batched):
    W_rec, W_emb, b, W_unemb = _rnn_params(D=4, H=8, V=4, seed=4)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(6, 3, 4, dtype=f64, generator=g) if batched else S.toy_sentence()[1]
    y = torch.tensor([0, 3, 1]) if batched else S.toy_sentence()[2]
    leaves = [t.clone().requires_grad_(True) for t in (W_rec, W_emb, b, W_unemb)]
    states = [torch.zeros(*x.shape[1:-1], 8, dtype=f64, requires_grad=True)]  # an independent loop
    for t in range(x.shape[0]):
        g_t = torch.tanh(states[-1] @ leaves[0].T + x[t] @ leaves[1].T + leaves[2])
        states.append(states[-1] + g_t if residual else g_t)
        states[-1].retain_grad()
    logp = torch.log_softmax(states[-1] @ leaves[3].T, -1)
    J = logp[torch.arange(3), y].sum() if batched else (logp * y).sum()
    J.backward()
    hs = rnn.rnn_forward(x, W_rec, W_emb, b, residual=residual)
    grads = rnn.rnn_bptt(x, hs, W_rec, W_emb, b, W_unemb, y, residual=residual)
    for name, leaf in zip(("W_rec", "W_emb", "b", "W_unemb"), leaves):
        torch.testing.assert_close(grads[name], leaf.grad, atol=1e-12, rtol=0)
    torch.testing.assert_close(grads["dh"], torch.stack([h.grad for h in states]), atol=1e-12, rtol=0)


def test_bptt_one_hot_and_index_targets_agree_and_bad_inputs():
    W_rec, W_emb, b, W_unemb = _rnn_params(D=4, H=8, V=4, seed=6)
    x = torch.randn(5, 2, 4, dtype=f64)
    hs = rnn.rnn_forward(x, W_rec, W_emb, b)
    a = rnn.rnn_bptt(x, hs, W_rec, W_emb, b, W_unemb, torch.tensor([2, 1]))
    c = rnn.rnn_bptt(x, hs, W_rec, W_emb, b, W_unemb, F.one_hot(torch.tensor([2, 1]), 4).double())
    torch.testing.assert_close(a["W_rec"], c["W_rec"])
    with pytest.raises(ValueError, match=r"y: expected class indices in \[0, 4\)"):
        rnn.rnn_bptt(x, hs, W_rec, W_emb, b, W_unemb, torch.tensor([2, 4]))
    with pytest.raises(ValueError, match="hs: expected shape"):
        rnn.rnn_bptt(x, hs[1:], W_rec, W_emb, b, W_unemb, torch.tensor([2, 1]))
    with pytest.raises(ValueError, match="W_emb: expected shape"):
        rnn.rnn_forward(x, W_rec, W_emb.T, b)
    with pytest.raises(TypeError, match="x: expected a torch.Tensor"):
        rnn.rnn_forward(x.numpy(), W_rec, W_emb, b)
    with pytest.raises(TypeError, match="x: expected a floating-point"):
        rnn.rnn_forward(x.long(), W_rec, W_emb, b)
    with pytest.raises(ValueError, match="h0: expected shape"):
        rnn.rnn_forward(x, W_rec, W_emb, b, h0=torch.zeros(3, 8, dtype=f64))


@pytest.mark.parametrize("residual", [False, True])
def test_jacobian_chain_matches_autograd_jacobian(residual):
    W_rec, W_emb, b, _ = _rnn_params(D=3, H=6, seed=7)
    x = torch.randn(4, 3, dtype=f64)
    hs = rnn.rnn_forward(x, W_rec, W_emb, b, residual=residual)
    jacs = rnn.jacobian_chain(W_rec, hs, residual=residual)
    assert len(jacs) == 4
    for t in range(1, 5):
        step = lambda h: (h if residual else 0) + torch.tanh(W_rec @ h + W_emb @ x[t - 1] + b)
        ref = torch.autograd.functional.jacobian(step, hs[t - 1])
        torch.testing.assert_close(jacs[t - 1], ref, atol=1e-13, rtol=0)
    with pytest.raises(ValueError, match="hs: expected shape"):
        rnn.jacobian_chain(W_rec, hs[:1])


def test_memory_stream_paths_sum_to_autograd_and_book_order_fails():
    H = 6
    W_rec, W_emb, b, W_unemb = _rnn_params(D=4, H=H, V=4, seed=8, scale=1.0)
    h1 = torch.randn(H, dtype=f64, requires_grad=True)
    x = torch.randn(2, 4, dtype=f64)
    g2 = torch.tanh(W_rec @ h1 + W_emb @ x[0] + b)
    h2 = h1 + g2
    g3 = torch.tanh(W_rec @ h2 + W_emb @ x[1] + b)
    h3 = h2 + g3
    h3.retain_grad()
    J = torch.log_softmax(W_unemb @ h3, 0)[2]
    J.backward()
    paths = rnn.memory_stream_paths(h3.grad, W_rec, g2.detach(), g3.detach())
    total = sum(paths.values())
    torch.testing.assert_close(total, h1.grad, atol=1e-13, rtol=0)
    d2, d3, d = torch.diag(1 - g2.detach() ** 2), torch.diag(1 - g3.detach() ** 2), h3.grad
    torch.testing.assert_close(paths["via_both"], W_rec.T @ d2 @ W_rec.T @ d3 @ d)
    torch.testing.assert_close(paths["via_g2"], W_rec.T @ d2 @ d)
    torch.testing.assert_close(paths["via_g3"], W_rec.T @ d3 @ d)
    book = W_rec.T @ W_rec.T @ d2 @ d3 @ d  # (W^T)^2 diag diag: the printed order of path 4
    assert (book - paths["via_both"]).norm() > 1e-3 * paths["via_both"].norm()
    batched = rnn.memory_stream_paths(d.repeat(2, 1), W_rec, g2.detach().repeat(2, 1), g3.detach().repeat(2, 1))
    torch.testing.assert_close(batched["via_both"][1], paths["via_both"])
    with pytest.raises(ValueError, match="g2: expected shape"):
        rnn.memory_stream_paths(d, W_rec, g2.detach()[:3], g3.detach())


def _lstm_params(D=3, H=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    p = {}
    for k in rnn.GATES:
        p[f"W_{k}"] = 0.5 * torch.randn(H, H + D, generator=g, dtype=f64)
        p[f"b_{k}"] = 0.5 * torch.randn(H, generator=g, dtype=f64)
    return p


def test_lstm_forward_matches_torch_lstm_with_copied_weights():
    p = _lstm_params()
    ref = nn.LSTM(3, 5).double()
    ref.load_state_dict(rnn.lstm_params_to_torch(p))
    x = torch.randn(8, 4, 3, dtype=f64)
    h0, c0 = torch.randn(4, 5, dtype=f64), torch.randn(4, 5, dtype=f64)
    hs, cs, gates = rnn.lstm_forward(x, p, h0, c0)
    out, (hT, cT) = ref(x, (h0[None], c0[None]))
    torch.testing.assert_close(hs[1:], out, atol=1e-13, rtol=0)
    torch.testing.assert_close(cs[-1], cT[0], atol=1e-13, rtol=0)
    assert set(gates) == {"i", "f", "c", "o"} and gates["f"].shape == (8, 4, 5)
    torch.testing.assert_close(cs[1:], gates["f"] * cs[:-1] + gates["i"] * gates["c"])
    torch.testing.assert_close(hs[1:], gates["o"] * torch.tanh(cs[1:]))
    # a wrong row order (i, f, o, g) gives a different network
    bad = rnn.lstm_params_to_torch({**p, "W_c": p["W_o"], "W_o": p["W_c"], "b_c": p["b_o"], "b_o": p["b_c"]})
    ref.load_state_dict(bad)
    assert (ref(x, (h0[None], c0[None]))[0] - out).abs().max() > 1e-2


def test_torch_to_lstm_params_round_trip_and_lstm_cell():
    torch.manual_seed(0)
    ref = nn.LSTM(4, 6).double()
    p = rnn.torch_to_lstm_params(ref)
    assert p["W_f"].shape == (6, 10)
    x = torch.randn(5, 2, 4, dtype=f64)
    torch.testing.assert_close(rnn.lstm_forward(x, p)[0][1:], ref(x)[0], atol=1e-13, rtol=0)
    cell = nn.LSTMCell(4, 6).double()
    pc = rnn.torch_to_lstm_params(cell)
    h, c = torch.randn(2, 6, dtype=f64), torch.randn(2, 6, dtype=f64)
    h1, c1, _ = rnn.lstm_cell(x[0], h, c, pc)
    rh, rc = cell(x[0], (h, c))
    torch.testing.assert_close(h1, rh, atol=1e-13, rtol=0)
    torch.testing.assert_close(c1, rc, atol=1e-13, rtol=0)
    # unbatched
    torch.testing.assert_close(rnn.lstm_cell(x[0, 0], h[0], c[0], pc)[0], h1[0])
    with pytest.raises(ValueError, match="one layer"):
        rnn.torch_to_lstm_params(nn.LSTM(4, 6, num_layers=2))
    with pytest.raises(TypeError, match="lstm: expected torch.nn.LSTM"):
        rnn.torch_to_lstm_params(nn.GRU(4, 6))
    with pytest.raises(ValueError, match="missing"):
        rnn.lstm_cell(x[0], h, c, {"W_i": p["W_i"]})
    with pytest.raises(ValueError, match="x: expected last dimension D = 4"):
        rnn.lstm_cell(x[0, :, :3], h, c, pc)


def test_init_params_orthogonal_scale_and_forget_bias():
    p = rnn.init_params("vanilla", 4, 16, 4, rec_scale=0.7, seed=1, dtype=f64)
    np.testing.assert_allclose(torch.linalg.svdvals(p["W_rec"]).numpy(), 0.7, atol=1e-12)
    q = rnn.init_params("lstm", 4, 16, 4, rec_scale=1.2, forget_bias=2.0, seed=1, dtype=f64)
    assert q["W_f"].shape == (16, 20) and torch.all(q["b_f"] == 2.0) and torch.all(q["b_i"] == 0)
    np.testing.assert_allclose(torch.linalg.svdvals(q["W_o"][:, :16]).numpy(), 1.2, atol=1e-12)
    torch.testing.assert_close(rnn.init_params("stream", 3, 5, 2, seed=9)["W_rec"],
                               rnn.init_params("stream", 3, 5, 2, seed=9)["W_rec"])
    with pytest.raises(ValueError, match="cell: expected one of"):
        rnn.init_params("gru", 4, 8, 4)
    with pytest.raises(ValueError, match="rec_scale: expected a finite number"):
        rnn.init_params("vanilla", 4, 8, 4, rec_scale=float("nan"))


def test_state_grad_norms_match_manual_autograd_and_show_vanishing():
    x, y = S.delayed_recall_batch(8, 30, generator=torch.Generator().manual_seed(0), dtype=f64)
    p = rnn.init_params("vanilla", 4, 16, 4, seed=2, dtype=f64)
    norms = rnn.state_grad_norms(p, x, y, "vanilla")
    assert norms.shape == (30,)
    # compare with rnn_bptt: dL/dh = -dJ/dh / B for the mean cross-entropy
    hs = rnn.rnn_forward(x, p["W_rec"], p["W_emb"], p["b"])
    dh = rnn.rnn_bptt(x, hs, p["W_rec"], p["W_emb"], p["b"], p["W_unemb"], y)["dh"]
    torch.testing.assert_close(norms, dh[1:].flatten(1).norm(dim=1) / 8, rtol=1e-10, atol=0)
    assert norms[0] < 1e-2 * norms[-1]                       # vanilla: vanishes
    ps = rnn.init_params("stream", 4, 16, 4, seed=2, dtype=f64)
    assert rnn.state_grad_norms(ps, x, y, "stream")[0] > rnn.state_grad_norms(ps, x, y, "stream")[-1]  # grows
    pl = rnn.init_params("lstm", 4, 16, 4, seed=2, forget_bias=0.0, dtype=f64)
    pl5 = rnn.init_params("lstm", 4, 16, 4, seed=2, forget_bias=5.0, dtype=f64)
    n0, n5 = rnn.state_grad_norms(pl, x, y, "lstm"), rnn.state_grad_norms(pl5, x, y, "lstm")
    assert n5[0] / n5[-1] > 1e3 * n0[0] / n0[-1]            # a large forget bias keeps the signal
    with pytest.raises(ValueError, match="y: expected integer class indices"):
        rnn.state_grad_norms(p, x, y.double(), "vanilla")
    with pytest.raises(ValueError, match="cell: expected one of"):
        rnn.state_grad_norms(p, x, y, "gru")


def test_classifier_learns_short_delayed_recall():
    torch.manual_seed(0)
    model = rnn.RecurrentClassifier("stream", 4, 16, 4, seed=0)
    g = torch.Generator().manual_seed(1)
    ev = S.delayed_recall_batch(500, 8, generator=torch.Generator().manual_seed(2))
    out = rnn.train_classifier(model, lambda: S.delayed_recall_batch(32, 8, generator=g), steps=60, lr=1e-2,
                               eval_batch=ev)
    assert out["accuracy"] > 0.9 and out["loss"][-5:].mean() < 0.3 * out["loss"][:5].mean()
    with pytest.raises(TypeError, match="model: expected a RecurrentClassifier"):
        rnn.train_classifier(nn.Linear(2, 2), lambda: None)


def test_gru_cell_matches_torch_gru_cell():
    torch.manual_seed(1)
    ref = nn.GRUCell(3, 5).double()
    H = 5
    W = torch.cat([ref.weight_hh, ref.weight_ih], 1).detach()      # (3H, H + D), rows r, z, n
    bi, bh = ref.bias_ih.detach(), ref.bias_hh.detach()
    p = {"W_r": W[:H], "W_z": W[H:2 * H], "W_n": W[2 * H:], "b_r": bi[:H] + bh[:H], "b_z": bi[H:2 * H] + bh[H:2 * H],
         "b_n": bi[2 * H:], "b_hn": bh[2 * H:]}
    x, h = torch.randn(4, 3, dtype=f64), torch.randn(4, 5, dtype=f64)
    torch.testing.assert_close(rnn.gru_cell(x, h, p), ref(x, h), atol=1e-13, rtol=0)
    torch.testing.assert_close(rnn.gru_cell(x[0], h[0], p), ref(x, h)[0], atol=1e-13, rtol=0)
    with pytest.raises(ValueError, match="missing"):
        rnn.gru_cell(x, h, {"W_r": p["W_r"]})
    with pytest.raises(ValueError, match=r"params\['W_n'\]: expected shape"):
        rnn.gru_cell(x, h, {**p, "W_n": p["W_n"][:, 1:]})


@pytest.mark.parametrize("cell", rnn.CELLS)
def test_classifier_forward_equals_the_reference_loops(cell):
    model = rnn.RecurrentClassifier(cell, 4, 8, 3, forget_bias=1.0, seed=3, dtype=f64)
    x = torch.randn(7, 5, 4, dtype=f64)
    params = {k: v.detach() for k, v in model.p.items()}
    torch.testing.assert_close(model(x).detach(), rnn.run_cell(cell, x, params)[1], atol=1e-13, rtol=0)
    if cell == "lstm":
        hs, _, _ = rnn.lstm_forward(x, params)
        torch.testing.assert_close(model(x).detach(), hs[-1] @ params["W_unemb"].T, atol=1e-13, rtol=0)
