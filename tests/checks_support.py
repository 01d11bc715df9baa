"""Calling exercise checks directly in tests (tests/test_chNN_checks.py): a check is run with the objects it
names, taken from a namespace of reference or mutant implementations."""
from __future__ import annotations

import inspect


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
