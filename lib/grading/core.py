"""Checks, running them against a student's namespace, and showing the results.

A check is a plain function whose parameter names are the names of the student's objects::

    @check("q1", points=1, hint="divide by n, not n - 1")
    def mean_of_three(mean):
        assert mean([1, 2, 3]) == 2, f"mean([1, 2, 3]) should be 2, got {mean([1, 2, 3])!r}"

Public checks live in ``lib/checks/<exercise>.py`` (shipped with the course package), hidden checks in
``tests/hidden/<exercise>.py`` (only in a checkout of the repository). A check passes when it returns
without raising; a question's score is the sum of the points of its passing checks. Everything here
uses only the standard library (and IPython's ``get_ipython`` when it is there).
"""
from __future__ import annotations

import copy
import dataclasses
import html
import importlib
import importlib.util
import inspect
import re
import signal
import threading
import traceback
from pathlib import Path
from typing import Any, Callable

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding `lib/` (a checkout or site-packages)
PUBLIC_DIR = PACKAGE_ROOT / "lib" / "checks"


def find_repo_root() -> Path | None:
    """The repository checkout: the folder above ``lib/`` if it holds ``exercises/``, else the first of the
    current directory and its parents that does (for a pip-installed ``lib``), else None."""
    for p in [PACKAGE_ROOT, Path.cwd(), *Path.cwd().parents]:
        if (p / "exercises").is_dir() and (p / "lib").is_dir():
            return p
    return None


def default_hidden_dir() -> Path | None:
    root = find_repo_root()
    return root / "tests" / "hidden" if root else None


@dataclasses.dataclass(frozen=True)
class CheckSpec:
    """One check: which question it belongs to, the function, its points, a hint, and whether it is hidden."""
    question: str
    func: Callable[..., Any]
    points: float = 1.0
    hint: str | None = None
    hidden: bool = False

    @property
    def name(self) -> str:
        return self.func.__name__


def check(question: str, points: float = 1.0, hint: str | None = None):
    """Decorator: mark ``func`` as a check of ``question`` worth ``points``; ``hint`` is shown when it fails."""
    if not isinstance(question, str) or not question:
        raise TypeError(f"question: expected a non-empty string such as 'q1', got {question!r}")
    if not points > 0:
        raise ValueError(f"points: expected a positive number, got {points!r}")

    def decorate(func):
        func.__check__ = CheckSpec(question, func, float(points), hint)
        return func
    return decorate


def _checks_in_file(path: Path, hidden: bool) -> list[CheckSpec]:
    if path.parent == PUBLIC_DIR:  # the course's own public checks: a normal import as lib.checks.<exercise>
        module = importlib.import_module(f"lib.checks.{path.stem}")
    else:
        spec = importlib.util.spec_from_file_location(f"_checks_{'hidden' if hidden else 'public'}_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    found = [f.__check__ for f in vars(module).values()
             if hasattr(f, "__check__") and f.__module__ == module.__name__]  # not checks imported from elsewhere
    found.sort(key=lambda s: s.func.__code__.co_firstlineno)  # file order
    return [dataclasses.replace(s, hidden=hidden) for s in found]


def load_checks(exercise: str, hidden: bool = False, public_dir: Path | str | None = None,
                hidden_dir: Path | str | None = None) -> list[CheckSpec]:
    """All checks of ``exercise``: ``<public_dir>/<exercise>.py`` (default ``lib/checks``) and, when ``hidden``,
    ``<hidden_dir>/<exercise>.py`` (default ``tests/hidden`` of the checkout) if that file exists.

    Raises FileNotFoundError when the exercise has no public checks.
    """
    if not isinstance(exercise, str) or not re.fullmatch(r"[A-Za-z_]\w*", exercise):
        raise ValueError(f"exercise: expected an id such as 'ch01_regression', got {exercise!r}")
    public = Path(public_dir or PUBLIC_DIR) / f"{exercise}.py"
    if not public.is_file():
        raise FileNotFoundError(f"no checks for exercise {exercise!r} (looked for {public})")
    specs = _checks_in_file(public, hidden=False)
    hidden_root = Path(hidden_dir) if hidden_dir else default_hidden_dir()
    if hidden and hidden_root and (hidden_root / f"{exercise}.py").is_file():
        specs += _checks_in_file(hidden_root / f"{exercise}.py", hidden=True)
    return specs


