"""lib.nn: MLP construction, initialisation, training and ReLU geometry against torch, sklearn and closed forms."""
import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits
from torch import nn
from torch.nn import functional as F

from lib import nn as libnn



# --------------------------------------------------------------------------- make_mlp
def test_make_mlp_structure_and_parameter_count():
    m = libnn.make_mlp([3, 7, 5, 2], act="tanh")
    kinds = [type(mod) for mod in m]
    assert kinds == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert sum(p.numel() for p in m.parameters()) == 3 * 7 + 7 + 7 * 5 + 5 + 5 * 2 + 2
    # the book's counts for one hidden layer of m units: 3m + 1 (1-D input), 4m + 1 (2-D input)
    for width in (1, 4, 50):
        assert sum(p.numel() for p in libnn.make_mlp([1, width, 1]).parameters()) == 3 * width + 1
        assert sum(p.numel() for p in libnn.make_mlp([2, width, 1]).parameters()) == 4 * width + 1


def test_make_mlp_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = libnn.flat_params(libnn.make_mlp([4, 16, 3], seed=5))
    after = torch.rand(3)
    assert torch.equal(before, after)
    b = libnn.flat_params(libnn.make_mlp([4, 16, 3], seed=5))
    c = libnn.flat_params(libnn.make_mlp([4, 16, 3], seed=6))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("init, var_fn", [
    ("he", lambda n_in, n_out: 2 / n_in),
    ("xavier", lambda n_in, n_out: 2 / (n_in + n_out)),
    ("torch_default", lambda n_in, n_out: 1 / (3 * n_in)),
])
def test_init_variances_match_closed_forms_and_torch(init, var_fn):
    n_in, n_out = 400, 300
    m = libnn.make_mlp([n_in, n_out, 1], init=init, dtype=torch.float64, seed=1)
    W = m[0].weight.detach()
    np.testing.assert_allclose(W.var().item(), var_fn(n_in, n_out), rtol=0.02)
    assert abs(W.mean().item()) < 0.01 * math.sqrt(var_fn(n_in, n_out))
    # same distribution as torch's own recipe (two-sample: variances agree, same support)
    ref = torch.empty(n_out, n_in, dtype=torch.float64)
    if init == "he":
        nn.init.kaiming_normal_(ref)  # defaults: fan_in, leaky_relu with a = 0 -> gain sqrt(2)
    elif init == "xavier":
        nn.init.xavier_normal_(ref)
    else:
        ref = nn.Linear(n_in, n_out, dtype=torch.float64).weight.detach()
        assert W.abs().max().item() <= 1 / math.sqrt(n_in)
        bias = m[0].bias.detach()
        assert bias.abs().max().item() <= 1 / math.sqrt(n_in) and bias.abs().max().item() > 0
    np.testing.assert_allclose(W.var().item(), ref.var().item(), rtol=0.03)
    if init != "torch_default":
        assert torch.count_nonzero(m[0].bias) == 0


def test_zero_init_is_all_zero():
    m = libnn.make_mlp([2, 5, 5, 1], init="zero")
    assert torch.count_nonzero(libnn.flat_params(m)) == 0


# --------------------------------------------------------------------------- train
def _manual_run(model, X, y, loss_fn, make_opt, epochs, batches):
    opt = make_opt(model.parameters())
    for _ in range(epochs):
        for idx in batches():
            opt.zero_grad()
            loss_fn(model(X[idx]), y[idx]).backward()
            opt.step()
    return libnn.flat_params(model)


