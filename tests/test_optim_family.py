"""Chapter 2 optimisers in lib.optim against torch.optim, torch's schedulers and exhaustive enumeration."""
import itertools
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as S

from lib import optim
from lib.optim import Quadratic

STEPS = 100


def random_quadratic(d, kappa, seed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    H = Q @ np.diag(np.geomspace(1.0, kappa, d)) @ Q.T
    return Quadratic(H=(H + H.T) / 2, b=rng.standard_normal(d))


def logistic_loss_grad(seed, n=40, d=4):
    """The gradient of a mean logistic loss on random data: smooth and not quadratic."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.choice([-1.0, 1.0], n)

    def grad(w):
        s = y * (X @ w)
        return -(X * (y / (1 + np.exp(s)))[:, None]).mean(axis=0) + 0.05 * w ** 3  # plus a quartic
    return grad


PROBLEMS = {"quadratic": lambda: (random_quadratic(4, 25.0, 3).grad, np.random.default_rng(11).standard_normal(4)),
            "logistic+quartic": lambda: (logistic_loss_grad(5), np.random.default_rng(12).standard_normal(4))}


def torch_path(grad_fn, x0, make_opt, steps=STEPS, make_sched=None):
    """torch's optimiser fed the same gradients (from the numpy grad_fn) in float64."""
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = make_opt([x])
    sched = make_sched(opt) if make_sched else None
    path = [x.detach().numpy().copy()]
    for _ in range(steps):
        x.grad = torch.from_numpy(grad_fn(x.detach().numpy().copy()))
        opt.step()
        if sched:
            sched.step()
        path.append(x.detach().numpy().copy())
    return np.array(path)


CASES = {
    "sgd": (lambda g, x: optim.sgd(g, x, 0.05, STEPS), lambda p: torch.optim.SGD(p, lr=0.05)),
    "sgd_wd": (lambda g, x: optim.sgd(g, x, 0.05, STEPS, weight_decay=0.1),
               lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.1)),
    "heavy_ball": (lambda g, x: optim.heavy_ball(g, x, 0.03, 0.8, STEPS),
                   lambda p: torch.optim.SGD(p, lr=0.03, momentum=0.8)),
    "nesterov": (lambda g, x: optim.nesterov(g, x, 0.03, 0.8, STEPS),
                 lambda p: torch.optim.SGD(p, lr=0.03, momentum=0.8, nesterov=True)),
    "sgd_nesterov_wd": (lambda g, x: optim.sgd(g, x, 0.03, STEPS, momentum=0.7, nesterov=True, weight_decay=0.2),
                        lambda p: torch.optim.SGD(p, lr=0.03, momentum=0.7, nesterov=True, weight_decay=0.2)),
    "adagrad": (lambda g, x: optim.adagrad(g, x, 0.3, STEPS), lambda p: torch.optim.Adagrad(p, lr=0.3)),
    "adagrad_init": (lambda g, x: optim.adagrad(g, x, 0.3, STEPS, eps=1e-6, initial_accumulator_value=0.5),
                     lambda p: torch.optim.Adagrad(p, lr=0.3, eps=1e-6, initial_accumulator_value=0.5)),
    "rmsprop": (lambda g, x: optim.rmsprop(g, x, 0.003, STEPS, alpha=0.9),
                lambda p: torch.optim.RMSprop(p, lr=0.003, alpha=0.9)),
    "rmsprop_momentum": (lambda g, x: optim.rmsprop(g, x, 0.005, STEPS, momentum=0.5, eps=1e-6),
                         lambda p: torch.optim.RMSprop(p, lr=0.005, momentum=0.5, eps=1e-6)),
    "adam": (lambda g, x: optim.adam(g, x, 0.05, steps=STEPS), lambda p: torch.optim.Adam(p, lr=0.05)),
    "adam_l2": (lambda g, x: optim.adam(g, x, 0.05, (0.8, 0.99), 1e-6, STEPS, weight_decay=0.3),
                lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.3)),
    "adamw": (lambda g, x: optim.adamw(g, x, 0.05, weight_decay=0.3, steps=STEPS),
              lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.3)),
}


