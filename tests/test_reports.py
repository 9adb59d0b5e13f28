"""The stock-by-status report and an item's history: columns, filters, and the ledger's
effective dates (back-dated and same-moment moves, ``--as-of``, ``--since``)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, day, ok

COLUMNS = [
    "item", "name", "type", "unit", "physical", "available", "reserved", "free", "expired",
    "pending_inspection", "awaiting_release", "blocked", "rejected", "rework", "wip", "on_order",
]  # fmt: skip


def report(cli: Cli, *args: str) -> list[dict]:
    return json.loads(ok(cli, "stock", "-f", "json", *args).stdout, parse_float=Decimal)


def history(cli: Cli, item: str, *args: str) -> list[dict]:
    return json.loads(
        ok(cli, "stock", "history", item, "-f", "json", *args).stdout, parse_float=Decimal
    )


@pytest.fixture
def shop(cli: Cli, initdb: Path) -> Path:
    """MIC-100 (component, inspected on receipt), SOLDER (raw, kg), PCB-1 (lot-tracked),
    HS-1 (finished, made) and a QC location."""
    for code, kind, unit, extra in [
        ("MIC-100", "component", "pcs", ["--inspect-on-receipt"]),
        ("SOLDER", "raw", "kg", []),
        ("PCB-1", "component", "pcs", ["--tracking", "lot"]),
        ("HS-1", "finished", "pcs", []),
    ]:
        mob = "make" if kind == "finished" else "buy"
        ok(cli, "item", "add", code, "--name", code.title(), "--type", kind, "--unit", unit,
           "--make-or-buy", mob, *extra)  # fmt: skip
    ok(cli, "location", "add", "QC")
    return initdb


# -- the report ---------------------------------------------------------------------------


def test_report_columns_and_statuses(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "MIC-100", "100")  # into pending_inspection
    ok(cli, "stock", "adjust", "MIC-100", "--add", "7", "--reason", "found", "--status", "blocked")
    ok(cli, "stock", "adjust", "MIC-100", "--add", "5", "--reason", "found")  # available
    ok(cli, "stock", "adjust", "MIC-100", "--add", "2", "--reason", "x", "--status", "rework")
    [row] = report(cli)
    assert list(row) == COLUMNS
    assert {k: row[k] for k in COLUMNS[4:]} == {
        "physical": 114,
        "available": 5,
        "reserved": 0,
        "free": 5,
        "expired": 0,
        "pending_inspection": 100,
        "awaiting_release": 0,
        "blocked": 7,
        "rejected": 0,
        "rework": 2,
        "wip": 0,
        "on_order": 0,
    }


def test_the_table_shows_the_same_numbers(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "SOLDER", "0.1")
    ok(cli, "stock", "receive", "SOLDER", "0.2")
    table = ok(cli, "stock").stdout
    header, data = table.splitlines()[1], table.splitlines()[3]
    assert "pending inspection" in header and "physical" in header
    assert [c.strip() for c in data.split("│")[1:6]] == ["SOLDER", "Solder", "raw", "kg", "0.3"]


def test_filters_by_item_type_location_and_status(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "MIC-100", "10")
    ok(cli, "stock", "receive", "SOLDER", "3")
    ok(cli, "stock", "move", "SOLDER", "1", "--from", "STORES", "--to", "QC")

    def items(*args: str) -> list[tuple[str, Decimal]]:
        return [(r["item"], r["physical"]) for r in report(cli, *args)]

    assert items() == [("MIC-100", 10), ("SOLDER", 3)]
    assert items("--item", "solder") == [("SOLDER", 3)]
    assert items("--type", "raw") == [("SOLDER", 3)]
    assert items("--location", "QC") == [("SOLDER", 1)]
    assert items("--location", "STORES") == [("MIC-100", 10), ("SOLDER", 2)]
    assert items("--status", "pending_inspection") == [("MIC-100", 10)]
    assert items("--status", "blocked") == []


def test_by_lot_gives_one_row_per_lot(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "PCB-1", "40", "--lot", "L1")
    ok(cli, "stock", "receive", "PCB-1", "60", "--lot", "L2")
    assert [(r["item"], r["physical"]) for r in report(cli)] == [("PCB-1", 100)]
    assert [(r["lot"], r["physical"]) for r in report(cli, "--by-lot")] == [("L1", 40), ("L2", 60)]
    assert list(report(cli, "--by-lot")[0])[:5] == ["item", "name", "type", "unit", "lot"]


def test_all_adds_active_items_without_stock(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "SOLDER", "3")
    ok(cli, "item", "deactivate", "HS-1")
    assert [r["item"] for r in report(cli)] == ["SOLDER"]
    rows = {r["item"]: r["physical"] for r in report(cli, "--all")}
    assert rows == {"MIC-100": 0, "PCB-1": 0, "SOLDER": 3}


def test_an_emptied_item_leaves_the_report(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "SOLDER", "3")
    ok(cli, "stock", "count", "SOLDER", "0")
    assert report(cli) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--item", "NOPE"), "unknown item 'NOPE'"),
        (("--type", "gizmo"), "--type must be one of"),
        (("--location", "MARS"), "unknown location 'MARS'"),
        (("--status", "lost"), "--status must be one of"),
        (("--as-of", "yesterday"), "--as-of 'yesterday' is not a date"),
    ],
)
def test_bad_report_filters_are_refused(
    cli: Cli, shop: Path, args: tuple[str, ...], message: str
) -> None:
    r = cli("stock", *args)
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: ") and message in r.stderr


# -- the ledger's dates -------------------------------------------------------------------


def test_as_of_recomputes_from_effective_dates(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "SOLDER", "5", "--date", day(-10))
    ok(cli, "stock", "receive", "SOLDER", "2")  # today
    ok(cli, "stock", "adjust", "SOLDER", "--remove", "1", "--reason", "x", "--date", day(-5))

    def physical(*args: str) -> list[Decimal]:
        return [r["physical"] for r in report(cli, *args)]

    assert physical("--as-of", day(-11)) == []
    assert physical("--as-of", day(-10)) == [5]  # the whole day counts
    assert physical("--as-of", day(-5)) == [4]  # the back-dated removal is in its place
    assert physical("--as-of", day(-1)) == [4]
    assert physical("--as-of", day(0)) == [6] == physical()


def test_as_of_a_time_of_day(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "SOLDER", "5", "--date", f"{day(-3)} 09:00")
    ok(cli, "stock", "receive", "SOLDER", "1", "--date", f"{day(-3)} 15:30")
    assert [r["physical"] for r in report(cli, "--as-of", f"{day(-3)} 12:00")] == [5]
    assert [r["physical"] for r in report(cli, "--as-of", f"{day(-3)} 15:30")] == [6]


def test_history_runs_the_balance_in_effective_order(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "SOLDER", "5", "--date", day(-10))
    ok(cli, "stock", "receive", "SOLDER", "2")  # recorded second, effective last
    ok(cli, "stock", "move", "SOLDER", "1", "--from", "STORES", "--to", "QC", "--date", day(-4))
    ok(cli, "stock", "adjust", "SOLDER", "--remove", "0.5", "--reason", "x", "--date", day(-2))
    rows = history(cli, "SOLDER")
    assert [(r["seq"], r["kind"], r["change"], r["balance"]) for r in rows] == [
        (1, "receipt", 5, 5),
        (3, "transfer", 0, 5),  # inside the house: no change
        (4, "adjust", Decimal("-0.5"), Decimal("4.5")),
        (2, "receipt", 2, Decimal("6.5")),
    ]
    assert rows[-1]["balance"] == report(cli)[0]["physical"]


def test_history_of_one_location(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "SOLDER", "5")
    ok(cli, "stock", "move", "SOLDER", "2", "--from", "STORES", "--to", "QC")
    ok(cli, "stock", "move", "SOLDER", "0.5", "--from", "QC", "--to", "STORES")
    rows = history(cli, "SOLDER", "--location", "QC")
    assert [(r["change"], r["balance"]) for r in rows] == [
        (2, 2),
        (Decimal("-0.5"), Decimal("1.5")),
    ]


def test_same_moment_moves_keep_their_ledger_order(cli: Cli, shop: Path) -> None:
    moment = f"{day(-1)} 10:00"
    ok(cli, "stock", "receive", "SOLDER", "3", "--date", moment)
    ok(cli, "stock", "adjust", "SOLDER", "--remove", "3", "--reason", "x", "--date", moment)
    ok(cli, "stock", "receive", "SOLDER", "1", "--date", moment)
    rows = history(cli, "SOLDER")
    assert [(r["seq"], r["balance"]) for r in rows] == [(1, 3), (2, 0), (3, 1)]
    assert [r["physical"] for r in report(cli, "--as-of", moment)] == [1]


def test_since_carries_the_balance_in_and_as_of_ends_the_list(cli: Cli, shop: Path) -> None:
    for offset, qty in [(-10, "4"), (-6, "3"), (-3, "2"), (-1, "1")]:
        ok(cli, "stock", "receive", "SOLDER", qty, "--date", day(offset))
    rows = history(cli, "SOLDER", "--since", day(-6), "--as-of", day(-3))
    assert [(r["change"], r["balance"]) for r in rows] == [(3, 7), (2, 9)]


def test_history_of_a_lot(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "PCB-1", "40", "--lot", "L1")
    ok(cli, "stock", "receive", "PCB-1", "60", "--lot", "L2")
    rows = history(cli, "PCB-1", "--lot", "L2")
    assert [(r["lot"], r["balance"]) for r in rows] == [("L2", 60)]


def test_history_as_a_plain_table_has_a_header_even_when_empty(cli: Cli, shop: Path) -> None:
    out = ok(cli, "stock", "history", "SOLDER", "-f", "plain").stdout
    assert out.split("\t")[:3] == ["seq", "effective_at", "kind"]
    assert history(cli, "SOLDER") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("NOPE",), "unknown item 'NOPE'"),
        (("PCB-1", "--lot", "L9"), "PCB-1 has no lot 'L9'"),
        (("SOLDER", "--since", "2026-13-01"), "--since '2026-13-01' is not a date"),
        (("SOLDER", "--location", "MARS"), "unknown location 'MARS'"),
    ],
)
def test_bad_history_requests_are_refused(
    cli: Cli, shop: Path, args: tuple[str, ...], message: str
) -> None:
    r = cli("stock", "history", *args)
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: ") and message in r.stderr
