"""The history of records that change in place (purchase orders, demand lines): one
append-only row per change, written in the same transaction as the change, read back
oldest first. The tables refuse UPDATE and DELETE (schema 16)."""

from __future__ import annotations

import sqlite3
from typing import Any

from mfgctl import timefmt

HISTORY_COLUMNS = ["at", "user", "event", "from_state", "to_state", "note"]

# Each kind of record: its history table and the column naming the record.
_TABLES = {
    "purchase": ("purchase_event", "purchase_order_id"),
    "demand": ("demand_event", "demand_id"),
}


def record(
    db: sqlite3.Connection,
    kind: str,
    record_id: int,
    event: str,
    *,
    user: str,
    source: str | None,
    target: str,
    note: str,
    at: str | None = None,
) -> None:
    """Append one event (``created``, ``updated``, ...) to a record's history."""
    table, key = _TABLES[kind]
    db.execute(
        f"INSERT INTO {table} ({key}, at, user, event, from_state, to_state, note) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (record_id, at or timefmt.now(), user, event, source, target, note),
    )


def history(db: sqlite3.Connection, kind: str, record_id: int) -> list[dict[str, Any]]:
    """A record's events, oldest first, as ``HISTORY_COLUMNS`` rows (local times)."""
    table, key = _TABLES[kind]
    rows = db.execute(
        f"SELECT at, user, event, from_state, to_state, note FROM {table} "
        f"WHERE {key} = ? ORDER BY id",
        (record_id,),
    )
    return [
        {
            "at": timefmt.local(r[0]),
            "user": r[1],
            "event": r[2],
            "from_state": r[3],
            "to_state": r[4],
            "note": r[5],
        }
        for r in rows
    ]
