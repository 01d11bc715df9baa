"""Build helpers for the website, run by ``make book`` / ``make bench`` before Jupyter Book.

``python tools/book.py prepare``
  1. copies ``plotly.min.js`` from the installed plotly package into ``_static/`` (never committed, no CDN);
  2. keeps the execution cache honest: jupyter-cache re-executes a notebook only when its own code
     changes, so for every notebook we hash the ``lib/`` modules it imports (transitively) and drop its
     cached execution when that hash changes. A change in ``lib/regression.py`` thus re-executes exactly
     the notebooks that import it, directly or through another module.
"""
from __future__ import annotations

import ast
import hashlib
import json
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"
STAMPS = ROOT / "_build" / "lib_dependencies.json"
NOTEBOOK_DIRS = ("chapters", "exercises")


def notebooks() -> list[Path]:
    return sorted(p for d in NOTEBOOK_DIRS for p in (ROOT / d).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def copy_plotly_js() -> Path:
    import plotly
    src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    dst = ROOT / "_static" / "plotly.min.js"
    if not dst.exists() or dst.read_bytes() != src.read_bytes():
        shutil.copyfile(src, dst)
    return dst


def _module_file(name: str) -> Path | None:
    """The file of a ``lib`` module name such as ``lib.widgets.convex`` (None if it is not one)."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(source: str, package: str) -> set[str]:
    """The ``lib...`` modules a source imports (``package`` resolves relative imports)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # notebook cells with magics: keep the parsable lines
        tree = ast.parse("\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!"))))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "lib"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != "lib":
                continue
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}  # `from lib import regression`
    # every parent package runs its __init__ on import
    return {".".join(m.split(".")[:i]) for m in found for i in range(1, m.count(".") + 2)}


def dependencies(nb_path: Path) -> list[Path]:
    """The lib/ files a notebook executes, following imports inside lib/ (plus data and checks)."""
    nb = nbformat.read(nb_path, as_version=4)
    todo = _imports("\n".join(c.source for c in nb.cells if c.cell_type == "code"), "")
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        path = _module_file(name)
        if path is None or name in seen:
            continue
        seen[name] = path
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        todo |= _imports(path.read_text(), package) - seen.keys()
    files = set(seen.values())
    if "lib.data" in seen:
        files |= set((ROOT / "lib" / "datafiles").glob("*.csv"))
    if "lib.grading" in seen:  # checks are loaded by exercise id at run time
        files |= set((ROOT / "lib" / "checks").glob("*.py")) | set((ROOT / "tests" / "hidden").glob("*.py"))
    return sorted(files)


def dependency_hash(nb_path: Path) -> str:
    h = hashlib.sha256()
    for f in dependencies(nb_path):
        h.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def invalidate_stale_executions() -> list[Path]:
    """Drop cached executions of notebooks whose lib/ dependencies changed; returns those notebooks."""
    old = json.loads(STAMPS.read_text()) if STAMPS.exists() else {}
    new = {str(p.relative_to(ROOT)): dependency_hash(p) for p in notebooks()}
    stale = [ROOT / k for k, v in new.items() if old.get(k) not in (None, v)]
    if stale and CACHE.exists():
        from jupyter_cache import get_cache
        cache = get_cache(CACHE)
        for path in stale:
            try:
                record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
            except KeyError:
                continue
            cache.remove_cache(record.pk)
    if not CACHE.exists():  # nothing cached yet: everything executes anyway
        stale = []
    STAMPS.parent.mkdir(parents=True, exist_ok=True)
    STAMPS.write_text(json.dumps(new, indent=1, sort_keys=True))
    return stale


def main(argv: list[str]) -> int:
    if argv[1:] != ["prepare"]:
        print(__doc__)
        return 2
    copy_plotly_js()
    for path in invalidate_stale_executions():
        print(f"lib/ changed: {path.relative_to(ROOT)} will re-execute")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
