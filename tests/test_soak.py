"""Soak (short): 4 OS processes run a random mix of mfgctl commands on one file.

bench/soak.py starts the workers (spawn) and runs each command through the CLI entry
point in-process; every command that said it succeeded is logged with what it wrote.
This test runs it for 10 seconds (bench/soak.py's default is 8 processes for 60 s),
then checks, on its own, what a user would: ``mfgctl check`` finds no error (ledger
sums to zero per item, balances equal the ledger, no negative stock, free >= 0), every
move a command printed is in the ledger with the same item and quantity, nothing is in
the ledger that no command printed, and no command failed or hit "database is busy".
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from mfgctl.cli import app

SOAK = Path(__file__).resolve().parents[1] / "bench" / "soak.py"
PROCESSES = 4
SECONDS = 10


def test_four_processes_for_ten_seconds_lose_nothing(tmp_path: Path) -> None:
    db, logs, summary = tmp_path / "soak.db", tmp_path / "logs", tmp_path / "summary.json"
    env = {k: v for k, v in os.environ.items() if k not in ("MFGCTL_DB", "MFGCTL_DEBUG")}
    r = subprocess.run(
        [sys.executable, str(SOAK), "--seconds", str(SECONDS), "--processes", str(PROCESSES),
         "--db", str(db), "--logs", str(logs), "--summary", str(summary)],
        env=env, capture_output=True, text=True, timeout=SECONDS + 240,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(summary.read_text())
    assert result["violations"] == 0, result["violation_examples"]
    assert result["failed"] == 0 and result["busy_retries"] == 0
    assert result["processes"] == PROCESSES and result["seconds"] == SECONDS
    # A real mix ran: every kind of operation succeeded at least once.
    done = {k.split(":")[0] for k, n in result["by_operation"].items() if k.endswith(":ok") and n}
    assert done >= {"receive", "receive_inspected", "inspect", "reserve", "cancel", "order",
                    "ship", "import", "report"}  # fmt: skip
    assert result["operations"] >= 50

    # The invariants, through the command a user runs.
    check = CliRunner().invoke(app, ["--db", str(db), "check", "-f", "json"])
    assert check.exit_code == 0, check.stdout
    assert not [p for p in json.loads(check.stdout or "[]") if p["severity"] == "error"]

    # Every move a command printed is in the ledger as printed (qty in micro-units),
    # and every move in the ledger was printed by a command or is the opening stock.
    c = sqlite3.connect(db)
    ledger = {
        seq: (item, qty, kind)
        for seq, item, qty, kind in c.execute(
            "SELECT m.seq, i.code, m.qty, m.kind FROM move m JOIN item i ON i.id = m.item_id"
        )
    }
    writes = [
        json.loads(line, parse_float=Decimal)
        for path in sorted(logs.glob("worker-*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    assert sum(1 for w in writes if "op" in w) == result["logged_writes"] > 20
    printed = {}
    for w in writes:
        for m in w.get("moves", []):
            assert m["seq"] not in printed
            printed[m["seq"]] = m
            assert ledger[m["seq"]][:2] == (m["item"], int(Decimal(str(m["qty"])) * 10**6))
    assert {s for s, row in ledger.items() if row[2] != "opening"} == set(printed)
    # Every logged reservation exists with its reference.
    refs = {ref for (ref,) in c.execute("SELECT ref FROM reservation")}
    assert {r["ref"] for w in writes for r in w.get("reservations", [])} <= refs
    c.close()
