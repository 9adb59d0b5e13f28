"""Crash survival: kill -9 mfgctl in the middle of a large import, an MRP firm and a recall.

For each command a database is prepared once (through mfgctl itself), and the command is
run once without interruption on a copy to learn its duration and the state it leaves.
Then, many times: copy the prepared file, start the command, SIGKILL it after a random
delay spread over its duration, and check the copy:

* it opens and ``mfgctl check`` finds no errors (exit 0; warnings allowed);
* its tables equal either the state before the command or the state after an
  uninterrupted run (all or nothing). Columns holding "now" (``created_at``, ``at``...)
  are left out of the comparison, since two runs are never at the same instant.

A kill that lands after the command finished is not counted as a crash. The summary goes
to ``bench/out/reliability-crash.json`` (the reliability table of ``bench/run.py`` reads
it); ``tests/test_crash.py`` runs the same harness with fewer kills.

    .venv/bin/python bench/crash.py [--kills 100] [--size 1] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
ENV = {**os.environ, "MFGCTL_USER": "crash", "MFGCTL_NO_FS_WARNING": "1"}
ENV.pop("MFGCTL_DB", None)

State = dict[str, list[tuple[object, ...]]]


def mfgctl(db: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(
        [sys.executable, "-m", "mfgctl", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
        timeout=600,
    )
    if check and r.returncode != 0:
        raise RuntimeError(f"mfgctl {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def state(db: Path) -> State:
    """Every table's rows in rowid order, without the columns that hold "now"."""
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in c.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        out: State = {}
        for table in tables:
            cols = [r[1] for r in c.execute(f'PRAGMA table_info("{table}")')]
            keep = [col for col in cols if not (col == "at" or col.endswith("_at"))]
            select = ", ".join(f'"{col}"' for col in keep)
            order = "rowid" if table != "sqlite_sequence" else "name"
            try:
                rows = c.execute(f'SELECT {select} FROM "{table}" ORDER BY {order}').fetchall()
            except sqlite3.OperationalError:  # a WITHOUT ROWID table
                rows = sorted(c.execute(f'SELECT {select} FROM "{table}"').fetchall(), key=repr)
            out[table] = rows
        return out
    finally:
        c.close()


