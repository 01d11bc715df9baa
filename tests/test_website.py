"""The built website in a real browser (headless Debian Chromium driven by playwright).

``make test`` builds the book first; these tests read ``_build/html``. Every page must load without
JavaScript errors, every plotly figure must render, and moving any slider of a kernel-free widget figure
must change what the figure shows.
"""
from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SKIP = {"genindex.html", "search.html"}

pytestmark = pytest.mark.browser


def pages() -> list[str]:
    if not HTML.exists():
        return []
    return sorted(str(p.relative_to(HTML)) for p in HTML.rglob("*.html")
                  if p.name not in SKIP and not {"_static", "_sources", "_images"} & set(p.parts))


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail("the website is not built: run `make book` (make test does it first)")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def open_page(browser, url):
    """Open a page of the local site. The machine is offline, so requests to other hosts (MathJax's CDN)
    are refused at once; failures of the site's own files are errors, as are uncaught exceptions and
    console errors."""
    origin = url.split("/", 3)[:3]
    origin = "/".join(origin)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(120_000)  # generous: a busy 2-core machine renders a 3 MB page of figures slowly
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(origin) else route.abort())
    errors = []
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}")
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    page.on("requestfailed", lambda req: errors.append(f"failed request: {req.url}")
            if req.url.startswith(origin) else None)
    page.goto(url, wait_until="load")
    page.wait_for_function("() => !window.Plotly || Array.from(document.querySelectorAll('div.plotly-graph-div'))"
                           ".every(d => d.classList.contains('js-plotly-plot'))", timeout=120_000)
    return page, errors


def test_site_has_the_expected_pages():
    have = set(pages())
    for want in ["index.html", "chapters/01_regression/index.html", "chapters/02_mlp/index.html",
                 "about/execution_stats.html", "about/corrections.html", "about/widgets.html",
                 "chapters/03_cnn/index.html", "chapters/04_rnn/index.html",
                 "exercises/ch01_regression.html", "exercises/ch02_mlp.html",
                 "exercises/ch03_cnn.html", "exercises/ch04_rnn.html",
                 "chapters/05_transformer/index.html", "exercises/ch05_transformer.html",
                 "about/widgets_ch05.html",
                 "chapters/06_diffusion/index.html", "chapters/07_vae_gan/index.html", "chapters/08_rl/index.html",
                 "exercises/ch06_diffusion.html", "exercises/ch07_vae_gan.html", "exercises/ch08_rl.html",
                 "about/widgets_ch06_07.html", "about/widgets_ch08.html",
                 "chapters/09_trees_boosting/index.html", "chapters/10_svm/index.html",
                 "exercises/ch09_trees.html", "exercises/ch10_svm.html", "about/widgets_ch09_10.html"]:
        assert want in have, f"{want} is missing from the built site"


@pytest.mark.parametrize("path", pages())
def test_page_loads_and_figures_render(browser, server, path):
    page, errors = open_page(browser, f"{server}/{path}")
    try:
        assert not errors, f"{path}: {errors}"
        n_div = page.locator("div.plotly-graph-div").count()
        rendered = page.evaluate("""() => Array.from(document.querySelectorAll('div.plotly-graph-div'))
            .filter(d => d.classList.contains('js-plotly-plot') && d.querySelector('svg.main-svg')
                         && d.getBoundingClientRect().height > 50).length""")
        assert rendered == n_div, f"{path}: {n_div - rendered} of {n_div} figures did not render"
        # math is typeset by the MathJax copy in _static (offline): every formula becomes an mjx-container
        n_math = page.locator("span.math, div.math").count()
        if n_math:
            page.wait_for_function("(n) => document.querySelectorAll('mjx-container').length >= n", arg=n_math)
        # dark mode must not break anything either
        page.evaluate("document.documentElement.dataset.theme = 'dark'")
        page.wait_for_timeout(100)
        assert not errors, f"{path} in dark mode: {errors}"
    finally:
        page.close()


def figure_state(page, div_id):
    return page.evaluate("""(id) => { const d = document.getElementById(id);
        return JSON.stringify([d.data.map(t => [t.x, t.y, t.z, t.visible, t.marker && t.marker.color]),
                               d.layout.title, d.layout.annotations]); }""", div_id)


