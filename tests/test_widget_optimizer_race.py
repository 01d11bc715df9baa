"""Widget W2.3 (optimizer race): compute against direct lib.optim / torch runs, static figure, live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import optim, plotting
from lib.widgets import Dual, optimizer_race as R

AXIS, ROT = "quadratic κ = 100, axis-aligned", "quadratic κ = 100, rotated 45°"


def test_landscape_gradients_match_autograd_and_minima_are_zero():
    rng = np.random.default_rng(0)
    for L in R.LANDSCAPES.values():
        for p in rng.uniform(-1.5, 1.5, size=(5, 2)):
            if L.name.startswith("quadratic"):  # f uses numpy's einsum; its gradient is H x (tested in test_optim)
                h = 1e-5
                num = [(L.f(p + h * e) - L.f(p - h * e)) / (2 * h) for e in np.eye(2)]
                np.testing.assert_allclose(L.grad(p), num, rtol=1e-7, atol=1e-9)
            else:
                xt = torch.tensor(p, requires_grad=True)
                L.f(xt[None, :]).sum().backward()
                np.testing.assert_allclose(L.grad(p), xt.grad.numpy(), rtol=1e-12)
        for m in L.minima:
            assert abs(L.f(np.array(m, dtype=float))) < 1e-15
            np.testing.assert_allclose(L.grad(np.array(m, dtype=float)), 0, atol=1e-15)


def test_compute_equals_direct_runs_and_torch_adam():
    res = R.compute("Rosenbrock", eta=1e-3, eta_adam=0.03, beta1=0.8, beta2=0.99, steps=120)
    L = R.LANDSCAPES["Rosenbrock"]
    x0 = np.array(L.x0)
    np.testing.assert_array_equal(res["paths"]["heavy ball"], optim.heavy_ball(L.grad, x0, 1e-3, 0.8, 120))
    np.testing.assert_allclose(res["gaps"]["GD"], L.f(optim.gd(L.grad, x0, 1e-3, 120)), rtol=1e-14)
    x = torch.tensor(x0, requires_grad=True)
    opt = torch.optim.Adam([x], lr=0.03, betas=(0.8, 0.99))
    for _ in range(120):
        opt.zero_grad()
        ((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2).backward()
        opt.step()
    np.testing.assert_allclose(res["paths"]["Adam"][-1], x.detach().numpy(), atol=1e-12)
    assert set(res["paths"]) == set(R.OPTIMIZERS) and res["paths"]["GD"].shape == (121, 2)


def test_rotation_changes_adam_but_not_gradient_descent():
    a, r = R.compute(AXIS), R.compute(ROT)
    for name in ("GD", "heavy ball", "Nesterov"):  # rotation-invariant: the same gaps
        np.testing.assert_allclose(a["gaps"][name], r["gaps"][name], rtol=1e-8, atol=1e-20)
    # Adam wins by orders of magnitude on the axis-aligned valley and loses that lead when it is rotated
    assert a["gaps"]["Adam"][-1] < 1e-3 * a["gaps"]["GD"][-1]
    assert r["gaps"]["Adam"][-1] > r["gaps"]["GD"][-1]


def test_adam_ignores_a_diagonal_rescaling_of_the_gradient_and_gd_does_not():
    base = R.compute(ROT, eps=0.0)
    scaled = R.compute(ROT, y_scale=30.0, eps=0.0)
    np.testing.assert_allclose(scaled["paths"]["Adam"], base["paths"]["Adam"], atol=1e-12)
    assert np.abs(scaled["paths"]["GD"] - base["paths"]["GD"]).max() > 0.1


def test_compute_subset_defaults_and_divergence_labels():
    res = R.compute("saddle with quartic walls", optimizers=("Adam",))
    assert list(res["paths"]) == ["Adam"] and res["steps"] == 100
    assert res["gaps"]["Adam"][0] > 0.5 and res["gaps"]["Adam"][-1] < 1e-3  # it left the saddle
    upd = R._run_updates(R.compute(AXIS, eta=2.5, steps=200))
    assert "diverged" in upd[0]["name"]  # GD with eta L > 2
    json.dumps(upd)  # no NaN/inf reaches the figure


def test_static_figure():
    fig = R.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == [f"×{m:g}" for m in R.MULTIPLIERS]
    n_moving = len(R.LANDSCAPES) * 2 * len(R.OPTIMIZERS)
    for s in steps:
        assert len(s.args[2]) == n_moving and all(len(v) == n_moving for v in s.args[0].values())
    gd_x = [np.array(s.args[0]["x"][0], dtype=float) for s in steps]  # GD's path on the first landscape
    assert not np.allclose(gd_x[0], gd_x[2], equal_nan=True)
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == list(R.LANDSCAPES)
    for g, b in enumerate(buttons):
        vis = b.args[0]["visible"]
        assert sum(vis) == R.GROUP and all(vis[g * R.GROUP:(g + 1) * R.GROUP])
    assert sum(bool(t.visible) for t in fig.data) == R.GROUP  # one landscape at a time


def test_live_widget_updates_in_place():
    live = R.widget()
    fig = live.figures[0]
    assert isinstance(fig, go.FigureWidget) and len(fig.data) == R.GROUP
    before = np.array(fig.data[5].x, dtype=float)  # Adam's path
    live.controls["beta2"].value = 0.9
    assert not np.allclose(before, np.array(fig.data[5].x, dtype=float))
    gd_before = np.array(fig.data[2].x, dtype=float)
    live.controls["eta"].value = 0.5
    assert not np.allclose(gd_before, np.array(fig.data[2].x, dtype=float))
    live.controls["show GD"].value = False
    assert fig.data[2].visible is False and fig.data[7].visible is False
    z = np.array(fig.data[0].z)
    live.controls["landscape"].value = "Rosenbrock"
    assert live.controls["eta"].value == pytest.approx(R.LANDSCAPES["Rosenbrock"].eta)
    assert not np.array_equal(z, np.array(fig.data[0].z)) and "Rosenbrock" in fig.layout.title.text
    assert len(fig.data[3].x) == R.LANDSCAPES["Rosenbrock"].steps + 1
    live.controls["steps"].value = 50
    assert len(fig.data[8].y) == 51
    adam = np.array(fig.data[5].x, dtype=float)
    live.controls["y_scale"].value = 10.0  # Adam barely notices (eps aside)
    np.testing.assert_allclose(np.array(fig.data[5].x, dtype=float), adam, atol=1e-3)


def test_show_builds_a_dual_output(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    R.show(beta1=0.8)
    assert len(shown) == 1 and isinstance(shown[0], Dual)


def test_bad_inputs():
    with pytest.raises(ValueError, match="landscape"):
        R.compute("banana")
    with pytest.raises(ValueError, match="optimizers"):
        R.compute(optimizers=("SGD",))
    with pytest.raises(ValueError, match="optimizers"):
        R.compute(optimizers="Adam")
    with pytest.raises(ValueError, match="y_scale"):
        R.compute(y_scale=0.0)
    with pytest.raises(ValueError, match="eta"):
        R.compute(eta=-1.0)
    with pytest.raises(ValueError, match="beta"):
        R.compute(beta2=1.0)
    with pytest.raises(ValueError, match="landscape"):
        R.widget(landscape="nowhere")