@pytest.mark.parametrize("optimizer, make_opt", [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.05)),
    ("momentum", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    ("adam", lambda p: torch.optim.Adam(p, lr=0.05)),
])
def test_full_batch_training_equals_a_plain_torch_loop(optimizer, make_opt):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] - X[:, 1] ** 2 > 0).astype(float)
    m1 = libnn.make_mlp([3, 10, 1], dtype=torch.float64, seed=2)
    m2 = libnn.make_mlp([3, 10, 1], dtype=torch.float64, seed=2)
    hist = libnn.train(m1, X, y, loss="bce", optimizer=optimizer, lr=0.05, epochs=25)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    ref = _manual_run(m2, Xt, yt, lambda s, t: F.binary_cross_entropy_with_logits(s[:, 0], t),
                      make_opt, 25, lambda: [slice(None)])
    torch.testing.assert_close(libnn.flat_params(m1), ref, rtol=0, atol=1e-12)
    assert hist.steps == 25 and len(hist.loss) == 25
    # full batch: the recorded loss is the loss before the step, so entry 0 is the initial loss
    m0 = libnn.make_mlp([3, 10, 1], dtype=torch.float64, seed=2)
    init_loss = F.binary_cross_entropy_with_logits(m0(Xt)[:, 0], yt).item()
    np.testing.assert_allclose(hist.loss[0], init_loss, rtol=1e-12)


def test_minibatches_follow_the_seeded_permutation_and_count_steps():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = X @ np.array([1.0, -2.0]) + 0.5
    m1 = libnn.make_mlp([2, 6, 1], dtype=torch.float64, seed=4)
    m2 = libnn.make_mlp([2, 6, 1], dtype=torch.float64, seed=4)
    hist = libnn.train(m1, X, y, loss="mse", optimizer="sgd", lr=0.01, epochs=3, batch_size=16, seed=9)
    assert hist.steps == 3 * 4  # ceil(50 / 16) batches per epoch, the short one kept
    gen = torch.Generator().manual_seed(9)

    def batches():
        order = torch.randperm(50, generator=gen)
        return [order[i:i + 16] for i in range(0, 50, 16)]
    Xt, yt = torch.tensor(X), torch.tensor(y)
    ref = _manual_run(m2, Xt, yt, lambda s, t: F.mse_loss(s[:, 0], t),
                      lambda p: torch.optim.SGD(p, lr=0.01), 3, batches)
    torch.testing.assert_close(libnn.flat_params(m1), ref, rtol=0, atol=1e-12)
    m3 = libnn.make_mlp([2, 6, 1], seed=4)
    assert libnn.train(m3, X, y, loss="mse", epochs=2, batch_size=16, drop_last=True).steps == 2 * 3


def test_digits_classifier_reaches_sklearn_level_accuracy():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=1, stratify=y)
    m = libnn.make_mlp([64, 64, 10], seed=0)
    hist = libnn.train(m, Xtr, ytr, loss="ce", lr=3e-3, epochs=20, batch_size=64,
                       record=("loss", "accuracy"), val=(Xte, yte))
    ours = libnn.accuracy(m, Xte, yte)
    assert ours == hist.val_accuracy[-1]
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's convergence warning at max_iter=60
        sk = MLPClassifier(hidden_layer_sizes=(64,), max_iter=60, random_state=0).fit(Xtr, ytr).score(Xte, yte)
    assert ours > 0.93 and abs(ours - sk) < 0.04
    assert hist.loss[-1] < hist.loss[0] / 5 and len(hist.val_loss) == 20
    assert hist.accuracy[-1] >= ours - 0.01


def test_callback_sees_every_epoch():
    seen = []
    m = libnn.make_mlp([1, 4, 1])
    libnn.train(m, np.zeros((5, 1)), np.zeros(5), loss="mse", epochs=4, callback=lambda e, mod: seen.append(e))
    assert seen == [0, 1, 2, 3]


# --------------------------------------------------------------------------- parameters and activations
def test_flat_params_roundtrip_and_function_change():
    m = libnn.make_mlp([2, 5, 3], seed=1)
    v = libnn.flat_params(m)
    X = torch.randn(4, 2)
    before = m(X).detach()
    libnn.set_flat_params(m, v * 2)
    torch.testing.assert_close(libnn.flat_params(m), v * 2)
    assert not torch.allclose(m(X), before)
    libnn.set_flat_params(m, v)
    torch.testing.assert_close(m(X).detach(), before)
    with pytest.raises(ValueError, match="v: expected 33 entries"):
        libnn.set_flat_params(m, v[:-1])