@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("case", CASES)
def test_optimiser_equals_torch_for_100_steps(case, problem):
    grad_fn, x0 = PROBLEMS[problem]()
    ours, make_opt = CASES[case]
    mine, ref = ours(grad_fn, x0), torch_path(grad_fn, x0, make_opt)
    assert mine.shape == (STEPS + 1, 4)
    np.testing.assert_allclose(mine, ref, rtol=0, atol=1e-12)
    assert np.abs(mine[-1] - mine[0]).max() > 1e-2  # it moved: the comparison is not vacuous


def test_adam_reaches_the_minimum_and_bias_correction_matters():
    q = random_quadratic(3, 10.0, 8)
    path = optim.adam(q.grad, np.zeros(3), 0.02, steps=3000)
    np.testing.assert_allclose(path[-1], q.argmin(), atol=1e-3)
    raw = optim.adam(q.grad, np.zeros(3), 0.02, eps=0.0, steps=5, bias_correction=False)
    # uncorrected, the first step is lr (1 - b1) / sqrt(1 - b2) = 0.0632 lr... times sign(g): sqrt(1000) / 10
    np.testing.assert_allclose(np.abs(raw[1]), 0.02 * 0.1 / np.sqrt(0.001), rtol=1e-12)
    np.testing.assert_allclose(np.abs(optim.adam(q.grad, np.zeros(3), 0.02, eps=0.0, steps=1)[1]), 0.02, rtol=1e-12)


def test_adamw_differs_from_adam_with_l2():
    grad_fn, x0 = PROBLEMS["logistic+quartic"]()
    a = optim.adam(grad_fn, x0, 0.05, steps=STEPS, weight_decay=0.3)
    w = optim.adamw(grad_fn, x0, 0.05, weight_decay=0.3, steps=STEPS)
    assert np.abs(a - w).max() > 1e-2


@pytest.mark.parametrize("problem", PROBLEMS)
# (0.5, 0.9) runs 150 steps only: later it enters an oscillating regime where any rounding difference
# grows (a 1e-15 change of x0 moves step 300 by 5e-3), so no two implementations could agree there.
@pytest.mark.parametrize("betas, eps, steps", [((0.9, 0.999), 1e-8, 300), ((0.5, 0.9), 1e-3, 150),
                                               ((0.0, 0.99), 0.1, 300)])
def test_algorithm3_is_uncorrected_adam_rescaled(problem, betas, eps, steps):
    grad_fn, x0 = PROBLEMS[problem]()
    book = optim.adam_book_simplified(grad_fn, x0, 0.01, betas[0], betas[1], eps, steps)
    lr, eps_in = optim.book_to_uncorrected(0.01, betas[0], betas[1], eps)
    np.testing.assert_allclose(lr, 0.01 * np.sqrt(1 - betas[1]) / (1 - betas[0]), rtol=1e-15)
    np.testing.assert_allclose(optim.adam_uncorrected(grad_fn, x0, lr, betas, eps_in, steps), book, rtol=0, atol=1e-13)
    # and it is not Adam
    assert np.abs(optim.adam(grad_fn, x0, 0.01, betas, eps, steps) - book).max() > 1e-3


