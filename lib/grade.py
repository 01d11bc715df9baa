"""Instructor command line for the graded exercises.

    python -m lib.grade strip [--check]       exercises/solutions/<ex>.ipynb -> exercises/<ex>.ipynb
                                              (--check: change nothing; exit 1 and name the stale files)
    python -m lib.grade grade DIR_OR_FILE --out scores.csv [--timeout S] [--check-timeout S] [--public-only]
                                              batch-grade; CSV columns: notebook, exercise, one per question,
                                              total, max, errors

Grading executes the submissions' code with your privileges: do it offline, in a throwaway container or VM.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from lib.grading import strip
from lib.grading.core import find_repo_root, load_checks, questions_of
from lib.grading.runner import grade_notebook


def cmd_strip(args) -> int:
    root = find_repo_root()
    if root is None:
        print("cannot find the repository (a folder with exercises/ and lib/); run from inside a checkout")
        return 2
    masters = sorted((root / "exercises" / "solutions").glob("*.ipynb"))
    stale = []
    for master in masters:
        student = root / "exercises" / master.name
        if args.check:
            if not strip.is_in_sync(master, student):
                stale.append(student.relative_to(root))
        else:
            print("wrote", strip.write_student(master, root / "exercises").relative_to(root))
    for path in stale:
        print(f"out of date: {path} (run `python -m lib.grade strip`)")
    if args.check and not stale:
        print(f"{len(masters)} student notebook(s) in sync")
    return 1 if stale else 0


def _fmt(x: float) -> str:
    return f"{x:g}"


def cmd_grade(args) -> int:
    target = Path(args.path)
    paths = ([p for p in sorted(target.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts]
             if target.is_dir() else [target])
    hidden = not args.public_only
    rows, columns = [], []
    for path in paths:
        r = grade_notebook(path, timeout=args.timeout, hidden=hidden, check_limit=args.check_timeout,
                           public_dir=args.checks_dir, hidden_dir=args.hidden_dir)
        scores = {q: (v["score"], v["max"]) for q, v in r["questions"].items()}
        if r["exercise"] and not scores:  # the grading cell never ran: zero for every question
            try:
                specs = load_checks(r["exercise"], hidden, args.checks_dir, args.hidden_dir)
                scores = {q: (0.0, sum(s.points for s in specs if s.question == q)) for q in questions_of(specs)}
            except FileNotFoundError:
                pass
        columns += [q for q in scores if q not in columns]
        total, most = sum(s for s, _ in scores.values()), sum(m for _, m in scores.values())
        name = path.relative_to(target).as_posix() if target.is_dir() else path.name
        rows.append({"notebook": name, "exercise": r["exercise"] or "", **{q: _fmt(s) for q, (s, _) in scores.items()},
                     "total": _fmt(total), "max": _fmt(most), "errors": " | ".join(r["errors"])})
        print(f"{name}: {total:g}/{most:g}" + (f"  [{rows[-1]['errors']}]" if r["errors"] else ""), flush=True)
    fields = ["notebook", "exercise", *columns, "total", "max", "errors"]
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out} ({len(rows)} notebooks)")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.grade", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("strip", help="regenerate exercises/*.ipynb from exercises/solutions/*.ipynb")
    s.add_argument("--check", action="store_true", help="only check that exercises/ is up to date")
    g = sub.add_parser("grade", help="batch-grade a notebook or a folder of notebooks")
    g.add_argument("path", help="a notebook, or a folder searched recursively for *.ipynb")
    g.add_argument("--out", default="scores.csv", help="CSV file to write (default scores.csv)")
    g.add_argument("--timeout", type=float, default=60, help="seconds per student cell (default 60)")
    g.add_argument("--check-timeout", type=float, default=10, help="seconds per check (default 10)")
    g.add_argument("--public-only", action="store_true", help="skip the hidden checks")
    g.add_argument("--checks-dir", help="folder of public checks (default lib/checks)")
    g.add_argument("--hidden-dir", help="folder of hidden checks (default tests/hidden)")
    args = parser.parse_args(argv)
    return cmd_strip(args) if args.command == "strip" else cmd_grade(args)


if __name__ == "__main__":
    sys.exit(main())
