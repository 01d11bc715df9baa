"""lib.residual: residual MLP, block gradients, GD against its closed form, learned solver, conv stage, temporal CNN."""
import pytest
import torch
import torch.nn.functional as F

from lib import residual as RS


def test_residual_mlp_forward_by_hand():
    torch.manual_seed(0)
    for residual, out_proj in [(True, True), (True, False), (False, True), (False, False)]:
        m = RS.ResidualMLP(7, 5, 3, residual=residual, out_proj=out_proj).double()
        x = torch.tensor([0, 3, 6])
        logits, stream = m(x, return_stream=True)
        h = m.embed.weight[x]
        for t in range(3):
            u = torch.tanh(h @ m.w_in[t].weight.T + m.w_in[t].bias)
            if out_proj:
                u = u @ m.w_out[t].weight.T
            h = h + u if residual else u
            torch.testing.assert_close(stream[t + 1], h, rtol=0, atol=1e-12)
        torch.testing.assert_close(logits, h @ m.unembed.weight.T + m.unembed.bias, rtol=0, atol=1e-12)


def test_block_jacobian_is_identity_plus_update():
    torch.manual_seed(1)
    m = RS.ResidualMLP(4, 6, 1).double()
    h = torch.randn(6, dtype=torch.float64)
    f = lambda v: v + m.w_out[0](torch.tanh(m.w_in[0](v)))
    J = torch.autograd.functional.jacobian(f, h)
    a = m.w_in[0](h)
    expected = torch.eye(6, dtype=torch.float64) + m.w_out[0].weight @ torch.diag(1 - torch.tanh(a) ** 2) @ m.w_in[0].weight
    torch.testing.assert_close(J, expected, rtol=0, atol=1e-12)


def test_block_grad_norms_match_autograd_and_plain_vanishes():
    torch.manual_seed(2)
    x, y = torch.arange(20), torch.randperm(20)
    m = RS.ResidualMLP(20, 16, 4, out_proj=True)
    g = RS.block_grad_norms(m, x, y)
    F.cross_entropy(m(x), y).backward()
    ref = torch.stack([torch.sqrt(m.w_in[t].weight.grad.pow(2).sum() + m.w_in[t].bias.grad.pow(2).sum()
                                  + m.w_out[t].weight.grad.pow(2).sum()) for t in range(4)])
    torch.testing.assert_close(g, ref)
    torch.manual_seed(0)
    plain = RS.block_grad_norms(RS.ResidualMLP(20, 16, 25, residual=False, out_proj=False), x, y)
    torch.manual_seed(0)
    res = RS.block_grad_norms(RS.ResidualMLP(20, 16, 25, residual=True, out_proj=False), x, y)
    assert plain[0] < 1e-4 * plain[-1] and res[0] > 0.1 * res[-1]


def test_relu_without_out_proj_only_grows_the_stream():
    torch.manual_seed(3)
    m = RS.ResidualMLP(5, 8, 6, out_proj=False, act="relu")
    _, stream = m(torch.arange(5), return_stream=True)
    assert (stream[1:] >= stream[:-1]).all()
    _, stream = RS.ResidualMLP(5, 8, 6, out_proj=True, act="relu")(torch.arange(5), return_stream=True)
    assert (stream[1:] < stream[:-1]).any()


def _spd(B, n, seed):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(B, n, n, generator=g, dtype=torch.float64)
    return A @ A.transpose(1, 2) + 0.5 * torch.eye(n, dtype=torch.float64), torch.randn(B, n, generator=g, dtype=torch.float64)


def test_gd_solver_matches_closed_form_and_rate():
    Q, b = _spd(4, 6, 0)
    lam, U = torch.linalg.eigh(Q)
    zstar = torch.linalg.solve(Q, b)
    for T in (0, 1, 7, 40):
        z = RS.gd_solver(Q, b, T)
        eta = 2 / (lam[:, -1] + lam[:, 0])
        # z_T - z* = (I - eta Q)^T (0 - z*), written in the eigenbasis
        M = U @ torch.diag_embed((1 - eta[:, None] * lam) ** T) @ U.transpose(1, 2)
        torch.testing.assert_close(z - zstar, -(M @ zstar.unsqueeze(-1)).squeeze(-1), rtol=1e-9, atol=1e-10)
        kappa = lam[:, -1] / lam[:, 0]
        bound = ((kappa - 1) / (kappa + 1)) ** T
        assert ((z - zstar).norm(dim=1) <= bound * zstar.norm(dim=1) + 1e-12).all()
    # one unbatched system, a fixed step
    z = RS.gd_solver(Q[0], b[0], 3, eta=0.01)
    zz = torch.zeros(6, dtype=torch.float64)
    for _ in range(3):
        zz = zz - 0.01 * (Q[0] @ zz - b[0])
    torch.testing.assert_close(z, zz)