def questions_of(specs: list[CheckSpec]) -> list[str]:
    """The questions in order of first appearance."""
    return list(dict.fromkeys(s.question for s in specs))


@dataclasses.dataclass
class CheckResult:
    name: str
    passed: bool
    points: float
    message: str = ""
    hidden: bool = False


@dataclasses.dataclass
class QuestionResult:
    """The outcome of one question; renders as text (terminal, nbval) and as HTML (Jupyter, the book)."""
    question: str
    checks: list[CheckResult] = dataclasses.field(default_factory=list)
    error: str = ""  # set when the question could not be checked at all (unknown question, broken checks)

    @property
    def score(self) -> float:
        return sum(c.points for c in self.checks if c.passed)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def _head(self) -> str:
        if self.error:
            return f"{self.question}: cannot check"
        return f"{self.question}: {'passed' if self.passed else 'not yet'} ({self.score:g}/{self.max_score:g})"

    def __repr__(self) -> str:
        lines = [self._head()] + ([f"  {self.error}"] if self.error else [])
        lines += [f"  {'✅' if c.passed else '❌'} {c.name}" + (f": {c.message}" if c.message else "")
                  for c in self.checks]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#cf222e"
        items = [f"<li>{html.escape(self.error)}</li>"] if self.error else []
        items += [f"<li>{'✅' if c.passed else '❌'} <code>{html.escape(c.name)}</code>"
                  + (f": {html.escape(c.message)}" if c.message else "") + "</li>" for c in self.checks]
        return (f"<div class='grading-result'><strong style='color:{colour}'>{html.escape(self._head())}</strong>"
                f"<ul style='margin:0 0 0.5em 0'>{''.join(items)}</ul></div>")


@dataclasses.dataclass
class Report:
    """All questions of an exercise (what ``Grader.check_all`` returns)."""
    exercise: str
    questions: list[QuestionResult]

    @property
    def score(self) -> float:
        return sum(q.score for q in self.questions)

    @property
    def max_score(self) -> float:
        return sum(q.max_score for q in self.questions)

    def __repr__(self) -> str:
        return "\n".join([f"{self.exercise}: {self.score:g}/{self.max_score:g}"] + [repr(q) for q in self.questions])

    def _repr_html_(self) -> str:
        return (f"<div><strong>{html.escape(self.exercise)}: {self.score:g}/{self.max_score:g}</strong>"
                + "".join(q._repr_html_() for q in self.questions) + "</div>")


class CheckTimeout(BaseException):
    """Raised inside a check that ran past its time limit (a BaseException, so `except Exception` in
    student code cannot swallow it)."""


def _call_with_limit(func: Callable[[], Any], seconds: float | None) -> None:
    """Call ``func()``; raise CheckTimeout after ``seconds``. SIGALRM interrupts the call itself (main thread on
    Linux/macOS, Colab included); elsewhere a daemon thread runs it and is abandoned if it overruns."""
    if not seconds:
        func()
        return
    if hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread():
        def on_alarm(signum, frame):
            raise CheckTimeout
        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            func()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return
    outcome: list[BaseException | None] = []

    def target():
        try:
            func()
            outcome.append(None)
        except BaseException as exc:  # handed back to the caller's thread
            outcome.append(exc)
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if not outcome:
        raise CheckTimeout
    if outcome[0] is not None:
        raise outcome[0]


def _copy(value):
    """A deep copy, so that a check (or the student's function) cannot change the student's own objects."""
    try:
        return copy.deepcopy(value)
    except Exception:  # modules, open files, ...: pass the object itself
        return value


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f" (in {last.name}, line {last.lineno}: {last.line.strip()})" if last.line else f" (in {last.name})"


