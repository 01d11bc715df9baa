"""The convex-combinations widget (W1.4): compute functions, static figures and the live Tab, headlessly."""
import json

import numpy as np
import pytest
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from lib import convex as LC
from lib import plotting
from lib.widgets import WIDGET_MIME
from lib.widgets import convex as C


# --------------------------------------------------------------------------- compute
def test_compute_hull_segment_weights_and_softmax():
    A, B = C.POINTS[:2]
    s = C.compute_hull(2, r=0.3)
    np.testing.assert_allclose(s["x"], 0.7 * A + 0.3 * B)
    assert s["inside"] and s["hull"].shape == (2, 2)
    out = C.compute_hull(2, r=1.4, affine=True)
    assert not out["inside"] and np.allclose(out["x"], A + 1.4 * (B - A))
    with pytest.raises(ValueError, match="weights >= 0"):
        C.compute_hull(2, r=1.4)
    s = C.compute_hull(3, weights=[2.0, 1.0, 1.0])
    np.testing.assert_allclose(s["alpha"], [0.5, 0.25, 0.25])
    s = C.compute_hull(4, logits=[0.0, 0.0, 0.0, np.log(5.0)])
    np.testing.assert_allclose(s["alpha"], [1 / 8, 1 / 8, 1 / 8, 5 / 8])
    with pytest.raises(ValueError, match="k: expected 2, 3 or 4"):
        C.compute_hull(5)
    with pytest.raises(ValueError, match="not all 0"):
        C.compute_hull(3, weights=[0.0, 0.0, 0.0])


def test_compute_chord_verdicts():
    for name in ("x^2", "|x|", "softplus", "logistic NLL", "Huber"):
        fn, _, (a, b) = C.FUNCTIONS[name]
        s = C.compute_chord(name, a, b, 0.3)
        assert s["convex_ab"] and s["violations"].size == 0 and s["shade_x"] == [] and s["gap"] >= 0
        assert s["gap"] == pytest.approx(0.7 * fn(a) + 0.3 * fn(b) - fn(0.7 * a + 0.3 * b), abs=1e-12)
    s = C.compute_chord("x^4 - 3x^2", -1.5, 1.5, 0.5)
    assert not s["convex_ab"] and s["gap"] == pytest.approx(1.5 ** 4 - 3 * 1.5 ** 2) and s["gap"] < 0
    assert None in s["shade_x"]
    # a chord can pass while the function is not convex on [a, b]
    s = C.compute_chord("x^4 - 3x^2", -2.0, 2.0, 0.5)
    assert s["violations"].size == 0 and not s["convex_ab"]
    with pytest.raises(ValueError, match="f: expected one of"):
        C.compute_chord("cosh")
    with pytest.raises(ValueError, match="r: expected a number in"):
        C.compute_chord("x^2", r=1.5)


def test_galton_nll_minimum_matches_sklearn():
    z, y = C._galton_sex_data()
    w_hat = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-12).fit(z[:, None], y).coef_[0, 0]
    w = np.linspace(w_hat - 0.5, w_hat + 0.5, 1001)
    assert abs(w[np.argmin(C.galton_logistic_nll(w))] - w_hat) < 2e-3
    np.testing.assert_allclose(C.huber(np.array([-3.0, 0.5, 2.0])), [2.5, 0.125, 1.5])


@pytest.fixture(scope="module")
def cases():
    return C.model_cases("cpu")


def test_models_logistic_cases_are_convex_and_end_at_the_mle(cases):
    X, y = C.moons_data()
    _, _, mle = cases[C.MODEL_CASES[0]]
    p = expit(mle[0] + X @ mle[1:])
    assert np.abs(np.r_[np.sum(p - y), X.T @ (p - y)]).max() / len(y) < 1e-6  # the score vanishes
    for case in C.MODEL_CASES[:2]:
        s = C.compute_models(case, 0.5, device="cpu")
        assert np.diff(s["loss"], 2).min() >= -1e-10
        assert np.all(s["loss"] <= s["chord"] + 1e-12)


