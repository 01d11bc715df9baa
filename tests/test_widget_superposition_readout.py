"""Widget W5.4 (superposition_readout): histogram against the library and theory, static and live figures."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib.superposition import superposition_readout
from lib.widgets import superposition_readout as sw


def test_compute_matches_library_and_theory():
    res = sw.compute(d=128, k=16, n_samples=3200, seed=2)
    ref = superposition_readout(128, 16, n_trials=200, seed=2)
    np.testing.assert_allclose(res["readouts"], 1 + ref["errors"][:16], atol=1e-12)
    assert res["rms"] == pytest.approx(ref["rms"]) and res["theory"] == pytest.approx(np.sqrt(15 / 128))
    width = sw.EDGES[1] - sw.EDGES[0]
    assert res["density"].sum() * width == pytest.approx(1.0)
    assert res["normal"].sum() * width == pytest.approx(1.0, abs=1e-3)
    # the histogram follows the normal density: total variation distance is small
    assert 0.5 * np.abs(res["density"] - res["normal"]).sum() * width < 0.1


def test_one_feature_has_no_interference():
    res = sw.compute(d=64, k=1, n_samples=10)
    np.testing.assert_allclose(res["readouts"], 1.0, atol=1e-12)
    assert res["theory"] == 0 and np.all(res["normal"] == 0)


def test_static_figure():
    fig = sw.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == [str(k) for k in sw.KS]
    assert len(steps[0].args[0]["y"][0]) == 2 and len(steps[-1].args[0]["y"][0]) == 512
    assert steps[0].args[0]["y"][3] != steps[-1].args[0]["y"][3]   # the predicted width grows with K


def test_live_widget_updates():
    w = sw.widget()
    fig = w.figures[0]
    before = list(fig.data[2].y)
    w.controls["k"].value = 200
    assert len(fig.data[0].y) == 200 and list(fig.data[2].y) != before
    w.controls["d"].value = 1024
    assert "d = 1024" in fig.layout.title.text


def test_bad_inputs():
    with pytest.raises(ValueError, match="n_samples"):
        sw.compute(n_samples=0)
    with pytest.raises(ValueError, match="k"):
        sw.compute(k=0)