def test_layer_activations_match_manual_forward():
    m = libnn.make_mlp([3, 4, 4, 2], seed=3, dtype=torch.float64)
    X = torch.randn(6, 3, dtype=torch.float64)
    acts = libnn.layer_activations(m, X)
    W1, b1, W2, b2, W3, b3 = [p.detach() for p in m.parameters()]
    h1 = torch.relu(X @ W1.T + b1)
    h2 = torch.relu(h1 @ W2.T + b2)
    for got, want in zip(acts, [X, h1, h2, h2 @ W3.T + b3]):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-14)
    assert len(acts) == 4


# --------------------------------------------------------------------------- ReLU geometry
def test_kinks_1d_are_where_the_function_bends():
    m = libnn.make_mlp([1, 6, 1], dtype=torch.float64, seed=11)
    with torch.no_grad():
        m[0].weight[2, 0] = 0.0
    kinks = libnn.kinks_1d(m)
    assert np.isnan(kinks[2]) and np.isfinite(np.delete(kinks, 2)).all()
    x = torch.linspace(-8, 8, 16001, dtype=torch.float64)[:, None]
    f = m(x).detach().numpy()[:, 0]
    second = np.abs(np.diff(f, 2))
    bends = x[1:-1, 0].numpy()[second > 1e-9]
    inside = np.sort([k for k in kinks if np.isfinite(k) and -7.9 < k < 7.9])
    assert len(bends) >= len(inside)
    for k in inside:  # every finite kink sits within one grid step of a measured bend
        assert np.min(np.abs(bends - k)) <= 1e-3 + 1e-9


def _lines_model(W, b):
    m = libnn.make_mlp([2, len(b), 1], dtype=torch.float64)
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor(W))
        m[0].bias.copy_(torch.tensor(b))
    return m


@pytest.mark.parametrize("K", [1, 2, 3, 5, 7])
def test_count_regions_equals_general_position_formula(K):
    theta = np.pi * (np.arange(K) + 0.3) / K  # tangents to the unit circle: no two parallel, no three concurrent
    W = np.column_stack([np.cos(theta), np.sin(theta)])
    m = _lines_model(W, -np.ones(K))
    pts = [np.linalg.solve(W[[i, j]], [1, 1]) for i in range(K) for j in range(i)]
    half = 1.3 * max([1.5] + [np.abs(p).max() for p in pts])
    assert libnn.count_regions_2d(m, box=(-half, half, -half, half), res=600) == 1 + K + K * (K - 1) // 2
    fold_W, fold_b = libnn.fold_lines_2d(m)
    np.testing.assert_array_equal(fold_W, W)
    np.testing.assert_array_equal(fold_b, -np.ones(K))


