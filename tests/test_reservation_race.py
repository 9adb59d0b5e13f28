"""Free stock never goes below zero, whatever runs at the same time (promise 1).

Four OS processes reserve the same 100 units at once, hundreds of attempts in all,
through the same connection and ``BEGIN IMMEDIATE`` transaction helper the CLI's
session uses. The total reserved never exceeds what existed, every reservation a
worker was told succeeded is recorded, and no attempt fails with "database is
locked" (a busy exit would count as a failure here too).

The same harness runs a deliberately naive check-then-write variant (autocommit:
read free, then insert) to show that it can see a race: that one over-reserves.
"""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import pytest

from mfgctl import db as dbmod
from mfgctl.domain import items, reservations
from mfgctl.domain import stock as ops
from mfgctl.errors import MfgError, RuleViolation

WORKERS = 4
ATTEMPTS = 60  # per worker: 240 attempts for 100 units
STOCK = 100


def make_db(path: Path) -> int:
    conn = dbmod.create(path)
    try:
        with dbmod.transaction(conn):
            items.add(
                conn,
                "MIC",
                {"name": "Mic", "type": "component", "unit": "pcs", "make_or_buy": "buy"},
            )
            ops.receive(conn, item="MIC", qty=str(STOCK), user="t")
        return items.get(conn, "MIC").id
    finally:
        conn.close()


def careful(path: str, worker: int, n: int) -> tuple[str, int, int]:
    """One attempt the mfgctl way: check and write in one BEGIN IMMEDIATE transaction."""
    qty = 1 + (worker + n) % 3
    conn = dbmod.connect(path)
    try:
        with dbmod.transaction(conn, path):
            made = reservations.reserve(
                conn, item="MIC", qty=str(qty), ref=f"W{worker}-{n}", user="race"
            )
        return ("ok", made[0].id, qty)
    except RuleViolation:
        return ("short", 0, qty)
    except MfgError as e:  # DatabaseBusy included: a failure here
        return (f"error: {e}", 0, qty)
    finally:
        conn.close()


def naive(path: str, worker: int, n: int) -> tuple[str, int, int]:
    """The anti-pattern: autocommit, read what is free, then insert (a window between)."""
    qty = 1 + (worker + n) % 3
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        have = conn.execute("SELECT qty FROM balance WHERE status = 'available'").fetchone()[0]
        held = conn.execute(
            "SELECT ifnull(sum(remaining), 0) FROM reservation WHERE state = 'open'"
        ).fetchone()[0]
        if have - held < qty * 1_000_000:
            return ("short", 0, qty)
        time.sleep(0.002)  # the time a real command spends between its check and its write
        cur = conn.execute(
            "INSERT INTO reservation (item_id, location_id, qty, remaining, ref, state, "
            "created_at, user) VALUES (1, 1, ?, ?, ?, 'open', '2026-01-01T00:00:00.000000Z', "
            "'naive')",
            (qty * 1_000_000, qty * 1_000_000, f"W{worker}-{n}"),
        )
        return ("ok", cur.lastrowid or 0, qty)
    except sqlite3.Error as e:
        return (f"error: {e}", 0, qty)
    finally:
        conn.close()


def worker_main(kind: str, path: str, worker: int, barrier, results) -> None:  # type: ignore[no-untyped-def]
    attempt = careful if kind == "careful" else naive
    barrier.wait()
    results.put([attempt(path, worker, n) for n in range(ATTEMPTS)])


def race(kind: str, path: Path) -> list[tuple[str, int, int]]:
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=worker_main, args=(kind, str(path), w, barrier, results))
        for w in range(WORKERS)
    ]
    for p in procs:
        p.start()
    outcomes = [o for _ in procs for o in results.get(timeout=60)]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return outcomes


def reserved_total(path: Path) -> Decimal:
    conn = sqlite3.connect(path)
    try:
        total = conn.execute(
            "SELECT ifnull(sum(remaining), 0) FROM reservation WHERE state = 'open'"
        ).fetchone()[0]
        return Decimal(total) / 1_000_000
    finally:
        conn.close()


@pytest.fixture
def busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MFGCTL_BUSY_TIMEOUT", "30")


def test_concurrent_reservations_never_exceed_the_stock(tmp_path: Path, busy_timeout: None) -> None:
    path = tmp_path / "race.db"
    make_db(path)
    outcomes = race("careful", path)
    assert len(outcomes) == WORKERS * ATTEMPTS
    errors = [o for o in outcomes if o[0].startswith("error")]
    assert errors == []
    ok = [o for o in outcomes if o[0] == "ok"]
    total = reserved_total(path)
    assert total <= STOCK
    # Every success is recorded with its quantity, and nothing else is.
    conn = sqlite3.connect(path)
    try:
        stored = dict(conn.execute("SELECT id, qty FROM reservation").fetchall())
    finally:
        conn.close()
    assert stored == {rid: qty * 1_000_000 for _s, rid, qty in ok}
    assert total == sum(qty for _s, _id, qty in ok)
    # Demand (about 480 units) far exceeds the stock: the race was really run to the end,
    # and free stock ran out to (nearly) zero, never below it.
    assert total > STOCK - 3
    conn = dbmod.connect(path)
    try:
        assert reservations.free_qty(conn, items.get(conn, "MIC")) == STOCK - total
    finally:
        conn.close()


def test_the_harness_sees_a_naive_check_then_write_over_reserve(tmp_path: Path) -> None:
    path = tmp_path / "naive.db"
    make_db(path)
    outcomes = race("naive", path)
    assert [o for o in outcomes if o[0].startswith("error")] == []
    assert reserved_total(path) > STOCK
