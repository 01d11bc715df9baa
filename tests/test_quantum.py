"""lib.quantum: unitarity, the Born rule, Rabi oscillation, the Zeno effect (closed form and Monte Carlo)."""
import math

import numpy as np
import pytest
import torch
from scipy.linalg import expm

from lib import quantum as qm


def random_hermitian(n, seed):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return torch.tensor((M + M.conj().T) / 2)


def test_evolve_matches_expm_and_is_unitary():
    H = random_hermitian(5, 0)
    h0 = torch.tensor(np.random.default_rng(1).normal(size=5) + 0j)
    h0 = h0 / h0.norm()
    ts = [0.0, 0.3, 1.7]
    hs = qm.evolve(H, h0, ts)
    for t, h in zip(ts, hs):
        np.testing.assert_allclose(h.numpy(), expm(-1j * H.numpy() * t) @ h0.numpy(), atol=1e-12)
        assert abs(h.norm().item() - 1) < 1e-12
    U = torch.linalg.matrix_exp(-1j * H * 0.7)
    assert qm.is_unitary(U)
    np.testing.assert_allclose(torch.linalg.eigvals(U).abs().numpy(), 1, atol=1e-12)
    assert not qm.is_unitary(U * 1.01)


def test_born_sums_to_one_in_any_unitary_basis():
    H = random_hermitian(4, 2)
    E, _ = torch.linalg.qr(torch.tensor(np.random.default_rng(3).normal(size=(4, 4)) + 1j * np.random.default_rng(4).normal(size=(4, 4))))
    h = qm.evolve(H, torch.tensor([1, 0, 0, 0], dtype=torch.complex128), 1.3)
    p = qm.born(h, E)
    assert abs(p.sum().item() - 1) < 1e-12
    s = E.mH @ h  # the amplitudes before normalising: already of norm 1
    np.testing.assert_allclose((s.abs() ** 2).numpy(), p.numpy(), atol=1e-12)
    assert qm.born(h).sum().item() == pytest.approx(1, abs=1e-12)


def test_rabi_oscillation():
    omega = 2.3
    ts = torch.linspace(0, 5, 41, dtype=torch.float64)
    hs = qm.evolve(qm.qubit_hamiltonian(omega), torch.tensor([1, 0], dtype=torch.complex128), ts)
    np.testing.assert_allclose(qm.born(hs)[:, 0].numpy(), np.cos(omega * ts.numpy() / 2) ** 2, atol=1e-12)


def test_zeno_closed_form():
    values = [qm.zeno_survival(math.pi, 1.0, n) for n in (1, 2, 5, 10, 100)]
    np.testing.assert_allclose(values, [0, 0.25, 0.6054, 0.7805, 0.9756], atol=5e-5)


@pytest.mark.parametrize("n", [2, 5])
def test_zeno_monte_carlo_within_four_sigma(n):
    H, shots = qm.qubit_hamiltonian(math.pi), 400
    h0 = torch.tensor([1, 0], dtype=torch.complex128)
    survived = 0
    for seed in range(shots):
        run = qm.measurement_rnn(H, None, h0, 1.0 / n, n, measure_every=1, seed=seed)
        survived += all(k == 0 for _, k in run["outcomes"])
    p = qm.zeno_survival(math.pi, 1.0, n)
    assert abs(survived / shots - p) < 4 * math.sqrt(p * (1 - p) / shots)


def test_measurement_rnn_collapses_onto_basis_vectors():
    E = qm.rotated_basis(0.4)
    assert qm.is_unitary(E)
    run = qm.measurement_rnn(qm.qubit_hamiltonian(1.0), E, E[:, 0], 0.1, 30, measure_every=10, seed=3)
    assert [s for s, _ in run["outcomes"]] == [10, 20, 30]
    for s, k in run["outcomes"]:
        np.testing.assert_allclose(run["states"][s].numpy(), E[:, k].numpy())
    np.testing.assert_allclose(run["probs"].sum(1).numpy(), 1, atol=1e-12)
    free = qm.measurement_rnn(qm.qubit_hamiltonian(1.0), None, torch.tensor([1, 0j]), 0.1, 30)
    assert free["outcomes"] == []
    np.testing.assert_allclose(free["probs"][:, 0].numpy(), np.cos(free["ts"].numpy() / 2) ** 2, atol=1e-12)


def test_pauli_algebra_and_collapse():
    P = qm.pauli()
    eye = torch.eye(2, dtype=torch.complex128)
    for s in P.values():
        np.testing.assert_allclose((s @ s).numpy(), eye.numpy())
    np.testing.assert_allclose((P["x"] @ P["y"]).numpy(), (1j * P["z"]).numpy())
    np.testing.assert_allclose(qm.collapse(eye, 1).numpy(), [0, 1])


def test_bad_inputs():
    with pytest.raises(ValueError, match="H"):
        qm.evolve(torch.tensor([[0, 1], [0, 0]], dtype=torch.complex128), torch.tensor([1, 0j]), 1.0)
    with pytest.raises(ValueError, match="axis"):
        qm.qubit_hamiltonian(1.0, axis="w")
    with pytest.raises(ValueError, match="n"):
        qm.zeno_survival(1.0, 1.0, 0)
    with pytest.raises(ValueError, match="k"):
        qm.collapse(torch.eye(2), 2)
    with pytest.raises(ValueError, match="E"):
        qm.measurement_rnn(qm.qubit_hamiltonian(1.0), 2 * torch.eye(2), torch.tensor([1, 0j]), 0.1, 3)
    with pytest.raises(TypeError, match="h"):
        qm.born([1, 0])