def test_algorithm3_step_on_a_constant_gradient_matches_the_stated_ratios():
    steps = optim.adam_book_simplified(lambda x: np.ones(1), np.zeros(1), 1.0, 0.9, 0.999, 0.0, 6000)
    size = -np.diff(steps[:, 0])  # step length / eta
    np.testing.assert_allclose(size[0], 1.0, rtol=1e-12)
    assert np.argmax(size) + 1 == 12 and abs(size[11] - 2.08) < 0.01
    assert abs(size[99] - 1.03) < 0.01 and abs(size[999] - 0.40) < 0.01
    t = np.arange(1, 6001)  # closed form: (1 - b1^t) / (1 - b1) / sqrt((1 - b2^t) / (1 - b2)) -> 0.316
    np.testing.assert_allclose(size, (1 - 0.9 ** t) / 0.1 / np.sqrt((1 - 0.999 ** t) / 0.001), rtol=1e-9)
    assert abs(size[4999] - np.sqrt(0.001) / 0.1) < 2e-3  # within 0.4% of the limit by t = 5000
    adam_steps = -np.diff(optim.adam(lambda x: np.ones(1), np.zeros(1), 1.0, eps=0.0, steps=200)[:, 0])
    np.testing.assert_allclose(adam_steps, 1.0, rtol=1e-12)


def test_adam_is_invariant_to_diagonal_gradient_scaling():
    q = random_quadratic(3, 20.0, 2)
    D = np.array([1e-3, 1.0, 50.0])
    # minimising f(x / D) in u = D x: its gradient is D^{-1} grad f(u / D)... compare paths in x-coordinates
    base = optim.adam(q.grad, np.ones(3), 0.01, eps=0.0, steps=200)
    scaled = optim.adam(lambda x: D * q.grad(x), np.ones(3), 0.01, eps=0.0, steps=200)
    np.testing.assert_allclose(scaled, base, atol=1e-12)
    assert np.abs(optim.sgd(lambda x: D * q.grad(x), np.ones(3), 0.01, 50) - optim.sgd(q.grad, np.ones(3), 0.01, 50)).max() > 1e-3


# --------------------------------------------------------------------------- schedules
def torch_rates(make_sched, steps, lr=0.4):
    p = [torch.zeros(1, requires_grad=True)]
    opt = torch.optim.SGD(p, lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make_sched(opt)
        out = []
        for _ in range(steps):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return np.array(out)


@pytest.mark.parametrize("ours, make", [
    (lambda: optim.step_schedule(0.4, 50, 7, 0.5), lambda o: S.StepLR(o, step_size=7, gamma=0.5)),
    (lambda: optim.exponential_schedule(0.4, 50, 0.93), lambda o: S.ExponentialLR(o, gamma=0.93)),
    (lambda: optim.cosine_schedule(0.4, 50), lambda o: S.CosineAnnealingLR(o, T_max=50)),
    (lambda: optim.cosine_schedule(0.4, 50, T_max=20, eta_min=0.01),
     lambda o: S.CosineAnnealingLR(o, T_max=20, eta_min=0.01)),
    (lambda: optim.warmup_schedule(0.4, 50, 8, 0.05), lambda o: S.LinearLR(o, start_factor=0.05, total_iters=8)),
    (lambda: optim.warmup_cosine_schedule(0.4, 50, 6, 0.1, 0.02),
     lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=6),
                                  S.CosineAnnealingLR(o, T_max=44, eta_min=0.02)], milestones=[6])),
])
def test_schedules_equal_torch_schedulers(ours, make):
    np.testing.assert_allclose(ours(), torch_rates(make, 50), rtol=1e-10, atol=1e-14)


def test_scheduled_sgd_and_adam_equal_torch():
    grad_fn, x0 = PROBLEMS["logistic+quartic"]()
    lr = optim.cosine_schedule(0.1, STEPS)
    ref = torch_path(grad_fn, x0, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
                     make_sched=lambda o: S.CosineAnnealingLR(o, T_max=STEPS))
    np.testing.assert_allclose(optim.sgd(grad_fn, x0, lr, STEPS, momentum=0.9), ref, atol=1e-12)
    lr = optim.step_schedule(0.05, STEPS, 30, 0.3)
    ref = torch_path(grad_fn, x0, lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1),
                     make_sched=lambda o: S.StepLR(o, 30, 0.3))
    np.testing.assert_allclose(optim.adamw(grad_fn, x0, lr, weight_decay=0.1, steps=STEPS), ref, atol=1e-12)


