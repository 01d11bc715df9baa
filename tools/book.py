"""Build helpers for the website, run by ``make book`` / ``make bench`` before Jupyter Book.

``python tools/book.py prepare``
  1. copies ``plotly.min.js`` from the installed plotly package into ``_static/`` (never committed, no CDN);
  2. keeps the execution cache honest: jupyter-cache re-executes a notebook only when its own code
     changes, so for every notebook we hash the ``lib/`` modules it imports (transitively) and drop its
     cached execution when that hash changes. A change in ``lib/regression.py`` thus re-executes exactly
     the notebooks that import it, directly or through another module (and touches them, so that Sphinx
     reads their pages again).

``python tools/book.py execute [-j N]`` (run by ``make book`` after ``prepare``)
  executes, N at a time (default: one per CPU core; each kernel uses one thread), every notebook the book
  executes that has no cached execution yet, and stores the results in the same jupyter-cache that
  Jupyter Book reads. The book build then finds them cached instead of running them one after another.
  It does exactly what myst-nb's cache mode does (same cache, timeout, working directory); a notebook that
  fails here is left uncached, so the strict build runs it again and reports its error.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import os
import time
from concurrent.futures import ProcessPoolExecutor
import json
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"
STAMPS = ROOT / "_build" / "lib_dependencies.json"
NOTEBOOK_DIRS = ("chapters", "exercises", "about")
# the student exercises are shown unexecuted (execute.exclude_patterns in _config.yml)
UNEXECUTED = "exercises/ch*.ipynb"
CELL_TIMEOUT = 120  # seconds, as execute.timeout in _config.yml


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
        for path in stale:  # a newer mtime makes Sphinx read the page again, with the new outputs
            path.touch()
    if not CACHE.exists():  # nothing cached yet: everything executes anyway
        stale = []
    STAMPS.parent.mkdir(parents=True, exist_ok=True)
    STAMPS.write_text(json.dumps(new, indent=1, sort_keys=True))
    return stale


def _execute_one(path: str) -> tuple[str, float, str | None]:
    """Execute one notebook in its own folder and cache the result, as myst-nb's cache mode does."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.executors.utils import single_nb_execution
    nb = nbformat.read(path, as_version=4)
    result = single_nb_execution(nb, cwd=str(Path(path).parent), allow_errors=False, timeout=CELL_TIMEOUT,
                                 meta_override=True)
    if result.err is not None:
        return path, result.time, f"{type(result.err).__name__}: {result.err}"
    get_cache(CACHE).cache_notebook_bundle(CacheBundleIn(nb, path, data={"execution_seconds": result.time}),
                                           check_validity=False, overwrite=True)
    return path, result.time, None


def uncached_notebooks() -> list[Path]:
    """The notebooks the book executes that have no cached execution."""
    from jupyter_cache import get_cache
    cache = get_cache(CACHE)
    todo = []
    for path in notebooks():
        if path.relative_to(ROOT).match(UNEXECUTED):
            continue
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            todo.append(path)
    return todo


def execute(jobs: int) -> int:
    todo = uncached_notebooks()
    if not todo:
        return 0
    print(f"executing {len(todo)} notebook(s), {jobs} at a time")
    start, failed = time.perf_counter(), 0
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for path, seconds, error in pool.map(_execute_one, [str(p) for p in todo]):
            name = Path(path).relative_to(ROOT)
            print(f"  {name}: {seconds:.1f} s" + (f", FAILED ({error.splitlines()[0][:200]})" if error else ""))
            failed += error is not None
    print(f"executed in {time.perf_counter() - start:.0f} s" + (f"; {failed} failed and run again by the build" if failed else ""))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["prepare", "execute"])
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                        help="notebooks executed at the same time (execute; default: CPU cores)")
    args = parser.parse_args(argv[1:])
    if args.command == "execute":
        return execute(max(1, args.jobs))
    copy_plotly_js()
    for path in invalidate_stale_executions():
        print(f"lib/ changed: {path.relative_to(ROOT)} will re-execute")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
