"""Exercise grading: in-notebook checks for students, a stripper and a batch grader for instructors.

In an exercise notebook (standard library only, plus IPython when present; numpy for the numeric helpers)::

    from lib.grading import Grader
    grader = Grader("ch01_regression")     # the exercise id, not the file name: renamed copies still work
    grader.check("q1")                      # pass/fail per check, with what is off; never raises
    grader.check_all()                      # every question and the total

Writing checks (``lib/checks/<exercise>.py`` public, ``tests/hidden/<exercise>.py`` hidden)::

    from lib.grading import check, assert_allclose, rel_error, numerical_gradient

    @check("q1", points=1, hint="centre x before dividing")
    def slope_matches_closed_form(slope_through_origin):      # parameters = the student's objects
        x, y = np.array([1.0, 2.0, 4.0]), np.array([2.0, 3.0, 9.0])
        assert_allclose(slope_through_origin(x, y), x @ y / (x @ x), rtol=1e-12, name="slope_through_origin(x, y)")

``lib.grading.answers`` turns a student's answer into numbers with messages meant for the student
(``as_array``, ``as_number``, ``close`` naming known mistakes, ``unchanged`` for inputs mutated in place).
Checks receive deep copies of the student's objects. Instructors: ``python -m lib.grade strip [--check]`` and
``python -m lib.grade grade DIR --out scores.csv`` (``lib.grading.strip``, ``lib.grading.runner``).
"""
from .core import CheckSpec, Grader, check, load_checks, run_checks
from .numeric import assert_allclose, numerical_gradient, rel_error

__all__ = ["Grader", "check", "rel_error", "assert_allclose", "numerical_gradient", "CheckSpec", "load_checks",
           "run_checks"]
