"""lib.ssm: recurrence = convolution = FFT = scipy.signal, discretisations against scipy, the LTI layer."""
import numpy as np
import pytest
import torch
from scipy import signal
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from lib import ssm


def random_system(N=5, d_in=1, d_out=1, seed=0, radius=0.9):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(N, N))
    A *= radius / np.abs(np.linalg.eigvals(A)).max()
    B = rng.normal(size=(N, d_in))
    C = rng.normal(size=(d_out, N))
    return A, B, C


def t(a):
    return torch.as_tensor(a, dtype=torch.float64)


def test_recurrence_equals_direct_and_fft_convolution_and_dlsim():
    A, B, C = random_system(N=6, seed=1)
    x = np.random.default_rng(2).normal(size=57)
    y_rec, hs = ssm.ssm_recurrent(t(A), t(B[:, 0]), t(C[0]), t(x))
    K = ssm.ssm_kernel(t(A), t(B[:, 0]), t(C[0]), 57)
    assert K.shape == (57,) and hs.shape == (57, 6)
    y_dir = ssm.causal_conv(K, t(x), "direct")
    y_fft = ssm.causal_conv(K, t(x), "fft")
    # scipy's state update comes after the output: y_t = C A h_{t-1} + C B x_t with its state h_{t-1}
    _, y_sp, _ = signal.dlsim((A, B, C @ A, C @ B, 1), x)
    for y in (y_dir, y_fft):
        np.testing.assert_allclose(y.numpy(), y_rec.numpy(), atol=1e-12)
    np.testing.assert_allclose(y_rec.numpy(), y_sp[:, 0], atol=1e-12)
    # the kernel is the impulse response
    np.testing.assert_allclose(K.numpy(), [(C @ np.linalg.matrix_power(A, k) @ B)[0, 0] for k in range(57)], atol=1e-12)


def test_multichannel_batched_and_conv1d():
    A, B, C = random_system(N=4, d_in=3, d_out=2, seed=3)
    x = t(np.random.default_rng(4).normal(size=(5, 20, 3)))
    y_rec, _ = ssm.ssm_recurrent(t(A), t(B), t(C), x)
    K = ssm.ssm_kernel(t(A), t(B), t(C), 20)
    assert K.shape == (20, 2, 3) and y_rec.shape == (5, 20, 2)
    np.testing.assert_allclose(ssm.causal_conv(K, x, "fft").numpy(), y_rec.numpy(), atol=1e-12)
    np.testing.assert_allclose(ssm.causal_conv(K, x).numpy(), y_rec.numpy(), atol=1e-12)
    # torch conv1d is a cross-correlation: flip the kernel and pad on the left
    w = K.flip(0).permute(1, 2, 0)  # (D_out, D_in, L)
    y_t = torch.nn.functional.conv1d(torch.nn.functional.pad(x.transpose(1, 2), (19, 0)), w).transpose(1, 2)
    np.testing.assert_allclose(y_t.numpy(), y_rec.numpy(), atol=1e-12)


def test_initial_state_adds_free_response():
    A, B, C = random_system(N=3, seed=5)
    h0 = t([1.0, -2.0, 0.5])
    x = t(np.zeros(10))
    y, _ = ssm.ssm_recurrent(t(A), t(B[:, 0]), t(C[0]), x, h0=h0)
    np.testing.assert_allclose(y.numpy(), [(C @ np.linalg.matrix_power(A, k + 1) @ h0.numpy())[0] for k in range(10)],
                               atol=1e-12)


def test_zoh_matches_cont2discrete_and_expm_and_solve_ivp():
    rng = np.random.default_rng(6)
    A = rng.normal(size=(4, 4)) - 2 * np.eye(4)
    B = rng.normal(size=(4, 2))
    dt = 0.3
    Ad, Bd = ssm.discretize_zoh(t(A), t(B), dt)
    ref = signal.cont2discrete((A, B, np.eye(4), np.zeros((4, 2))), dt, method="zoh")
    np.testing.assert_allclose(Ad.numpy(), ref[0], atol=1e-12)
    np.testing.assert_allclose(Bd.numpy(), ref[1], atol=1e-12)
    np.testing.assert_allclose(Ad.numpy(), expm(A * dt), atol=1e-12)
    # the book's formula when A is invertible
    np.testing.assert_allclose(Bd.numpy(), np.linalg.solve(A, (expm(A * dt) - np.eye(4)) @ B), atol=1e-12)
    h0, u = rng.normal(size=4), rng.normal(size=2)
    sol = solve_ivp(lambda _, h: A @ h + B @ u, (0, dt), h0, rtol=1e-12, atol=1e-12, method="DOP853")
    np.testing.assert_allclose(Ad.numpy() @ h0 + Bd.numpy() @ u, sol.y[:, -1], atol=1e-9)


