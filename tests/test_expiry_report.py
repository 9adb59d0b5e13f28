"""Expired stock is not free: the stock report (and ``--by-lot``, ``v_stock``) shows
available stock in lots past their expiry date as ``expired`` and leaves it out of
``free``, and leaves reservations holding it out of ``reserved``, as release, backflush,
ship, ATP and MRP do; ``--as-of`` judges expiry by the date in force that day. And a
lot's expiry date can be changed with a reason (``stock expiry``), the change kept as
history (``stock lots``); bad input is refused with the database unchanged."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, day, dump, import_yaml, ok, refused
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SHOP = """
items:
  - {code: RESIN, name: Resin, type: raw, unit: kg, make_or_buy: buy, tracking: lot,
     safety_stock: 10}
  - {code: CHIP, name: Chip, type: raw, unit: pcs, make_or_buy: buy, tracking: serial}
  - {code: BOLT, name: Bolt, type: component, unit: pcs, make_or_buy: buy}
"""

NUMBERS = ("available", "reserved", "free", "expired")


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    """RESIN: OLD 5 kg expired yesterday, NEW 10 (3 reserved for SO-1), TODAY 2 (expires
    today: still good), SOON 4 (1 reserved for SO-2 while good, expired since)."""
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "stock", "receive", "RESIN", "5", "--lot", "OLD", "--expires", day(-1))
    ok(cli, "stock", "receive", "RESIN", "10", "--lot", "NEW", "--expires", day(365))
    ok(cli, "stock", "receive", "RESIN", "2", "--lot", "TODAY", "--expires", day(0))
    ok(cli, "stock", "receive", "RESIN", "4", "--lot", "SOON", "--expires", day(30))
    ok(cli, "reserve", "RESIN", "3", "--for", "SO-1", "--lot", "NEW")
    ok(cli, "reserve", "RESIN", "1", "--for", "SO-2", "--lot", "SOON")
    ok(cli, "stock", "expiry", "RESIN", "SOON", "--expires", day(-1), "--reason", "failed re-test")
    return initdb


def as_json(cli: Cli, *args: object) -> Any:
    return json.loads(ok(cli, *args, "-f", "json").stdout, parse_float=Decimal)


def numbers(row: dict[str, Any]) -> tuple[Decimal, ...]:
    return tuple(row[k] for k in NUMBERS)


def stock_row(cli: Cli, item: str = "RESIN", *args: object) -> tuple[Decimal, ...]:
    [row] = as_json(cli, "stock", "--item", item, *args)
    return numbers(row)


def by_lot(cli: Cli, *args: object) -> dict[str, tuple[Decimal, ...]]:
    rows = as_json(cli, "stock", "--item", "RESIN", "--by-lot", *args)
    return {r["lot"]: numbers(r) for r in rows}


def lots(cli: Cli, *args: object) -> dict[str, Any]:
    return as_json(cli, "stock", "lots", *args)


# -- the report ------------------------------------------------------------------------------


def test_expired_stock_is_not_free_nor_its_reservations_reserved(cli: Cli, shop: Path) -> None:
    # available 21 = free 9 + reserved 3 (SO-1 on NEW) + expired 9 (OLD 5, SOON 4); SO-2's
    # claim on SOON holds nothing any command will use.
    assert stock_row(cli) == (21, 3, 9, 9)
    assert by_lot(cli) == {
        "NEW": (10, 3, 7, 0),
        "OLD": (5, 0, 0, 5),
        "SOON": (4, 0, 0, 4),
        "TODAY": (2, 0, 2, 0),
    }
    table = ok(cli, "stock", "--item", "RESIN").stdout
    assert "expired" in table.splitlines()[1]


def test_the_reports_free_is_what_commands_can_take(cli: Cli, shop: Path) -> None:
    free = stock_row(cli)[2]
    assert as_json(cli, "atp", "RESIN")["free"] == free
    low = as_json(cli, "status", "--no-mrp")["materials_low"]
    assert [(r["item"], r["free"]) for r in low] == [("RESIN", free)]  # safety stock 10
    err = refused(cli, shop, "ship", "RESIN", free + 1, "--to", "Acme")
    assert f"free {free}" in err and "not used, expired" in err
    ok(cli, "ship", "RESIN", free, "--to", "Acme")
    assert stock_row(cli) == (12, 3, 0, 9)


def test_status_counts_expired_stock_apart(cli: Cli, shop: Path) -> None:
    """The one screen's stock by status: expired stock is neither free nor reserved,
    nor lost: it has its own row."""
    rows = {r["status"]: r["items"] for r in as_json(cli, "status", "--no-mrp")["stock"]}
    assert (rows["free"], rows["reserved"], rows["expired"]) == (1, 1, 1)
    table = ok(cli, "status", "--no-mrp", "-f", "csv").stdout
    assert any(line.startswith("expired,1,") for line in table.splitlines())


def test_v_stock_shows_the_expired_column_as_the_report(cli: Cli, shop: Path) -> None:
    with sqlite3.connect(shop) as c:
        c.row_factory = sqlite3.Row
        rows = [dict(r) for r in c.execute("SELECT * FROM v_stock WHERE item = 'RESIN'")]
    c.close()
    [row] = rows
    assert tuple(Decimal(row[k]) for k in NUMBERS) == stock_row(cli)
    assert (row["expired_micro"], row["free_micro"]) == (9_000_000, 9_000_000)


def test_a_location_counts_its_own_expired_stock(cli: Cli, shop: Path) -> None:
    ok(cli, "location", "add", "COLD")
    ok(cli, "stock", "move", "RESIN", "2", "--lot", "OLD", "--from", "STORES", "--to", "COLD")
    assert stock_row(cli, "RESIN", "--location", "COLD") == (2, 0, 0, 2)
    assert stock_row(cli, "RESIN", "--location", "STORES") == (19, 3, 9, 7)


def test_held_expired_stock_is_blocked_not_expired(cli: Cli, shop: Path) -> None:
    ok(cli, "inspect", "RESIN", "--lot", "OLD", "--hold")
    [row] = as_json(cli, "stock", "--item", "RESIN")
    assert (row["blocked"], row["expired"], row["free"]) == (5, 4, 9)


def test_as_of_judges_expiry_by_the_date_in_force_that_day(cli: Cli, shop: Path) -> None:
    """OLD received 30 days ago expiring 10 days ago; extended today to 100 days ahead.
    LATE received 30 days ago expiring in 100 days; shortened today to yesterday."""
    ok(cli, "stock", "receive", "BOLT", "1")  # an untracked item never expires
    for lot in ("OLD2", "LATE"):
        expires = day(-10) if lot == "OLD2" else day(100)
        ok(cli, "stock", "receive", "RESIN", "6", "--lot", lot, "--expires", expires,
           "--date", day(-30))  # fmt: skip
    ok(cli, "stock", "expiry", "RESIN", "OLD2", "--expires", day(100), "--reason", "re-test ok")
    ok(cli, "stock", "expiry", "RESIN", "LATE", "--expires", day(-1), "--reason", "contaminated")
    # 20 days ago both were good; 5 days ago OLD2 had expired (its date then), LATE not.
    assert by_lot(cli, "--as-of", day(-20)) == {"OLD2": (6, 0, 6, 0), "LATE": (6, 0, 6, 0)}
    assert by_lot(cli, "--as-of", day(-5)) == {"OLD2": (6, 0, 0, 6), "LATE": (6, 0, 6, 0)}
    # Now (and as of today, after the changes): the new dates.
    now = by_lot(cli)
    assert (now["OLD2"], now["LATE"]) == ((6, 0, 6, 0), (6, 0, 0, 6))
    today = by_lot(cli, "--as-of", day(0))
    assert (today["OLD2"], today["LATE"]) == ((6, 0, 6, 0), (6, 0, 0, 6))
    assert stock_row(cli, "BOLT", "--as-of", day(0)) == (1, 0, 1, 0)


# -- stock expiry ----------------------------------------------------------------------------


def test_extending_a_lot_makes_it_usable_and_keeps_the_history(cli: Cli, shop: Path) -> None:
    refused(cli, shop, "ship", "RESIN", "1", "--to", "Acme", "--lot", "OLD")
    r = ok(cli, "stock", "expiry", "RESIN", "old", "--expires", day(90), "--reason",
           "re-test R-118 passed", "-f", "json")  # fmt: skip
    [change] = json.loads(r.stdout)
    assert {k: v for k, v in change.items() if k != "changed_at"} == {
        "item": "RESIN",
        "lot": "OLD",
        "old_expires": day(-1),
        "new_expires": day(90),
        "reason": "re-test R-118 passed",
        "user": "tester",
    }
    assert r.stderr == f"RESIN lot OLD: expiry {day(-1)} -> {day(90)} (usable again)\n"
    assert by_lot(cli)["OLD"] == (5, 0, 5, 0)
    ok(cli, "ship", "RESIN", "1", "--to", "Acme", "--lot", "OLD")
    assert [p for p in as_json(cli, "check") if p["subject"].endswith("lot OLD")] == []
    found = lots(cli, "RESIN", "--lot", "OLD")
    assert [(x["lot"], x["expires"], x["expired"], x["in_house"], x["expiry_changes"])
            for x in found["lots"]] == [("OLD", day(90), False, 4, 1)]  # fmt: skip
    assert [(c["old_expires"], c["new_expires"], c["reason"], c["user"])
            for c in found["expiry_changes"]] == [
        (day(-1), day(90), "re-test R-118 passed", "tester")
    ]  # fmt: skip


def test_shortening_a_lot_expires_it(cli: Cli, shop: Path) -> None:
    r = ok(cli, "stock", "expiry", "RESIN", "NEW", "--expires", day(-2), "--reason", "recall")
    assert r.stderr.endswith("(expired: no command takes it)\n")
    assert by_lot(cli)["NEW"] == (10, 0, 0, 10)
    err = refused(cli, shop, "reserve", "RESIN", "1", "--for", "SO-3", "--lot", "NEW")
    assert err.startswith(f"Error: RESIN lot NEW expired on {day(-2)}: ")
    warned = [p for p in as_json(cli, "check") if p["subject"] == "RESIN at STORES lot NEW"]
    assert len(warned) == 1 and "3 of it held by reservation 1," in warned[0]["message"]


def test_none_removes_the_expiry_date_and_a_date_can_be_given_back(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "expiry", "RESIN", "OLD", "--expires", "none", "--reason", "no shelf life")
    ok(cli, "stock", "expiry", "RESIN", "OLD", "--expires", day(5), "--reason", "typo")
    found = lots(cli, "RESIN", "--lot", "OLD")
    assert (found["lots"][0]["expires"], found["lots"][0]["expired"]) == (day(5), False)
    assert [(c["old_expires"], c["new_expires"]) for c in found["expiry_changes"]] == [
        (day(-1), None),
        (None, day(5)),
    ]


def test_a_serials_expiry_can_be_changed(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "CHIP", "2", "--serials", "C1,C2", "--expires", day(-3))
    r = ok(cli, "stock", "expiry", "CHIP", "C2", "--expires", day(3), "--reason", "re-test")
    assert r.stderr.startswith("CHIP serial C2: expiry ")
    rows = lots(cli, "CHIP")["lots"]
    assert [(x["lot"], x["serial"], x["expired"]) for x in rows] == [
        ("C1", True, True),
        ("C2", True, False),
    ]
    ok(cli, "ship", "CHIP", "1", "--to", "Acme", "--serial", "C2")


def test_stock_lots_lists_lots_in_house_first_expired_first(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "RESIN", "1", "--lot", "GONE")
    ok(cli, "stock", "adjust", "RESIN", "--remove", "1", "--lot", "GONE", "--reason", "spilt")
    found = lots(cli, "RESIN")
    assert [(x["lot"], x["expired"], x["available"]) for x in found["lots"]] == [
        ("OLD", True, 5),
        ("SOON", True, 4),
        ("TODAY", False, 2),
        ("NEW", False, 10),
    ]
    assert [c["lot"] for c in found["expiry_changes"]] == ["SOON"]
    assert [x["lot"] for x in lots(cli, "RESIN", "--all")["lots"]][-1] == "GONE"
    assert [x["lot"] for x in lots(cli, "RESIN", "--lot", "gone")["lots"]] == ["GONE"]
    table = ok(cli, "stock", "lots", "RESIN").stdout
    assert "Lots" in table and "Expiry changes" in table and "failed re-test" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("NOPE", "OLD", "--expires", "2030-01-01", "--reason", "x"), "unknown item 'NOPE'"),
        (("RESIN", "OLDD", "--expires", "2030-01-01", "--reason", "x"), "RESIN has no lot 'OLDD'"),
        (("CHIP", "C9", "--expires", "2030-01-01", "--reason", "x"), "CHIP has no serial 'C9'"),
        (
            ("BOLT", "B1", "--expires", "2030-01-01", "--reason", "x"),
            "BOLT is not lot- or serial-tracked: it has no lots to date",
        ),
        (
            ("RESIN", "OLD", "--expires", "2030-02-30", "--reason", "x"),
            "--expires '2030-02-30' is not a date (write YYYY-MM-DD, or none for no expiry date)",
        ),
        (("RESIN", "OLD", "--expires", "soon", "--reason", "x"), "--expires 'soon' is not a date"),
        (("RESIN", "OLD", "--expires", "2030-01-01", "--reason", " "), "reason must not be empty"),
        (
            ("RESIN", "NEW", "--expires", day(365), "--reason", "x"),
            f"RESIN lot NEW already expires on {day(365)}: nothing to change",
        ),
    ],
)
def test_bad_expiry_changes_are_refused(
    cli: Cli, shop: Path, args: tuple[str, ...], message: str
) -> None:
    err = refused(cli, shop, "stock", "expiry", *args)
    assert err.startswith(f"Error: {message}")


def test_a_lot_without_a_date_asked_to_have_none_is_refused(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "RESIN", "1", "--lot", "PLAIN")
    err = refused(cli, shop, "stock", "expiry", "RESIN", "PLAIN", "--expires", "none",
                  "--reason", "x")  # fmt: skip
    assert err == "Error: RESIN lot PLAIN already has no expiry date: nothing to change\n"


def test_reason_and_date_are_required(cli: Cli, shop: Path) -> None:
    before = dump(shop)
    assert cli("stock", "expiry", "RESIN", "OLD", "--expires", day(3)).exit_code == 2
    assert cli("stock", "expiry", "RESIN", "OLD", "--reason", "x").exit_code == 2
    assert dump(shop) == before


def test_a_receipt_with_another_date_names_the_way_to_change_it(cli: Cli, shop: Path) -> None:
    err = refused(cli, shop, "stock", "receive", "RESIN", "1", "--lot", "NEW", "--expires", day(9))
    assert err == (
        f"Error: lot NEW of RESIN expires {day(365)}, not {day(9)}; to change its expiry "
        f"date: mfgctl stock expiry RESIN NEW --expires {day(9)} --reason ...\n"
    )


def test_the_history_cannot_be_rewritten(shop: Path) -> None:
    c = sqlite3.connect(shop)
    for sql in ("UPDATE lot_expiry_change SET reason = 'x'", "DELETE FROM lot_expiry_change"):
        with pytest.raises(sqlite3.IntegrityError, match="expiry date changes are history"):
            c.execute(sql)
    c.close()


# -- any history -----------------------------------------------------------------------------

_LOT = st.tuples(
    st.integers(min_value=1, max_value=9),  # kg received
    st.one_of(st.none(), st.integers(min_value=-3, max_value=3)),  # expiry, days from today
    st.integers(min_value=0, max_value=9),  # kg reserved for a reference (at most what is free)
    st.one_of(st.none(), st.integers(min_value=-3, max_value=3)),  # a later change, or none
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(plan=st.lists(_LOT, min_size=1, max_size=4))
def test_available_is_free_reserved_and_expired_after_any_history(
    cli: Cli, tmp_path_factory: pytest.TempPathFactory, plan: list
) -> None:
    path = tmp_path_factory.mktemp("expiry") / "p.db"

    def run(*args: object) -> Any:
        return ok(cli, "--db", path, *args)

    run("init")
    run("item", "add", "R", "--name", "R", "--type", "raw", "--unit", "kg", "--make-or-buy",
        "buy", "--tracking", "lot")  # fmt: skip
    expires: dict[str, int | None] = {}
    for n, (qty, offset, held, _change) in enumerate(plan):
        lot = f"L{n}"
        extra = () if offset is None else ("--expires", day(offset))
        run("stock", "receive", "R", qty, "--lot", lot, *extra)
        expires[lot] = offset
        if held and (offset is None or offset >= 0):  # only good lots can be reserved
            run("reserve", "R", min(held, qty), "--for", f"SO-{n}", "--lot", lot)
    for n, (_qty, offset, _held, change) in enumerate(plan):
        if change is not None and change != offset:
            run("stock", "expiry", "R", f"L{n}", "--expires", day(change), "--reason", "t")
            expires[f"L{n}"] = change

    report = json.loads(run("stock", "-f", "json").stdout, parse_float=Decimal)
    rows = json.loads(run("stock", "--by-lot", "-f", "json").stdout, parse_float=Decimal)
    [item] = report
    assert item["available"] == item["free"] + item["reserved"] + item["expired"]
    assert item["free"] >= 0
    for k in NUMBERS:
        assert item[k] == sum((r[k] for r in rows), Decimal(0))
    for r in rows:
        gone = expires[r["lot"]] is not None and expires[r["lot"]] < 0
        assert r["expired"] == (r["available"] if gone else 0)
        if gone:
            assert (r["free"], r["reserved"]) == (0, 0)
    atp = json.loads(run("atp", "R", "-f", "json").stdout, parse_float=Decimal)
    assert atp["free"] == item["free"]
    with sqlite3.connect(path) as c:
        view = c.execute("SELECT available, reserved, free, expired FROM v_stock").fetchall()
    c.close()
    assert [tuple(Decimal(v) for v in row) for row in view] == [numbers(item)]
