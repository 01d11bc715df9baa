"""Widget W5 (svd_memory): compute against numpy's SVD, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib.widgets import svd_memory as sm


def test_compute_matches_eckart_young():
    res = sm.compute(noise=0.2, seed=1)
    np.testing.assert_allclose(res["err_noisy"], res["eckart_young"], atol=1e-10)
    assert res["err_noisy"][0] == pytest.approx(np.sqrt(np.sum(res["s"] ** 2)))
    assert int(np.argmin(res["err_clean"])) == sm.K_TRUE
    assert res["lora_params"][3] == 3 * (sm.D_IN + sm.D_OUT)
    clean = sm.compute(noise=0.0)
    assert clean["err_clean"][sm.K_TRUE] < 1e-10 and clean["s"][sm.K_TRUE] < 1e-10


def test_static_figure():
    fig = sm.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == sm.MAX_RANK + 1
    assert steps[1].args[0]["y"][0] != steps[8].args[0]["y"][0]   # the kept bars change with r


def test_live_widget_updates():
    w = sm.widget()
    fig = w.figures[0]
    before = list(fig.data[0].y)
    w.controls["rank"].value = 10
    assert list(fig.data[0].y) != before and "Rank 10" in fig.layout.title.text
    before = list(fig.data[3].y)
    w.controls["noise"].value = 0.5
    assert list(fig.data[3].y) != before


def test_bad_inputs():
    with pytest.raises(ValueError, match="noise"):
        sm.compute(noise=-1)
