"""Widget W3.2 (sliding_window): each step against F.conv2d and F.unfold, static figure, live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F

from lib import plotting
from lib.widgets import sliding_window as sw


@pytest.mark.parametrize("r, seed", [(1, 0), (2, 0), (1, 5), (2, 7)])
def test_every_step_is_a_dot_product_of_unfold_column_and_kernel(r, seed):
    x, w = sw.toy(r, seed)
    xt, wt = torch.from_numpy(x)[None, None], torch.from_numpy(w)[None, None]
    ref = F.conv2d(xt, wt, padding=r)[0, 0].numpy()
    cols = F.unfold(xt, 2 * r + 1, padding=r)[0].numpy()
    for i in range(6):
        for j in range(6):
            res = sw.compute(i, j, r, seed)
            np.testing.assert_array_equal(res["patch"], cols[:, i * 6 + j])
            np.testing.assert_array_equal(res["patch"].reshape(2 * r + 1, 2 * r + 1),
                                          res["xp"][i:i + 2 * r + 1, j:j + 2 * r + 1])
            assert res["value"] == pytest.approx(ref[i, j], abs=1e-12)
            assert np.isnan(res["filled"]).sum() == 35 - (i * 6 + j)
    np.testing.assert_allclose(res["out"], ref, atol=1e-12)


def test_static_figure():
    fig = sw.figure()
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 36
    assert steps[0].args[0]["x"][1] != steps[1].args[0]["x"][1]          # the window moved
    assert steps[7].args[1]["title.text"].startswith("out[1, 1] =")


def test_live_widget():
    live = sw.widget()
    fig = live.figures[0]
    box0 = list(fig.data[1].x)
    live.controls["j"].value = 3
    assert list(fig.data[1].x) != box0 and fig.layout.title.text.startswith("out[0, 3]")
    live.controls["r"].value = 2
    assert len(fig.data[2].z) == 25 and "r = 2" in fig.layout.annotations[0].text
    live.controls["i"].value = 5
    assert fig.layout.title.text.startswith("out[5, 3]")


@pytest.mark.parametrize("call, msg", [(lambda: sw.compute(6, 0), "i"), (lambda: sw.compute(0, -1), "j"),
                                       (lambda: sw.compute(0, 0, r=3), "r"), (lambda: sw.widget(r=0), "r")])
def test_bad_input(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()
