"""Master notebook -> student notebook.

Markers in the master's code cells (otter-grader's spelling):

* ``# BEGIN SOLUTION`` ... ``# END SOLUTION``: the block becomes one ``...  # YOUR CODE HERE`` line at the
  indent of the ``# BEGIN SOLUTION`` line;
* a line ending in ``# SOLUTION``: an assignment keeps its target (``beta = ...  # YOUR CODE HERE``,
  ``a, b = ..., ...  # YOUR CODE HERE``), any other line becomes ``...  # YOUR CODE HERE``;
* a cell tagged ``solution-only`` is dropped.

Outputs and execution counts are cleared and ``metadata.grading.exercise`` is set to the master's file stem.
The output is deterministic (same master, same bytes), and a marker left over after stripping is an error.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

STUB = "...  # YOUR CODE HERE"
BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
LINE = re.compile(r"^(\s*)(.*?)\s*# SOLUTION\s*$")
# `x =`, `x: float =`, `self.w =`, `a, b =` (not `==`, `x[0] =` or augmented `+=`)
ASSIGN = re.compile(r"^([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*(:[^=]+)?=(?!=)")
MARKER = re.compile(r"#\s*(BEGIN|END)?\s*SOLUTION\b")


def strip_source(source: str) -> str:
    """The student version of one code cell's source (see the module docstring); ValueError on bad markers."""
    out, in_block = [], False
    for number, line in enumerate(source.splitlines(), start=1):
        if in_block:
            if BEGIN.match(line):
                raise ValueError(f"line {number}: nested `# BEGIN SOLUTION`")
            in_block = not END.match(line)
            continue
        if (m := BEGIN.match(line)):
            out.append(m.group(1) + STUB)
            in_block = True
        elif END.match(line):
            raise ValueError(f"line {number}: `# END SOLUTION` without `# BEGIN SOLUTION`")
        elif (m := LINE.match(line)):
            indent, code = m.groups()
            target = ASSIGN.match(code)
            if target is None:
                out.append(indent + STUB)
            else:
                n = target.group(1).count(",") + 1
                out.append(f"{indent}{target.group(1)} = {', '.join(['...'] * n)}  # YOUR CODE HERE")
        else:
            out.append(line)
    if in_block:
        raise ValueError("`# BEGIN SOLUTION` without `# END SOLUTION`")
    return "\n".join(out)


def _read(path: Path) -> nbformat.NotebookNode:
    """Read a notebook without nbformat's upgrade (which would invent random cell ids); give id-less cells
    stable ids ``c000``, ``c001``, ..."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    if nb.nbformat != 4:
        raise ValueError(f"{path}: expected an nbformat 4 notebook, got version {nb.nbformat}")
    if nb.nbformat_minor < 5:
        nb.nbformat_minor = 5
        for i, cell in enumerate(nb.cells):
            cell.id = f"c{i:03d}"
    return nb


def make_student(master: Path | str) -> nbformat.NotebookNode:
    """The student notebook for ``master`` (exercise id = the master's file stem)."""
    master = Path(master)
    nb = _read(master)
    cells = []
    for index, cell in enumerate(nb.cells):
        if "solution-only" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "code":
            try:
                cell.source = strip_source(cell.source)
            except ValueError as exc:
                raise ValueError(f"{master}, cell {index}: {exc}") from None
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        if MARKER.search(cell.source):
            raise ValueError(f"{master}, cell {index} ({cell.cell_type}): a solution marker is left after stripping")
        cells.append(cell)
    nb.cells = cells
    nb.metadata["grading"] = {"exercise": master.stem}
    return nb


def student_text(master: Path | str) -> str:
    """The exact file contents of the student version of ``master``."""
    return nbformat.writes(make_student(master)) + "\n"  # nbformat.write ends files with a newline too


def write_student(master: Path | str, out_dir: Path | str) -> Path:
    """Write ``out_dir/<master's name>``; returns its path."""
    out = Path(out_dir) / Path(master).name
    out.write_text(student_text(master), encoding="utf-8")
    return out


def is_in_sync(master: Path | str, student: Path | str) -> bool:
    """True when ``student`` holds exactly the bytes ``write_student(master, ...)`` would write."""
    student = Path(student)
    return student.is_file() and student.read_text(encoding="utf-8") == student_text(master)
