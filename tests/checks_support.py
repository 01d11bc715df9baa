"""Calling exercise checks directly in tests (tests/test_chNN_checks.py): a check is run with the objects it
names, taken from a namespace of reference or mutant implementations."""
from __future__ import annotations

import inspect

import numpy as np

from lib.grading import run_checks


def call(spec, namespace: dict) -> None:
    """Run one check directly with the objects it names."""
    spec.func(**{name: namespace[name] for name in inspect.signature(spec.func).parameters})


def failures(specs, question: str, namespace: dict, junk_only: bool = False, only: set | None = None) -> dict:
    """{check name: message} for the checks of ``question`` that fail.

    An AssertionError is a check explaining what is off; any other exception is the (wrong) student code
    raising, which the grader also counts as a failure, except with ``junk_only``, where the student code only
    returns values and so a non-assertion exception would mean that a check crashed on a junk value instead
    of explaining. With ``only`` (a set of names), checks that use none of those names are skipped: they see
    only reference objects, which pass every check.
    """
    failed = {}
    for spec in (s for s in specs if s.question == question):
        if only is not None and not only & set(inspect.signature(spec.func).parameters):
            continue
        name = spec.name + (" (hidden)" if spec.hidden else "")
        try:
            call(spec, namespace)
        except AssertionError as exc:
            failed[name] = str(exc)
        except Exception as exc:
            if junk_only:
                raise
            failed[name] = f"raised {type(exc).__name__}: {exc}"
    return failed


# --------------------------------------------------------------------------- the contract every exercise's checks keep
JUNK = [np.nan, "hello", np.zeros(7), [[1.0, 2.0], [3.0, 4.0]], -1, (1.0, 2.0)]
JUNK_IDS = ["nan", "string", "wrong-shape", "nested-list", "int", "pair"]


def assert_public_and_hidden(specs, questions: list[str], points: tuple[float, float]) -> None:
    """Every question has public and hidden checks, in the notebook's order, and the total is in range."""
    assert list(dict.fromkeys(s.question for s in specs)) == questions
    for q in questions:
        kinds = {s.hidden for s in specs if s.question == q}
        assert kinds == {False, True}, f"{q}: expected public and hidden checks, got hidden flags {kinds}"
    total = sum(s.points for s in specs)
    assert points[0] <= total <= points[1], f"{total} points, expected {points[0]}-{points[1]}"


def assert_rejected(specs, question: str, namespace: dict, overrides: dict, label: str, public: bool) -> None:
    """A known-wrong answer (``overrides`` on top of correct ``namespace``) fails a check with a message;
    with ``public``, a check the student sees notices it (not only a hidden one)."""
    with np.errstate(all="ignore"):
        failed = failures(specs, question, {**namespace, **overrides}, only=set(overrides))
    assert failed, f"{label}: passed every check of {question}"
    assert all(message.strip() for message in failed.values()), failed
    if public:
        assert any("(hidden)" not in name for name in failed), f"{label}: only hidden checks notice: {failed}"


def assert_blank_scores_zero(specs, namespace: dict, questions: list[str]) -> None:
    """Stubs (``namespace`` returns what a blank notebook leaves) score 0 everywhere, with explanations."""
    results = run_checks(specs, namespace, mask_hidden=False)
    assert [r.question for r in results] == questions
    for r in results:
        assert r.score == 0, f"{r.question}: a blank answer scored {r.score}"
        for c in r.checks:
            assert c.message and not c.message.startswith("raised"), f"{r.question} {c.name}: {c.message}"


def assert_junk_explained(specs, namespace: dict, questions: list[str], junk) -> None:
    """Junk return values fail every question with an assertion message (a check never crashes on them)."""
    for q in questions:
        with np.errstate(all="ignore"):
            failed = failures(specs, q, namespace, junk_only=True)
        assert failed, f"{q}: junk {junk!r} passed"


def assert_named(specs, namespace: dict, cases) -> None:
    """Each ``(question, overrides, phrase)``: the known mistake gets a message containing ``phrase``."""
    for question, overrides, phrase in cases:
        with np.errstate(all="ignore"):
            failed = failures(specs, question, {**namespace, **overrides}, only=set(overrides))
        assert any(phrase in m for m in failed.values()), (question, phrase, failed)
