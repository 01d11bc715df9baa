"""lib.mamba: sequential scan = parallel scan = an independent loop; the gate identity; the task; the layer."""
import math

import numpy as np
import pytest
import torch

from lib import mamba


def random_inputs(b=2, L=37, D=3, N=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    u, dt = r(b, L, D), torch.nn.functional.softplus(r(b, L, D))
    A = -torch.rand(D, N, generator=g, dtype=torch.float64) * 2 - 0.1
    return u, dt, A, r(b, L, N), r(b, L, N), r(D)


def reference_loop(u, dt, A, B, C, D, method):
    """A plain per-element loop over batch, channel, state and time (numpy)."""
    u, dt, A, B, C, D = (x.numpy() for x in (u, dt, A, B, C, D))
    b, L, d = u.shape
    y = np.zeros_like(u)
    for i in range(b):
        for c in range(d):
            for n in range(A.shape[1]):
                h = 0.0
                for s in range(L):
                    ab = math.exp(dt[i, s, c] * A[c, n])
                    bb = dt[i, s, c] * B[i, s, n] if method == "euler" else (ab - 1) / A[c, n] * B[i, s, n]
                    h = ab * h + bb * u[i, s, c]
                    y[i, s, c] += C[i, s, n] * h
            y[i, :, c] += D[c] * u[i, :, c]
    return y


@pytest.mark.parametrize("method", ["euler", "zoh"])
def test_sequential_parallel_and_reference_agree(method):
    args = random_inputs()
    ys = mamba.selective_scan_sequential(*args, method=method)
    yp = mamba.selective_scan_parallel(*args, method=method)
    np.testing.assert_allclose(yp.numpy(), ys.numpy(), atol=1e-12)
    np.testing.assert_allclose(ys.numpy(), reference_loop(*args, method), atol=1e-12)


@pytest.mark.parametrize("L, rounds", [(1, 0), (2, 1), (5, 3), (64, 6), (65, 7)])
def test_associative_scan_rounds_and_values(L, rounds):
    g = torch.Generator().manual_seed(L)
    a, b = torch.rand(L, 3, generator=g, dtype=torch.float64), torch.randn(L, 3, generator=g, dtype=torch.float64)
    h, r = mamba.associative_scan(a, b, dim=0, return_rounds=True)
    assert r == rounds == math.ceil(math.log2(L)) if L > 1 else r == 0
    ref, prev = [], torch.zeros(3, dtype=torch.float64)
    for s in range(L):
        prev = a[s] * prev + b[s]
        ref.append(prev)
    np.testing.assert_allclose(h.numpy(), torch.stack(ref).numpy(), atol=1e-12)


def test_gate_identity_and_zoh_gate():
    z = torch.linspace(-20, 20, 401, dtype=torch.float64)
    lhs, rhs = mamba.gate_identity(z)
    np.testing.assert_allclose(lhs.numpy(), rhs.numpy(), rtol=1e-12, atol=1e-15)  # 1 - sigmoid cancels for large z
    # N = 1, A = -1, B = 1, ZOH: the scan is the gated update with g = sigmoid(z)
    g = torch.Generator().manual_seed(1)
    zz, x = torch.randn(1, 30, 1, generator=g, dtype=torch.float64), torch.randn(1, 30, 1, generator=g, dtype=torch.float64)
    one = torch.ones(1, 30, 1, dtype=torch.float64)
    y = mamba.selective_scan_sequential(x, torch.nn.functional.softplus(zz), -torch.ones(1, 1, dtype=torch.float64),
                                        one, one, method="zoh")
    h, ref = 0.0, []
    for s in range(30):
        gate = torch.sigmoid(zz[0, s, 0])
        h = (1 - gate) * h + gate * x[0, s, 0]
        ref.append(h)
    np.testing.assert_allclose(y[0, :, 0].numpy(), torch.stack(ref).numpy(), atol=1e-12)


def test_latest_marked_value_batch():
    x, y = mamba.latest_marked_value_batch(64, 40, p=0.2, generator=torch.Generator().manual_seed(0))
    assert x.shape == (64, 40, 2) and y.shape == (64, 40)
    for i in range(64):
        marks = torch.nonzero(x[i, :, 1]).flatten().tolist()
        for s in range(40):
            before = [m for m in marks if m <= s]
            assert y[i, s] == (x[i, before[-1], 0] if before else 0)
    assert 0.1 < x[..., 1].mean() < 0.3


@pytest.mark.parametrize("selective", [True, False])
def test_selective_ssm_layer_paths_agree(selective):
    torch.manual_seed(0)
    layer = mamba.SelectiveSSM(2, 6, 3, selective=selective, d_out=1).double()
    x = torch.randn(3, 17, 2, dtype=torch.float64)
    y = layer(x)
    assert y.shape == (3, 17, 1)
    np.testing.assert_allclose(layer(x, parallel=False).detach().numpy(), y.detach().numpy(), atol=1e-12)
    _, dt, A, B, _ = layer.ssm_inputs(x)
    assert torch.all(dt > 0) and torch.all(A < 0)
    # the LTI layer's dt and B are the same at every position; the selective one's vary
    assert bool((dt.std(dim=1) < 1e-12).all()) != selective
    assert bool((B.std(dim=1) < 1e-12).all()) != selective


def test_bad_inputs():
    u, dt, A, B, C, D = random_inputs()
    with pytest.raises(ValueError, match="dt"):
        mamba.selective_scan_sequential(u, dt[:, :-1], A, B, C)
    with pytest.raises(ValueError, match="B"):
        mamba.selective_scan_parallel(u, dt, A, B[..., :-1], C)
    with pytest.raises(ValueError, match="method"):
        mamba.selective_scan_parallel(u, dt, A, B, C, method="bilinear")
    with pytest.raises(TypeError, match="z"):
        mamba.gate_identity(0.5)
    with pytest.raises(ValueError, match="p"):
        mamba.latest_marked_value_batch(2, 5, p=1.5)
    with pytest.raises(ValueError, match="d_model"):
        mamba.SelectiveSSM(2, 0, 3)