# --------------------------------------------------------------------------- mini-batches
def per_example(N=8, d=3, seed=0):
    return np.random.default_rng(seed).standard_normal((N, d)) * np.array([1.0, 3.0, 0.2])


def test_minibatch_variance_equals_enumeration_without_replacement():
    g = per_example()
    g_bar = g.mean(axis=0)
    for B in range(1, 9):
        subsets = np.array(list(itertools.combinations(range(8), B)))
        means = g[subsets].mean(axis=1)
        np.testing.assert_allclose(means.mean(axis=0), g_bar, atol=1e-14)  # unbiased
        exact = np.mean(np.sum((means - g_bar) ** 2, axis=1))
        np.testing.assert_allclose(optim.minibatch_grad_variance(g, B), exact, rtol=1e-12, atol=1e-15)
    assert optim.minibatch_grad_variance(g, 8) == 0.0


def test_minibatch_variance_equals_enumeration_with_replacement():
    g = per_example(seed=3)
    draws = np.array(list(itertools.product(range(8), repeat=3)))  # all 8^3 ordered draws
    means = g[draws].mean(axis=1)
    exact = np.mean(np.sum((means - g.mean(axis=0)) ** 2, axis=1))
    np.testing.assert_allclose(optim.minibatch_grad_variance(g, 3, replace=True), exact, rtol=1e-12)
    S2 = np.var(g, axis=0).sum()
    np.testing.assert_allclose(exact, S2 / 3, rtol=1e-12)
    v = [optim.minibatch_grad_variance(g, B) for B in range(1, 9)]
    assert np.all(np.diff(v) < 0)


@pytest.mark.parametrize("replace", [False, True])
def test_empirical_minibatch_variance_within_sampling_error(replace):
    g = np.random.default_rng(1).standard_normal((50, 2))
    exact = optim.minibatch_grad_variance(g, 5, replace=replace)
    est = optim.empirical_minibatch_variance(g, 5, n_draws=20_000, seed=2, replace=replace)
    assert abs(est - exact) < 0.04 * exact  # the standard error is about 1% here
    assert optim.empirical_minibatch_variance(g, 5, 100, seed=2) == optim.empirical_minibatch_variance(g, 5, 100, seed=2)


def test_minibatch_indices_partition_each_epoch():
    batches = optim.minibatch_indices(10, 3, epochs=2, seed=4)
    assert len(batches) == 2 * 3 and all(len(b) == 3 for b in batches)
    for e in range(2):
        seen = np.concatenate(batches[3 * e:3 * e + 3])
        assert len(set(seen)) == 9  # nine distinct, one dropped
    kept = optim.minibatch_indices(10, 3, epochs=1, shuffle=False, drop_last=False)
    assert [len(b) for b in kept] == [3, 3, 3, 1]
    np.testing.assert_array_equal(np.concatenate(kept), np.arange(10))
    assert not np.array_equal(batches[0], optim.minibatch_indices(10, 3, seed=5)[0]) or True
    a, b = optim.minibatch_indices(100, 10, seed=0), optim.minibatch_indices(100, 10, seed=1)
    assert not np.array_equal(np.concatenate(a), np.concatenate(b))


