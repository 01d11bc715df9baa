"""Authoring helpers for the course notebooks: the one standard setup cell, and a notebook builder.

The setup cell is identical in every notebook (``tests/test_hygiene.py`` checks it). Its repository
address is read from ``_config.yml`` (``repository.url``), where it is set once for the whole book.

Build a notebook from a script (kept outside the repository or under ``tools/``)::

    from tools.notebooks import md, code, write
    write("chapters/01_regression/01_linear_regression.ipynb", [md("# Title"), code("x = 1")])
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

SETUP_TEMPLATE = '''\
# Course setup (hidden on the website): make `lib` importable from a checkout, Binder or Colab,
# then seed python, numpy and torch, set the thread count and pick the device.
import os, pathlib, subprocess, sys
COURSE_REPO = os.environ.get("COURSE_REPO", "{repo}")
_root = next((p for p in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents] if (p / "lib" / "device.py").is_file()), None)
if _root is not None:  # a local checkout or Binder
    sys.path.insert(0, str(_root))
elif "google.colab" in sys.modules:  # Colab: install the course package, keeping Colab's own torch
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"git+{{COURSE_REPO}}"], check=True)
    from google.colab import output
    output.enable_custom_widget_manager()
import lib
device = lib.setup()'''

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def repository_url(config: Path = ROOT / "_config.yml") -> str:
    """The repository address set once in ``_config.yml`` (``repository: url: ...``)."""
    text = config.read_text()
    m = re.search(r"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:\s*(\S+)", text, re.M)
    if not m:
        raise ValueError(f"{config}: no `repository: url:` entry")
    return m.group(1).strip("\"'")


def setup_source() -> str:
    """The exact source of the standard setup cell."""
    return SETUP_TEMPLATE.format(repo=repository_url())


def setup_cell():
    return new_code_cell(setup_source(), metadata={"tags": ["remove-cell"]})


def md(text: str, tags: list[str] | None = None):
    return new_markdown_cell(text.strip("\n"), metadata={"tags": tags} if tags else {})


def code(text: str, tags: list[str] | None = None):
    return new_code_cell(text.strip("\n"), metadata={"tags": tags} if tags else {})


def write(path: str | Path, cells: list, extra_metadata: dict | None = None) -> Path:
    """Write a notebook: the setup cell first, then ``cells``; no outputs, python3 kernelspec."""
    nb = new_notebook(cells=[setup_cell(), *cells])
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata.update(extra_metadata or {})
    for i, cell in enumerate(nb.cells):  # stable ids: rewriting a notebook gives a clean diff
        cell.id = f"c{i:03d}"
    path = ROOT / path if not Path(path).is_absolute() else Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
