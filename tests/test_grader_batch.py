"""Golden test of the batch grader on the fixture exercise in tests/fixtures/grading/ (see its README).

`python -m lib.grade grade` must reproduce expected_scores.csv exactly in every score column; in the
`errors` column each expected fragment must appear (and no error may be reported where none is expected),
since the exact wording of Python's error messages varies between versions.
"""
import csv
import subprocess
import sys
from pathlib import Path

from lib.grading.strip import is_in_sync

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "grading"


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_blank_fixture_is_the_stripped_master():
    assert is_in_sync(FIXTURE / "solutions" / "fixture_ex.ipynb", FIXTURE / "submissions" / "blank.ipynb")


def test_batch_grade_reproduces_expected_scores(tmp_path):
    out = tmp_path / "scores.csv"
    cmd = [sys.executable, "-m", "lib.grade", "grade", str(FIXTURE / "submissions"), "--out", str(out),
           "--timeout", "8", "--check-timeout", "1.5",
           "--checks-dir", str(FIXTURE / "checks"), "--hidden-dir", str(FIXTURE / "hidden")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got, want = read_rows(out), read_rows(FIXTURE / "expected_scores.csv")
    assert list(got[0]) == list(want[0]), "columns differ"
    assert [r["notebook"] for r in got] == [r["notebook"] for r in want]
    for g, w in zip(got, want):
        scores = [k for k in w if k != "errors"]
        assert [g[k] for k in scores] == [w[k] for k in scores], f"{w['notebook']}: got {g}, expected {w}"
        if w["errors"]:
            assert w["errors"] in g["errors"], f"{w['notebook']}: errors {g['errors']!r} lack {w['errors']!r}"
        else:
            assert not g["errors"], f"{w['notebook']}: unexpected errors {g['errors']!r}"