def copy_db(src: Path, dst: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(src, dst)


def settle(db: Path) -> None:
    """Fold the WAL into the file so one copy of the file is the whole database."""
    c = sqlite3.connect(db)
    try:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        c.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


# -- the prepared databases -------------------------------------------------------------


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def import_file(work: Path, n: int) -> Path:
    """n lot-tracked items, each with an opening balance in two lots, and n BOMs."""
    lines = ["items:"]
    for i in range(n):
        lines.append(
            f"  - {{code: P{i:05d}, name: Part {i}, type: component, unit: pcs, "
            f"make_or_buy: buy, tracking: lot, cost: {i % 97}.25}}"
        )
    for i in range(n // 10):
        lines.append(
            f"  - {{code: A{i:05d}, name: Assembly {i}, type: subassembly, unit: pcs, "
            "make_or_buy: make}"
        )
    lines.append("boms:")
    for i in range(n // 10):
        lines.append(f"  - item: A{i:05d}\n    revision: A\n    lines:")
        for j in range(4):
            lines.append(f"      - {{item: P{(i * 7 + j) % n:05d}, qty: {j + 1}.5}}")
    lines.append("stock:")
    for i in range(n):
        for lot in ("L1", "L2"):
            lines.append(f"  - {{item: P{i:05d}, qty: {i % 50 + 1}.125, lot: {lot}{i:05d}}}")
    return _write(work / "crash-import.yaml", lines)


def mrp_file(work: Path, n: int) -> Path:
    """n finished make items with a two-level BOM over shared components, and demand."""
    lines = ["items:"]
    for i in range(40):
        lines.append(
            f"  - {{code: C{i:03d}, name: Comp {i}, type: component, unit: pcs, "
            f"make_or_buy: buy, lead_time_days: {i % 5 + 2}}}"
        )
    for i in range(n):
        lines.append(
            f"  - {{code: F{i:04d}, name: Product {i}, type: finished, unit: pcs, "
            "make_or_buy: make, lead_time_days: 3}"
        )
        lines.append(
            f"  - {{code: S{i:04d}, name: Sub {i}, type: subassembly, unit: pcs, "
            "make_or_buy: make, lead_time_days: 2}"
        )
    lines.append("boms:")
    for i in range(n):
        lines.append(f"  - item: F{i:04d}\n    revision: A\n    lines:")
        lines.append(f"      - {{item: S{i:04d}, qty: 1}}")
        lines.append(f"      - {{item: C{i % 40:03d}, qty: 2}}")
        lines.append(f"  - item: S{i:04d}\n    revision: A\n    lines:")
        lines.append(f"      - {{item: C{(i + 1) % 40:03d}, qty: 3}}")
        lines.append(f"      - {{item: C{(i + 7) % 40:03d}, qty: 1}}")
    lines.append("demand:")
    from datetime import date, timedelta

    for i in range(n):
        for k in range(2):
            due = date.today() + timedelta(days=20 + 7 * k + i % 30)
            lines.append(
                f"  - {{item: F{i:04d}, qty: {i % 9 + 1}, due: '{due}', kind: sales, "
                f"ref: SO-{i}-{k}}}"
            )
    return _write(work / "crash-mrp.yaml", lines)


def recall_file(work: Path, n: int) -> Path:
    """A supplier lot spread over n locations (each place gets blocked by the recall)."""
    lines = ["locations:"]
    lines += [f"  - {{code: R{i:04d}, name: Rack {i}}}" for i in range(n)]
    lines += [
        "items:",
        "  - {code: CELL, name: Battery cell, type: component, unit: pcs, "
        "make_or_buy: buy, tracking: lot}",
        "stock:",
    ]
    for i in range(n):
        lines.append(f"  - {{item: CELL, qty: {i % 20 + 1}, lot: B-17, location: R{i:04d}}}")
        lines.append(f"  - {{item: CELL, qty: 3, lot: B-18, location: R{i:04d}}}")
    return _write(work / "crash-recall.yaml", lines)


@dataclass
class Scenario:
    name: str
    db: Path  # the prepared database: one file, no -wal
    args: list[str]
    before: State = field(default_factory=dict)
    after: State = field(default_factory=dict)
    seconds: float = 0.0  # an uninterrupted run, start-up included
    write_from: float = 0.0  # when it held the write lock first (BEGIN IMMEDIATE) ...
    write_until: float = 0.0  # ... and last, as seen by a probe


def prepare(work: Path, size: int = 1) -> list[Scenario]:
    """The three prepared databases; ``size`` scales them (1: about a second each)."""
    work.mkdir(parents=True, exist_ok=True)
    scenarios = []

    db = work / "crash-import.db"
    copy_db_init(db)
    scenarios.append(Scenario("import", db, ["import", str(import_file(work, 1500 * size))]))

    db = work / "crash-mrp.db"
    copy_db_init(db)
    # 200 products: firming holds the write lock for most of the run (two thirds; with
    # 60 it was about a third, too little of the run to aim the kills at).
    mfgctl(db, "import", str(mrp_file(work, 200 * size)))
    settle(db)
    scenarios.append(Scenario("mrp firm", db, ["mrp", "firm", "--all", "-f", "json"]))

    db = work / "crash-recall.db"
    copy_db_init(db)
    mfgctl(db, "import", str(recall_file(work, 1500 * size)))
    settle(db)
    scenarios.append(
        Scenario("recall", db, ["trace", "B-17", "--forward", "--hold", "--reason", "crash test"])
    )

    for s in scenarios:
        measure(s, work)
    return scenarios


def copy_db_init(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    mfgctl(db, "init")
    settle(db)


def measure(s: Scenario, work: Path) -> None:
    """Run the command once uninterrupted: its duration, when it starts writing, and
    the state it leaves (which must pass `mfgctl check`)."""
    s.before = state(s.db)
    run = work / "measure.db"
    copy_db(s.db, run)
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [sys.executable, "-m", "mfgctl", "--db", str(run), *s.args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    # Probe the write lock every 2 ms: while BEGIN IMMEDIATE fails, the command is
    # inside its write transaction. (The probe holds the lock for microseconds; the
    # command's busy handler waits that out.)
    probe = sqlite3.connect(run, isolation_level=None, timeout=0)
    held: list[float] = []
    while p.poll() is None:
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError:
            held.append(time.perf_counter() - t0)
        time.sleep(0.002)
    probe.close()
    s.seconds = time.perf_counter() - t0
    s.write_from, s.write_until = (held[0], held[-1]) if held else (0.0, s.seconds)
    err = p.stderr.read().decode() if p.stderr else ""
    if p.returncode != 0:
        raise RuntimeError(f"{s.name}: mfgctl {' '.join(s.args)} failed: {err}")
    checked = mfgctl(run, "check", "-f", "json", check=False)
    if checked.returncode != 0:
        raise RuntimeError(f"{s.name}: check fails after an uninterrupted run: {checked.stdout}")
    s.after = state(run)
    if s.after == s.before:
        raise RuntimeError(f"{s.name}: the command changed nothing; nothing to crash")


# -- the kills ---------------------------------------------------------------------------


@dataclass
class Outcome:
    killed: bool  # the process was still running when the signal came
    delay: float
    result: str  # "none" | "all" | "neither"
    check_code: int
    check_output: str = ""


def attempt(s: Scenario, work: Path, delay: float) -> Outcome:
    """One kill: copy, start, SIGKILL after ``delay`` seconds, inspect the copy."""
    run = work / f"kill-{s.name.replace(' ', '-')}.db"
    copy_db(s.db, run)
    p = subprocess.Popen(
        [sys.executable, "-m", "mfgctl", "--db", str(run), *s.args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    time.sleep(delay)
    killed = p.poll() is None
    if killed:
        p.send_signal(signal.SIGKILL)
    p.wait()
    killed = killed and p.returncode == -signal.SIGKILL
    checked = mfgctl(run, "check", "-f", "json", check=False)
    now = state(run)
    result = "none" if now == s.before else "all" if now == s.after else "neither"
    return Outcome(killed, delay, result, checked.returncode, checked.stdout + checked.stderr)


def delays(s: Scenario, kills: int, rng: random.Random) -> list[float]:
    """Kill points: three in four inside the write transaction (as measured), the rest
    anywhere in the run, so start-up, validation and the commit are hit too."""
    out = []
    for i in range(kills):
        if i % 4 == 3:
            out.append(rng.uniform(0.0, s.seconds))
        else:
            # Not quite to the end: a loaded machine may run it faster than measured.
            span = s.write_until - s.write_from
            out.append(rng.uniform(s.write_from, s.write_from + 0.85 * span))
    return out


def run(scenarios: list[Scenario], work: Path, kills: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    t0 = time.perf_counter()
    summary: dict[str, object] = {
        "name": "crash (kill -9 during import, mrp firm, recall)",
        "processes": 1,
        "seconds": 0.0,
        "operations": 0,
        "crashes_injected": 0,
        "crashes_survived": 0,
        "inputs_tried": 0,
        "violations": 0,
    }
    per_command = []
    problems: list[str] = []
    for s in scenarios:
        counts = {"killed": 0, "none": 0, "all": 0, "finished": 0}
        for delay in delays(s, kills, rng):
            o = attempt(s, work, delay)
            summary["operations"] = int(summary["operations"]) + 1  # type: ignore[call-overload]
            ok = o.check_code == 0 and o.result in ("none", "all")
            if o.killed:
                counts["killed"] += 1
                counts[o.result] = counts.get(o.result, 0) + 1
                summary["crashes_injected"] = int(summary["crashes_injected"]) + 1  # type: ignore[call-overload]
                if ok:
                    summary["crashes_survived"] = int(summary["crashes_survived"]) + 1  # type: ignore[call-overload]
            else:
                counts["finished"] += 1
            if not ok:
                summary["violations"] = int(summary["violations"]) + 1  # type: ignore[call-overload]
                problems.append(
                    f"{s.name}: kill at {o.delay:.3f} s left {o.result} of the command; "
                    f"check exit {o.check_code}: {o.check_output[:500]}"
                )
        per_command.append(
            {
                "command": "mfgctl "
                + " ".join(a if "/" not in a else Path(a).name for a in s.args),
                "seconds": round(s.seconds, 3),
                "write_from": round(s.write_from, 3),
                "write_until": round(s.write_until, 3),
                **counts,
            }
        )
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    summary["per_command"] = per_command
    summary["problems"] = problems
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100, help="kills per command (default 100)")
    parser.add_argument("--size", type=int, default=1, help="scale of the prepared databases")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=OUT / "crash")
    parser.add_argument("--output", type=Path, default=OUT / "reliability-crash.json")
    args = parser.parse_args(argv)
    scenarios = prepare(args.work, args.size)
    for s in scenarios:
        print(
            f"{s.name}: {s.seconds:.2f} s uninterrupted, write transaction from "
            f"{s.write_from:.2f} s to {s.write_until:.2f} s"
        )
    summary = run(scenarios, args.work, args.kills, args.seed)
    per_command = summary.pop("per_command")
    problems = summary.pop("problems")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    for row in per_command:  # type: ignore[attr-defined]
        print(json.dumps(row))
    for problem in problems:  # type: ignore[attr-defined]
        print("VIOLATION:", problem)
    print(json.dumps(summary, indent=2))
    print(f"written to {args.output}")
    return 1 if summary["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