def test_count_regions_parallel_lines_and_random_bound():
    W = np.tile([[1.0, 0.0]], (4, 1))
    m = _lines_model(W, -np.array([-1.5, -0.5, 0.5, 1.5]))  # x1 = -1.5, -0.5, 0.5, 1.5
    assert libnn.count_regions_2d(m, box=(-2, 2, -2, 2), res=200) == 5
    for seed in range(3):
        m = libnn.make_mlp([2, 6, 1], seed=seed)
        assert libnn.count_regions_2d(m) <= 1 + 6 + 15


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, exc, msg", [
    (dict(sizes=[3]), ValueError, "sizes"),
    (dict(sizes="3,4"), TypeError, "sizes"),
    (dict(sizes=[3, 0, 1]), ValueError, r"sizes\[1\]"),
    (dict(sizes=[3, 2], act="swish"), ValueError, "act"),
    (dict(sizes=[3, 2], init="orthogonal"), ValueError, "init"),
    (dict(sizes=[3, 2], dtype=torch.int32), TypeError, "dtype"),
    (dict(sizes=[3, 2], seed=-1), ValueError, "seed"),
])
def test_make_mlp_rejects_bad_input(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        libnn.make_mlp(**kwargs)


@pytest.mark.parametrize("kwargs, exc, msg", [
    (dict(loss="hinge"), ValueError, "loss"),
    (dict(optimizer="rmsprop"), ValueError, "optimizer"),
    (dict(lr=0.0), ValueError, "lr"),
    (dict(epochs=-1), ValueError, "epochs"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(record=("f1",)), ValueError, "record"),
    (dict(loss="mse", record=("accuracy",)), ValueError, "record"),
    (dict(val=np.zeros(3)), TypeError, "val"),
    (dict(callback=3), TypeError, "callback"),
])
def test_train_rejects_bad_options(kwargs, exc, msg):
    m = libnn.make_mlp([2, 3, 1])
    with pytest.raises(exc, match=msg):
        libnn.train(m, np.zeros((4, 2)), np.zeros(4), **kwargs)


def test_train_rejects_bad_data():
    m = libnn.make_mlp([2, 3, 1])
    with pytest.raises(ValueError, match="y: expected 4 targets"):
        libnn.train(m, np.zeros((4, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="X: expected finite"):
        libnn.train(m, np.full((4, 2), np.nan), np.zeros(4))
    with pytest.raises(ValueError, match="X: expected a tensor with 2"):
        libnn.train(m, np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="integer class labels"):
        libnn.train(libnn.make_mlp([2, 3]), np.zeros((4, 2)), np.full(4, 0.5), loss="ce")
    with pytest.raises(TypeError, match="model"):
        libnn.train("net", np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="one input feature"):
        libnn.kinks_1d(m)
    with pytest.raises(ValueError, match="two input features"):
        libnn.count_regions_2d(libnn.make_mlp([1, 3, 1]))
    with pytest.raises(ValueError, match="box"):
        libnn.count_regions_2d(m, box=(1, 0, 0, 1))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_model_and_training_agree_with_cpu():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    y = (X[:, 0] > 0).astype(float)
    cpu = libnn.make_mlp([2, 16, 1], seed=3)
    gpu = libnn.make_mlp([2, 16, 1], seed=3, device="cuda")
    torch.testing.assert_close(libnn.flat_params(gpu).cpu(), libnn.flat_params(cpu))
    libnn.train(cpu, X, y, epochs=20, lr=1e-2)
    libnn.train(gpu, X, y, epochs=20, lr=1e-2)
    torch.testing.assert_close(libnn.flat_params(gpu).cpu(), libnn.flat_params(cpu), rtol=1e-4, atol=1e-5)


def test_activation_patterns_match_manual_signs():
    m = libnn.make_mlp([2, 5, 4, 1], dtype=torch.float64, seed=8)
    X = torch.randn(50, 2, dtype=torch.float64)
    W1, b1, W2, b2 = [p.detach() for p in m.parameters()][:4]
    z1 = X @ W1.T + b1
    z2 = torch.relu(z1) @ W2.T + b2
    want = torch.cat([z1 > 0, z2 > 0], dim=1).numpy()
    np.testing.assert_array_equal(libnn.activation_patterns(m, X), want)


def test_train_and_accuracy_take_image_batches():
    """A convolutional model trains on (N, C, H, W) inputs as an MLP does on (N, d)."""
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(64, 1, 6, 6, generator=gen)
    y = (X[:, 0, :, :3].sum((1, 2)) > X[:, 0, :, 3:].sum((1, 2))).long()   # left half brighter?
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 36, 2))
    hist = libnn.train(model, X, y, loss="ce", lr=1e-2, epochs=60, record=("loss", "accuracy"))
    assert hist.loss[-1] < 0.5 * hist.loss[0]
    assert libnn.accuracy(model, X, y) > 0.9
    with pytest.raises(ValueError, match="X: expected a tensor with 2 or 3 or 4 or 5 dimensions"):
        libnn.accuracy(model, torch.zeros(5), torch.zeros(5, dtype=torch.long))
