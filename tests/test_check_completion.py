"""``mfgctl check``'s ``completion`` finding: the stored cost of each production output
(table ``completion``, schema 12) must stand for its moves, and every ``make`` move must
have one, because valuation values made items from these rows.

The plant of trace_story: order 1 makes 4 PCB (lot P1), order 2 makes 2 HD (serials S-1
and S-2, one make + output pair each)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from conftest import Cli
from trace_story import build


def findings(cli: Cli) -> tuple[int, list[tuple[str, str]]]:
    r = cli("check", "-f", "json")
    rows = json.loads(r.stdout) if r.stdout.strip() else []
    return r.exit_code, [(p["subject"], p["message"]) for p in rows if p["check"] == "completion"]


def tamper(path: Path, sql: str) -> None:
    c = sqlite3.connect(path)
    with c:
        c.execute(sql)
    c.close()


def test_completions_that_stand_for_their_moves_are_clean(cli: Cli, db_path: Path) -> None:
    cli("init")
    build(cli, db_path)
    assert findings(cli) == (0, [])


def test_a_row_that_does_not_match_its_moves_is_an_error(cli: Cli, db_path: Path) -> None:
    cli("init")
    build(cli, db_path)
    # A row claiming 5 good HD for the second serial's make + output pair (1 made), and
    # one whose first move is a receipt, not a making.
    tamper(
        db_path,
        "INSERT INTO completion (first_seq, last_seq, order_id, item_id, good, unit_cost, "
        "effective_at) SELECT m.seq, m.seq + 1, 2, m.item_id, 5000000, NULL, m.effective_at "
        "FROM move AS m JOIN lot AS l ON l.id = m.lot_id WHERE m.kind = 'make' AND l.code = 'S-2'",
    )
    tamper(
        db_path,
        "INSERT INTO completion (first_seq, last_seq, order_id, item_id, good, unit_cost, "
        "effective_at) SELECT m.seq, m.seq, 1, m.item_id, 1000000, NULL, m.effective_at "
        "FROM move AS m WHERE m.kind = 'receipt' ORDER BY m.seq LIMIT 1",
    )
    code, found = findings(cli)
    assert code == 4
    assert [message for _subject, message in found] == [
        "its first move (seq 1) is not the making of CHIP",
        "it says 5 good, its output moves say 1",
    ]
    assert found[0][0] == "completion 1-1 (ORDER-1)"


def test_a_make_move_without_a_completion_is_an_error(cli: Cli, db_path: Path) -> None:
    cli("init")
    build(cli, db_path)
    # A stray script makes 3 PCB out of nothing (CONVERSION -> STORES).
    tamper(
        db_path,
        "INSERT INTO move (item_id, lot_id, qty, from_location_id, from_status, "
        "to_location_id, to_status, kind, effective_at, recorded_at, user, ref) "
        "SELECT i.id, NULL, 3000000, c.id, NULL, s.id, 'available', 'make', "
        "'2026-01-01T00:00:00', '2026-01-01T00:00:00', 'script', 'ORDER-9' "
        "FROM item AS i, location AS c, location AS s "
        "WHERE i.code = 'PCB' AND c.code = 'CONVERSION' AND s.code = 'STORES'",
    )
    code, found = findings(cli)
    assert code == 4
    [(subject, message)] = found
    assert subject.startswith("move ")
    assert message == (
        "PCB made (ORDER-9) without a completion record: valuation takes it as output "
        "without a cost"
    )
