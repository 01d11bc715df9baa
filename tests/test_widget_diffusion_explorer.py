"""Widget W6.1 (diffusion trajectories): the runs against the exact noised mixture, both faces of the widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import gmm, plotting, sample_metrics as sm
from lib.widgets import diffusion_explorer as de


def test_shapes_times_and_common_noise():
    runs = {p: de.compute("ring8", p, "vp", 10, "heun", n=50, seed=3) for p in de.PROCESSES}
    for p, res in runs.items():
        assert res["traj"].shape == (11, 50, 2) and res["t"].shape == (11,)
        assert res["t"][0] == 1.0 and res["t"][-1] < 2e-3 and np.all(np.diff(res["t"]) < 0)
        assert np.isfinite(res["traj"]).all()
    assert runs["sde"]["nfe"] == 10 and runs["ode"]["nfe"] >= 19 and runs["fm"]["nfe"] >= 19  # Heun: two per step
    assert de.compute("ring8", "ode", "vp", 10, "euler", n=50, seed=3)["nfe"] == 10
    # the same initial noise z for the three processes, scaled by the prior std b_1; another seed differs
    b1 = de.coeffs("sde", "vp", 1.0)[1]
    np.testing.assert_array_equal(runs["sde"]["traj"][0], runs["ode"]["traj"][0])
    np.testing.assert_allclose(runs["sde"]["traj"][0] / b1, runs["fm"]["traj"][0], rtol=1e-14)
    assert not np.array_equal(de.compute("ring8", "fm", "vp", 10, "heun", n=50, seed=4)["traj"][0],
                              runs["fm"]["traj"][0])
    ve = de.compute("ring8", "ode", "ve", 10, "heun", n=50, seed=3)
    np.testing.assert_allclose(ve["traj"][0], 5.0 * runs["fm"]["traj"][0])  # VE starts at N(0, 25 I)


@pytest.mark.parametrize("process", ["sde", "fm"])
def test_cloud_at_t1_is_the_exact_p1(process):
    res = de.compute("ring8", process, "vp", 20, "euler", n=1000, seed=5)
    a, b = de.coeffs(process, "vp", 1.0)
    ref, _ = gmm.ring_gmm().noised(a, b).sample(1000, generator=torch.Generator().manual_seed(6))
    assert sm.energy_distance(res["traj"][0], ref) < 0.02
    assert de.readouts(res, 0)["ed"] < 0.02


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["ring8", "ring8-imbalanced"])
@pytest.mark.parametrize("process, steps, integrator", [("sde", 200, "euler"), ("ode", 50, "heun")])
def test_samples_at_t0_match_the_data(dataset, process, steps, integrator):
    """Spec 0.4 thresholds: energy distance < 0.02, weights within 0.04, within-mode std within 15 %."""
    res = de.compute(dataset, process, "vp", steps, integrator, n=2000, seed=7)
    r = de.readouts(res)
    g = de.mixture(dataset)
    data, _ = g.sample(2000, generator=torch.Generator().manual_seed(8))
    assert sm.energy_distance(res["traj"][-1], data) < 0.02 and r["ed"] < 0.02
    assert r["weights_dev"] < 0.04
    assert abs(r["within_std"] / r["within_std_data"] - 1) < 0.15
    np.testing.assert_allclose(r["weights"].sum(), 1.0)


def test_straightness_sde_zigzags_ode_and_fm_do_not():
    runs = {p: de.readouts(de.compute("ring8", p, "vp", 100, "euler" if p == "sde" else "heun", n=300, seed=9))
            for p in de.PROCESSES}
    s = {p: r["straightness"] for p, r in runs.items()}
    assert s["sde"] > 3 * max(s["ode"], s["fm"])  # Brownian increments add length, not displacement
    assert s["fm"] > 1.1  # each training path of flow matching is straight, the marginal paths are not


def test_learned_fields_are_used():
    g = de.mixture("ring8")
    exact = de.compute("ring8", "fm", "vp", 10, "euler", n=64, seed=1)
    same = de.compute("ring8", "fm", "vp", 10, "euler", n=64, seed=1, learned={"velocity": g.flow_velocity})
    np.testing.assert_allclose(same["traj"], exact["traj"], atol=1e-12)
    assert same["source"] == "learned" and exact["source"] == "exact"
    half = de.compute("ring8", "fm", "vp", 10, "euler", n=64, seed=1,
                      learned={"velocity": lambda x, t: 0.5 * g.flow_velocity(x, t)})
    assert np.abs(half["traj"][-1] - exact["traj"][-1]).max() > 0.1
    # a dict without the process's entry falls back to the exact field
    ode = de.compute("ring8", "ode", "vp", 10, "heun", n=64, seed=1, learned={"velocity": g.flow_velocity})
    assert ode["source"] == "exact"


def test_static_figure():
    fig = de.figure()
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    (time_slider,) = fig.layout.sliders
    assert len(time_slider.steps) == 26
    first, last = time_slider.steps[0].args[0], time_slider.steps[-1].args[0]
    assert first["x"][2] != last["x"][2] and first["z"][0] != last["z"][0]  # clouds and density move
    (menu,) = fig.layout.updatemenus
    assert len(menu.buttons) == len(de.FIG_RUNS)
    vis = [b.args[0]["visible"] for b in menu.buttons]
    assert all(len(v) == len(fig.data) for v in vis) and len({tuple(v) for v in vis}) == len(vis)
    assert vis[-1][1] and not vis[0][1]  # flow matching shows its own p_t


def test_live_widget_reacts_to_controls():
    live = de.widget(n=60, n_paths=5, learned={"score": lambda x, t: torch.zeros_like(x)})
    single, compare = live.figures
    c = live.controls
    before = list(single.data[2].x)
    c["frame"].value = 30
    assert list(single.data[2].x) != before and "t = 0.00" in single.layout.title.text
    at_zero = list(single.data[2].x)
    c["n_steps"].value = 5
    assert list(single.data[2].x) != at_zero
    z = np.array(single.data[0].z)
    c["schedule"].value = "ve"
    assert single.layout.xaxis.range is not None and np.array(single.data[0].z).shape == z.shape
    c["process"].value = "compare"
    assert live.children[-1].layout.display is None and live.children[-2].layout.display == "none"
    assert all(len(compare.data[3 * j + 2].x) == 60 for j in range(3))
    exact = list(compare.data[2].x)
    c["source"].value = "learned"  # the zero score: the SDE and the ODE change, flow matching keeps the exact field
    assert list(compare.data[2].x) != exact and "learned" in live.children[4].value
    c["density"].value = False
    assert compare.data[0].visible is False
    c["paths"].value = False
    assert len(compare.data[1].x) == 0


@pytest.mark.parametrize("kwargs, err, msg", [
    (dict(dataset="blobs"), ValueError, "dataset"), (dict(process="ddim"), ValueError, "process"),
    (dict(schedule="cosine"), ValueError, "schedule"), (dict(n_steps=0), ValueError, "n_steps"),
    (dict(integrator="rk4"), ValueError, "integrator"), (dict(n=1), ValueError, "n"),
    (dict(learned={"eps": abs}), ValueError, "learned"), (dict(learned={"score": 3}), TypeError, "learned")])
def test_bad_input(kwargs, err, msg):
    with pytest.raises(err, match=msg):
        de.compute(**kwargs)


def test_live_widget_can_open_in_compare_mode():
    live = de.widget(n=40, n_paths=4, process="compare")
    single, compare = live.figures
    assert live.controls["process"].value == "compare" and len(compare.data) > len(single.data)
    with pytest.raises(ValueError, match="process"):
        de.widget(process="diffusion")
