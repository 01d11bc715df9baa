"""Widget W3: inside the capitals GPT. Where does "paris" come from in "the capital of france is"?

For one prompt from the capitals templates (the answer is the next word):

* left: the attention weights of one head (query rows, key columns; causal, so the upper triangle is 0);
* middle: the logit lens, p(answer) read from the residual stream after each half-layer
  (embed, L0.attn, L0.mlp, L1.attn, ...), once for the intact model and once with each sublayer's
  output set to zero (the ablations);
* right: the model's five most likely next words.

* ``compute``: all of that for one prompt (inference only, a few milliseconds);
* ``figure``: kernel-free, a slider over the prompts, showing the head that attends most to the key word;
* ``widget``: live, with the prompt, layer, head and ablation as controls;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import plotting
from ..interp import ablation, attention_maps, logit_lens
from ..text import CAPITALS, WordTokenizer
from ..transformer import TinyGPT
from . import Live, dual, readout, slider


def capital_prompts(pairs=CAPITALS) -> list[dict]:
    """Three prompts per pair: text, the answer (next word) and the context word that holds the clue."""
    out = []
    for country, capital in pairs:
        out += [dict(text=f"the capital of {country} is", answer=capital, key=country),
                dict(text=f"we visited {country} and saw", answer=capital, key=country),
                dict(text=f"{capital} is a big city in", answer=country, key=capital)]
    return out


def ablation_names(model: TinyGPT) -> list[str]:
    """"none", then "attn L0", "mlp L0", "attn L1", ... for every sublayer of the model."""
    return ["none"] + [f"{c} L{l}" for l in range(len(model.blocks)) for c in ("attn", "mlp")]


def _check(model, tokenizer) -> None:
    if not isinstance(model, TinyGPT):
        raise TypeError(f"model: expected a TinyGPT, got {type(model).__name__}")
    if not isinstance(tokenizer, WordTokenizer):
        raise TypeError(f"tokenizer: expected a WordTokenizer, got {type(tokenizer).__name__}")


@torch.no_grad()
def compute(model: TinyGPT, tokenizer: WordTokenizer, prompt: dict, ablate: str = "none") -> dict:
    """Everything W3 shows for one ``prompt`` (a dict from :func:`capital_prompts`).

    Returns ``dict(words, key_pos, maps (L, H, T, T) under ``ablate``, stages (names of the half-layers),
    lens {ablation name: p(answer) at each stage}, top [(word, p)] of the intact model, key_attention
    (L, H): the weight from the last position to the key word)``.
    """
    _check(model, tokenizer)
    if not isinstance(prompt, dict) or not {"text", "answer", "key"} <= prompt.keys():
        raise ValueError("prompt: expected a dict with 'text', 'answer' and 'key' (see capital_prompts)")
    names = ablation_names(model)
    if ablate not in names:
        raise ValueError(f"ablate: expected one of {names}, got {ablate!r}")
    words = prompt["text"].split()
    idx = torch.tensor(tokenizer.encode(prompt["text"]))
    answer = tokenizer.stoi[prompt["answer"]]
    lens = {}
    for name in names:
        if name == "none":
            stages = logit_lens(model, idx)
        else:
            component, layer = name.split(" L")
            with ablation(model, component, int(layer)):
                stages = logit_lens(model, idx)
        lens[name] = [float(p[answer]) for _, p in stages]
    if ablate == "none":
        maps = attention_maps(model, idx)
    else:
        component, layer = ablate.split(" L")
        with ablation(model, component, int(layer)):
            maps = attention_maps(model, idx)
    p_out = torch.softmax(model(idx[None])[0, -1].double(), -1)
    top = p_out.topk(5)
    key_pos = words.index(prompt["key"])
    return dict(words=words, key_pos=key_pos, maps=maps.numpy(), stages=[n for n, _ in stages], lens=lens,
                top=[(tokenizer.itos[int(i)], float(p)) for p, i in zip(top.values, top.indices)],
                key_attention=maps[:, :, -1, key_pos].numpy())


def _base(names: list[str]) -> go.Figure:
    fig = make_subplots(rows=1, cols=3, column_widths=[0.36, 0.4, 0.24], horizontal_spacing=0.09,
                        subplot_titles=("attention of one head", "logit lens: p(answer)", "next word"))
    fig.add_trace(go.Heatmap(colorscale="Blues", zmin=0, zmax=1, showscale=False, name="attention",
                             hovertemplate="query %{y}<br>key %{x}<br>weight %{z:.2f}<extra></extra>"), row=1, col=1)
    for i, name in enumerate(names):
        fig.add_trace(go.Scatter(mode="lines+markers", name="intact" if name == "none" else f"zero {name}",
                                 line=dict(color=plotting.PALETTE[i % len(plotting.PALETTE)],
                                           width=4 if name == "none" else 2,
                                           dash="solid" if name == "none" else "dot")), row=1, col=2)
    fig.add_trace(go.Bar(marker_color=plotting.PALETTE[0], name="p(next word)", showlegend=False), row=1, col=3)
    fig.update_xaxes(title_text="key (attended word)", row=1, col=1)
    fig.update_yaxes(title_text="query (reading word)", autorange="reversed", row=1, col=1)
    fig.update_xaxes(title_text="residual stream after", row=1, col=2)
    fig.update_yaxes(title_text="p(answer)", range=[0, 1.02], row=1, col=2)
    fig.update_xaxes(title_text="word", row=1, col=3)
    fig.update_yaxes(title_text="probability", range=[0, 1.02], row=1, col=3)
    fig.update_layout(height=520, margin=dict(t=130), legend=dict(orientation="h", y=-0.3, x=0.3))
    return fig


def _traces(res: dict, layer: int, head: int) -> list[dict]:
    words = [f"{i}:{w}" for i, w in enumerate(res["words"])]  # unique labels for repeated words
    out = [dict(z=np.round(res["maps"][layer, head], 3).tolist(), x=words, y=words)]
    out += [dict(x=res["stages"], y=np.round(v, 4).tolist()) for v in res["lens"].values()]
    out.append(dict(x=[w for w, _ in res["top"]], y=[round(p, 4) for _, p in res["top"]]))
    return out


def _title(prompt: dict, res: dict, layer: int, head: int) -> str:
    return (f'"{prompt["text"]} ..." answer: {prompt["answer"]}, p = {res["lens"]["none"][-1]:.2f}<br>'
            f'layer {layer} head {head} puts {res["key_attention"][layer, head]:.2f} on "{prompt["key"]}"')


def top_head(results: list[dict]) -> tuple[int, int]:
    """The (layer, head) whose last position attends most to the key word, averaged over prompts."""
    mean = np.mean([r["key_attention"] for r in results], axis=0)
    layer, head = np.unravel_index(int(mean.argmax()), mean.shape)
    return int(layer), int(head)


def figure(model: TinyGPT, tokenizer: WordTokenizer, prompts: list[dict] | None = None) -> go.Figure:
    """Kernel-free: a slider over ``prompts`` (default: all 36 capital prompts), the top head's attention."""
    _check(model, tokenizer)
    prompts = capital_prompts() if prompts is None else prompts
    results = [compute(model, tokenizer, p) for p in prompts]
    layer, head = top_head(results)
    fig = _base(ablation_names(model))
    steps = [(p["text"].replace("the capital of ", "capital of "), _traces(r, layer, head),
              {"title.text": _title(p, r, layer, head)}) for p, r in zip(prompts, results)]
    for trace, upd in zip(fig.data, steps[0][1]):
        trace.update(upd)
    fig.update_layout(title=steps[0][2]["title.text"], sliders=[slider(steps, prefix="prompt: ")])
    fig.layout.annotations[0].text = f"attention, layer {layer} head {head}"
    return fig


