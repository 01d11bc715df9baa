"""tools/book.py: which notebooks re-execute when lib/ changes, and which ones the book executes."""
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import book  # noqa: E402


@pytest.fixture()
def tree(tmp_path, monkeypatch):
    """A miniature course: lib/a.py imported by one chapter notebook, lib/b.py by nobody, a student exercise."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "__init__.py").write_text("")
    (tmp_path / "lib" / "a.py").write_text("X = 1\n")
    (tmp_path / "lib" / "b.py").write_text("Y = 1\n")
    for rel, src in [("chapters/c/01.ipynb", "from lib import a"), ("chapters/c/02.ipynb", "x = 1"),
                     ("exercises/ch01_x.ipynb", "y = 2")]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        nb = new_notebook(cells=[new_code_cell(src)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, path)
    monkeypatch.setattr(book, "ROOT", tmp_path)
    monkeypatch.setattr(book, "CACHE", tmp_path / "_build" / ".jupyter_cache")
    monkeypatch.setattr(book, "STAMPS", tmp_path / "_build" / "lib_dependencies.json")
    return tmp_path


def _cache(tree, rel):
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    path = tree / rel
    get_cache(book.CACHE).cache_notebook_bundle(CacheBundleIn(nbformat.read(path, as_version=4), str(path)),
                                                check_validity=False, overwrite=True)


def test_dependencies_follow_imports(tree):
    deps = book.dependencies(tree / "chapters/c/01.ipynb")
    assert tree / "lib" / "a.py" in deps and tree / "lib" / "b.py" not in deps
    assert book.dependencies(tree / "chapters/c/02.ipynb") == []


def test_a_lib_change_drops_and_touches_exactly_its_notebooks(tree):
    assert book.invalidate_stale_executions() == []          # first run: only records the hashes
    for rel in ("chapters/c/01.ipynb", "chapters/c/02.ipynb"):
        _cache(tree, rel)
    assert book.uncached_notebooks() == []                   # the student exercise is never executed
    nb1 = tree / "chapters/c/01.ipynb"
    os.utime(nb1, (1_000_000, 1_000_000))
    (tree / "lib" / "b.py").write_text("Y = 2\n")             # nobody imports b: nothing re-executes
    assert book.invalidate_stale_executions() == []
    (tree / "lib" / "a.py").write_text("X = 2\n")
    assert book.invalidate_stale_executions() == [nb1]
    assert book.uncached_notebooks() == [nb1]                # its cached execution is gone
    assert nb1.stat().st_mtime > 1_000_000                   # and Sphinx will read its page again
