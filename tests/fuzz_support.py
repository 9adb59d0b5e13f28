"""What the fuzz tests share: a prepared sample database, a way to run mfgctl that
catches every bug (an exception that would be exit 70 "internal error"), and a
snapshot of a database file (its full dump and its raw bytes after a checkpoint) to
prove a rejected command changed nothing."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from typer.testing import CliRunner

from mfgctl.cli import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = sorted((ROOT / "sample_data").glob("*.yaml"))
# Typer's own usage errors ("Usage: ... Error: Invalid value ...") exit 2.
USAGE_EXIT = 2
INTERNAL_EXIT = 70


@dataclass(frozen=True)
class Run:
    """One mfgctl run: its exit code, output, and the bug it hit (if any)."""

    args: list[str]
    exit_code: int
    stdout: str
    stderr: str
    bug: BaseException | None


def run(db: Path, *args: str, input: str | None = None) -> Run:
    """Run ``mfgctl --db DB ARGS...`` in-process.

    An exception other than SystemExit is what ``mfgctl.cli.main`` turns into exit 70
    ("internal error"): it is returned as ``bug`` (never raised), so the caller can
    say which input found it.
    """
    runner = CliRunner()
    argv = ["--db", str(db), "--user", "fuzz", *args]
    r = runner.invoke(app, argv, input=input)
    bug = r.exception
    if isinstance(bug, SystemExit):
        bug = None
    code = INTERNAL_EXIT if bug is not None else r.exit_code
    return Run(list(args), code, r.stdout, r.stderr, bug)


def snapshot(path: Path) -> tuple[str, bytes]:
    """The database as SQL text (rows and schema) and its raw bytes after a checkpoint."""
    c = sqlite3.connect(path)
    try:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        text = "\n".join(c.iterdump())
    finally:
        c.close()
    return text, path.read_bytes()


def problems_of(r: Run) -> list[str]:
    """What is wrong with how mfgctl answered (empty when it answered well).

    Every run: no traceback and no internal error. A rejected run: a non-zero exit
    and a clear message on stderr: ``Error: ...`` lines (one line unless an import
    lists its problems), or Typer's usage error (exit 2).
    """
    found = []
    if r.bug is not None:
        found.append(f"internal error {type(r.bug).__name__}: {r.bug}")
    if "Traceback" in r.stderr or "Traceback" in r.stdout:
        found.append("a traceback reached the user")
    if r.exit_code == INTERNAL_EXIT:
        found.append("exit 70 (internal error)")
    if r.exit_code not in (0, 1, 2, 3, 4, 5, 6, INTERNAL_EXIT):
        found.append(f"unexpected exit {r.exit_code}")
    if r.exit_code == 1:
        lines = r.stderr.splitlines()
        if not lines or not all(line.startswith("Error: ") for line in lines):
            found.append(f"a refusal without a clean 'Error:' message: {r.stderr[:300]!r}")
        elif r.args[:1] != ["import"] and len(lines) != 1:
            found.append(f"a refusal of {len(lines)} lines: {r.stderr[:300]!r}")
    if r.exit_code == USAGE_EXIT and "Error" not in r.stderr:
        found.append(f"a usage error without a message: {r.stderr[:300]!r}")
    return found


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def build_sample(path: Path) -> None:
    """The sample data, plus a released order, a planned one, demand, a purchase order,
    stock moved around and a shipment: something for every command to act on."""
    steps = [
        ["init"],
        ["import", *map(str, SAMPLE)],
        ["order", "create", "HD-200", "5", "--due", day(7), "--ref", "SO-1001"],
        ["order", "release", "1"],
        ["order", "create", "HD-300", "3", "--due", day(14)],
        ["demand", "add", "HD-300", "50", "--due", day(21), "--kind", "sales", "--ref", "SO-2"],
        ["purchase", "add", "PCB-FLX-30", "200", "--due", day(40), "--supplier", "Flexline"],
        ["stock", "receive", "PCB-FLX-20", "10", "--lot", "FZ-1"],
        ["ship", "SHL-200-BTE", "3", "--to", "Acme", "--ref", "SO-9"],  # SHIP-1
    ]
    for step in steps:
        r = run(path, *step)
        assert r.exit_code == 0 and r.bug is None, (step, r.stderr, r.bug)


def copy_db(template: Path, target: Path) -> None:
    """A fresh copy of a checkpointed database (no -wal or -shm files left over)."""
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, target)