def widget(model: TinyGPT, tokenizer: WordTokenizer, prompts: list[dict] | None = None) -> Live:
    """Live: prompt, layer, head and ablation."""
    _check(model, tokenizer)
    prompts = capital_prompts() if prompts is None else prompts
    style = dict(description_width="initial")
    L, H = len(model.blocks), model.blocks[0].attn.n_heads
    controls = dict(
        prompt=W.Dropdown(options=[(p["text"], i) for i, p in enumerate(prompts)], value=0, description="prompt",
                          style=style),
        layer=W.IntSlider(value=0, min=0, max=L - 1, description="layer", style=style),
        head=W.IntSlider(value=0, min=0, max=H - 1, description="head", style=style),
        ablate=W.Dropdown(options=ablation_names(model), value="none", description="zero the output of",
                          style=style),
    )
    fig = go.FigureWidget(_base(ablation_names(model)))
    info = readout()

    def redraw(_=None):
        c = controls
        p = prompts[c["prompt"].value]
        res = compute(model, tokenizer, p, c["ablate"].value)
        layer, head = c["layer"].value, c["head"].value
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res, layer, head)):
                trace.update(**upd)
            fig.layout.title.text = _title(p, res, layer, head)
            fig.layout.annotations[0].text = f"attention of layer {layer}, head {head} ({c['ablate'].value} zeroed)"
        lens = res["lens"][c["ablate"].value]
        info.value = (f"with {c['ablate'].value} zeroed: p({p['answer']}) = {lens[-1]:.3f} "
                      f"(intact {res['lens']['none'][-1]:.3f})")

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig])


def show(model: TinyGPT, tokenizer: WordTokenizer, prompts: list[dict] | None = None) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(model, tokenizer, prompts), figure(model, tokenizer, prompts))
