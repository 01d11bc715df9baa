"""lib.optim against torch.optim.SGD, closed forms and numpy linear algebra."""
import numpy as np
import pytest
import torch

from lib import optim
from lib.optim import Quadratic


def random_quadratic(d, kappa, seed):
    """A random SPD quadratic with eigenvalues spread over [1, kappa] and a random linear term."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eig = np.geomspace(1.0, kappa, d)
    H = Q @ np.diag(eig) @ Q.T
    return Quadratic(H=(H + H.T) / 2, b=rng.standard_normal(d))


def torch_sgd_path(q, x0, lr, momentum, steps):
    """The reference trajectory: torch's SGD driven by autograd on the same quadratic, in float64."""
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    H, b = torch.tensor(q.H), torch.tensor(q.b)
    opt = torch.optim.SGD([x], lr=lr, momentum=momentum)
    path = [x.detach().clone().numpy()]
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * x @ H @ x - b @ x).backward()
        opt.step()
        path.append(x.detach().clone().numpy())
    return np.array(path)


# --------------------------------------------------------------------------- Quadratic
def test_quadratic_gradient_and_minimiser_against_torch_and_numpy():
    q = random_quadratic(5, 30.0, seed=7)
    x = np.random.default_rng(1).standard_normal(5)
    xt = torch.tensor(x, requires_grad=True)
    f = 0.5 * xt @ torch.tensor(q.H) @ xt - torch.tensor(q.b) @ xt
    f.backward()
    np.testing.assert_allclose(q.f(x), f.item(), rtol=1e-13)
    np.testing.assert_allclose(q.grad(x), xt.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(q.argmin(), np.linalg.lstsq(q.H, q.b, rcond=None)[0], rtol=1e-10)
    np.testing.assert_allclose([q.mu, q.L, q.kappa], [1.0, 30.0, 30.0], rtol=1e-10)
    stack = np.random.default_rng(2).standard_normal((3, 4, 5))  # vectorised over leading axes
    np.testing.assert_allclose(q.f(stack)[1, 2], q.f(stack[1, 2]), rtol=1e-14)


def test_ill_conditioned_is_a_rotated_diagonal():
    q = Quadratic.ill_conditioned(50.0, angle=np.pi / 6)
    np.testing.assert_allclose([q.L, q.mu, q.kappa], [1.0, 1 / 50, 50.0], rtol=1e-12)
    w, V = np.linalg.eigh(q.H)
    assert abs(abs(V[:, 1] @ [np.cos(np.pi / 6), np.sin(np.pi / 6)]) - 1) < 1e-12  # steep direction
    np.testing.assert_allclose(q.argmin(), 0.0, atol=1e-15)


# --------------------------------------------------------------------------- optimisers vs torch
@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.99])
def test_heavy_ball_equals_torch_sgd_momentum(gamma):
    q = random_quadratic(4, 20.0, seed=int(gamma * 100))
    x0 = np.random.default_rng(0).standard_normal(4)
    eta = 0.9 / q.L
    ours = optim.heavy_ball(q.grad, x0, eta=eta, gamma=gamma, steps=200)
    ref = torch_sgd_path(q, x0, lr=eta, momentum=gamma, steps=200)
    assert ours.shape == (201, 4)
    assert np.abs(ours - ref).max() < 1e-12


def test_gd_equals_torch_sgd_without_momentum_and_heavy_ball_gamma_zero():
    q = random_quadratic(3, 10.0, seed=11)
    x0 = np.array([1.0, -2.0, 0.5])
    ours = optim.gd(q.grad, x0, eta=1.5 / q.L, steps=200)
    assert np.abs(ours - torch_sgd_path(q, x0, lr=1.5 / q.L, momentum=0.0, steps=200)).max() < 1e-12
    np.testing.assert_array_equal(ours, optim.heavy_ball(q.grad, x0, 1.5 / q.L, 0.0, 200))
    np.testing.assert_allclose(ours[-1], q.argmin(), atol=1e-8)