def test_zoh_with_singular_A():
    A = np.array([[0.0, 1.0], [0.0, 0.0]])  # double integrator: A is nilpotent, A^{-1} does not exist
    B = np.array([0.0, 1.0])
    dt = 0.5
    Ad, Bd = ssm.discretize_zoh(t(A), t(B), dt)
    ref = signal.cont2discrete((A, B[:, None], np.eye(2), np.zeros((2, 1))), dt, method="zoh")
    np.testing.assert_allclose(Bd.numpy(), ref[1][:, 0], atol=1e-14)
    np.testing.assert_allclose(Bd.numpy(), [dt ** 2 / 2, dt], atol=1e-14)  # the textbook answer
    np.testing.assert_allclose(Ad.numpy(), [[1, dt], [0, 1]], atol=1e-14)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.solve(A, (expm(A * dt) - np.eye(2)) @ B)


@pytest.mark.parametrize("method", ["euler", "bilinear"])
def test_euler_and_bilinear_match_cont2discrete(method):
    rng = np.random.default_rng(7)
    A, B = rng.normal(size=(3, 3)), rng.normal(size=(3, 1))
    fn = ssm.discretize_euler if method == "euler" else ssm.discretize_bilinear
    Ad, Bd = fn(t(A), t(B), 0.2)
    ref = signal.cont2discrete((A, B, np.eye(3), np.zeros((3, 1))), 0.2, method=method)
    np.testing.assert_allclose(Ad.numpy(), ref[0], atol=1e-12)
    np.testing.assert_allclose(Bd.numpy(), ref[1], atol=1e-12)


def test_zoh_diag_matches_full_zoh_including_zero_eigenvalue():
    a = t([-3.0, -0.5, 0.0, -1e-9, 0.7])
    b = t([1.0, 2.0, -1.0, 0.5, 0.3])
    ab, bb = ssm.discretize_zoh_diag(a, b, 0.4)
    Ad, Bd = ssm.discretize_zoh(torch.diag(a), b, 0.4)
    np.testing.assert_allclose(ab.numpy(), torch.diagonal(Ad).numpy(), atol=1e-14)
    np.testing.assert_allclose(bb.numpy(), Bd.numpy(), atol=1e-14)


def test_euler_power_converges_at_rate_one_over_n():
    A = t([[-1.0, 2.0], [-2.0, -1.0]])
    exact = expm(A.numpy() * 0.5)
    errs = [np.abs(ssm.euler_power(A, 0.5, n).numpy() - exact).max() for n in (10, 100, 1000)]
    ratios = np.array(errs[:-1]) / np.array(errs[1:])
    assert np.all((ratios > 8) & (ratios < 12)), ratios


def test_diag_lti_ssm_modes_agree_and_match_generic_recurrence():
    torch.manual_seed(0)
    layer = ssm.DiagLTISSM(3, 4, dt_min=0.05, dt_max=0.5).double()
    with torch.no_grad():
        layer.D.normal_()
        layer.B.normal_()
    x = torch.randn(2, 40, 3, dtype=torch.float64)
    y_conv = layer(x)
    layer.mode = "recurrent"
    y_rec = layer(x)
    np.testing.assert_allclose(y_conv.detach().numpy(), y_rec.detach().numpy(), atol=1e-12)
    # channel 1 against the generic system
    a_bar, b_bar = layer.discrete()
    y1, _ = ssm.ssm_recurrent(torch.diag(a_bar[1]), b_bar[1], layer.C[1], x[:, :, 1])
    np.testing.assert_allclose((y1 + layer.D[1] * x[:, :, 1]).detach().numpy(), y_rec[:, :, 1].detach().numpy(), atol=1e-12)


def test_smoothing_task():
    g = torch.Generator().manual_seed(0)
    x, y = ssm.smoothing_task_batch(4, 30, kind="delay", delay=3, generator=g)
    assert torch.equal(y[:, 3:], x[:, :-3]) and torch.all(y[:, :3] == 0)
    x, y = ssm.smoothing_task_batch(2, 30, kind="ema", alpha=0.2, generator=g)
    ref = signal.lfilter([0.2], [1, -0.8], x[..., 0].numpy(), axis=1)
    np.testing.assert_allclose(y[..., 0].numpy(), ref, atol=1e-6)


def test_bad_inputs():
    A = torch.eye(3, dtype=torch.float64)
    with pytest.raises(TypeError, match="A"):
        ssm.ssm_recurrent(np.eye(3), torch.ones(3), torch.ones(3), torch.ones(5))
    with pytest.raises(ValueError, match="B"):
        ssm.ssm_kernel(A, torch.ones(2), torch.ones(3), 4)
    with pytest.raises(ValueError, match="method"):
        ssm.causal_conv(torch.ones(3), torch.ones(5), "circular")
    with pytest.raises(ValueError, match="dt"):
        ssm.discretize_zoh(A, torch.ones(3), -0.1)
    with pytest.raises(ValueError, match="mode"):
        ssm.DiagLTISSM(2, 2, mode="scan")
    with pytest.raises(ValueError, match="kind"):
        ssm.smoothing_task_batch(2, 5, kind="sine")
