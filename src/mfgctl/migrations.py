"""Forward-only schema migrations, keyed by ``PRAGMA user_version``.

A new database gets ``schema.sql`` whole. An older one runs the steps below from its
version up, all in one ``BEGIN IMMEDIATE`` transaction together with the version bump,
so a crash leaves it at the old version, never half-way. Each step says why it exists.
``tests/test_migrations.py`` proves that an upgraded database has exactly the schema
of a fresh one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

SCHEMA_VERSION = 2


def _v2_stock_count(db: sqlite3.Connection) -> None:
    """v2: keep a record of physical counts.

    Why: a count used to be only its adjusting move, so a count that matched the
    ledger left no trace, and the counted and expected figures were lost.
    """
    db.execute(
        """
        CREATE TABLE stock_count (
            id          INTEGER PRIMARY KEY,
            item_id     INTEGER NOT NULL REFERENCES item (id),
            location_id INTEGER NOT NULL REFERENCES location (id),
            status      TEXT NOT NULL,
            lot_id      INTEGER REFERENCES lot (id),
            counted     INTEGER NOT NULL CHECK (counted >= 0),
            expected    INTEGER NOT NULL,
            move_seq    INTEGER REFERENCES move (seq),
            counted_at  TEXT NOT NULL,
            user        TEXT NOT NULL,
            note        TEXT
        ) STRICT
        """
    )
    db.execute("CREATE INDEX stock_count_item ON stock_count (item_id, counted_at)")


# version reached -> step that reaches it from the version before.
STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _v2_stock_count,
}


def upgrade(db: sqlite3.Connection, from_version: int) -> None:
    """Run every step after ``from_version``; the caller holds the write transaction."""
    for version in range(from_version + 1, SCHEMA_VERSION + 1):
        STEPS[version](db)
        db.execute(f"PRAGMA user_version = {int(version)}")
