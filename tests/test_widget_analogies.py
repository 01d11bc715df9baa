"""Widget W2.6 (analogies): answers against a direct cosine search, static figure, live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from sklearn.decomposition import PCA

from lib import embedding as emb
from lib import plotting
from lib.widgets import analogies


def test_compute_matches_brute_force_cosine_search():
    counts, words, _ = emb.attribute_cooccurrence(seed=0)
    E = emb.svd_embed(emb.ppmi(counts), 4)
    U = E / np.linalg.norm(E, axis=1, keepdims=True)
    for a, b, c in analogies.QUESTIONS:
        res = analogies.compute(a, b, c)
        t = U[words.index(a)] - U[words.index(b)] + U[words.index(c)]
        scores = {w: U[i] @ t / np.linalg.norm(t) for i, w in enumerate(words) if w not in (a, b, c)}
        best = sorted(scores, key=scores.get, reverse=True)
        assert res["answer"] == best[0] == emb.analogy(E, words, a, b, c) and [w for w, _ in res["top3"]] == best[:3]
        np.testing.assert_allclose([s for _, s in res["top3"]], [scores[w] for w in best[:3]], rtol=1e-12)
    assert [analogies.compute(*q)["answer"] for q in analogies.QUESTIONS[:3]] == ["queen", "princess", "girl"]


def test_pca_coordinates_match_sklearn_up_to_sign():
    counts, _, _ = emb.attribute_cooccurrence(seed=0)
    E = emb.svd_embed(emb.ppmi(counts), 4)
    ref = PCA(2).fit_transform(E)
    xy = analogies.compute()["xy"]
    for j in range(2):
        np.testing.assert_allclose(np.abs(xy[:, j]), np.abs(ref[:, j]), atol=1e-10)


def test_static_figure_slider_over_questions():
    fig = analogies.figure()
    assert plotting.missing_labels(fig) == [] and len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(analogies.QUESTIONS)
    names = [s.args[0]["name"][1] for s in steps]
    assert names[0] == "woman → queen" and len(set(names)) > 3
    assert "= queen" in steps[0].args[1]["title.text"]


def test_live_widget_updates():
    live = analogies.widget()
    fig = live.figures[0]
    assert isinstance(fig, go.FigureWidget) and "= queen" in fig.layout.title.text
    live.controls["a"].value = "prince"
    live.controls["b"].value = "boy"
    live.controls["c"].value = "girl"
    assert "= princess" in fig.layout.title.text and fig.data[2].name == "girl → princess"
    assert "princess" in live.children[1].value
    live.controls["c"].value = "boy"
    assert "different" in live.children[1].value and "= princess" in fig.layout.title.text


def test_bad_inputs():
    with pytest.raises(ValueError, match="a"):
        analogies.compute("emperor", "man", "woman")
    with pytest.raises(ValueError, match="different"):
        analogies.compute("king", "king", "woman")
    with pytest.raises(ValueError, match="k"):
        analogies.compute(k=1)
    with pytest.raises(ValueError, match="questions"):
        analogies.figure(questions=[])
