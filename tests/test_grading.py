"""Unit tests of lib.grading: the stripper, the numeric helpers, the checks runner and Grader."""
import json
import re
import textwrap
import threading
import time

import nbformat
import numpy as np
import pytest
import torch
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lib import grade
from lib.grading import Grader, assert_allclose, check, numerical_gradient, rel_error
from lib.grading.core import load_checks, results_json
from lib.grading.strip import is_in_sync, make_student, strip_source, student_text, write_student


# ---------------------------------------------------------------- strip

def test_strip_block_keeps_its_indent_inside_nested_code():
    src = textwrap.dedent("""\
        def f(x):
            if x > 0:
                # BEGIN SOLUTION
                y = x * 2
                return y
                # END SOLUTION
            return 0""")
    assert strip_source(src) == textwrap.dedent("""\
        def f(x):
            if x > 0:
                ...  # YOUR CODE HERE
            return 0""")


@pytest.mark.parametrize("line, want", [
    ("beta = np.linalg.solve(A, b)  # SOLUTION", "beta = ...  # YOUR CODE HERE"),
    ("    self.w = w0  # SOLUTION", "    self.w = ...  # YOUR CODE HERE"),
    ("a, b = 1, 2  # SOLUTION", "a, b = ..., ...  # YOUR CODE HERE"),
    ("rate: float = 0.5  # SOLUTION", "rate = ...  # YOUR CODE HERE"),
    ("    return x @ w  # SOLUTION", "    ...  # YOUR CODE HERE"),
    ("x == 3  # SOLUTION", "...  # YOUR CODE HERE"),
    ("w[0] = 1.0  # SOLUTION", "...  # YOUR CODE HERE"),
    ("total += x  # SOLUTION", "...  # YOUR CODE HERE"),
])
def test_strip_solution_line(line, want):
    assert strip_source(line) == want


def test_stripped_source_runs_and_stub_returns_none():
    src = "def f(x):\n    a, b = x, 2 * x  # SOLUTION\n    # BEGIN SOLUTION\n    return a + b\n    # END SOLUTION\n"
    namespace = {}
    exec(compile(strip_source(src), "<student>", "exec"), namespace)
    assert namespace["f"](3) is None


@pytest.mark.parametrize("src, problem", [
    ("# BEGIN SOLUTION\nx = 1", "without `# END SOLUTION`"),
    ("x = 1\n# END SOLUTION", "without `# BEGIN SOLUTION`"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "nested"),
])
def test_strip_refuses_bad_markers(src, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        strip_source(src)


def _master(tmp_path, cells, name="demo_ex.ipynb"):
    nb = new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):
        cell.id = f"c{i:03d}"
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_make_student_drops_solution_cells_clears_outputs_and_sets_exercise(tmp_path):
    answer = new_code_cell("x = 41 + 1  # SOLUTION", execution_count=3,
                           outputs=[nbformat.v4.new_output("stream", text="42\n")])
    master = _master(tmp_path, [new_markdown_cell("Q1"), answer,
                                new_markdown_cell("notes", metadata={"tags": ["solution-only"]})])
    nb = make_student(master)
    assert [c.source for c in nb.cells] == ["Q1", "x = ...  # YOUR CODE HERE"]
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count is None
    assert nb.metadata["grading"] == {"exercise": "demo_ex"}
    assert [c.id for c in nb.cells] == ["c000", "c001"]


def test_student_text_is_deterministic_and_sync_is_byte_exact(tmp_path):
    master = _master(tmp_path, [new_code_cell("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION")])
    assert student_text(master) == student_text(master)
    out = tmp_path / "students"
    out.mkdir()
    student = write_student(master, out)
    assert is_in_sync(master, student)
    student.write_text(student.read_text() + " ")
    assert not is_in_sync(master, student)
    assert not is_in_sync(master, out / "missing.ipynb")


