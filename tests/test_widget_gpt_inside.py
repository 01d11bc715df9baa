"""Widget W3 (gpt_inside): compute against lib.interp, the static figure, the live widget (untrained model: fast)."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import plotting
from lib.interp import ablate, attention_maps
from lib.text import CAPITALS_CONFIG, WordTokenizer, make_capitals_corpus, recall_capitals
from lib.transformer import GPTConfig, TinyGPT
from lib.widgets import gpt_inside


@pytest.fixture(scope="module")
def gpt():
    tok = WordTokenizer().fit(make_capitals_corpus(100))
    torch.manual_seed(0)
    model = TinyGPT(GPTConfig(vocab_size=tok.vocab_size, **CAPITALS_CONFIG)).eval()
    with torch.no_grad():  # sharper attention than at initialisation
        for block in model.blocks:
            block.attn.W_q.weight.mul_(30)
            block.attn.W_k.weight.mul_(30)
    return model, tok


def test_prompts():
    prompts = gpt_inside.capital_prompts()
    assert len(prompts) == 36
    for p in prompts:
        assert p["key"] in p["text"].split() and p["answer"] not in p["text"].split()


def test_compute_matches_interp(gpt):
    model, tok = gpt
    prompt = gpt_inside.capital_prompts()[0]
    res = gpt_inside.compute(model, tok, prompt)
    idx = torch.tensor(tok.encode(prompt["text"]))
    assert res["words"] == ["the", "capital", "of", "france", "is"] and res["key_pos"] == 3
    assert res["stages"] == ["embed", "L0.attn", "L0.mlp", "L1.attn", "L1.mlp"]
    np.testing.assert_allclose(res["maps"], attention_maps(model, idx).numpy())
    np.testing.assert_allclose(res["key_attention"], res["maps"][:, :, -1, 3])
    recalled = recall_capitals(model, tok, pairs=[("france", "paris")])[0]
    assert res["lens"]["none"][-1] == pytest.approx(recalled["p_correct"], abs=1e-6)
    p_ablated = torch.softmax(ablate(model, idx, component="mlp", layer=1)[0, -1].double(), -1)
    assert res["lens"]["mlp L1"][-1] == pytest.approx(float(p_ablated[tok.stoi["paris"]]), abs=1e-6)
    assert res["lens"]["attn L1"][:3] == res["lens"]["none"][:3]  # nothing changes before the ablated layer
    assert res["top"][0][1] >= res["top"][1][1]
    ablated = gpt_inside.compute(model, tok, prompt, "attn L0")
    assert not np.allclose(ablated["maps"][1], res["maps"][1])  # layer 1 sees a different stream


def test_static_figure(gpt):
    model, tok = gpt
    prompts = gpt_inside.capital_prompts()[:6]
    fig = gpt_inside.figure(model, tok, prompts)
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 6
    assert steps[0].args[0]["z"][0] != steps[2].args[0]["z"][0]  # the attention map changes with the prompt
    assert steps[0].args[0]["y"][-1] != steps[1].args[0]["y"][-1]  # so do the top words
    assert "puts" in steps[3].args[1]["title.text"]


def test_full_figure_is_small(gpt):
    model, tok = gpt
    assert len(plotting.to_html(gpt_inside.figure(model, tok))) < 1_500_000


def test_live_widget_updates(gpt):
    model, tok = gpt
    w = gpt_inside.widget(model, tok)
    fig = w.figures[0]
    z0, lens0 = [list(r) for r in fig.data[0].z], list(fig.data[1].y)
    w.controls["head"].value = 1
    assert [list(r) for r in fig.data[0].z] != z0
    w.controls["prompt"].value = 4
    assert list(fig.data[1].y) != lens0
    w.controls["ablate"].value = "mlp L0"
    assert "mlp L0 zeroed" in fig.layout.annotations[0].text


def test_bad_inputs(gpt):
    model, tok = gpt
    with pytest.raises(ValueError, match="ablate"):
        gpt_inside.compute(model, tok, gpt_inside.capital_prompts()[0], "attn L5")
    with pytest.raises(ValueError, match="prompt"):
        gpt_inside.compute(model, tok, {"text": "the capital of france is"})
    with pytest.raises(TypeError, match="tokenizer"):
        gpt_inside.figure(model, None)