def run_check(spec: CheckSpec, namespace: dict, time_limit: float | None = 10) -> CheckResult:
    """Run one check with the student's objects (deep copies) as its arguments; never raises."""
    def fail(message, hint=False):
        if hint and spec.hint:
            message = f"{message.rstrip()}{'' if message.rstrip().endswith(('.', '?', '!')) else '.'} Hint: {spec.hint}"
        return CheckResult(spec.name, False, spec.points, message, spec.hidden)

    kwargs = {}
    for name in inspect.signature(spec.func).parameters:
        if name not in namespace:
            return fail(f"`{name}` is not defined: run the cell that defines it first.")
        if namespace[name] is Ellipsis:
            return fail(f"`{name}` is still `...`: replace it with your answer.")
        kwargs[name] = _copy(namespace[name])
    try:
        _call_with_limit(lambda: spec.func(**kwargs), time_limit)
    except CheckTimeout:
        return fail(f"took longer than {time_limit:g} s (an infinite loop?).")
    except AssertionError as exc:
        return fail(str(exc) or "the answer is not right yet.", hint=True)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the student's code (or the check itself) raised; SystemExit included
        return fail(f"raised {type(exc).__name__}: {exc}{_where(exc)}.", hint=True)
    return CheckResult(spec.name, True, spec.points, "", spec.hidden)


def run_checks(specs: list[CheckSpec], namespace: dict, questions: list[str] | None = None,
               time_limit: float | None = 10, mask_hidden: bool = True) -> list[QuestionResult]:
    """Run ``specs`` (only those of ``questions`` if given) and group the results by question.

    With ``mask_hidden`` a failing hidden check says only "hidden check failed" (what the notebook shows).
    """
    results: dict[str, QuestionResult] = {}
    for spec in specs:
        if questions is not None and spec.question not in questions:
            continue
        result = run_check(spec, namespace, time_limit)
        if mask_hidden and result.hidden and not result.passed:
            result.message = "hidden check failed"
        results.setdefault(spec.question, QuestionResult(spec.question)).checks.append(result)
    return list(results.values())


def results_json(exercise: str, namespace: dict, hidden: bool = True, time_limit: float | None = 10,
                 public_dir: str | None = None, hidden_dir: str | None = None) -> dict:
    """Every check of ``exercise`` with full messages, as plain data (what the batch grader records)."""
    specs = load_checks(exercise, hidden=hidden, public_dir=public_dir, hidden_dir=hidden_dir)
    return {"exercise": exercise,
            "questions": {q.question: {"score": q.score, "max": q.max_score,
                                       "checks": [dataclasses.asdict(c) for c in q.checks]}
                          for q in run_checks(specs, namespace, time_limit=time_limit, mask_hidden=False)}}


def _caller_namespace() -> dict:
    try:
        from IPython import get_ipython
        shell = get_ipython()
        if shell is not None:
            return shell.user_ns
    except ImportError:
        pass
    frame = inspect.currentframe()
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    return frame.f_globals if frame is not None else {}


class Grader:
    """What an exercise notebook talks to: ``grader = Grader("ch01_regression")``, then ``grader.check("q1")``.

    Hidden checks run too when the repository checkout has them; their failures show only as
    "hidden check failed". Nothing here raises: problems are reported in the result instead.
    """

    def __init__(self, exercise: str, time_limit: float | None = 10, public_dir: Path | str | None = None,
                 hidden_dir: Path | str | None = None, namespace: dict | None = None):
        self.exercise, self.time_limit, self.namespace = exercise, time_limit, namespace
        try:
            self.specs, self.load_error = load_checks(exercise, True, public_dir, hidden_dir), ""
        except BaseException as exc:  # unknown exercise, or a checks file that does not import
            self.specs, self.load_error = [], f"cannot load the checks of {exercise!r}: {type(exc).__name__}: {exc}"

    @property
    def questions(self) -> list[str]:
        return questions_of(self.specs)

    def check(self, question: str) -> QuestionResult:
        """Run the checks of ``question`` on the notebook's current objects; returns a displayable result."""
        if self.load_error:
            return QuestionResult(str(question), error=self.load_error)
        if question not in self.questions:
            return QuestionResult(str(question), error=f"exercise {self.exercise!r} has no question {question!r}; "
                                                       f"its questions are {', '.join(self.questions)}.")
        try:
            namespace = self.namespace if self.namespace is not None else _caller_namespace()
            return run_checks(self.specs, namespace, [question], self.time_limit)[0]
        except Exception as exc:  # a bug in the grader itself must still not break the notebook
            return QuestionResult(question, error=f"the grader failed: {type(exc).__name__}: {exc}")

    def check_all(self) -> Report:
        """Check every question; the report shows the total score."""
        return Report(self.exercise, [self.check(q) for q in self.questions] if not self.load_error
                      else [QuestionResult("all", error=self.load_error)])
