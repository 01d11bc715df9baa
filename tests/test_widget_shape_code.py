"""Widget W7.1 extension (shape-code explorer): the code sent to the decoder, both faces."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import plotting, shapes
from lib.widgets import shape_code


@pytest.fixture(scope="module")
def decoder():
    im, codes, _, _ = shapes.make_shapes(300, generator=0)
    torch.manual_seed(0)
    dec = shapes.ShapeDecoder(hidden=32)
    shapes.train_decoder(dec, codes, im, steps=50, generator=torch.Generator().manual_seed(0))
    return dec


def test_projection_and_compute(decoder):
    np.testing.assert_allclose(shape_code.project_simplex([2.0, -1.0, 2.0]), [0.5, 0.0, 0.5])
    np.testing.assert_allclose(shape_code.project_simplex([0.0, 0.0, 0.0]), [1 / 3] * 3)
    res = shape_code.compute(decoder, (0.2, 0.6, 0.0), 90.0)
    code = torch.tensor([[0.25, 0.75, 0.0, 0.0, 1.0]])
    with torch.no_grad():
        ref = decoder(code)[0].numpy().reshape(16, 16)
    np.testing.assert_allclose(res["image"], ref, atol=1e-6)
    np.testing.assert_allclose(res["weights"], [0.25, 0.75, 0.0])


def test_static_figure(decoder):
    fig = shape_code.figure(decoder)
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    s_type, s_angle = fig.layout.sliders
    assert len(s_type.steps) == len(shape_code.PATH_T) and len(s_angle.steps) == len(shape_code.ANGLES_DEG)
    assert not np.allclose(s_type.steps[0].args[0]["z"][0], s_type.steps[-1].args[0]["z"][0])
    assert not np.allclose(s_angle.steps[0].args[0]["z"][0], s_angle.steps[1].args[0]["z"][0])


def test_live_widget(decoder):
    live = shape_code.widget(decoder)
    fig = live.figures[0]
    z0 = np.array(fig.data[0].z)
    live.controls["triangle"].value = 1.0
    assert not np.allclose(np.array(fig.data[0].z), z0) and "triangle 0.50" in fig.layout.title.text
    z1 = np.array(fig.data[0].z)
    live.controls["angle"].value = 45.0
    assert not np.allclose(np.array(fig.data[0].z), z1)


def test_bad_input(decoder):
    with pytest.raises(ValueError, match="weights"):
        shape_code.compute(decoder, (1.0, 0.0))
    with pytest.raises(ValueError, match="angle_deg"):
        shape_code.compute(decoder, (1.0, 0.0, 0.0), np.inf)
    with pytest.raises(TypeError, match="decoder"):
        shape_code.compute("decoder")
