"""An order never holds more reserved than its materials still lack: when consumption
(``consume --item/--lot``, a backflush, a substitute consumed in a material's place)
leaves its reservations above that, the excess is released in the same command, from
the reservations it would consume last (latest-expiring lot, then the newest)."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path

from conftest import Cli, day, import_yaml, ok, refused
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from mfgctl.cli import app

CAPS = """
items:
  - {code: C, name: Cap, type: component, unit: pcs, make_or_buy: buy, tracking: lot}
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make}
boms:
  - {item: P, lines: [{item: C, qty: 1}]}
"""


def reservations(cli: Cli, *extra: str) -> list[tuple[str, str | None, int, int, str]]:
    rows = json.loads(ok(cli, "reserve", "list", "--order", "1", *extra, "-f", "json").stdout)
    return [(r["item"], r["lot"], r["qty"], r["remaining"], r["status"]) for r in rows]


def material(cli: Cli, order: int, item: str) -> dict:
    shown = json.loads(ok(cli, "order", "show", order, "-f", "json").stdout)
    return next(m for m in shown["materials"] if m["item"] == item)


def free(cli: Cli, item: str, lot: str) -> int:
    rows = json.loads(ok(cli, "stock", "--item", item, "--by-lot", "-f", "json").stdout)
    return next(r["free"] for r in rows if r["lot"] == lot)


def caps(cli: Cli, tmp_path: Path) -> None:
    """The finding's shop: 10 C in each of lots L1 and L2; order 1 of 10 P released,
    which reserves the 10 of L1 (first in)."""
    import_yaml(cli, tmp_path, CAPS)
    ok(cli, "stock", "receive", "C", "10", "--lot", "L1")
    ok(cli, "stock", "receive", "C", "10", "--lot", "L2")
    ok(cli, "order", "create", "P", "10", "--due", day(5))
    ok(cli, "order", "release", "1")
    assert reservations(cli) == [("C", "L1", 10, 10, "open")]


def test_consuming_another_lot_frees_the_reservation_it_no_longer_needs(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    caps(cli, tmp_path)
    ok(cli, "consume", "1", "--item", "C", "--lot", "L2", "--qty", "10")
    # The order lacks no C: its reservation of L1 is released at once, not at close.
    assert reservations(cli) == []
    assert reservations(cli, "--all") == [("C", "L1", 10, 0, "cancelled")]
    c = material(cli, 1, "C")
    assert (c["required"], c["consumed"], c["reserved"], c["short"]) == (10, 10, 0, 0)
    assert free(cli, "C", "L1") == 10
    ok(cli, "order", "complete", "1", "--qty", "10")
    shipped = json.loads(
        ok(cli, "ship", "C", "5", "--to", "Cust", "--lot", "L1", "-f", "json").stdout
    )
    assert [(m["lot"], m["qty"]) for m in shipped] == [("L1", 5)]
    # Close has nothing left to free and leaves the ledger sound.
    closed = json.loads(ok(cli, "order", "close", "1", "-f", "json").stdout)
    assert [r["item"] for r in closed] == ["C"]
    assert ok(cli, "check").exit_code == 0


def test_consuming_part_from_another_lot_lowers_the_reservation_by_that_much(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    caps(cli, tmp_path)
    ok(cli, "consume", "1", "--item", "C", "--lot", "L2", "--qty", "4")
    # 6 still lacking: the reservation of L1 keeps 6 (its qty stays what was reserved).
    assert reservations(cli) == [("C", "L1", 10, 6, "open")]
    assert (material(cli, 1, "C")["reserved"], free(cli, "C", "L1")) == (6, 4)
    # The backflush takes the rest from the reservation: it is consumed, as before.
    rows = json.loads(ok(cli, "consume", "1", "-f", "json").stdout)
    assert [(m["lot"], m["qty"]) for m in rows] == [("L1", 6)]
    assert reservations(cli, "--all") == [("C", "L1", 10, 0, "consumed")]
    # Reserving the order again finds nothing to reserve.
    r = ok(cli, "reserve", "ORDER-1")
    assert r.stderr.endswith("Order 1: 0 new reservations\n"), r.stderr


def test_over_use_from_the_reserved_lot_releases_the_rest_elsewhere(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, CAPS)
    ok(cli, "stock", "receive", "C", "6", "--lot", "L1")
    ok(cli, "stock", "receive", "C", "10", "--lot", "L2")
    ok(cli, "order", "create", "P", "10", "--due", day(5))
    ok(cli, "order", "release", "1")
    assert reservations(cli) == [("C", "L1", 6, 6, "open"), ("C", "L2", 4, 4, "open")]
    # 8 of L2: its own reservation (4) first, then 4 free; 2 still lacking, held in L1.
    ok(cli, "consume", "1", "--item", "C", "--lot", "L2", "--qty", "8")
    assert reservations(cli, "--all") == [
        ("C", "L1", 6, 2, "open"),
        ("C", "L2", 4, 0, "consumed"),
    ]
    assert free(cli, "C", "L1") == 4


def test_the_reservation_consumed_last_is_released_first(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # Three lots reserved; consuming 4 of a fourth lot frees 4 from the lots the order
    # would take last: L3 (no expiry) in full, then L2 (later expiry) by 1.
    import_yaml(cli, tmp_path, CAPS)
    ok(cli, "stock", "receive", "C", "3", "--lot", "L1", "--expires", day(30))
    ok(cli, "stock", "receive", "C", "3", "--lot", "L2", "--expires", day(60))
    ok(cli, "stock", "receive", "C", "3", "--lot", "L3")
    ok(cli, "order", "create", "P", "9", "--due", day(5))
    ok(cli, "order", "release", "1")
    ok(cli, "stock", "receive", "C", "10", "--lot", "L4")
    ok(cli, "consume", "1", "--item", "C", "--lot", "L4", "--qty", "4")
    assert reservations(cli, "--all") == [
        ("C", "L1", 3, 3, "open"),
        ("C", "L2", 3, 2, "open"),
        ("C", "L3", 3, 0, "cancelled"),
    ]


TWO_LEVEL = """
items:
  - {code: C, name: Cap, type: component, unit: pcs, make_or_buy: buy}
  - {code: SUB, name: Subassembly, type: subassembly, unit: pcs, make_or_buy: make, tracking: lot}
  - {code: FIN, name: Finished, type: finished, unit: pcs, make_or_buy: make}