def test_learned_solver_shapes_and_learns_better_than_zero():
    torch.manual_seed(0)
    Q, b = _spd(64, 4, 1)
    Q, b = Q.float(), b.float()
    Q = Q / torch.linalg.eigvalsh(Q)[:, -1:, None]
    z = torch.linalg.solve(Q, b)
    m = RS.LearnedIterativeSolver(4, 3, hidden=16)
    out, path = m(Q, b, return_path=True)
    assert out.shape == (64, 4) and path.shape == (4, 64, 4) and (path[0] == 0).all()
    opt = torch.optim.Adam(m.parameters(), 1e-2)
    for _ in range(150):
        loss = (((m(Q, b) - z) ** 2).sum(1) / (z ** 2).sum(1)).mean()
        opt.zero_grad(), loss.backward(), opt.step()
    assert loss.item() < 0.5
    fixed = RS.LearnedIterativeSolver(4, 2, condition_on_Q=False)
    assert fixed.w_in[0].in_features == 8 and m.w_in[0].in_features == 3 * 4 + 16


def test_solver_bad_inputs():
    Q, b = _spd(2, 3, 0)
    with pytest.raises(ValueError, match="b: expected shape"):
        RS.gd_solver(Q, b[:, :2], 3)
    with pytest.raises(ValueError, match="Q: expected shape"):
        RS.gd_solver(Q[:, :2], b, 3)
    with pytest.raises(ValueError, match="T: expected an integer"):
        RS.gd_solver(Q, b, -1)
    with pytest.raises(ValueError, match="eta: expected a positive"):
        RS.gd_solver(Q, b, 2, eta=0.0)
    with pytest.raises(TypeError, match="Q, b: expected torch tensors"):
        RS.gd_solver(Q.numpy(), b, 2)
    with pytest.raises(ValueError, match="Q, b: expected shapes"):
        RS.LearnedIterativeSolver(4, 2)(Q.float(), b.float())


def test_residual_conv_stage_by_hand_and_sharing():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    for share in (False, True):
        st = RS.ResidualConvStage(3, 4, 3, share_weights=share).double()
        h = F.conv2d(x, st.conv0.weight, st.conv0.bias, padding=1)
        for t in range(3):
            c = st.convs[0 if share else t]
            h = h + torch.tanh(F.conv2d(h, c.weight, c.bias, padding=1))
        torch.testing.assert_close(st(x), h, rtol=0, atol=1e-12)
    n = lambda m: sum(p.numel() for p in m.parameters())
    assert n(RS.ResidualConvStage(3, 4, 5)) - n(RS.ResidualConvStage(3, 4, 5, share_weights=True)) == 4 * (4 * 4 * 9 + 4)
    with pytest.raises(ValueError, match="k: expected an odd"):
        RS.ResidualConvStage(1, 2, 2, k=4)
    with pytest.raises(ValueError, match="x: expected a tensor of shape"):
        RS.ResidualConvStage(1, 2, 2)(torch.zeros(1, 8, 8))


@pytest.mark.parametrize("kernel,layers,dilation", [(3, 2, 1), (2, 4, 2), (4, 1, 1)])
def test_temporal_cnn_is_causal_conv_with_left_padding(kernel, layers, dilation):
    torch.manual_seed(kernel + layers)
    m = RS.TemporalCNN(3, 5, kernel, layers, dilation).double()
    x = torch.randn(2, 20, 3, dtype=torch.float64)
    h = torch.tanh(x @ m.embed.weight.T + m.embed.bias).transpose(1, 2)
    for l, c in enumerate(m.convs):
        pad = (kernel - 1) * dilation ** l
        h = torch.tanh(F.conv1d(F.pad(h, (pad, 0)), c.weight, c.bias, dilation=dilation ** l))
    torch.testing.assert_close(m(x), h.transpose(1, 2), rtol=0, atol=1e-12)
    # the receptive field: output at t = 15 depends on exactly inputs t - RF + 1 .. t
    rf = RS.temporal_rf(kernel, layers, dilation)
    assert rf == m.receptive_field
    xg = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(m(xg)[:, 15].sum(), xg)
    seen = (g.abs().sum(dim=(0, 2)) > 0).nonzero().flatten().tolist()
    assert seen == list(range(15 - rf + 1, 16))


def test_temporal_rf_and_bad_inputs():
    assert RS.temporal_rf(3, 4) == 9 and RS.temporal_rf(2, 5, 2) == 32 and RS.temporal_rf(5, 0) == 1
    with pytest.raises(ValueError, match="kernel"):
        RS.temporal_rf(0, 2)
    with pytest.raises(ValueError, match="x: expected a tensor of shape"):
        RS.TemporalCNN(3, 4, 2, 2)(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="act: expected one of"):
        RS.ResidualMLP(3, 4, 2, act="gelu")
    with pytest.raises(TypeError, match="x: expected a 1-D LongTensor"):
        RS.ResidualMLP(3, 4, 2)(torch.zeros(3))
    with pytest.raises(ValueError, match="y: expected a LongTensor"):
        RS.block_grad_norms(RS.ResidualMLP(3, 4, 2), torch.arange(3), torch.arange(2))
    with pytest.raises(ValueError, match="gain"):
        RS.ResidualMLP(3, 4, 2, gain=-1)
