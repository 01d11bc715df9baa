"""Grade one submitted notebook: run it in a fresh kernel, then run every check in that kernel.

What a bad submission costs (only the questions it touches):

* a syntax error or an exception in a cell: that cell's objects are missing, so their checks fail;
* an infinite loop inside a function: the per-check time limit fails that check;
* an infinite loop at the top level of a cell: after ``timeout`` seconds the kernel is shut down, the cell's
  source is replaced by ``pass`` and the notebook runs again from the start (once per hanging cell); the
  first code cell (the setup, which imports torch) gets at least ``SETUP_TIMEOUT`` seconds;
* mutation of inputs: checks get copies, and hidden checks test for it.

The student's own ``grader.check(...)`` cells are blanked (they are feedback only and may hang), and one
grading cell is appended that prints the results as JSON. Instructor side only: needs nbformat and nbclient.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from .core import PACKAGE_ROOT, find_repo_root, load_checks

MARK = "@@GRADING-RESULT@@"
GRADER_CALL = re.compile(r"""Grader\(\s*["'](\w+)["']""")
FEEDBACK_LINE = re.compile(r"^\s*(grader\.check(_all)?\(.*\)\s*;?\s*|#.*|)$")
SETUP_TIMEOUT = 120.0  # limit of the first code cell (the setup: imports torch), so that a busy machine
                       # cannot fail a whole submission; student cells get the ``timeout`` of the call


def exercise_of(nb) -> str | None:
    """The exercise id: ``metadata.grading.exercise``, else the first ``Grader("...")`` call in a code cell."""
    exercise = nb.metadata.get("grading", {}).get("exercise")
    if exercise:
        return exercise
    for cell in nb.cells:
        match = GRADER_CALL.search(cell.source) if cell.cell_type == "code" else None
        if match:
            return match.group(1)
    return None


def _grading_cell(exercise: str, hidden: bool, check_limit: float, public_dir, hidden_dir) -> str:
    return "\n".join([
        "import json as _json, sys as _sys",
        f"_sys.path.insert(0, {str(PACKAGE_ROOT)!r})",
        "from lib.grading.core import results_json as _results_json",
        f"print({MARK!r} + _json.dumps(_results_json({exercise!r}, globals(), hidden={hidden}, "
        f"time_limit={check_limit}, public_dir={public_dir!r}, hidden_dir={hidden_dir!r})))",
    ])


def _run(nb, timeout: float, grading_timeout: float, cwd: Path) -> int | None:
    """Execute ``nb`` in place in a fresh kernel; return the index of a cell that hung or killed the kernel."""
    first_code = next(c for c in nb.cells if c.cell_type == "code")

    def limit(cell):
        if cell is nb.cells[-1]:
            return grading_timeout
        return max(timeout, SETUP_TIMEOUT) if cell is first_code else timeout

    client = NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3", timeout_func=limit,
                            shutdown_kernel="immediate", resources={"metadata": {"path": str(cwd)}})
    with client.setup_kernel(stderr=subprocess.DEVNULL):  # the kernel's own log lines are noise here
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except (CellTimeoutError, DeadKernelError):
                return index
    return None


def grade_notebook(path: Path | str, timeout: float = 60, hidden: bool = True, check_limit: float = 10,
                   public_dir: Path | str | None = None, hidden_dir: Path | str | None = None,
                   exercise: str | None = None) -> dict:
    """Grade the notebook at ``path``: ``{"exercise", "questions": {q: {"score", "max", "checks"}}, "errors"}``.

    ``timeout`` is the limit per student cell (seconds); the grading cell gets ``check_limit`` per check
    plus 30 s. ``exercise`` overrides the id found in the notebook. ``errors`` lists what went wrong in the
    student's cells (never raised). ``questions`` is empty when the grading cell could not run.
    """
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        return {"exercise": None, "questions": {}, "errors": [f"cannot read the notebook: {exc}"[:200]]}
    exercise = exercise or exercise_of(nb)
    if exercise is None:
        return {"exercise": None, "questions": {}, "errors": ["cannot tell which exercise this is"]}
    public_dir = str(public_dir) if public_dir else None
    hidden_dir = str(hidden_dir) if hidden_dir else None
    try:
        n_checks = len(load_checks(exercise, hidden, public_dir, hidden_dir))
    except Exception as exc:  # no checks for this id, or a checks file that does not import
        return {"exercise": exercise, "questions": {}, "errors": [f"{type(exc).__name__}: {exc}"[:200]]}

    for cell in nb.cells:
        lines = cell.source.splitlines()
        if cell.cell_type == "code" and "grader." in cell.source and all(FEEDBACK_LINE.match(x) for x in lines):
            cell.source = "pass"
    nb.cells.append(nbformat.v4.new_code_cell(_grading_cell(exercise, hidden, check_limit, public_dir, hidden_dir)))
    errors = []
    cwd = find_repo_root() or Path(path).resolve().parent
    while True:  # each pass neutralises one hanging cell, so this ends
        hung = _run(nb, timeout, check_limit * n_checks + 30, cwd)
        if hung is None or hung == len(nb.cells) - 1:
            break
        errors.append(f"cell {hung}: did not finish in {timeout:g} s (or killed the kernel); re-ran without it")
        nb.cells[hung].source = "pass"

    for index, cell in enumerate(nb.cells[:-1]):
        errors += [f"cell {index}: {out.ename}: {out.evalue}"[:200]
                   for out in cell.get("outputs", []) if out.output_type == "error"]
    printed = "".join(o.text for o in nb.cells[-1].outputs if o.output_type == "stream" and o.name == "stdout")
    if MARK in printed:  # the JSON is one line (json.dumps writes no newlines)
        return {**json.loads(printed.split(MARK, 1)[1].splitlines()[0]), "errors": errors}
    errors.append("the grading cell did not finish" if hung is not None else
                  "the grading cell failed: " + "; ".join(f"{o.ename}: {o.evalue}" for o in nb.cells[-1].outputs
                                                          if o.output_type == "error"))
    return {"exercise": exercise, "questions": {}, "errors": errors}
