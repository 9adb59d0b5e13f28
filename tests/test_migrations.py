"""A database made by an older mfgctl upgrades itself when a command opens it: once, in
one transaction, with its data intact, ending with exactly the schema of a new one."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import valuation_story
from conftest import Cli, day, dump
from schema_v16 import downgrade_to_v16

from mfgctl.migrations import SCHEMA_VERSION, STEPS

V1 = Path(__file__).parent / "schemas" / "v1.sql"


def make_v1(path: Path) -> None:
    """A version-1 database with some stock in it, as mfgctl 1 would have left it:
    100 microphones received from SUPPLIER into STORES/available."""
    with sqlite3.connect(path) as c:
        c.executescript(V1.read_text(encoding="utf-8"))
        c.execute(
            "INSERT INTO item (code, name, type, unit, make_or_buy) "
            "VALUES ('MIC-100', 'Microphone', 'component', 'pcs', 'buy')"
        )
        c.execute(
            "INSERT INTO move (item_id, qty, from_location_id, to_location_id, to_status, kind, "
            "effective_at, recorded_at, user) VALUES (1, 100000000, "
            "(SELECT id FROM location WHERE code = 'SUPPLIER'), "
            "(SELECT id FROM location WHERE code = 'STORES'), 'available', 'receipt', "
            "'2026-01-05T08:00:00.000000Z', '2026-01-05T08:00:00.000000Z', 'old')"
        )
        c.executemany(
            "INSERT INTO balance (item_id, location_id, status, qty) "
            "VALUES (1, (SELECT id FROM location WHERE code = ?), ?, ?)",
            [("STORES", "available", 100_000_000), ("SUPPLIER", None, -100_000_000)],
        )
    c.close()


def schema(path: Path) -> set[tuple[str, str, str, str]]:
    """Every schema object, its SQL with comments and layout normalised."""

    def norm(sql: str | None) -> str:
        text = re.sub(r"--[^\n]*", "", sql or "")
        text = re.sub(r"\s+", " ", text)
        return re.sub(r"\s*([(),])\s*", r"\1", text).strip()

    with sqlite3.connect(path) as c:
        rows = c.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    c.close()
    return {(t, n, tbl, norm(sql)) for t, n, tbl, sql in rows}


def table_rows(
    path: Path, columns: dict[str, list[str]] | None = None
) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table's rows, in the given columns (default: all), ordered by rowid/key."""
    with sqlite3.connect(path) as c:
        if columns is None:
            names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            columns = {t: [r[1] for r in c.execute(f"PRAGMA table_info({t})")] for t in names}
        result = {
            t: (cols, c.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY 1, 2").fetchall())
            for t, cols in columns.items()
        }
    c.close()
    return result


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as c:
        version = c.execute("PRAGMA user_version").fetchone()[0]
    c.close()
    return version


def test_the_frozen_v1_schema_is_version_1_without_stock_count(tmp_path: Path) -> None:
    make_v1(tmp_path / "v1.db")
    assert user_version(tmp_path / "v1.db") == 1
    names = {name for _, name, _, _ in schema(tmp_path / "v1.db")}
    assert "move" in names and "stock_count" not in names


def test_every_version_has_a_step_with_a_reason() -> None:
    assert sorted(STEPS) == list(range(2, SCHEMA_VERSION + 1))
    assert all(step.__doc__ and "Why" in step.__doc__ for step in STEPS.values())


def test_a_command_upgrades_a_v1_database_to_the_fresh_schema(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    make_v1(db_path)
    old = table_rows(db_path)

    r = cli("stock", "-f", "json")  # a read-only command is enough to upgrade

    assert r.exit_code == 0, r.stderr
    assert [(row["item"], row["available"]) for row in json.loads(r.stdout)] == [("MIC-100", 100)]
    assert user_version(db_path) == SCHEMA_VERSION
    # Every row kept with its values in the old columns, nothing added to old tables.
    assert table_rows(db_path, {t: cols for t, (cols, _rows) in old.items()}) == old

    fresh = tmp_path / "fresh.db"
    assert cli("--db", fresh, "init").exit_code == 0
    assert schema(db_path) == schema(fresh)


def test_an_upgraded_database_works(cli: Cli, db_path: Path) -> None:
    make_v1(db_path)
    r = cli("stock", "count", "MIC-100", "98", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)[0]["expected"] == 100
    assert cli("check").exit_code == 0
    history = json.loads(cli("stock", "history", "MIC-100", "-f", "json").stdout)
    assert [(h["user"], h["balance"]) for h in history] == [("old", 100), ("tester", 98)]


def test_a_failed_upgrade_leaves_the_database_at_its_old_version(cli: Cli, db_path: Path) -> None:
    make_v1(db_path)
    with sqlite3.connect(db_path) as c:  # something in the way of the version-2 step
        c.execute("CREATE TABLE stock_count (x TEXT)")
    c.close()
    before = dump(db_path)
    r = cli("stock")
    assert r.exit_code == 6
    assert r.stderr.startswith(f"Error: cannot upgrade {db_path} from schema 1 to {SCHEMA_VERSION}")
    assert "it was left unchanged" in r.stderr
    assert dump(db_path) == before
    assert user_version(db_path) == 1


def test_an_mfgctl_file_without_a_version_is_refused(cli: Cli, db_path: Path) -> None:
    with sqlite3.connect(db_path) as c:
        c.execute("PRAGMA application_id = 1296451395")
    c.close()
    r = cli("stock")
    assert r.exit_code == 6
    assert "has no mfgctl schema version" in r.stderr


def structure(path: Path) -> dict[str, object]:
    """Tables as sqlite-utils introspects them: columns (name, type, not null, default,
    primary key), foreign keys, indexes and triggers. It complements the SQL-text
    comparison above with what SQLite itself reports about each table."""
    import sqlite_utils

    db = sqlite_utils.Database(sqlite3.connect(path))
    try:
        return {
            table.name: (
                [(c.name, c.type, c.notnull, c.default_value, c.is_pk) for c in table.columns],
                sorted((fk.column, fk.other_table, fk.other_column) for fk in table.foreign_keys),
                sorted((i.name, tuple(i.columns), i.unique) for i in table.indexes),
                sorted(t.name for t in table.triggers),
                table.strict,
            )
            for table in db.tables
        }
    finally:
        db.conn.close()


def test_an_upgraded_database_has_the_structure_of_a_fresh_one(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    make_v1(db_path)
    assert cli("stock").exit_code == 0  # any command upgrades it
    fresh = tmp_path / "fresh.db"
    assert cli("--db", fresh, "init").exit_code == 0
    assert structure(db_path) == structure(fresh)
    assert "stock_count" in structure(db_path)


# -- v12: completions' costs stored ----------------------------------------------------------

V11 = Path(__file__).parent / "schemas" / "v11.sql"  # schema.sql as mfgctl left it at v11


def downgrade_signoffs(path: Path) -> None:
    """``release_signoff`` as before schema 13: one row per lot and criterion, without
    ``qty`` and ``through_seq`` (the rows kept, those columns dropped)."""
    text = V11.read_text(encoding="utf-8")
    old_table = re.search(r"CREATE TABLE release_signoff \(.*?;\n", text, re.S)
    assert old_table is not None
    with sqlite3.connect(path) as c:
        c.execute("ALTER TABLE release_signoff RENAME TO new_signoff")
        c.execute(old_table.group(0))
        c.execute(
            "INSERT INTO release_signoff (id, item_id, lot_id, criterion, note, user, at) "
            "SELECT id, item_id, lot_id, criterion, note, user, at FROM new_signoff"
        )
        c.execute("DROP TABLE new_signoff")  # its index with it
        c.execute("PRAGMA user_version = 12")
    c.close()


def downgrade_to_v11(path: Path) -> None:
    """The database as mfgctl before schema 12 would have left the same ledger: no
    ``completion`` table (its moves are the same), no ``move_make`` index, the v11
    ``v_valuation``, ``v_stock`` and ``v_wip`` (v14 changed the last two)."""
    text = V11.read_text(encoding="utf-8")
    downgrade_signoffs(path)  # v13
    with sqlite3.connect(path) as c:
        c.execute("DROP TABLE purchase_event")  # v16
        c.execute("DROP TABLE demand_event")  # v16
        c.execute("DROP TABLE lot_expiry_change")  # v15
        c.execute("DROP TABLE completion")  # its index and triggers with it
        c.execute("DROP INDEX move_make")
        for name in ("v_valuation", "v_stock", "v_wip"):
            old_view = re.search(rf"CREATE VIEW {name} AS.*?;\n", text, re.S)
            assert old_view is not None
            c.execute(f"DROP VIEW {name}")
            c.execute(old_view.group(0))
        c.execute("PRAGMA user_version = 11")
    c.close()


def completions(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as c:
        rows = c.execute("SELECT * FROM completion ORDER BY first_seq").fetchall()
    c.close()
    return rows


def more_completions(cli: Cli) -> None:
    """After valuation_story: a completion that only scraps, one that relieved nothing
    (its order consumed nothing), and an order closed with material left in its WIP."""
    for args in (
        ("stock", "receive", "CHIP", "5", "--cost", "1.2"),
        ("order", "create", "PCB", "3", "--due", day(6)),
        ("order", "release", "4"),
        ("consume", "4"),
        ("order", "complete", "4", "--scrap", "1"),
        ("order", "complete", "4", "--qty", "1", "--final"),
        ("order", "close", "4"),
        ("order", "create", "PCB", "1", "--due", day(7)),
        ("order", "release", "5"),
        ("order", "start", "5"),
        ("order", "complete", "5", "--qty", "1"),
    ):
        r = cli(*args)
        assert r.exit_code == 0, (args, r.stderr)


def test_a_v11_database_with_completions_gets_their_costs(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    valuation_story.build(cli)
    more_completions(cli)
    posted = completions(initdb)
    before = json.loads(cli("report", "valuation", "-f", "json").stdout)
    downgrade_to_v11(initdb)
    old = tmp_path / "v11.db"
    with sqlite3.connect(old) as c:
        c.executescript(V11.read_text(encoding="utf-8"))
    c.close()
    assert schema(initdb) == schema(old)  # exactly a v11 database

    r = cli("report", "valuation", "-f", "json")  # upgrades it

    assert r.exit_code == 0, r.stderr
    assert user_version(initdb) == SCHEMA_VERSION
    # The backfill finds the same completions and costs as order complete stored.
    assert completions(initdb) == posted
    # (first_seq, last_seq, order, item, good, unit cost, effective_at): PCB is item 3.
    assert [(row[2], row[3], row[4], row[5]) for row in posted] == [
        (1, 3, 3_000_000, 2_974_667),  # 8.924 / 3
        (2, 3, 3_000_000, 3_314_061),  # 9.942184 / 3
        (3, 4, 2_000_000, 3_206_364),  # 6.412728 / 2
        (4, 3, 0, None),  # scrap only: no good units; the next good completion carries it
        (4, 3, 1_000_000, 4_902_908),  # twice (2 CHIP at 1.210227 + 1 SCREW at 0.031)
        (5, 3, 1_000_000, None),  # relieved nothing: at the current average
    ]
    after = json.loads(r.stdout)
    assert after == before
    # The scrap-only completion's material is carried by order 4's good unit. CHIP: 3 at
    # 1.227273 and 5 at 1.2 -> 1.210227, 2 left; PCB: 4 at 3.144364 and 1 at 4.902908 ->
    # 17.480364 / 5 = 3.496073 (half-even), and the uncosted one at that average.
    assert {row["item"]: (row["qty"], row["average_cost"], row["value"]) for row in after} == {
        "CHIP": (2, 1.210227, 2.420454),
        "HD": (2, 3.206364, 6.412728),
        "PCB": (6, 3.496073, 20.976438),
        "SCREW": (85, 0.031, 2.635),
    }
    assert schema(initdb) == schema_of_fresh(cli, tmp_path)


def schema_of_fresh(cli: Cli, tmp_path: Path) -> set[tuple[str, str, str, str]]:
    fresh = tmp_path / "fresh.db"
    assert cli("--db", fresh, "init").exit_code == 0
    return schema(fresh)


# -- v15: expiry date changes, v_stock's expired column ---------------------------------------

V14 = Path(__file__).parent / "schemas" / "v14.sql"  # schema.sql as mfgctl left it at v14


def downgrade_to_v14(path: Path) -> None:
    """The database as mfgctl before schema 15 left it: no ``lot_expiry_change``, the
    v14 ``v_stock`` (without ``expired``)."""
    text = V14.read_text(encoding="utf-8")
    old_view = re.search(r"CREATE VIEW v_stock AS.*?;\n", text, re.S)
    assert old_view is not None
    downgrade_to_v16(path)  # v17
    with sqlite3.connect(path) as c:
        c.execute("DROP TABLE purchase_event")  # v16
        c.execute("DROP TABLE demand_event")  # v16
        c.execute("DROP TABLE lot_expiry_change")  # its index and triggers with it
        c.execute("DROP VIEW v_stock")
        c.execute(old_view.group(0))
        c.execute("PRAGMA user_version = 14")
    c.close()


def test_a_v14_database_gets_expiry_history_and_the_expired_column(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    for args in (
        ("item", "add", "R", "--name", "Resin", "--type", "raw", "--unit", "kg",
         "--make-or-buy", "buy", "--tracking", "lot"),
        ("stock", "receive", "R", "5", "--lot", "OLD", "--expires", day(-1)),
        ("stock", "receive", "R", "10", "--lot", "NEW", "--expires", day(30)),
        ("reserve", "R", "3", "--for", "SO-1"),
    ):  # fmt: skip
        assert cli(*args).exit_code == 0, args
    downgrade_to_v14(initdb)
    frozen = tmp_path / "v14.db"
    with sqlite3.connect(frozen) as c:
        c.executescript(V14.read_text(encoding="utf-8"))
    c.close()
    assert schema(initdb) == schema(frozen)  # exactly a v14 database
    with sqlite3.connect(initdb) as c:  # the v14 view counted expired stock as free
        assert c.execute("SELECT free FROM v_stock").fetchall() == [("12",)]
    c.close()
    old = table_rows(initdb)

    r = cli("stock", "-f", "json")  # upgrades it

    assert r.exit_code == 0, r.stderr
    assert user_version(initdb) == SCHEMA_VERSION
    assert table_rows(initdb, {t: cols for t, (cols, _rows) in old.items()}) == old
    assert schema(initdb) == schema_of_fresh(cli, tmp_path)
    [row] = json.loads(r.stdout)
    assert (row["available"], row["reserved"], row["free"], row["expired"]) == (15, 3, 7, 5)
    with sqlite3.connect(initdb) as c:
        view = c.execute("SELECT available, reserved, free, expired FROM v_stock").fetchall()
        assert view == [("15", "3", "7", "5")]
        assert c.execute("SELECT count(*) FROM lot_expiry_change").fetchone() == (0,)
    c.close()
    change = cli("stock", "expiry", "R", "OLD", "--expires", day(10), "--reason", "re-test")
    assert change.exit_code == 0, change.stderr
    [row] = json.loads(cli("stock", "-f", "json").stdout)
    assert (row["free"], row["expired"]) == (12, 0)
