"""``mfgctl check`` runs the file's own checks (integrity, foreign keys) each on a
connection and in a thread of its own: the same problems as on the command's own
connection, which an in-memory database (no file for another connection) uses instead."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from conftest import Cli
from test_checks_quality import shop, tamper  # noqa: F401  (the fixture)

from mfgctl import db as dbmod
from mfgctl.domain import checks


def rows(conn: sqlite3.Connection) -> list[dict[str, str]]:
    return [p.report_row() for p in checks.report(conn, today=date(2026, 11, 26))]


def test_file_checks_in_a_thread_find_what_the_own_connection_finds(
    cli: Cli,
    shop: Path,  # noqa: F811
) -> None:
    # A BOM line pointing at an item that does not exist (foreign key), and a balance
    # the ledger does not back: 100 PCB-1 received, the balance table says 150.
    tamper(
        shop,
        "UPDATE bom_line SET child_id = 999 WHERE position = 2",
        "UPDATE balance SET qty = 150000000 WHERE qty = 100000000",
    )
    on_file = dbmod.connect(shop)
    in_memory = sqlite3.connect(":memory:")
    in_memory.row_factory = sqlite3.Row  # as mfgctl.db.connect sets it
    try:
        on_file.backup(in_memory)
        # Connections of their own for the file (one per check); none for the
        # in-memory copy.
        assert set(checks._FileChecks(on_file, quick=True)._threads) == {
            "integrity",
            "foreign_keys",
        }
        assert checks._FileChecks(in_memory, quick=True)._threads == {}
        threaded, own = rows(on_file), rows(in_memory)
    finally:
        on_file.close()
        in_memory.close()
    assert threaded == own
    problems = {(r["check"], r["severity"]) for r in threaded}
    assert {("foreign_key", "error"), ("balance", "error")} <= problems
    # Errors first, the file's own checks first among them (SEVERITY's order), although
    # they are collected last.
    assert threaded[0]["check"] == "foreign_key"