def test_models_mlp_cases_show_a_barrier(cases):
    for case in C.MODEL_CASES[2:]:
        s = C.compute_models(case, 0.5, device="cpu")
        assert s["loss"][0] < 0.05 and s["loss"][-1] < 0.05
        assert s["loss"].max() > s["chord"].max() + 0.3
    s = C.compute_models(C.MODEL_CASES[3], 0.5, device="cpu")
    assert s["loss"][0] == pytest.approx(s["loss"][-1], abs=1e-9)
    assert s["loss_r"] > s["chord_r"] + 0.3


def test_models_grid_is_the_interpolated_model(cases):
    logit_fn, ta, tb = cases[C.MODEL_CASES[2]]
    s = C.compute_models(C.MODEL_CASES[2], 0.0, device="cpu", grid=11)
    G = np.stack(np.meshgrid(s["gx"], s["gy"]), axis=-1).reshape(-1, 2)
    np.testing.assert_allclose(s["prob"].ravel(), expit(LC.mlp_logits(ta, G)), rtol=1e-12)
    with pytest.raises(ValueError, match="case: expected one of"):
        C.compute_models("svm", device="cpu")


@pytest.mark.parametrize("kind", C.KINDS)
def test_averages_recursion_equals_weights(kind):
    for beta, t in ((0.0, 1), (0.9, 50), (0.99, 200)):
        d = C.compute_averages(beta, t, kind)
        assert d["running"][t - 1] == pytest.approx(d["avg_t"], abs=1e-10)
    d = C.compute_averages(0.9, 30, kind)
    expected = {"EMA": 1 - 0.9 ** 30, "Adam (bias-corrected EMA)": 1.0,
                "heavy-ball sum": (1 - 0.9 ** 30) / 0.1, "uniform (Polyak-Ruppert)": 1.0}[kind]
    assert d["total"] == pytest.approx(expected, rel=1e-12)


def test_averages_uniform_is_the_mean_and_errors():
    d = C.compute_averages(0.5, 37, "uniform (Polyak-Ruppert)")
    assert d["avg_t"] == pytest.approx(np.mean(d["g"][:37]), abs=1e-12)
    with pytest.raises(ValueError, match="kind"):
        C.compute_averages(kind="median")
    with pytest.raises(ValueError, match="t: expected an integer"):
        C.compute_averages(t=C.HORIZON + 1)


def test_compute_dispatch():
    assert C.compute("hull", k=2, r=0.5)["inside"]
    with pytest.raises(ValueError, match="tab: expected one of"):
        C.compute("nope")


# --------------------------------------------------------------------------- static figures
@pytest.fixture(scope="module")
def figures(cases):
    return {tab: C.figure(tab, device="cpu") for tab in C.TABS}


def test_static_figures_are_labelled_and_small(figures):
    total = 0
    for fig in figures.values():
        assert plotting.missing_labels(fig) == []
        total += len(plotting.to_html(fig))
    assert total < 2_000_000


def test_slider_steps_change_trace_data_and_start_at_the_figure(figures):
    for tab, fig in figures.items():
        assert fig.layout.sliders, tab
        for sl in fig.layout.sliders:
            steps = sl.steps
            assert len(steps) >= 8
            first, last = steps[0].args, steps[-1].args
            indices = first[2]
            assert all(0 <= i < len(fig.data) for i in indices)
            assert json.dumps(first[0], default=str) != json.dumps(last[0], default=str), tab
            # what the figure draws before any click is the state of the active step
            for key, values in steps[sl.active].args[0].items():
                for i, v in zip(indices, values):
                    if v is None or key not in ("x", "y", "text"):
                        continue
                    got = fig.data[i][key]
                    if key == "text":
                        assert list(got) == list(v), (tab, i)
                    else:
                        np.testing.assert_allclose(np.asarray(got, float), np.asarray(v, float), atol=1e-3,
                                                   err_msg=f"{tab}: trace {i}, {key}")


def test_menus_switch_whole_trace_groups(figures):
    for tab in ("chord", "models", "averages"):
        fig = figures[tab]
        buttons = fig.layout.updatemenus[0].buttons
        assert len(buttons) >= 4
        for b in buttons:
            visible = b.args[0]["visible"]
            assert len(visible) == len(fig.data) and any(visible) and not all(visible)
        assert [t.visible is not False for t in fig.data] == buttons[0].args[0]["visible"]


