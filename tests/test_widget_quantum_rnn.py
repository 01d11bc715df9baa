"""Widget W4.9 (quantum_rnn): compute against closed forms, the static figure, the live widget."""
import json
import math

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib import quantum as qm
from lib.widgets import quantum_rnn


def test_compute_free_evolution_and_zeno_closed_form():
    res = quantum_rnn.compute(omega=2.0, T=1.5, n=4, theta=0.0, seed=3)
    np.testing.assert_allclose(res["p_free"], np.cos(2.0 * res["t"] / 2) ** 2, atol=1e-12)
    np.testing.assert_allclose(res["surv"], [qm.zeno_survival(2.0, 1.5, int(k)) for k in res["ns"]], atol=1e-12)
    assert len(res["outcomes"]) == 4
    np.testing.assert_allclose(res["outcome_t"], [1.5 * k / 4 for k in range(1, 5)], atol=1e-12)


def test_rotated_basis_survival_matches_direct_probability():
    # one interval: the probability of finding e_0 again equals the Born probability after free evolution
    theta, omega, T = 0.7, 1.3, 0.9
    res = quantum_rnn.compute(omega=omega, T=T, n=1, theta=theta)
    assert res["surv"][0] == pytest.approx(res["p_free"][-1], abs=1e-12)
    # a basis vector that is an eigenvector of sigma_x (theta = pi/4) never moves: survival 1
    assert quantum_rnn.survival(omega, T, 3, math.pi / 4) == pytest.approx(1.0, abs=1e-12)


def test_measured_run_restarts_from_the_observed_outcome():
    res = quantum_rnn.compute(omega=math.pi, T=1.0, n=10, seed=1)
    dt = res["t_run"][1] - res["t_run"][0]
    for t, k in zip(res["outcome_t"][:-1], res["outcomes"][:-1]):
        i = int(round(t / dt)) + 1  # one step after the collapse onto basis vector k
        expected = math.cos(math.pi * dt / 2) ** 2 if k == 0 else math.sin(math.pi * dt / 2) ** 2
        assert res["p_run"][i] == pytest.approx(expected, abs=1e-12)


def test_static_figure():
    fig = quantum_rnn.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == [str(n) for n in quantum_rnn.N_VALUES]
    assert steps[0].args[0]["y"][4] != steps[-1].args[0]["y"][4]  # the marked survival changes with n
    assert steps[0].args[0]["y"][4][0] == pytest.approx(0.0, abs=1e-6)  # n = 1 over a pi pulse


def test_live_widget_updates():
    w = quantum_rnn.widget()
    fig = w.figures[0]
    before = list(fig.data[4].y)
    w.controls["n"].value = 20
    assert list(fig.data[4].y) != before
    assert fig.data[4].y[0] == pytest.approx(qm.zeno_survival(math.pi, 1.0, 20), abs=1e-5)
    curve = list(fig.data[3].y)
    w.controls["theta"].value = 0.5
    assert list(fig.data[3].y) != curve


def test_bad_inputs():
    with pytest.raises(ValueError, match="n"):
        quantum_rnn.compute(n=0)
    with pytest.raises(ValueError, match="T"):
        quantum_rnn.compute(T=-1.0)
