"""Widget W7 (scaling_explorer): compute against lib.scaling, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib import scaling as sc
from lib.widgets import scaling_explorer as se


def test_compute_optimum_is_the_minimum_of_the_curve():
    res = se.compute(22.0, n_points=801)
    np.testing.assert_allclose(6 * res["N"] * res["D"], 1e22, rtol=1e-12)
    for key in se.SETS:
        s = res[key]
        i = int(np.argmin(s["L"]))
        assert res["N"][i] == pytest.approx(s["N_opt"], rel=0.03)   # grid spacing is about 1.2 %
        assert s["L_opt"] <= s["L"].min() + 1e-12
        assert (s["N_opt"], s["D_opt"]) == pytest.approx(sc.compute_optimal(1e22, key))


def test_static_figure():
    fig = se.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(se.LOG10_C)
    assert steps[0].args[0]["x"][1] != steps[-1].args[0]["x"][1]     # the optimum moves with C
    assert "D/N" in fig.layout.title.text


def test_live_widget_updates():
    w = se.widget()
    fig = w.figures[0]
    before = list(fig.data[1].x)
    w.controls["log10_C"].value = 20.0
    assert list(fig.data[1].x) != before
    w.controls["params"].value = "besiroglu"
    assert fig.data[0].visible is False and fig.data[2].visible is True
    assert "Besiroglu" in fig.layout.title.text and "Hoffmann" not in fig.layout.title.text
    w.controls["kaplan"].value = False
    assert fig.data[9].visible is False


def test_bad_inputs():
    with pytest.raises(ValueError, match="log10_C"):
        se.compute(40)
    with pytest.raises(ValueError, match="n_points"):
        se.compute(20, n_points=1)