def test_make_student_gives_stable_ids_to_old_notebooks(tmp_path):
    path = tmp_path / "old.ipynb"
    raw = {"nbformat": 4, "nbformat_minor": 4, "metadata": {},
           "cells": [{"cell_type": "code", "source": "x = 1  # SOLUTION", "metadata": {}, "outputs": [],
                      "execution_count": None}]}
    path.write_text(json.dumps(raw))
    assert student_text(path) == student_text(path)
    assert make_student(path).cells[0].id == "c000"


def test_make_student_refuses_leftover_markers(tmp_path):
    master = _master(tmp_path, [new_markdown_cell("Use `# BEGIN SOLUTION` here")])
    with pytest.raises(ValueError, match="cell 0 \\(markdown\\)"):
        make_student(master)


def test_cli_strip_check_names_stale_files(tmp_path, monkeypatch, capsys):
    (tmp_path / "exercises" / "solutions").mkdir(parents=True)
    _master(tmp_path / "exercises" / "solutions", [new_code_cell("x = 1  # SOLUTION")])
    monkeypatch.setattr(grade, "find_repo_root", lambda: tmp_path)
    assert grade.main(["strip", "--check"]) == 1
    assert "out of date: exercises/demo_ex.ipynb" in capsys.readouterr().out
    assert grade.main(["strip"]) == 0
    assert grade.main(["strip", "--check"]) == 0


# ---------------------------------------------------------------- numeric

def test_rel_error_by_hand():
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2, rel=1e-12)
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(np.ones((2, 2)), np.ones((2, 2))) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.ones(3), np.ones(4))


def test_assert_allclose_passes_within_tolerance():
    want = np.linspace(1, 2, 5)
    assert_allclose(want * (1 + 1e-10), want, rtol=1e-8)
    assert_allclose(torch.tensor(want), want, rtol=1e-12)
    assert_allclose(1e-9, 0.0, atol=1e-8)


def test_assert_allclose_says_where_and_how_much():
    want = np.ones(6)
    got = want.copy()
    got[4] = 1.031
    with pytest.raises(AssertionError) as info:
        assert_allclose(got, want, rtol=1e-8, name="beta")
    assert str(info.value).startswith("beta: max relative error 3.1e-02 at index [4]")
    assert "expected < 1e-08" in str(info.value)
    with pytest.raises(AssertionError, match=r"g: max absolute error 1.0e-03 at index \[1, 0\]"):
        assert_allclose([[0.0, 0.0], [1e-3, 0.0]], np.zeros((2, 2)), atol=1e-6, name="g")


@pytest.mark.parametrize("got, message", [
    (None, "beta: got None"),
    (Ellipsis, "beta: got `...`"),
    ("abc", "beta: expected numbers, got str"),
    (np.ones((3, 1)), r"beta: expected shape \(3,\), got shape \(3, 1\)"),
    (np.array([1.0, np.nan, 1.0]), r"beta: contains nan at index \[1\]"),
])
def test_assert_allclose_reports_bad_answers_clearly(got, message):
    with pytest.raises(AssertionError, match=message):
        assert_allclose(got, np.ones(3), name="beta")


def test_assert_allclose_rejects_bad_tolerances():
    with pytest.raises(ValueError, match="rtol, atol"):
        assert_allclose(1.0, 1.0, rtol=0.0, atol=0.0)


def test_numerical_gradient_matches_analytic_gradient():
    rng = np.random.default_rng(7)
    A, x = rng.normal(size=(4, 4)), rng.normal(size=4)
    f = lambda v: np.sum(np.sin(v)) + 0.5 * v @ A @ v
    analytic = np.cos(x) + 0.5 * (A + A.T) @ x
    x_before = x.copy()
    assert rel_error(numerical_gradient(f, x), analytic) < 1e-8
    assert np.array_equal(x, x_before)
    W = rng.normal(size=(2, 3))
    assert_allclose(numerical_gradient(lambda m: np.sum(m ** 3), W), 3 * W ** 2, rtol=1e-7)
    with pytest.raises(ValueError, match="h: expected a positive step"):
        numerical_gradient(f, x, h=0)


