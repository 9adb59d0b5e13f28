"""The reliability table of ``make bench``: load held, faults survived, bad inputs tried.

Each reliability script writes one JSON summary, ``bench/out/reliability-<name>.json``:

    {"name": "soak", "processes": 8, "seconds": 60, "operations": 1234,
     "crashes_injected": 0, "crashes_survived": 0, "inputs_tried": 0, "violations": 0}

(bench/soak.py writes ``soak``; the crash and fuzz scripts write theirs; extra keys are
allowed and ignored). ``section()`` runs the soak, reads every summary there is and
returns the RESULTS.md section: one row per summary and a total. Violations must be 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
KEYS = (
    "name",
    "processes",
    "seconds",
    "operations",
    "crashes_injected",
    "crashes_survived",
    "inputs_tried",
    "violations",
)
HEADING = "## Reliability"


def run_soak(python: str, *, seconds: float, processes: int) -> dict[str, Any]:
    """bench/soak.py in its own process; its summary (also left in bench/out/)."""
    summary = OUT / "reliability-soak.json"
    argv = [python, str(HERE / "soak.py"), "--seconds", f"{seconds:g}"]
    argv += ["--processes", str(processes), "--summary", str(summary)]
    r = subprocess.run(argv, capture_output=True, text=True)
    sys.stderr.write(r.stderr)
    if not summary.exists():
        raise RuntimeError(f"bench/soak.py exited {r.returncode} without a summary")
    return json.loads(summary.read_text())


def run_script(python: str, script: str, *args: str) -> None:
    """bench/crash.py or bench/fuzz.py in its own process: each leaves its summary in
    bench/out/ (a violation makes it exit 1, which the table then shows)."""
    argv = [python, str(HERE / script), *args]
    r = subprocess.run(argv, capture_output=True, text=True)
    sys.stderr.write(r.stderr[-4000:])
    if r.returncode not in (0, 1):
        raise RuntimeError(f"bench/{script} exited {r.returncode}")


def summaries(out: Path = OUT) -> list[dict[str, Any]]:
    """Every reliability-*.json in ``out`` (soak first), with its file's age."""
    found = []
    for path in sorted(out.glob("reliability-*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            print(f"WARNING: {path.name} unreadable ({e}); left out", file=sys.stderr)
            continue
        missing = [k for k in KEYS if k not in data]
        if missing:
            print(f"WARNING: {path.name} lacks {', '.join(missing)}; left out", file=sys.stderr)
            continue
        data["_written"] = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        found.append(data)
    found.sort(key=lambda d: (d["name"] != "soak", d["name"]))
    return found


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| source | processes x seconds held | operations | crashes injected | crashes "
        "survived | fuzz inputs tried | invariant violations | result |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for d in rows:
        held = f"{d['processes']} x {d['seconds']:g} s" if d["processes"] else ""
        ok = d["violations"] == 0 and d["crashes_survived"] == d["crashes_injected"]
        lines.append(
            f"| {d['name']} | {held} | {_n(d['operations'])} | {_n(d['crashes_injected'])} "
            f"| {_n(d['crashes_survived'])} | {_n(d['inputs_tried'])} | "
            f"{_n(d['violations'])} | {'PASS' if ok else 'FAIL'} |"
        )
    if rows:
        total = {k: sum(d[k] for d in rows) for k in KEYS[3:]}
        ok = total["violations"] == 0 and total["crashes_survived"] == total["crashes_injected"]
        lines.append(
            f"| **total** | | {_n(total['operations'])} | {_n(total['crashes_injected'])} "
            f"| {_n(total['crashes_survived'])} | {_n(total['inputs_tried'])} | "
            f"**{_n(total['violations'])}** | {'PASS' if ok else 'FAIL'} |"
        )
    return lines


def section(
    python: str,
    *,
    seconds: float,
    processes: int,
    stamp: str,
    soak: bool = True,
    kills: int = 30,
    fuzz_examples: int = 1000,
) -> tuple[list[str], bool]:
    """Run the soak (unless ``soak`` is false), the crash injection (``kills`` per
    command) and the fuzzing (``fuzz_examples`` inputs; either skipped at 0), then the
    RESULTS.md section from every summary, and whether every row passed."""
    if soak:
        print(f"reliability: soak, {processes} processes x {seconds:g} s...", file=sys.stderr)
        run_soak(python, seconds=seconds, processes=processes)
    if kills:
        print(f"reliability: crash injection, {kills} kills per command...", file=sys.stderr)
        run_script(python, "crash.py", "--kills", str(kills))
    if fuzz_examples:
        print(f"reliability: fuzzing, {fuzz_examples} inputs...", file=sys.stderr)
        run_script(python, "fuzz.py", "--examples", str(fuzz_examples))
    rows = summaries()
    lines = [
        f"{HEADING}: load held, faults survived, bad inputs tried",
        "",
        f"- {stamp}",
        "- One row per `bench/out/reliability-<name>.json`, each written by its script "
        "(bench/soak.py, bench/crash.py, bench/fuzz.py; `make bench` runs all three), with "
        "the time it was written.",
        "",
        *table(rows),
        "",
    ]
    for d in rows:
        when = d["_written"].strftime("%Y-%m-%d %H:%M UTC")
        extra = ""
        if d["name"] == "soak":
            extra = (
                f": {d.get('ops_per_second', '?')} operations/s, "
                f"{_n(d.get('logged_writes', 0))} successful writes logged, "
                f"{_n(d.get('matched_writes', 0))} of them found in the database as logged, "
                f"{_n(d.get('busy_retries', 0))} busy retries, "
                f"{_n(d.get('refused', 0))} refusals (not enough stock: expected), "
                f"{_n(d.get('failed', 0))} failures"
            )
        lines.append(f"- {d['name']} (written {when}){extra}.")
        for v in d.get("violation_examples", [])[:5]:
            lines.append(f"  - VIOLATION: {v}")
    if not rows:
        lines.append("No reliability summaries found in bench/out/.")
    ok = bool(rows) and all(
        d["violations"] == 0 and d["crashes_survived"] == d["crashes_injected"] for d in rows
    )
    return lines, ok
