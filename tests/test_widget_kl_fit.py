"""Widget W7.2 (forward vs reverse KL): the fits against closed forms and each other, both faces."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import kl_fit as kf
from lib import plotting
from lib.widgets import kl_fit


def test_compute_fits():
    res = kl_fit.compute(4.0, 0.35)
    m, s = res["forward"]
    assert m == pytest.approx(0.35 * -2 + 0.65 * 2) and s == pytest.approx(np.sqrt(0.25 + 4 - m ** 2))
    mr, sr = res["reverse"]
    assert mr == pytest.approx(2.0, abs=0.06) and sr == pytest.approx(0.5, rel=0.05)   # the heavier mode
    f, r = res["kl"]["forward fit"], res["kl"]["reverse fit"]
    assert f["forward"] < r["forward"] and r["reverse"] < f["reverse"]       # each fit wins its own direction
    dx = res["x"][1] - res["x"][0]
    assert res["p"].sum() * dx == pytest.approx(1.0, abs=1e-6)
    assert res["q_reverse"].sum() * dx == pytest.approx(1.0, abs=1e-4)
    close = kl_fit.compute(0.5, 0.35)                                         # overlapping modes: fits agree
    assert abs(close["forward"][0] - close["reverse"][0]) < 0.1
    flipped = kl_fit.compute(4.0, 0.65)
    assert flipped["reverse"][0] == pytest.approx(-2.0, abs=0.06)


def test_static_figure():
    fig = kl_fit.figure()
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    s_sep, s_w = fig.layout.sliders
    assert len(s_sep.steps) == len(kl_fit.SEPS) and len(s_w.steps) == len(kl_fit.WEIGHTS)
    assert not np.allclose(s_sep.steps[0].args[0]["y"][1], s_sep.steps[-1].args[0]["y"][1])
    assert not np.allclose(s_w.steps[0].args[0]["y"][2], s_w.steps[-1].args[0]["y"][2])


def test_live_widget():
    live = kl_fit.widget()
    fig = live.figures[0]
    y0 = list(fig.data[2].y)
    live.controls["weight"].value = 0.7
    assert list(fig.data[2].y) != y0 and "w = 0.7" in fig.layout.title.text
    y1 = list(fig.data[1].y)
    live.controls["sep"].value = 2.0
    assert list(fig.data[1].y) != y1


@pytest.mark.parametrize("kwargs, msg", [(dict(sep=-1.0), "sep"), (dict(sep=np.nan), "sep"),
                                         (dict(weight=0.0), "weight"), (dict(weight=1.0), "weight")])
def test_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        kl_fit.compute(**kwargs)
