"""A writer that holds the lock past the busy timeout: others fail cleanly with exit 5.

Another process (here: a plain sqlite3 connection, as a cron job or a DB browser
would hold it) takes the write lock with ``BEGIN IMMEDIATE`` and keeps it. A writing
mfgctl command waits ``MFGCTL_BUSY_TIMEOUT`` seconds, then says "database is busy ...
try again" in one line on stderr and exits 5: no traceback, nothing written. A lock
released within the timeout is simply waited for, and readers are never blocked.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import Cli, dump

from mfgctl import db as dbmod
from mfgctl.domain import items

ITEM = {"name": "MEMS microphone", "type": "component", "unit": "pcs", "make_or_buy": "buy"}


def setup(path: Path) -> None:
    conn = dbmod.connect(path)
    with dbmod.transaction(conn):
        items.add(conn, "MIC-100", ITEM)
    conn.close()


def mfgctl(
    path: Path, *args: str, timeout: str = "0.5"
) -> tuple[subprocess.CompletedProcess, float]:
    """The real console entry point in its own process, as a user or cron runs it."""
    env = dict(os.environ, MFGCTL_DB=str(path), MFGCTL_BUSY_TIMEOUT=timeout, MFGCTL_USER="t")
    env.pop("MFGCTL_DEBUG", None)
    start = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "mfgctl", *args], env=env, capture_output=True, text=True
    )
    return r, time.perf_counter() - start


def hold_lock(path: Path) -> sqlite3.Connection:
    """Another writer: takes the write lock and leaves a change uncommitted."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE item SET name = 'half-written' WHERE code = 'MIC-100'")
    return other


def test_a_writer_holding_the_lock_makes_a_write_fail_with_exit_5(initdb: Path) -> None:
    setup(initdb)
    before = dump(initdb)
    other = hold_lock(initdb)
    try:
        r, took = mfgctl(initdb, "stock", "receive", "MIC-100", "500", "--ref", "PO-1")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert r.returncode == 5, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("Error: database is busy")
    assert "try again" in r.stderr and "0.5 s" in r.stderr
    assert "Traceback" not in r.stderr
    # It waited for the timeout (0.5 s) before giving up, not much longer.
    assert 0.5 <= took < 10
    assert dump(initdb) == before


def test_busy_through_the_in_process_cli_too(initdb: Path, cli: Cli, monkeypatch) -> None:
    setup(initdb)
    monkeypatch.setenv("MFGCTL_BUSY_TIMEOUT", "0.2")
    before = dump(initdb)
    other = hold_lock(initdb)
    try:
        for args in (
            ("stock", "receive", "MIC-100", "5"),
            ("reserve", "MIC-100", "1", "--for", "SO-1"),
            ("item", "update", "MIC-100", "--name", "other"),
            ("import", "/dev/null"),
        ):
            r = cli(*args)
            assert r.exit_code == 5, (args, r.stdout, r.stderr)
            assert r.stderr.startswith("Error: database is busy"), (args, r.stderr)
            assert r.stderr.count("\n") == 1, (args, r.stderr)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert dump(initdb) == before


def test_readers_are_not_blocked_by_a_held_write_lock(initdb: Path) -> None:
    setup(initdb)
    other = hold_lock(initdb)
    try:
        r, _ = mfgctl(initdb, "item", "list", "-f", "csv")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert r.returncode == 0, r.stderr
    # The reader sees the committed name, not the other writer's uncommitted one.
    assert "MEMS microphone" in r.stdout and "half-written" not in r.stdout


def test_a_lock_released_within_the_timeout_is_waited_for(initdb: Path) -> None:
    setup(initdb)
    other = hold_lock(initdb)

    def release() -> None:
        time.sleep(0.4)
        other.execute("ROLLBACK")

    t = threading.Thread(target=release)
    t.start()
    try:
        r, took = mfgctl(initdb, "stock", "receive", "MIC-100", "500", "-f", "csv", timeout="20")
    finally:
        t.join()
        other.close()
    assert r.returncode == 0, r.stderr
    assert took >= 0.4
    c = sqlite3.connect(initdb)
    # 500 pcs in micro-units at STORES/available, the name untouched by the rolled-back writer.
    assert c.execute("SELECT sum(qty) FROM balance WHERE qty > 0").fetchone()[0] == 500_000_000
    assert c.execute("SELECT name FROM item").fetchone()[0] == "MEMS microphone"
    c.close()
