"""lib.moe: router gates, the Switch load-balancing loss, dense and sparse dispatch."""
import pytest
import torch

from lib.moe import MoE, TopKRouter, load_balancing_loss

f64 = dict(dtype=torch.float64)


def test_router_gates_against_explicit_softmax():
    torch.manual_seed(0)
    r = TopKRouter(6, 5, k=2).double()
    h = torch.randn(3, 7, 6, **f64)
    gates, probs, idx = r(h)
    ref = torch.softmax(h @ r.proj.weight.T, -1)
    torch.testing.assert_close(probs, ref)
    assert (probs > 0).all()                                      # softmax alone is dense
    assert ((gates > 0).sum(-1) == 2).all()                       # top-2 gates are sparse
    torch.testing.assert_close(gates.sum(-1), torch.ones(3, 7, **f64))  # renormalised for k = 2
    top2 = ref.sort(-1, descending=True).indices[..., :2]
    assert torch.equal(idx, top2)


def test_k1_switch_gate_keeps_router_gradient_renormalised_does_not():
    torch.manual_seed(1)
    h = torch.randn(32, 4, **f64)
    grads = {}
    for renorm in (False, True):
        torch.manual_seed(2)
        moe = MoE(4, n_experts=3, k=1, d_ff=8, renormalize=renorm).double()
        assert moe.router.renormalize is renorm
        (moe(h) ** 2).sum().backward()
        grads[renorm] = moe.router.proj.weight.grad.abs().max().item()
    assert TopKRouter(4, 3, k=1).renormalize is False               # the Switch default
    assert grads[False] > 1e-3
    assert grads[True] < 1e-12                                     # gate == 1: no task gradient


@pytest.mark.parametrize("k", [1, 2, 3])
def test_dense_and_sparse_dispatch_agree(k):
    torch.manual_seed(3)
    dense = MoE(5, n_experts=4, k=k, d_ff=7, dispatch="dense").double()
    sparse = MoE(5, n_experts=4, k=k, d_ff=7, dispatch="sparse").double()
    sparse.load_state_dict(dense.state_dict())
    h = torch.randn(2, 9, 5, **f64)
    yd, auxd = dense(h, return_aux=True)
    ys, auxs = sparse(h, return_aux=True)
    torch.testing.assert_close(yd, ys, rtol=1e-12, atol=1e-12)
    (yd.sum() + auxd["load_balancing"]).backward()
    (ys.sum() + auxs["load_balancing"]).backward()
    for (n, pd), ps in zip(dense.named_parameters(), sparse.parameters()):
        torch.testing.assert_close(pd.grad, ps.grad, rtol=1e-10, atol=1e-12, msg=n)
    # an explicit loop over tokens
    gates = auxd["gates"].reshape(-1, 4)
    flat = h.reshape(-1, 5)
    ref = torch.stack([sum(gates[t, j] * dense.experts[j](flat[t]) for j in range(4)) for t in range(len(flat))])
    torch.testing.assert_close(yd.reshape(-1, 5), ref)


def test_load_balancing_loss_values():
    E, n = 4, 400
    probs = torch.full((n, E), 1 / E, **f64)
    idx = (torch.arange(n) % E)[:, None]
    assert load_balancing_loss(probs, idx, E).item() == pytest.approx(1.0)
    # everything on expert 0 with confident probabilities: the loss tends to E
    probs = torch.tensor([[0.97, 0.01, 0.01, 0.01]], **f64).repeat(n, 1)
    idx = torch.zeros(n, 1, dtype=torch.long)
    assert load_balancing_loss(probs, idx, E).item() == pytest.approx(4 * 0.97)


def test_bad_inputs():
    with pytest.raises(ValueError, match="k"):
        TopKRouter(4, 3, k=4)
    with pytest.raises(ValueError, match="dispatch"):
        MoE(4, dispatch="scatter")
    with pytest.raises(ValueError, match="h"):
        TopKRouter(4, 3)(torch.randn(2, 5))
    with pytest.raises(ValueError, match="temperature"):
        TopKRouter(4, 3)(torch.randn(2, 4), temperature=0.0)
    with pytest.raises(ValueError, match="probs"):
        load_balancing_loss(torch.rand(5, 3), torch.zeros(5, 1, dtype=torch.long), 4)
    with pytest.raises(TypeError, match="renormalize"):
        TopKRouter(4, 3, renormalize="yes")
