"""Widget W6.3 (schedules and classifier-free guidance): curves against closed forms, guidance against
the exact class law, both faces."""
import json

import numpy as np
import pytest
import torch

from lib import plotting
from lib.sample_metrics import energy_distance
from lib.widgets import schedule_guidance as sg


def test_schedule_curves_closed_forms():
    c = sg.schedule_curves()
    lin = c["DDPM linear"]
    assert lin["abar"][-1] == pytest.approx(4.036e-5, rel=1e-3)
    assert lin["abar"][499] == pytest.approx(0.079, abs=1e-3) and c["DDPM cosine"]["abar"][499] == pytest.approx(0.494, abs=1e-3)
    betas = np.linspace(1e-4, 0.02, 1000)
    np.testing.assert_allclose(lin["abar"], np.cumprod(1 - betas), rtol=1e-10)
    np.testing.assert_allclose(lin["log_snr"], np.log(lin["abar"] / (1 - lin["abar"])))
    np.testing.assert_allclose(c["book VE"]["b"] ** 2, 0.025 * np.arange(1, 1001))  # Var(x_t | x_0) = t sigma^2


def test_guidance_zero_samples_the_class_and_guidance_pushes_away():
    res0 = sg.compute(0.0, n=600, steps=200, seed=1)
    cls, _ = sg.CLASSES.component(1).sample(600, generator=torch.Generator().manual_seed(2))
    assert energy_distance(res0["x"], cls) < 0.02          # w = 0: the class-conditional law itself
    means = [sg.compute(w, n=600, steps=200, seed=1)["mean_x1"] for w in (0.0, 1.0, 4.0)]
    assert means[0] == pytest.approx(0.7, abs=0.07) and means[0] < means[1] < means[2]
    assert sg.compute(4.0, n=600, steps=200, seed=1)["frac_left"] < res0["frac_left"]


def test_static_figure():
    fig = sg.figure(guidance=(0.0, 2.0, 8.0), n=100, steps=60)
    assert plotting.missing_labels(fig) == [] and len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    s_view, s_w = fig.layout.sliders
    assert s_view.steps[0].args[0]["y"][0] != s_view.steps[1].args[0]["y"][0]
    assert s_w.steps[0].args[0]["x"][0] != s_w.steps[-1].args[0]["x"][0]
    assert list(s_w.steps[0].args[2]) == [5] and list(s_view.steps[0].args[1]) == [0, 1, 2]


def test_live_widget():
    live = sg.widget(n=80, steps=40)
    fig = live.figures[0]
    x0 = list(fig.data[5].x)
    live.controls["w"].value = 6.0
    assert list(fig.data[5].x) != x0 and "6" in fig.layout.title.text
    y0 = list(fig.data[1].y)
    live.controls["view"].value = sg.VIEWS[2]
    assert list(fig.data[1].y) != y0


@pytest.mark.parametrize("kwargs, name", [(dict(w=-1.0), "w"), (dict(w=np.inf), "w"), (dict(n=0), "n"),
                                          (dict(steps=1.5), "steps"), (dict(seed=-1), "seed")])
def test_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        sg.compute(**kwargs)
