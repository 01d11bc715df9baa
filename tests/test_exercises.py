"""The contract every graded exercise keeps (DESIGN.md section 7), for each master exercises/solutions/<ex>.ipynb:

1. exercises/<ex>.ipynb is byte for byte the stripped master (`python -m lib.grade strip` regenerates it);
2. no solution line leaks into the student version;
3. every question the notebook asks has public checks, and every checked question is asked;
4. the master executes without errors and passes every public and hidden check;
5. the blank student version executes without errors and gets no question fully right.
"""
import re
from pathlib import Path

import nbformat
import pytest

from lib.grading.core import load_checks, questions_of
from lib.grading.runner import grade_notebook
from lib.grading.strip import BEGIN, END, LINE, is_in_sync

ROOT = Path(__file__).resolve().parents[1]
MASTERS = sorted((ROOT / "exercises" / "solutions").glob("*.ipynb"))
ASKED = re.compile(r"""grader\.check\(\s*["'](\w+)["']\s*\)""")
TRIVIAL = {"pass", "return", "else:", "break", "continue", "..."}

pytestmark = pytest.mark.parametrize("master", MASTERS, ids=[m.stem for m in MASTERS])


def student_of(master: Path) -> Path:
    return ROOT / "exercises" / master.name


def code_sources(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_student_version_in_sync(master):
    assert is_in_sync(master, student_of(master)), \
        f"exercises/{master.name} is not the stripped master: run `python -m lib.grade strip`"


def test_no_solution_leak(master):
    solution, given = set(), set()
    for source in code_sources(master):
        inside = False
        for line in source.splitlines():
            if BEGIN.match(line) or END.match(line):
                inside = bool(BEGIN.match(line))
            elif inside or LINE.match(line):
                solution.add(line.split("# SOLUTION")[0].strip())
            else:
                given.add(line.strip())
    student = {line.strip() for source in code_sources(student_of(master)) for line in source.splitlines()}
    leaked = sorted(line for line in (solution - given - TRIVIAL) & student if line and not line.startswith("#"))
    assert not leaked, f"solution lines in exercises/{master.name}: {leaked}"


def test_every_question_has_checks(master):
    asked = [q for source in code_sources(master) for q in ASKED.findall(source)]
    public = set(questions_of(load_checks(master.stem)))
    checked = set(questions_of(load_checks(master.stem, hidden=True)))
    assert asked, f"{master.name} never calls grader.check(...)"
    assert not set(asked) - public, f"questions without public checks: {sorted(set(asked) - public)}"
    assert not checked - set(asked), f"checked but never asked in the notebook: {sorted(checked - set(asked))}"


def test_master_passes_every_check(master):
    r = grade_notebook(master, hidden=True, exercise=master.stem, timeout=120)
    assert not r["errors"], r["errors"]
    failed = {q: [c for c in v["checks"] if not c["passed"]]
              for q, v in r["questions"].items() if v["score"] < v["max"]}
    assert r["questions"] and not failed, f"the master fails: {failed}"


def test_blank_student_version_runs_and_gets_no_question_right(master):
    r = grade_notebook(student_of(master), hidden=True, timeout=120)
    assert not r["errors"], f"the blank notebook must run cleanly (book build, nbval): {r['errors']}"
    assert r["exercise"] == master.stem and r["questions"]
    full = [q for q, v in r["questions"].items() if v["score"] >= v["max"]]
    assert not full, f"the blank notebook already earns full marks on {full}: those checks are too weak"