def test_figure_rejects_unknown_tab():
    with pytest.raises(ValueError, match="tab: expected one of"):
        C.figure("surface")


# --------------------------------------------------------------------------- live widget
@pytest.fixture(scope="module")
def live(cases):
    return C.widget(device="cpu")


def test_live_hull_tab(live):
    ctl, fw = live.controls, live.figures[0]
    A, B = C.POINTS[:2]
    ctl["k"].value = 2
    ctl["r"].value = 0.8
    np.testing.assert_allclose([fw.data[3].x[0], fw.data[3].y[0]], 0.2 * A + 0.8 * B)
    assert ctl["r"].max == 1.0
    ctl["affine"].value = True
    ctl["r"].value = 1.4
    assert ctl["r"].max == 1.5 and fw.data[3].marker.color == C.RED
    ctl["k"].value = 4
    ctl["softmax"].value = True
    for i, z in enumerate((3.0, 0.0, 0.0, -1.0)):
        ctl[f"z{i}"].value = z
    expected = LC.softmax_weights([3.0, 0.0, 0.0, -1.0]) @ C.POINTS
    np.testing.assert_allclose([fw.data[3].x[0], fw.data[3].y[0]], expected)
    assert fw.data[3].marker.color == C.ORANGE and len(fw.data[2].x) == 4
    assert ctl["w0"].layout.display == "none" and ctl["z0"].layout.display is None


def test_live_chord_tab(live):
    ctl, fw = live.controls, live.figures[1]
    ctl["f"].value = "x^2"
    assert (ctl["a"].min, ctl["a"].max) == C.FUNCTIONS["x^2"][1]
    ctl["a"].value, ctl["b"].value, ctl["r_chord"].value = -1.0, 2.0, 0.25
    assert fw.data[4].x[0] == pytest.approx(-0.25)
    assert fw.data[4].y[0] == pytest.approx(0.0625)
    assert fw.data[5].y[0] == pytest.approx(0.75 * 1 + 0.25 * 4)
    assert list(fw.data[0].x) == []  # x^2: nothing to shade
    ctl["f"].value = "sin x"
    assert len(fw.data[0].x) > 0 and fw.layout.xaxis.range == C.FUNCTIONS["sin x"][1]


def test_live_models_tab(live, cases):
    ctl, fw = live.controls, live.figures[2]
    ctl["model"].value = C.MODEL_CASES[0]
    ctl["r_model"].value = 1.0
    s = C.compute_models(C.MODEL_CASES[0], 1.0, device="cpu")
    assert fw.data[2].y[0] == pytest.approx(s["loss"][-1])
    z_end = np.array(fw.data[4].z)
    ctl["r_model"].value = 0.0
    assert fw.data[2].y[0] == pytest.approx(np.log(2))  # theta = 0: P = 1/2 everywhere
    assert np.all(np.array(fw.data[4].z) == 50) and not np.all(z_end == 50)


def test_live_averages_tab(live):
    ctl, fw = live.controls, live.figures[3]
    ctl["kind"].value = "EMA"
    ctl["beta"].value, ctl["t"].value = 0.5, 10
    assert len(fw.data[0].y) == 10 and sum(fw.data[0].y) == pytest.approx(1 - 0.5 ** 10)
    ctl["kind"].value = "heavy-ball sum"
    assert fw.data[0].y[0] == 1.0 and sum(fw.data[0].y) == pytest.approx((1 - 0.5 ** 10) / 0.5)
    assert fw.data[2].x[0] == 10


def test_show_emits_live_widget_and_four_static_figures(monkeypatch, figures):
    shown = []
    monkeypatch.setattr(C, "figure", lambda tab, device=None: figures[tab])  # built and tested above
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    C.show(device="cpu")
    (bundle,) = shown
    assert WIDGET_MIME in bundle
    assert bundle["text/html"].count("Plotly.newPlot") == 4