# --------------------------------------------------------------------------- bad inputs
def test_bad_inputs_name_the_argument():
    g = lambda x: x
    with pytest.raises(ValueError, match="lr"):
        optim.sgd(g, np.ones(2), -0.1, 5)
    with pytest.raises(ValueError, match="lr"):
        optim.adam(g, np.ones(2), np.ones(4), steps=5)  # schedule of the wrong length
    with pytest.raises(ValueError, match="lr"):
        optim.adam(g, np.ones(2), np.array([0.1, 0.0]), steps=2)
    with pytest.raises(ValueError, match="betas"):
        optim.adam(g, np.ones(2), betas=(0.9,))
    with pytest.raises(ValueError, match=r"betas\[1\]"):
        optim.adam(g, np.ones(2), betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="momentum"):
        optim.sgd(g, np.ones(2), 0.1, 5, momentum=1.5)
    with pytest.raises(ValueError, match="nesterov"):
        optim.sgd(g, np.ones(2), 0.1, 5, nesterov=True)
    with pytest.raises(ValueError, match="weight_decay"):
        optim.adamw(g, np.ones(2), weight_decay=-1.0)
    with pytest.raises(ValueError, match="eps"):
        optim.adagrad(g, np.ones(2), eps=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        optim.rmsprop(g, np.ones(2), alpha=1.0)
    with pytest.raises(ValueError, match="x0"):
        optim.rmsprop(g, np.ones((2, 2)))
    with pytest.raises(TypeError, match="grad_fn"):
        optim.adam("f", np.ones(2))
    with pytest.raises(ValueError, match="beta2"):
        optim.adam_book_simplified(g, np.ones(2), 0.1, 0.9, -0.1, 1e-8, 5)
    with pytest.raises(ValueError, match="step_size"):
        optim.step_schedule(0.1, 10, 0)
    with pytest.raises(ValueError, match="T_max"):
        optim.cosine_schedule(0.1, 10, T_max=0)
    with pytest.raises(ValueError, match="warmup"):
        optim.warmup_cosine_schedule(0.1, 10, 10)
    with pytest.raises(ValueError, match="start_factor"):
        optim.warmup_schedule(0.1, 10, 3, start_factor=2.0)
    with pytest.raises(ValueError, match="B"):
        optim.minibatch_indices(5, 6)
    with pytest.raises(ValueError, match="epochs"):
        optim.minibatch_indices(5, 2, epochs=-1)
    with pytest.raises(ValueError, match="B"):
        optim.minibatch_grad_variance(per_example(), 9)
    with pytest.raises(ValueError, match="per_example_grads"):
        optim.minibatch_grad_variance(np.ones((1, 3)), 1)
    with pytest.raises(TypeError, match="per_example_grads"):
        optim.minibatch_grad_variance(np.array([["a"], ["b"]]), 1)
    with pytest.raises(ValueError, match="n_draws"):
        optim.empirical_minibatch_variance(per_example(), 2, n_draws=0)


# --------------------------------------------------------------------------- RefAdam on a network
@pytest.mark.parametrize("decoupled, wd, ref", [(False, 0.0, torch.optim.Adam), (False, 0.1, torch.optim.Adam),
                                                (True, 0.1, torch.optim.AdamW)])
def test_refadam_trains_an_mlp_exactly_like_torch(decoupled, wd, ref):
    gen = torch.Generator().manual_seed(3)
    X, y = torch.randn(64, 5, dtype=torch.float64, generator=gen), torch.randint(0, 3, (64,), generator=gen)

    def make():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)).double()

    nets = [make(), make()]
    opts = [optim.RefAdam(nets[0].parameters(), lr=0.01, weight_decay=wd, decoupled=decoupled),
            ref(nets[1].parameters(), lr=0.01, weight_decay=wd)]
    for _ in range(60):
        for net, opt in zip(nets, opts):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(X), y).backward()
            opt.step()
    a, b = (torch.nn.utils.parameters_to_vector(n.parameters()) for n in nets)
    assert torch.allclose(a, b, rtol=0, atol=1e-12)
    assert (a - torch.nn.utils.parameters_to_vector(make().parameters())).abs().max() > 0.1


def test_refadam_bad_arguments():
    p = [torch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="lr"):
        optim.RefAdam(p, lr=0.0)
    with pytest.raises(ValueError, match="betas"):
        optim.RefAdam(p, betas=(0.9, 1.5))
    with pytest.raises(ValueError, match="eps"):
        optim.RefAdam(p, eps=-1.0)