def test_heavy_ball_velocity_is_an_unnormalised_ema_of_gradients():
    q = random_quadratic(3, 10.0, seed=3)
    eta, gamma = 0.2, 0.7
    path = optim.heavy_ball(q.grad, np.ones(3), eta, gamma, 30)
    grads = q.grad(path[:-1])                     # g_1 .. g_30
    v = -(path[1:] - path[:-1]) / eta             # v_t recovered from x_{t+1} = x_t - eta v_t
    np.testing.assert_allclose(v, optim.ema(grads, gamma, normalized=False), rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------------- theory
@pytest.mark.parametrize("kappa", [2.0, 10.0, 100.0, 1e4])
def test_optimal_parameters_and_rates(kappa):
    mu, L = 0.3, 0.3 * kappa
    eta, gamma, rate = optim.heavy_ball_optimal(mu, L)
    np.testing.assert_allclose(eta, 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2, rtol=1e-14)
    np.testing.assert_allclose(rate, (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1), rtol=1e-14)
    np.testing.assert_allclose(gamma, rate ** 2, rtol=1e-14)
    eigs = np.linspace(mu, L, 7)
    # The optimum has double eigenvalues at mu and L; a double root moves by ~sqrt(machine eps) ~ 1.5e-8
    # under rounding of (eta, gamma), so 1e-7 is the honest tolerance here.
    assert abs(optim.iteration_spectral_radius(eta, gamma, eigs) - rate) < 1e-7
    eta_gd, rate_gd = optim.gd_optimal(mu, L)
    np.testing.assert_allclose(eta_gd, 2 / (L + mu), rtol=1e-14)
    np.testing.assert_allclose(rate_gd, (kappa - 1) / (kappa + 1), rtol=1e-14)
    np.testing.assert_allclose(optim.iteration_spectral_radius(eta_gd, 0.0, eigs), rate_gd, rtol=1e-12)


def test_spectral_radius_matches_numpy_eigenvalues_and_observed_decay():
    rng = np.random.default_rng(5)
    for _ in range(20):
        lam = rng.uniform(0.1, 3.0, size=4)
        eta, gamma = rng.uniform(0.05, 1.0), rng.uniform(0, 0.95)
        mats = [np.array([[1 + gamma - eta * l, -gamma], [1.0, 0.0]]) for l in lam]
        ref = max(np.abs(np.linalg.eigvals(m)).max() for m in mats)
        np.testing.assert_allclose(optim.iteration_spectral_radius(eta, gamma, lam), ref, rtol=1e-9)
    # the GD error on a quadratic decays at the predicted rate
    q = random_quadratic(2, 25.0, seed=8)
    eta, rate = optim.gd_optimal(q.mu, q.L)
    err = np.linalg.norm(optim.gd(q.grad, np.array([3.0, -1.0]), eta, 400) - q.argmin(), axis=1)
    observed = (err[300] / err[200]) ** (1 / 100)
    np.testing.assert_allclose(observed, rate, rtol=1e-3)


def test_stability_boundary_two_over_lambda_max():
    q = Quadratic.ill_conditioned(10.0, angle=0.4)
    x0 = np.array([1.0, 1.0])
    ok = optim.gd(q.grad, x0, 1.95 / q.L, 2000)
    bad = optim.gd(q.grad, x0, 2.05 / q.L, 2000)
    assert np.linalg.norm(ok[-1]) < 1e-8 < 1e8 < np.linalg.norm(bad[-1])
    assert optim.iteration_spectral_radius(2.05 / q.L, 0.0, q.eigvals) > 1
    # the heavy ball extends the stable range to eta L < 2 (1 + gamma)
    assert optim.iteration_spectral_radius(3.9 / q.L, 0.96, q.eigvals) < 1
    assert optim.iteration_spectral_radius(3.9 / q.L, 0.94, q.eigvals) > 1


# --------------------------------------------------------------------------- ema
@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.999])
def test_ema_weights_and_bias_correction(beta):
    T = 50
    t = np.arange(1, T + 1)
    np.testing.assert_allclose(optim.ema(np.ones(T), beta), 1 - beta ** t, rtol=1e-12)
    if beta > 0:
        np.testing.assert_allclose(optim.ema(np.ones(T), beta, normalized=False),
                                   (1 - beta ** t) / (1 - beta), rtol=1e-12)
    x = np.random.default_rng(0).standard_normal((T, 3))
    direct = np.array([(1 - beta) * sum(beta ** i * x[k - i] for i in range(k + 1)) for k in range(T)])
    np.testing.assert_allclose(optim.ema(x, beta), direct, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(optim.ema(np.full(T, 3.0), beta, bias_correct=True), 3.0, rtol=1e-12)
    np.testing.assert_allclose(optim.ema(x, beta, normalized=False, bias_correct=True),
                               optim.ema(x, beta, bias_correct=True), rtol=1e-10)


# --------------------------------------------------------------------------- bad inputs
def test_bad_inputs_raise_clear_errors():
    q = Quadratic.ill_conditioned(4.0)
    with pytest.raises(ValueError, match="H: expected a positive definite"):
        Quadratic(H=np.diag([1.0, -1.0]), b=np.zeros(2))
    with pytest.raises(ValueError, match="H: expected a symmetric"):
        Quadratic(H=np.array([[1.0, 0.5], [0.0, 1.0]]), b=np.zeros(2))
    with pytest.raises(ValueError, match=r"b: expected shape \(2,\)"):
        Quadratic(H=np.eye(2), b=np.zeros(3))
    with pytest.raises(ValueError, match="kappa: expected a condition number >= 1"):
        Quadratic.ill_conditioned(0.5)
    with pytest.raises(TypeError, match="grad_fn: expected a callable"):
        optim.gd(np.zeros(2), np.zeros(2), 0.1, 5)
    with pytest.raises(ValueError, match=r"x0: expected a non-empty 1-D array"):
        optim.gd(q.grad, np.zeros((2, 2)), 0.1, 5)
    with pytest.raises(ValueError, match="eta: expected a positive"):
        optim.heavy_ball(q.grad, np.zeros(2), 0.0, 0.5, 5)
    with pytest.raises(ValueError, match=r"gamma: expected a number in \[0, 1\)"):
        optim.heavy_ball(q.grad, np.zeros(2), 0.1, 1.0, 5)
    with pytest.raises(ValueError, match="steps: expected a non-negative integer"):
        optim.gd(q.grad, np.zeros(2), 0.1, -1)
    with pytest.raises(ValueError, match="mu, L: expected 0 < mu <= L"):
        optim.heavy_ball_optimal(2.0, 1.0)
    with pytest.raises(ValueError, match="eigvals: expected finite"):
        optim.iteration_spectral_radius(0.1, 0.5, [1.0, np.nan])
    with pytest.raises(ValueError, match=r"beta: expected a number in \[0, 1\)"):
        optim.ema(np.ones(3), 1.2)
    with pytest.raises(ValueError, match=r"seq: expected an array of shape \(T, ...\)"):
        optim.ema(np.ones(0), 0.5)