# ---------------------------------------------------------------- checks and Grader

PUBLIC = '''
import time
from lib.grading import check

@check("q1", points=2, hint="add, do not multiply.")
def adds_small_numbers(add):
    assert add(2, 3) == 5, f"add(2, 3) should be 5, got {add(2, 3)!r}"

@check("q2")
def data_is_sorted(data):
    data.sort(reverse=True)   # a careless check that mutates what it was given
    assert data == [3, 2, 1]

@check("q1", points=1)
def adds_negative_numbers(add):
    assert add(-2, -3) == -5

@check("q3")
def check_with_a_bug(add):
    return undefined_in_check
'''
HIDDEN = '''
from lib.grading import check

@check("q1", points=1)
def adds_floats(add):
    assert add(0.5, 0.25) == 0.75, "secret message"
'''


@pytest.fixture
def dirs(tmp_path):
    (tmp_path / "public").mkdir()
    (tmp_path / "hidden").mkdir()
    (tmp_path / "public" / "toy.py").write_text(PUBLIC)
    (tmp_path / "hidden" / "toy.py").write_text(HIDDEN)
    return {"public_dir": tmp_path / "public", "hidden_dir": tmp_path / "hidden"}


def make_grader(dirs, namespace, time_limit=10):
    return Grader("toy", time_limit=time_limit, namespace=namespace, **dirs)


def test_check_decorator_validates_arguments():
    with pytest.raises(TypeError, match="question"):
        check("")
    with pytest.raises(ValueError, match="points"):
        check("q1", points=0)


def test_load_checks_in_file_order_with_hidden_last(dirs):
    public = load_checks("toy", **dirs)
    assert [s.name for s in public] == ["adds_small_numbers", "data_is_sorted", "adds_negative_numbers",
                                        "check_with_a_bug"]
    both = load_checks("toy", hidden=True, **dirs)
    assert [s.hidden for s in both] == [False] * 4 + [True]
    with pytest.raises(FileNotFoundError, match="no checks for exercise 'nope'"):
        load_checks("nope", **dirs)


def test_correct_answer_gets_full_marks_including_hidden(dirs):
    r = make_grader(dirs, {"add": lambda a, b: a + b}).check("q1")
    assert r.passed and (r.score, r.max_score) == (4, 4)
    assert "q1: passed (4/4)" in repr(r) and "q1: passed (4/4)" in r._repr_html_()


def test_partial_credit_message_hint_and_masked_hidden(dirs):
    r = make_grader(dirs, {"add": lambda a, b: int(a + b)}).check("q1")
    assert (r.score, r.max_score) == (3, 4) and not r.passed
    failed = [c for c in r.checks if not c.passed]
    assert [c.message for c in failed] == ["hidden check failed"]
    r = make_grader(dirs, {"add": lambda a, b: a * b}).check("q1")
    assert r.checks[0].message == "add(2, 3) should be 5, got 6. Hint: add, do not multiply."
    assert r.score == 0


def test_results_json_keeps_hidden_messages(dirs):
    r = results_json("toy", {"add": lambda a, b: int(a + b), "data": [1, 2, 3]}, hidden=True, **dirs)
    assert r["questions"]["q1"]["checks"][-1]["message"] == "secret message"
    assert (r["questions"]["q1"]["score"], r["questions"]["q1"]["max"]) == (3, 4)


def test_missing_and_placeholder_answers(dirs):
    assert "`add` is not defined" in make_grader(dirs, {}).check("q1").checks[0].message
    assert "`add` is still `...`" in make_grader(dirs, {"add": ...}).check("q1").checks[0].message


def test_student_exception_is_reported_with_its_line(dirs):
    def add(a, b):
        return a + b / 0
    message = make_grader(dirs, {"add": add}).check("q1").checks[0].message
    assert message.startswith("raised ZeroDivisionError: division by zero (in add, line")
    assert "return a + b / 0" in message