boms:
  - {item: SUB, lines: [{item: C, qty: 2}]}
  - {item: FIN, lines: [{item: SUB, qty: 1}]}
"""


def test_two_level_build_frees_the_subassembly_lot_it_did_not_use(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, TWO_LEVEL)
    ok(cli, "stock", "receive", "C", "20")
    ok(cli, "order", "create", "SUB", "10", "--due", day(5))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "6", "--lot", "S1")
    ok(cli, "order", "complete", "1", "--qty", "4", "--lot", "S2")
    ok(cli, "order", "create", "FIN", "5", "--due", day(6))
    ok(cli, "order", "release", "2")
    rows = json.loads(ok(cli, "reserve", "list", "--order", "2", "-f", "json").stdout)
    assert [(r["lot"], r["remaining"]) for r in rows] == [("S1", 5)]
    # The operator takes 3 from S1 and 2 from the S2 on the bench.
    ok(cli, "consume", "2", "--item", "SUB", "--lot", "S1", "--qty", "3")
    ok(cli, "consume", "2", "--item", "SUB", "--lot", "S2", "--qty", "2")
    assert json.loads(ok(cli, "reserve", "list", "--order", "2", "-f", "json").stdout) == []
    assert material(cli, 2, "SUB")["reserved"] == 0
    assert free(cli, "SUB", "S1") == 3
    ok(cli, "order", "complete", "2", "--qty", "5")
    shipped = json.loads(
        ok(cli, "ship", "SUB", "3", "--to", "Cust", "--lot", "S1", "-f", "json").stdout
    )
    assert sum(m["qty"] for m in shipped) == 3
    assert ok(cli, "check").exit_code == 0


SUBS = """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make}
  - {code: A, name: Part A, type: component, unit: pcs, make_or_buy: buy}
  - {code: S, name: Stand-in for A, type: component, unit: pcs, make_or_buy: buy}
