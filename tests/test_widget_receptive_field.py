"""Widget W3.3 (receptive_field): theory against autograd gradient supports, static figure, live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import conv, plotting
from lib.widgets import receptive_field as rfw


@pytest.mark.parametrize("n, k, s, d", [(1, 3, 1, 1), (4, 3, 1, 1), (6, 3, 1, 1), (3, 5, 1, 2), (2, 7, 1, 1),
                                        (3, 3, 2, 1), (4, 3, 2, 1), (2, 5, 2, 2), (3, 1, 2, 1)])
def test_support_equals_theoretical_field_when_it_fits(n, k, s, d):
    res = rfw.compute(n, k, s, d, n_inputs=8)
    assert res["rows"] == conv.receptive_field([k] * n, s, d)
    assert not res["clipped"]
    assert res["support"] == (res["rf"], res["rf"])
    lo, hi = res["square"]
    nz = np.nonzero(res["erf"].sum(1))[0]
    assert (nz.min(), nz.max()) == (lo, hi)           # the square sits exactly on the measured support
    assert np.isclose(res["erf"].sum(), 1)


def test_effective_field_is_concentrated_and_clipping_is_reported():
    res = rfw.compute(6, 3, 1, 1, n_inputs=8)
    c = res["centre"]
    # the central 7x7 block is 29% of the 13x13 field's area but holds about 60% of the influence
    assert res["erf"][c - 3:c + 4, c - 3:c + 4].sum() > 1.5 * 49 / 169
    deep = rfw.compute(6, 3, 2, 1)
    assert deep["rf"] == 127 and deep["clipped"]


def test_static_figure():
    fig = rfw.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 12
    titles = [s.args[1]["title.text"] for s in steps]
    assert "theoretical field 3×3" in titles[0] and "theoretical field 31×31" in titles[9]
    z = [np.array(s.args[0]["z"][0], dtype=float) for s in steps]
    assert all(not np.allclose(z[i], z[i + 1]) for i in range(5))


def test_live_widget():
    live = rfw.widget()
    fig = live.figures[0]
    z0 = np.array(fig.data[0].z, dtype=float)
    live.controls["n_layers"].value = 5
    assert "theoretical field 11×11" in fig.layout.title.text
    assert not np.allclose(z0, np.array(fig.data[0].z, dtype=float))
    live.controls["stride"].value = 2
    assert "theoretical field 63×63" in fig.layout.title.text and list(fig.data[2].y) == [3, 7, 15, 31, 63]
    live.controls["dilation"].value = 2
    live.controls["kernel"].value = 1
    assert "theoretical field 1×1" in fig.layout.title.text


@pytest.mark.parametrize("kwargs, msg", [(dict(n_layers=0), "n_layers"), (dict(kernel=4), "kernel"),
                                         (dict(stride=3), "stride"), (dict(dilation=True), "dilation")])
def test_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        rfw.compute(**kwargs)
    with pytest.raises(ValueError, match=msg):
        rfw.widget(**kwargs)
