"""lib.mlp_numpy: forward/backward against torch.autograd (float64) and central differences."""
import numpy as np
import pytest
import torch

from lib import losses, mlp_numpy as mn

ACT = {"relu": torch.relu, "tanh": torch.tanh, "identity": lambda z: z}


def _torch_grads(params, X, act, out_weights):
    """Autograd of J = sum(out_weights * S) (so dJ/dS = out_weights) through the same network."""
    tp = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in params]
    h = torch.tensor(X)
    for l, (W, b) in enumerate(tp, start=1):
        h = h @ W.T + b
        if l < len(tp):
            h = ACT[act](h)
    (h * torch.tensor(out_weights)).sum().backward()
    return h.detach().numpy(), [(W.grad.numpy(), b.grad.numpy()) for W, b in tp]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("act", ["relu", "tanh", "identity"])
def test_backward_matches_autograd_for_random_shapes(seed, act):
    rng = np.random.default_rng(100 + seed)
    depth = int(rng.integers(1, 5))
    sizes = [int(v) for v in rng.integers(1, 8, size=depth + 1)]
    B = int(rng.integers(1, 6))
    params = mn.init_mlp(sizes, scheme="torch_default", seed=seed)
    X = rng.normal(size=(B, sizes[0]))
    G = rng.normal(size=(B, sizes[-1]))
    S, cache = mn.forward(params, X, act=act)
    S_ref, ref = _torch_grads(params, X, act, G)
    np.testing.assert_allclose(S, S_ref, rtol=1e-12, atol=1e-12)
    grads = mn.backward(params, cache, G)
    for (dW, db), (rW, rb), (W, b) in zip(grads, ref, params):
        assert dW.shape == W.shape and db.shape == b.shape
        np.testing.assert_allclose(dW, rW, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(db, rb, rtol=1e-10, atol=1e-12)


def test_backward_matches_central_differences_on_cross_entropy():
    rng = np.random.default_rng(0)
    params = mn.init_mlp([4, 4, 3], scheme="he", seed=2)  # the book's Fig 2.7 sizes d0 = 4, d1 = 4, d2 = 3
    params.append((rng.normal(size=(3, 3)), rng.normal(size=3)))
    X, y = rng.normal(size=(5, 4)), rng.integers(0, 3, size=5)

    def J(p):
        return losses.loglik_and_error(mn.forward(p, X, "tanh")[0], y, kind="categorical")[0]
    S, cache = mn.forward(params, X, "tanh")
    grads = mn.backward(params, cache, losses.loglik_and_error(S, y, kind="categorical")[1])
    num = mn.numerical_grad(J, params, eps=1e-6)
    for (dW, db), (nW, nb) in zip(grads, num):
        np.testing.assert_allclose(dW, nW, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(db, nb, rtol=1e-6, atol=1e-8)


def test_numerical_grad_of_a_quadratic_is_exact_enough():
    params = [(np.array([[1.0, -2.0]]), np.array([0.5]))]
    num = mn.numerical_grad(lambda p: float(np.sum(p[0][0] ** 2) + 3 * p[0][1][0]), params)
    np.testing.assert_allclose(num[0][0], [[2.0, -4.0]], rtol=1e-9)
    np.testing.assert_allclose(num[0][1], [3.0], rtol=1e-9)
    assert params[0][0][0, 0] == 1.0  # the input is not modified


@pytest.mark.parametrize("kind", ["gaussian", "bernoulli"])
@pytest.mark.parametrize("seed", range(5))
def test_one_hidden_layer_grads_match_autograd(kind, seed):
    rng = np.random.default_rng(seed)
    K, d = 6, 2
    W1, b1, w2 = rng.normal(size=(K, d)), rng.normal(size=K), rng.normal(size=K)
    b2, x = float(rng.normal()), rng.normal(size=d)
    b1[0] = -W1[0] @ x  # unit 0 exactly at z = 0: ReLU'(0) = 0, as torch
    y = float(rng.integers(0, 2)) if kind == "bernoulli" else float(rng.normal())
    out = mn.one_hidden_layer_grads(x, y, W1, b1, w2, b2, kind=kind)
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in dict(W1=W1, b1=b1, w2=w2, b2=b2).items()}
    s = t["w2"] @ torch.relu(t["W1"] @ torch.tensor(x) + t["b1"]) + t["b2"]
    if kind == "gaussian":
        J = -0.5 * (y - s) ** 2
    else:
        J = y * s - torch.nn.functional.softplus(s)
    J.backward()
    np.testing.assert_allclose(out["J"], J.item(), rtol=1e-12)
    for k in ("W1", "b1", "w2", "b2"):
        np.testing.assert_allclose(out[k], t[k].grad.numpy(), rtol=1e-10, atol=1e-12)
    assert np.all(out["W1"][out["z"] <= 0] == 0)  # inactive units pass no gradient


@pytest.mark.parametrize("scheme, var", [("he", 2 / 300), ("xavier", 2 / 500), ("normal", 0.09),
                                         ("torch_default", 1 / 900)])
def test_init_variances(scheme, var):
    (W, b), = mn.init_mlp([300, 200], scheme=scheme, sigma=0.3, seed=1)
    np.testing.assert_allclose(W.var(), var, rtol=0.03)
    assert W.shape == (200, 300) and b.shape == (200,)
    assert mn.n_params(mn.init_mlp([1, 7, 1])) == 3 * 7 + 1


def test_zero_init_relu_network_only_moves_output_bias():
    params = mn.init_mlp([2, 5, 5, 1], scheme="zero")
    X, y = np.random.default_rng(0).normal(size=(8, 2)), np.linspace(-1, 1, 8)[:, None]
    S, cache = mn.forward(params, X)
    grads = mn.backward(params, cache, y - S)
    flat = [g for pair in grads for g in pair]
    assert all(np.count_nonzero(g) == 0 for g in flat[:-1]) and np.count_nonzero(flat[-1]) == 1


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: mn.init_mlp([3]), ValueError, "sizes"),
    (lambda: mn.init_mlp([3, 0]), ValueError, r"sizes\[1\]"),
    (lambda: mn.init_mlp([3, 2], scheme="lecun"), ValueError, "scheme"),
    (lambda: mn.init_mlp([3, 2], scheme="normal"), ValueError, "sigma"),
    (lambda: mn.forward(mn.init_mlp([3, 2]), np.zeros((4, 2))), ValueError, "X: expected 3 columns"),
    (lambda: mn.forward(mn.init_mlp([3, 2]), np.zeros((4, 3)), act="gelu"), ValueError, "act"),
    (lambda: mn.forward([(np.zeros((2, 3)), np.zeros(3))], np.zeros((1, 3))), ValueError, "b_1"),
    (lambda: mn.forward([(np.zeros((2, 3)), np.zeros(2)), (np.zeros((1, 3)), np.zeros(1))], np.zeros((1, 3))),
     ValueError, "W_2"),
    (lambda: mn.forward("params", np.zeros((1, 3))), TypeError, "params"),
    (lambda: mn.backward(mn.init_mlp([3, 2]), mn.forward(mn.init_mlp([3, 2]), np.zeros((4, 3)))[1], np.zeros((4, 3))),
     ValueError, "dJ_ds"),
    (lambda: mn.backward(mn.init_mlp([3, 2]), {}, np.zeros((4, 2))), TypeError, "cache"),
    (lambda: mn.numerical_grad(3, mn.init_mlp([3, 2])), TypeError, "f"),
    (lambda: mn.one_hidden_layer_grads(np.zeros(2), 0.5, np.zeros((3, 2)), np.zeros(3), np.zeros(3), 0.0,
                                       kind="bernoulli"), ValueError, "y"),
    (lambda: mn.one_hidden_layer_grads(np.zeros(3), 0.5, np.zeros((3, 2)), np.zeros(3), np.zeros(3), 0.0),
     ValueError, "x, b1, w2"),
    (lambda: mn.one_hidden_layer_grads(np.zeros(2), 0.5, np.zeros((3, 2)), np.zeros(3), np.zeros(3), 0.0,
                                       kind="poisson"), ValueError, "kind"),
])
def test_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
