"""Notebook and book hygiene: what every notebook and page must satisfy."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from tools.notebooks import KERNELSPEC, setup_source

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for d in ("chapters", "exercises", "about") for p in (ROOT / d).rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]


def toc_files() -> set[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    found = {toc["root"]}

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                found.add(e["file"])
            walk(e.get("sections"))
            walk(e.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return found


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_standard_setup_cell_first(path):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.source == setup_source(), f"{path.name}: the first code cell is not the standard setup cell " \
                                           "(tools/notebooks.py); regenerate it"
    assert "remove-cell" in first.metadata.get("tags", []), f"{path.name}: the setup cell must be tagged remove-cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_kernelspec_and_valid(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNELSPEC["name"]
    assert nb.metadata.get("kernelspec", {}).get("language") == "python"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "chapters" in p.parts],
                         ids=[i for i in IDS if i.startswith("chapters")])
def test_chapter_notebook_shape(path):
    """A lecture: a title, prose between code, figures shown with lib.plotting, key results asserted."""
    nb = nbformat.read(path, as_version=4)
    md = [c for c in nb.cells if c.cell_type == "markdown"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert md and md[0].source.startswith("# "), f"{path.name}: must start with an H1 title"
    assert len(md) >= len(code) // 2, f"{path.name}: too little prose ({len(md)} markdown for {len(code)} code cells)"
    assert sum("assert " in c.source for c in code) >= 5, f"{path.name}: key results must be asserted"
    assert not any(re.search(r"\bfig\w*\.show\(", c.source) for c in code), \
        f"{path.name}: display figures with lib.plotting.show(fig), not fig.show()"
    long = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.count("\n") >= 30]
    assert not long, f"{path.name}: cells {long} are longer than 30 lines; split them or move code to lib/"


def test_every_page_is_in_the_toc_and_exists():
    listed = toc_files()
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), f"_toc.yml lists missing {entry}"
    pages = {str(p.relative_to(ROOT).with_suffix("")) for p in NOTEBOOKS}
    pages |= {str(p.relative_to(ROOT).with_suffix("")) for d in ("chapters", "exercises", "about")
              for p in (ROOT / d).rglob("*.md")}
    assert not pages - listed, f"pages missing from _toc.yml: {sorted(pages - listed)}"


def test_repository_address_set_once():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = cfg["repository"]["url"]
    assert url.startswith("https://") and url in setup_source()
    assert cfg["launch_buttons"]["colab_url"] and cfg["launch_buttons"]["binderhub_url"]


def test_no_prose_copied_from_the_book():
    tool = ROOT.parent / "shared" / "tools" / "seed_overlap.py"
    if not tool.exists():
        pytest.skip("shared/tools/seed_overlap.py is not beside this checkout")
    out = subprocess.run([sys.executable, str(tool), str(ROOT)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, "sentences copied from the book:\n" + out.stdout[-3000:]