def slider_pages() -> list[str]:
    return [p for p in pages() if re.search(r'"sliders"\s*:', (HTML / p).read_text(errors="ignore"))]


WIDGET_PAGES = ["chapters/01_regression/01_linear_regression.html",
                "chapters/01_regression/02_piecewise_linear_double_descent.html",
                "chapters/01_regression/03_logistic_regression_gradient_descent.html",
                "chapters/02_mlp/01_perceptron_backprop_multiclass.html",
                "chapters/02_mlp/02_minibatches_optimizers.html",
                "chapters/02_mlp/03_initialisation_normalisation_dropout.html",
                "chapters/02_mlp/04_embeddings_memory_superposition.html",
                "chapters/03_cnn/01_convolution.html",
                "chapters/03_cnn/02_inductive_bias_and_training.html",
                "chapters/03_cnn/03_backprop_in_cnns.html",
                "chapters/04_rnn/01_rnn_bptt_lstm.html",
                "chapters/04_rnn/02_depth_residual_stream.html",
                "chapters/04_rnn/03_ssm_mamba_quantum.html",
                "chapters/05_transformer/01_attention.html",
                "chapters/05_transformer/02_tiny_gpt.html",
                "chapters/05_transformer/03_memory_lora_moe_scaling.html",
                "chapters/05_transformer/04_alignment_vit_clip.html",
                "chapters/06_diffusion/01_noising_denoising.html",
                "chapters/06_diffusion/03_sde_ode_langevin.html",
                "chapters/06_diffusion/04_flow_matching_ddim_guidance.html",
                "chapters/07_vae_gan/01_mle_kl_latent_variables.html",
                "chapters/07_vae_gan/02_vae.html",
                "chapters/07_vae_gan/03_gan_wgan.html",
                "chapters/08_rl/01_mdp_bellman_pg.html",
                "chapters/08_rl/02_mcts.html",
                "chapters/08_rl/04_value_based.html",
                "chapters/08_rl/05_policy_gradient_ppo.html",
                "chapters/09_trees_boosting/01_decision_trees.html",
                "chapters/09_trees_boosting/02_boosting_xgboost.html",
                "chapters/09_trees_boosting/03_adaboost_random_forests.html",
                "chapters/10_svm/01_max_margin_duality.html",
                "chapters/10_svm/02_kernels_smo.html",
                "chapters/10_svm/03_losses_unified_complexity.html",
                "about/widgets.html", "about/widgets_ch03_04.html", "about/widgets_ch05.html",
                "about/widgets_ch06_07.html", "about/widgets_ch08.html", "about/widgets_ch09_10.html"]


def test_widget_pages_have_sliders():
    """The pages that show a widget carry its slider (so the slider test below covers them)."""
    have = slider_pages()
    missing = [p for p in WIDGET_PAGES if p not in have]
    assert not missing, f"no slider figure on {missing}"


@pytest.mark.parametrize("path", slider_pages())
def test_moving_a_slider_changes_the_figure(browser, server, path):
    page, errors = open_page(browser, f"{server}/{path}")
    try:
        ids = page.evaluate("""() => Array.from(document.querySelectorAll('div.js-plotly-plot'))
            .filter(d => d.layout && d.layout.sliders && d.layout.sliders.length).map(d => d.id)""")
        assert ids, f"{path}: no figure with a slider rendered"
        for div_id in ids:
            rails = page.locator(f"[id='{div_id}'] rect.slider-rail-touch-rect")
            for k in range(rails.count()):
                rail = rails.nth(k)
                rail.scroll_into_view_if_needed()
                box = rail.bounding_box()
                before = figure_state(page, div_id)
                changed = False
                for x in (box["x"] + box["width"] - 3, box["x"] + 3):  # try both ends of the rail
                    page.mouse.click(x, box["y"] + box["height"] / 2)
                    page.wait_for_timeout(150)
                    if figure_state(page, div_id) != before:
                        changed = True
                        break
                assert changed, f"{path}: slider {k} of figure {div_id} does not change the figure"
        assert not errors, f"{path}: {errors}"
    finally:
        page.close()
