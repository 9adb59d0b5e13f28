"""A sign-off covers the units of a lot awaiting release when it is recorded, like a pass:
output completed into the lot later gets a sign-off of its own and is released with it;
every sign-off stays recorded (who, when, how much it covered); signing off when nothing
new awaits release is refused; a database from before schema 13 keeps its sign-offs."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, import_yaml, ok, refused
from schema_v16 import downgrade_to_v16

from mfgctl.migrations import SCHEMA_VERSION

SHOP = """
items:
  - {code: A, name: Part A, type: component, unit: pcs, make_or_buy: buy, cost: 1}
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make, tracking: lot,
     release_criteria: [inspection, labeling, packaging]}
boms:
  - item: P
    lines:
      - {item: A, qty: 1}
stock:
  - {item: A, qty: 10}
"""

V12 = Path(__file__).parent / "schemas" / "v12.sql"  # schema.sql as mfgctl left it at v12


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    """Product P (lot-tracked; criteria inspection, labeling, packaging), order 1 for 6
    started."""
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "order", "create", "P", "6", "--due", "2030-01-01")
    ok(cli, "order", "release", "1")
    ok(cli, "order", "start", "1")
    return initdb


def complete(cli: Cli, qty: int, lot: str = "P1") -> None:
    ok(cli, "order", "complete", "1", "--qty", qty, "--lot", lot)


def sign(cli: Cli, criterion: str, lot: str = "P1", note: str | None = None) -> str:
    """``release check``: its message."""
    extra = ("--note", note) if note else ()
    return ok(cli, "release", "check", lot, criterion, *extra).stderr


def status(cli: Cli) -> list[tuple[str, int, list[str], bool]]:
    """``release status``: (lot, qty, unmet, releasable) per waiting lot."""
    rows = json.loads(ok(cli, "release", "status", "-f", "json").stdout)
    return [(r["lot"], r["qty"], r["unmet"], r["releasable"]) for r in rows]


def available(cli: Cli) -> int:
    [row] = json.loads(ok(cli, "stock", "-f", "json", "--item", "P").stdout)
    return row["available"]


def signoffs(path: Path) -> list[tuple]:
    """The sign-off records: (criterion, user, note, qty in pcs), oldest first."""
    with sqlite3.connect(path) as c:
        rows = c.execute(
            "SELECT criterion, user, note, qty FROM release_signoff ORDER BY id"
        ).fetchall()
    c.close()
    return [(c, u, n, q / 1_000_000) for c, u, n, q in rows]


def test_output_completed_after_a_release_is_released_with_its_own_signoff(
    cli: Cli, shop: Path
) -> None:
    complete(cli, 2)
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    assert "(2 pcs awaiting release); still unmet: packaging" in sign(cli, "labeling")
    sign(cli, "packaging")
    ok(cli, "release", "P1")
    assert available(cli) == 2

    complete(cli, 1)  # into the same lot, after its release
    assert status(cli) == [("P1", 1, ["inspection", "labeling", "packaging"], False)]
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    out = sign(cli, "labeling", note="second batch of labels")
    assert (
        out == "Signed off labeling for P lot P1 (1 pcs awaiting release); still unmet: packaging\n"
    )
    out = sign(cli, "packaging")
    assert (
        out
        == "Signed off packaging for P lot P1 (1 pcs awaiting release); every criterion is met\n"
    )
    assert status(cli) == [("P1", 1, [], True)]
    ok(cli, "release", "P1")
    assert available(cli) == 3
    assert status(cli) == []

    # Every sign-off is kept, with what it covered.
    assert signoffs(shop) == [
        ("labeling", "tester", None, 2),
        ("packaging", "tester", None, 2),
        ("labeling", "tester", "second batch of labels", 1),
        ("packaging", "tester", None, 1),
    ]
    ok(cli, "check")


def test_a_new_signoff_covers_everything_then_waiting(cli: Cli, shop: Path) -> None:
    complete(cli, 2)
    sign(cli, "labeling")  # covers 2
    complete(cli, 1)
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")  # covers all 3
    sign(cli, "packaging")  # covers all 3
    assert status(cli) == [("P1", 3, ["labeling"], False)]
    err = refused(cli, shop, "release", "P1")
    assert err == (
        "Error: P lot P1 cannot be released: criteria not met: labeling (met: inspection, "
        "packaging); a sign-off of labeling covers only 2 of the 3 pcs to release; next: "
        "mfgctl release check P1 labeling, or release the covered part: mfgctl release P1 "
        "--qty 2\n"
    )
    ok(cli, "release", "P1", "--qty", "2")  # the part the first labeling sign-off covers
    assert available(cli) == 2
    assert status(cli) == [("P1", 1, ["labeling"], False)]
    err = refused(cli, shop, "release", "P1")
    assert "no sign-off of labeling covers the 1 pcs to release" in err

    assert "(1 pcs awaiting release); every criterion is met" in sign(cli, "labeling")
    ok(cli, "release", "P1")
    assert available(cli) == 3


def test_a_signoff_given_before_later_output_still_covers_its_units(cli: Cli, shop: Path) -> None:
    complete(cli, 2)
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    sign(cli, "labeling")
    sign(cli, "packaging")
    complete(cli, 2)
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    sign(cli, "labeling")  # covers all 4; packaging still covers only 2
    assert status(cli) == [("P1", 4, ["packaging"], False)]
    sign(cli, "packaging")
    ok(cli, "release", "P1")
    assert available(cli) == 4


def test_signing_when_nothing_new_awaits_release_is_refused(cli: Cli, shop: Path) -> None:
    complete(cli, 2)
    sign(cli, "labeling")
    err = refused(cli, shop, "release", "check", "P1", "labeling")
    assert re.fullmatch(
        r"Error: criterion labeling of P lot P1 was already signed off by tester on \S+ \S+ "
        r"for the 2 pcs awaiting release: only units reaching awaiting_release after it need "
        r"a new sign-off\n",
        err,
    ), err

    # Nothing awaits release any more.
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    sign(cli, "packaging")
    ok(cli, "release", "P1")
    err = refused(cli, shop, "release", "check", "P1", "labeling")
    assert err == (
        "Error: P lot P1 has nothing awaiting release to sign off for labeling: "
        "it is available at STORES (2 pcs)\n"
    )
    ok(cli, "stock", "adjust", "P", "--remove", "2", "--lot", "P1", "--reason", "count")
    err = refused(cli, shop, "release", "check", "P1", "packaging")
    assert err == "Error: P lot P1 has no stock: nothing awaits release to sign off\n"


def test_units_leaving_awaiting_release_use_up_the_signoff_first(cli: Cli, shop: Path) -> None:
    complete(cli, 2)
    sign(cli, "labeling")  # covers 2
    complete(cli, 1)  # 3 waiting, 2 covered
    # Which unit failed is not recorded: it may have been a labelled one.
    ok(cli, "inspect", "P", "--fail", "--lot", "P1", "--qty", "1")
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    sign(cli, "packaging")
    err = refused(cli, shop, "release", "P1")
    assert "a sign-off of labeling covers only 1 of the 2 pcs to release" in err
    sign(cli, "labeling")
    ok(cli, "release", "P1")
    assert available(cli) == 2


# -- upgrade from schema 12 ------------------------------------------------------------------


def downgrade_to_v12(path: Path) -> None:
    """The database as mfgctl before schema 13 left it: ``release_signoff`` with one row
    per lot and criterion and without ``qty`` and ``through_seq``, and the v12
    ``v_stock`` and ``v_wip`` (v14 changed them)."""
    text = V12.read_text(encoding="utf-8")
    old_table = re.search(r"CREATE TABLE release_signoff \(.*?;\n", text, re.S)
    assert old_table is not None
    downgrade_to_v16(path)  # v17
    with sqlite3.connect(path) as c:
        c.execute("DROP TABLE purchase_event")  # v16
        c.execute("DROP TABLE demand_event")  # v16
        c.execute("DROP TABLE lot_expiry_change")  # v15
        for name in ("v_stock", "v_wip"):
            old_view = re.search(rf"CREATE VIEW {name} AS.*?;\n", text, re.S)
            assert old_view is not None
            c.execute(f"DROP VIEW {name}")
            c.execute(old_view.group(0))
        c.execute("ALTER TABLE release_signoff RENAME TO new_signoff")
        c.execute(old_table.group(0))
        c.execute(
            "INSERT INTO release_signoff (id, item_id, lot_id, criterion, note, user, at) "
            "SELECT id, item_id, lot_id, criterion, note, user, at FROM new_signoff"
        )
        c.execute("DROP TABLE new_signoff")  # its index with it
        c.execute("PRAGMA user_version = 12")
    c.close()


def schema(path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as c:
        rows = c.execute("SELECT name, sql FROM sqlite_master").fetchall()
    c.close()
    return {(n, re.sub(r"\s+", " ", re.sub(r"--[^\n]*", "", sql or "")).strip()) for n, sql in rows}


def test_a_v12_database_keeps_its_signoffs_and_what_they_released(
    cli: Cli, shop: Path, tmp_path: Path
) -> None:
    # P1: signed off, released, then more output; P2: signed off for 1, then 1 more made,
    # which a schema-12 sign-off covered (it held for the whole lot, later output included).
    complete(cli, 2, "P1")
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    sign(cli, "labeling", "P1", note="labels ok")
    sign(cli, "packaging", "P1")
    ok(cli, "release", "P1")
    complete(cli, 1, "P1")
    complete(cli, 1, "P2")
    sign(cli, "labeling", "P2")
    complete(cli, 1, "P2")
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    ok(cli, "inspect", "P", "--pass", "--lot", "P2")
    with sqlite3.connect(shop) as c:
        old_rows = c.execute(
            "SELECT id, item_id, lot_id, criterion, note, user, at FROM release_signoff"
        ).fetchall()
        last_seq = c.execute("SELECT max(seq) FROM move").fetchone()[0]
    c.close()
    downgrade_to_v12(shop)
    frozen = tmp_path / "v12.db"
    with sqlite3.connect(frozen) as c:
        c.executescript(V12.read_text(encoding="utf-8"))
    c.close()
    assert schema(shop) == schema(frozen)  # exactly a v12 database

    rows = status(cli)  # upgrades it

    with sqlite3.connect(shop) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        kept = c.execute(
            "SELECT id, item_id, lot_id, criterion, note, user, at FROM release_signoff"
        ).fetchall()
        covers = c.execute(
            "SELECT l.code, s.criterion, s.qty, s.through_seq FROM release_signoff AS s "
            "JOIN lot AS l ON l.id = s.lot_id ORDER BY s.id"
        ).fetchall()
    c.close()
    assert kept == old_rows  # who, when, the note: every sign-off kept
    # Each takes effect at the upgrade and covers what awaits release then.
    assert covers == [
        ("P1", "labeling", 1_000_000, last_seq),
        ("P1", "packaging", 1_000_000, last_seq),
        ("P2", "labeling", 2_000_000, last_seq),
    ]
    # What schema 12 let go still goes: P1's unit made after its sign-offs.
    assert rows == [("P1", 1, [], True), ("P2", 2, ["packaging"], False)]
    fresh = tmp_path / "fresh.db"
    ok(cli, "--db", fresh, "init")
    assert schema(shop) == schema(fresh)

    # From now on, output made after a sign-off needs its own.
    complete(cli, 1, "P1")
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    assert status(cli)[0] == ("P1", 2, ["labeling", "packaging"], False)
    sign(cli, "labeling", "P1")
    sign(cli, "packaging", "P1")
    ok(cli, "release", "P1")
    assert available(cli) == 4
    ok(cli, "check")


def test_release_signoffs_lists_every_signoff_of_a_lot(cli: Cli, shop: Path) -> None:
    complete(cli, 2)
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    sign(cli, "labeling", note="labels ok")
    complete(cli, 1)  # a later unit: labeling signed again for the 3 now waiting
    sign(cli, "labeling")
    rows = json.loads(ok(cli, "release", "signoffs", "P1", "-f", "json").stdout)
    assert [(r["item"], r["lot"], r["criterion"], r["qty"], r["note"]) for r in rows] == [
        ("P", "P1", "labeling", 2, "labels ok"),
        ("P", "P1", "labeling", 3, None),
    ]
    assert all(r["user"] and r["at"] for r in rows)
    refused(cli, shop, "release", "signoffs", "NOPE")