boms:
  - {item: P, lines: [{item: A, qty: 2, substitutes: [S]}]}
"""


def test_a_substitute_consumed_for_a_material_frees_the_materials_reservation(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, SUBS)
    ok(cli, "stock", "receive", "A", "10")
    ok(cli, "stock", "receive", "S", "10")
    ok(cli, "order", "create", "P", "5", "--due", day(5))
    ok(cli, "order", "release", "1")
    assert reservations(cli) == [("A", None, 10, 10, "open")]
    # 7 S stand in for A: A's reservation keeps only the 3 still lacking.
    ok(cli, "consume", "1", "--item", "S", "--qty", "7")
    assert reservations(cli) == [("A", None, 10, 3, "open")]
    a = material(cli, 1, "A")
    assert (a["reserved"], a["substituted"], a["free"]) == (3, 7, 7)
    ok(cli, "consume", "1", "--item", "S", "--qty", "3")
    assert reservations(cli, "--all") == [("A", None, 10, 0, "cancelled")]
    assert material(cli, 1, "A")["free"] == 10


def test_a_substitutes_reservation_is_freed_once_the_material_itself_is_consumed(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, SUBS)
    ok(cli, "stock", "receive", "A", "4")
    ok(cli, "stock", "receive", "S", "10")
    ok(cli, "order", "create", "P", "5", "--due", day(5))
    ok(cli, "order", "release", "1")
    assert reservations(cli) == [("A", None, 4, 4, "open"), ("S", None, 6, 6, "open")]
    # The A that was missing arrives and goes in: S is no longer needed for A.
    ok(cli, "stock", "receive", "A", "6")
    ok(cli, "consume", "1", "--item", "A", "--qty", "10")
    assert reservations(cli, "--all") == [
        ("A", None, 4, 0, "consumed"),
        ("S", None, 6, 0, "cancelled"),
    ]
    assert material(cli, 1, "A")["reserved"] == 0


def test_scrap_from_stock_and_a_refused_consumption_release_nothing(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    caps(cli, tmp_path)
    # Scrap straight from stock takes the reservation but brings nothing into WIP: the
    # order still lacks 10, and holds the 8 left of its reservation.
    ok(cli, "consume", "1", "--item", "C", "--scrap", "2", "--from-stock", "--reason", "cracked")
    assert reservations(cli) == [("C", "L1", 10, 8, "open")]
    err = refused(cli, initdb, "consume", "1", "--item", "C", "--lot", "L2", "--qty", "11")
    assert "not enough available C lot L2" in err


# -- property ----------------------------------------------------------------------------

RANDOM_SHOP = """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make}
  - {code: A, name: Part A, type: component, unit: pcs, make_or_buy: buy, tracking: lot}
  - {code: S, name: Stand-in for A, type: component, unit: pcs, make_or_buy: buy, tracking: lot}
  - {code: B, name: Part B, type: component, unit: pcs, make_or_buy: buy}
boms:
  - item: P
    lines:
      - {item: A, qty: 2, substitutes: [S]}
      - {item: B, qty: 1}