def test_check_that_itself_raises_fails_that_check_only(dirs):
    r = make_grader(dirs, {"add": lambda a, b: a + b}).check("q3")
    assert not r.passed and "NameError" in r.checks[0].message


def test_checks_get_copies_of_student_objects(dirs):
    namespace = {"data": [1, 2, 3]}
    r = make_grader(dirs, namespace).check("q2")
    assert r.passed and namespace["data"] == [1, 2, 3]


def slow_add(a, b):
    while True:
        try:
            time.sleep(0.05)
        except Exception:  # student code that swallows exceptions must not defeat the time limit
            pass


def test_infinite_loop_hits_the_time_limit(dirs):
    start = time.perf_counter()
    r = make_grader(dirs, {"add": slow_add}, time_limit=0.3).check("q1")
    assert time.perf_counter() - start < 5
    assert r.score == 0 and "took longer than 0.3 s" in r.checks[0].message


def test_time_limit_also_works_off_the_main_thread(dirs):
    results = []
    worker = threading.Thread(target=lambda: results.append(
        make_grader(dirs, {"add": slow_add}, time_limit=0.3).check("q1")))
    worker.start()
    worker.join(10)
    assert results and "took longer than 0.3 s" in results[0].checks[0].message


@pytest.mark.parametrize("exercise, question, fragment", [
    ("toy", "q9", "has no question 'q9'; its questions are q1, q2, q3"),
    ("toy", None, "has no question None"),
    ("no_such_exercise", "q1", "cannot load the checks of 'no_such_exercise'"),
    ("../toy", "q1", "exercise: expected an id such as 'ch01_regression'"),
])
def test_grader_never_raises(dirs, exercise, question, fragment):
    r = Grader(exercise, namespace={}, **dirs).check(question)
    assert fragment in repr(r) and not r.passed


def test_grader_reports_a_broken_checks_file(tmp_path):
    (tmp_path / "broken.py").write_text("def oops(:\n")
    r = Grader("broken", public_dir=tmp_path, namespace={}).check_all()
    assert "SyntaxError" in repr(r)


def test_check_all_totals_and_escapes_html(dirs):
    report = make_grader(dirs, {"add": lambda a, b: a + b, "data": [1, 2, 3]}).check_all()
    assert (report.score, report.max_score) == (5, 6)
    assert repr(report).splitlines()[0] == "toy: 5/6"
    bad = make_grader(dirs, {"add": lambda a, b: "<b>"}).check("q1")
    assert "&lt;b&gt;" in bad._repr_html_() and "<b>" not in bad._repr_html_()


def test_grader_finds_the_callers_globals_outside_ipython(dirs):
    script_globals = {"Grader": Grader, "dirs": dirs}
    exec("def add(a, b):\n    return a + b\nresult = Grader('toy', **dirs).check('q1')", script_globals)
    assert script_globals["result"].passed


# ---------------------------------------------------------------- runner (the parts that need no kernel)

def test_exercise_id_from_metadata_then_from_the_grader_call():
    from lib.grading.runner import exercise_of
    nb = new_notebook(cells=[new_code_cell('from lib.grading import Grader\ngrader = Grader("ch01_regression")')])
    assert exercise_of(nb) == "ch01_regression"
    nb.metadata["grading"] = {"exercise": "fixture_ex"}
    assert exercise_of(nb) == "fixture_ex"
    assert exercise_of(new_notebook(cells=[new_code_cell("x = 1")])) is None


def test_grade_notebook_reports_instead_of_raising(tmp_path):
    from lib.grading.runner import grade_notebook
    junk = tmp_path / "junk.ipynb"
    junk.write_text("not json")
    assert grade_notebook(junk)["errors"][0].startswith("cannot read the notebook")
    anonymous = tmp_path / "anonymous.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), anonymous)
    assert grade_notebook(anonymous)["errors"] == ["cannot tell which exercise this is"]
    assert "no checks for exercise 'nope'" in grade_notebook(anonymous, exercise="nope")["errors"][0]
