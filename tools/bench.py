"""Execution statistics: run every notebook in a fresh kernel and measure it (``make bench``).

For each notebook: wall time, CPU time (user + system, kernel included) and peak resident memory of the
process tree that executed it. Also the book's build time with a warm execution cache. Writes the
table to ``about/execution_stats.md`` (the website's Execution statistics page) and prints it.
Budgets (DESIGN section 4): 60 s and 1.5 GB per notebook on the 2-core CPU machine.

    python tools/bench.py                 # every notebook, then the book build
    python tools/bench.py NB.ipynb ...    # only these notebooks (the page is not rewritten)
    python tools/bench.py --device-label "NVIDIA H100" --out FILE   # a run on another machine
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "about" / "execution_stats.md"
BUDGET_S, BUDGET_MB = 60.0, 1536.0
BENCHED = ("chapters", "exercises/solutions", "about")


def notebooks() -> list[Path]:
    return sorted(p for d in BENCHED for p in (ROOT / d).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def execute(path: str) -> None:
    """Run one notebook with nbclient in this process (its kernel is our child)."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()


def measure(cmd: list[str]) -> tuple[float, float, float, int]:
    """(wall s, cpu s, peak RSS MB, exit code) of a command and all the processes it waited for."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss of a reaped child covers its own reaped descendants too (the kernel), in KiB on Linux
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--device-label", default=None)
    ap.add_argument("--no-book", action="store_true")
    args = ap.parse_args()
    if args.run:
        execute(args.run)
        return 0
    paths = [Path(p).resolve() for p in args.notebooks] or notebooks()
    rows, failed = [], []
    for nb in paths:
        wall, cpu, rss, rc = measure([sys.executable, __file__, "--run", str(nb)])
        flag = "" if rc == 0 and wall <= BUDGET_S and rss <= BUDGET_MB else " **over budget**" if rc == 0 else " **failed**"
        if flag:
            failed.append(nb)
        rows.append(f"| `{nb.relative_to(ROOT)}` | {wall:.1f} | {cpu:.1f} | {rss:.0f} |{flag}")
        print(rows[-1], flush=True)
    total_wall = sum(float(r.split("|")[2]) for r in rows)
    total_cpu = sum(float(r.split("|")[3]) for r in rows)
    peak = max(float(r.split("|")[4]) for r in rows)
    book = ""
    if not args.notebooks and not args.no_book:
        wall, cpu, rss, rc = measure([str(Path(sys.executable).parent / "jupyter-book"), "build", ".", "--all", "-W", "-n", "--keep-going"])
        book = (f"\nBuilding the website with a warm execution cache (`jupyter-book build --all`, Sphinx only): "
                f"**{wall:.0f} s** wall, {cpu:.0f} s CPU{'' if rc == 0 else ' (the build FAILED)'}. A cold build also "
                f"executes every notebook once, adding roughly the total above divided by the number of cores "
                f"(`make book` executes them in parallel).\n")
    machine = args.device_label or f"{cpu_name()}, {os.cpu_count()} cores"
    table = "\n".join([
        f"Measured on {date.today().isoformat()} on {machine} (Python {platform.python_version()}, "
        f"`COURSE_THREADS` = {os.environ.get('COURSE_THREADS', 'default')}).", "",
        "| notebook | wall (s) | CPU (s) | peak RSS (MB) |", "|---|---:|---:|---:|", *rows,
        f"| **total** | **{total_wall:.1f}** | **{total_cpu:.1f}** | max **{peak:.0f}** |", book])
    print(table)
    if args.out:
        args.out.write_text(table + "\n")
    elif not args.notebooks:
        text = PAGE.read_text()
        head, _, rest = text.partition("<!-- bench:start -->")
        _, _, tail = rest.partition("<!-- bench:end -->")
        PAGE.write_text(f"{head}<!-- bench:start -->\n{table}\n<!-- bench:end -->{tail}")
        print(f"wrote {PAGE.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
