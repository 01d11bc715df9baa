"""MCTS explorer: presets labelled by the exact solver, snapshots consistent with the search, both faces."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib.rl import mcts as M
from lib.rl.games import classify
from lib.widgets import mcts_explorer as mx


def test_presets_are_what_they_say():
    g, sol = mx.GAME, mx.SOLVER
    assert classify(g, mx.PRESETS["X has a fork"], sol) == "fork" and g.to_play(mx.PRESETS["X has a fork"]) == 1
    assert classify(g, mx.PRESETS["X wins in 1"], sol) == "win_in_1"
    assert classify(g, mx.PRESETS["O must block"], sol) == "must_block"
    assert sol.best_actions(mx.PRESETS["O must block"]) == [8]
    assert sol.best_actions(mx.PRESETS["corner opening"]) == [4]  # only the centre draws
    assert sol.value(mx.PRESETS["empty board"]) == 0


def test_snapshots_match_a_fresh_search():
    snaps = mx.compute(mx.PRESETS["X has a fork"], "random rollout", 2.0, sims=(0, 5, 50, 300), seed=3)
    assert [s["n"] for s in snaps] == [0, 5, 50, 300]
    for s in snaps[1:]:
        search = M.MCTS(mx.GAME, M.RolloutEvaluator(np.random.default_rng(3)), M.MCTSConfig(c_puct=2.0, seed=3))
        root = search.run(mx.PRESETS["X has a fork"], s["n"])
        np.testing.assert_array_equal(s["table"]["N"], root.N[root.legal])
        assert s["best"] == M.best_action(root)
        assert s["rows"][0]["N"] == s["n"] and sum(r["N"] for r in s["rows"] if r["depth"] == 1) == s["n"]
    t = snaps[-1]["table"]
    np.testing.assert_allclose(t["score"], t["Q"] + t["U"])
    assert snaps[-1]["table"]["exact"][list(t["action"]).index(snaps[-1]["best"])] == 1  # finds the forced win


def test_static_figure():
    fig = mx.figure(presets=("X has a fork", "O must block"), sims=(1, 10, 100, 400))
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 4
    first, last = steps[0].args[0], steps[-1].args[0]
    assert first["values"][2] != last["values"][2]  # the icicle of the fork preset grows
    assert first["cells.values"][3] != last["cells.values"][3]
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["X has a fork", "O must block"]
    assert buttons[1].args[0]["visible"] == [False] * 4 + [True] * 4


def test_default_static_figure_size():
    assert len(plotting.to_html(mx.figure())) < 1_500_000


def test_live_widget():
    live = mx.widget(n_sims=20)
    fig = live.figures[0]
    values = list(fig.data[2].values)
    live.controls["sims"].value = 300
    assert list(fig.data[2].values) != values and fig.data[2].values[0] == 300
    cells = list(fig.data[3].cells.values[1])
    live.controls["c"].value = 0.2
    assert list(fig.data[3].cells.values[1]) != cells
    live.controls["step"].click()
    assert live.controls["sims"].value == 301 and fig.data[2].values[0] == 301
    assert "Backup" in live.children[-1].value
    live.controls["preset"].value = "O must block"
    assert "O must block" in fig.layout.title.text
    z = list(map(list, fig.data[0].z))
    live.controls["play"].click()  # O blocks; the board changes
    assert list(map(list, fig.data[0].z)) != z
    live.controls["evaluator"].value = "exact value oracle"
    assert fig.data[2].values[0] == 301  # the slider kept the stepped count


@pytest.mark.parametrize("kwargs, msg", [(dict(state=(1, 1, 1, -1, -1, 0, 0, 0, 0)), "state"),
                                         (dict(state=(1, 1, 0, 0, 0, 0, 0, 0, 0)), "s:"),
                                         (dict(sims=(10, 5)), "sims"), (dict(c=0.0), "c"),
                                         (dict(evaluator="magic"), "evaluator")])
def test_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        mx.compute(**kwargs)