"""
LOTS = {"A": ("A1", "A2", "A3"), "S": ("S1", "S2")}

consume_item = st.tuples(
    st.just("item"),
    st.sampled_from(["A", "S", "B"]),
    st.integers(0, 3),  # lot index; past the item's lots: no --lot
    st.integers(1, 7),
)
backflush = st.tuples(st.just("backflush"), st.just(""), st.just(0), st.integers(0, 3))
top_up = st.tuples(st.just("reserve"), st.just(""), st.just(0), st.just(0))


@settings(max_examples=20, deadline=None)
@given(
    a_lots=st.tuples(*[st.integers(0, 8)] * 3),
    s_lots=st.tuples(*[st.integers(0, 8)] * 2),
    b_stock=st.integers(0, 8),
    steps=st.lists(st.one_of(consume_item, backflush, top_up), min_size=1, max_size=6),
)
def test_an_order_never_holds_more_than_its_materials_lack(
    a_lots: tuple[int, ...],
    s_lots: tuple[int, ...],
    b_stock: int,
    steps: list[tuple[str, str, int, int]],
) -> None:
    """Random stock in lots, an order of 5 P (10 A, standing in S; 5 B) released with
    --partial, then random consumption: after each step the order's open reservations
    of a material (and of its substitute) never exceed required - covered, and no
    consumption released more than it had to."""
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "shop.db"

        def run(*args: object) -> Result:
            r = runner.invoke(app, ["--db", str(db), *map(str, args)])
            assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
            return r

        def json_of(*args: object) -> object:
            r = run(*args, "-f", "json")
            assert r.exit_code == 0, r.stderr
            return json.loads(r.stdout, parse_float=Decimal)

        def state() -> tuple[dict[str, Decimal], dict[str, Decimal]]:
            """What the order holds reserved and has consumed, per item."""
            held = {"A": Decimal(0), "S": Decimal(0), "B": Decimal(0)}
            for r in json_of("reserve", "list", "--order", "1"):  # type: ignore[union-attr]
                held[r["item"]] += Decimal(r["remaining"])
            used = {"A": Decimal(0), "S": Decimal(0), "B": Decimal(0)}
            shown = json_of("order", "show", "1")
            for m in shown["materials"]:  # type: ignore[index]
                used[m["item"]] = Decimal(m["consumed"])
            moves = json_of("stock", "history", "S")
            used["S"] = sum(
                (Decimal(m["qty"]) for m in moves if m["kind"] == "consume"),  # type: ignore[union-attr]
                Decimal(0),
            )
            return held, used

        def lacking(used: dict[str, Decimal]) -> dict[str, Decimal]:
            # S is no material of its own: all it brought in counts for A.
            return {
                "A": max(Decimal(10) - used["A"] - used["S"], Decimal(0)),
                "B": max(Decimal(5) - used["B"], Decimal(0)),
            }

        path = Path(tmp) / "shop.yaml"
        path.write_text(RANDOM_SHOP, encoding="utf-8")
        assert run("init").exit_code == 0
        assert run("import", path).exit_code == 0
        for item, sizes in (("A", a_lots), ("S", s_lots)):
            for lot, n in zip(LOTS[item], sizes, strict=True):
                if n:
                    assert run("stock", "receive", item, n, "--lot", lot).exit_code == 0
        if b_stock:
            assert run("stock", "receive", "B", b_stock).exit_code == 0
        assert run("order", "create", "P", "5", "--due", day(5)).exit_code == 0
        assert run("order", "release", "1", "--partial").exit_code == 0
        for kind, item, lot_no, qty in steps:
            held_before, used_before = state()
            if kind == "item":
                lots = LOTS.get(item, ())
                lot = ("--lot", lots[lot_no]) if lot_no < len(lots) else ()
                r = run("consume", "1", "--item", item, "--qty", qty, *lot)
            elif kind == "backflush":
                r = run("consume", "1", *(("--qty", qty) if qty else ()))
            else:
                r = run("reserve", "ORDER-1", "--partial")
            assert r.exit_code in (0, 1), r.stderr
            held, used = state()
            lack = lacking(used)
            case = (a_lots, s_lots, b_stock, steps, kind, item, held, used)
            assert held["A"] + held["S"] <= lack["A"], case
            assert held["B"] <= lack["B"], case
            if kind != "reserve" and r.exit_code == 0:
                # A consumption lowers what is held by at most what it took, then only
                # down to what is still lacking.
                took_a = used["A"] + used["S"] - used_before["A"] - used_before["S"]
                had_a = held_before["A"] + held_before["S"]
                assert held["A"] + held["S"] >= min(had_a - took_a, lack["A"]), case
                took_b = used["B"] - used_before["B"]
                assert held["B"] >= min(held_before["B"] - took_b, lack["B"]), case
        check = run("check", "-f", "json")
        assert check.exit_code == 0, check.stdout
