"""An order's whole life through the CLI: create, release, start, consume, complete,
inspect, release, close, with the stock report's numbers after every step and
``mfgctl check`` clean at the end."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, day, dump, ok, refused


def stock(cli: Cli, item: str) -> dict[str, Decimal]:
    """The item's stock report row, without its zero numbers."""
    rows = json.loads(ok(cli, "stock", "-f", "json", "--item", item).stdout, parse_float=Decimal)
    if not rows:
        return {}
    [row] = rows
    return {k: v for k, v in row.items() if isinstance(v, int | Decimal) and v}


@pytest.fixture
def shop(cli: Cli, initdb: Path) -> Path:
    """HS-1 headsets (serial-tracked, inspected, released after labeling) made of two
    microphones (lot-tracked) and 0.5 m of cable each."""
    buy = ("--make-or-buy", "buy", "--type", "component")
    ok(cli, "item", "add", "MIC", "--name", "Mic", "--unit", "pcs", "--tracking", "lot", *buy)
    ok(cli, "item", "add", "CABLE", "--name", "Cable", "--unit", "m", *buy)
    ok(cli, "item", "add", "HS-1", "--name", "Headset", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "make", "--tracking", "serial", "--release-criteria",
       "inspection,labeling", "--serial-pattern", "HS-{yyyy}-{seq:04}")  # fmt: skip
    (initdb.parent / "bom.yaml").write_text(
        "boms:\n  - item: HS-1\n    revision: A\n    lines:\n"
        "      - {item: MIC, qty: 2}\n      - {item: CABLE, qty: '0.5'}\n"
    )
    ok(cli, "import", initdb.parent / "bom.yaml")
    ok(cli, "stock", "receive", "MIC", "30", "--lot", "M1")
    ok(cli, "stock", "receive", "CABLE", "10")
    return initdb


def test_the_whole_life_of_an_order(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "HS-1", "4", "--due", day(7))
    assert stock(cli, "MIC") == {"physical": 30, "available": 30, "free": 30}
    ok(cli, "order", "release", "1")
    assert stock(cli, "MIC") == {"physical": 30, "available": 30, "reserved": 8, "free": 22}
    assert stock(cli, "CABLE") == {"physical": 10, "available": 10, "reserved": 2, "free": 8}

    assert "Started order 1 (in_progress)" in ok(cli, "order", "start", "1").stderr
    # Half the order's materials: from its reservations.
    ok(cli, "consume", "1", "--qty", "2")
    assert stock(cli, "MIC") == {
        "physical": 26,
        "available": 26,
        "reserved": 4,
        "free": 22,
        "wip": 4,
    }
    assert stock(cli, "CABLE") == {
        "physical": 9,
        "available": 9,
        "reserved": 1,
        "free": 8,
        "wip": 1,
    }

    out = ok(cli, "order", "complete", "1", "--qty", "2", "--auto-serials").stderr
    year = __import__("datetime").date.today().year
    assert f"HS-{year}-0001, HS-{year}-0002" in out and "awaiting_release" in out
    assert stock(cli, "HS-1") == {"physical": 2, "awaiting_release": 2, "on_order": 2}
    assert stock(cli, "MIC") == {"physical": 26, "available": 26, "reserved": 4, "free": 22}

    # The rest: backflush what each material still lacks, one extra mic broken.
    ok(cli, "consume", "1")
    ok(cli, "consume", "1", "--item", "MIC", "--scrap", "1", "--reason", "dropped", "--from-stock")
    assert stock(cli, "MIC") == {"physical": 21, "available": 21, "free": 21, "wip": 4}
    shown = json.loads(cli("order", "show", "1", "-f", "json").stdout, parse_float=Decimal)
    mats = {m["item"]: m for m in shown["materials"]}
    # Variance is against the output made so far (2 units need 4): 9 - 4.
    assert (mats["MIC"]["consumed"], mats["MIC"]["variance"], mats["MIC"]["reserved"]) == (9, 5, 0)

    out = ok(cli, "order", "complete", "1", "--qty", "1", "--scrap", "1", "--auto-serials").stderr
    assert f"HS-{year}-0003" in out and "order 1 is completed" in out
    assert stock(cli, "HS-1") == {"physical": 3, "awaiting_release": 3}
    assert stock(cli, "MIC") == {"physical": 21, "available": 21, "free": 21}
    assert stock(cli, "CABLE") == {"physical": 8, "available": 8, "free": 8}

    serial = f"HS-{year}-0001"
    ok(cli, "inspect", "HS-1", "--lot", serial, "--pass")
    ok(cli, "release", "check", serial, "labeling")
    ok(cli, "release", serial)
    assert stock(cli, "HS-1") == {"physical": 3, "available": 1, "free": 1, "awaiting_release": 2}

    r = ok(cli, "order", "close", "1", "-f", "json")
    assert "yield 75% (3 of 4 pcs)" in r.stderr
    rows = {v["item"]: v for v in json.loads(r.stdout, parse_float=Decimal)}
    assert (rows["MIC"]["required"], rows["MIC"]["consumed"], rows["MIC"]["variance"]) == (8, 9, 1)
    assert rows["CABLE"]["variance"] == 0
    history = json.loads(cli("order", "show", "1", "-f", "json").stdout)["history"]
    assert history[-1]["to_state"] == "closed" and "yield 75%" in history[-1]["note"]
    ok(cli, "check")


def test_close_returns_unconsumed_wip_after_completion_freed_the_reservations(
    cli: Cli, shop: Path
) -> None:
    ok(cli, "order", "create", "HS-1", "4", "--due", day(7))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1", "--item", "MIC", "--qty", "5")  # 5 of the 8 reserved
    done = ok(cli, "order", "complete", "1", "--qty", "1", "--serial", "A1", "--final")
    # One unit made: 2 mics relieved, 3 left in WIP; cable never consumed. Completed,
    # the order consumes nothing more: its 3 mics and 2 cables reserved are free again.
    assert "freed 2 reservations" in done.stderr
    assert stock(cli, "MIC") == {"physical": 25, "available": 25, "free": 25, "wip": 3}
    out = ok(cli, "order", "close", "1", "--return-unconsumed").stderr
    assert "yield 25%" in out and "freed 0 reservations" in out
    assert stock(cli, "MIC") == {"physical": 28, "available": 28, "free": 28}
    assert stock(cli, "CABLE") == {"physical": 10, "available": 10, "free": 10}
    ok(cli, "check")


def test_output_inspected_on_receipt_lands_in_pending_inspection(cli: Cli, shop: Path) -> None:
    ok(cli, "item", "add", "KIT", "--name", "Kit", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "make", "--inspect-on-receipt")  # fmt: skip
    (shop.parent / "kit.yaml").write_text(
        "boms:\n  - item: KIT\n    revision: A\n    lines:\n      - {item: CABLE, qty: 1}\n"
    )
    ok(cli, "import", shop.parent / "kit.yaml")
    ok(cli, "order", "create", "KIT", "3", "--due", day(3))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")  # starts the released order
    ok(cli, "order", "complete", "1", "--qty", "3")
    assert stock(cli, "KIT") == {"physical": 3, "pending_inspection": 3}
    ok(cli, "inspect", "KIT", "--pass")
    assert stock(cli, "KIT") == {"physical": 3, "available": 3, "free": 3}
    ok(cli, "order", "close", "1")
    ok(cli, "check")


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ((), ("order", "start", "1"), "order 1 is planned: it cannot be started"),
        ((), ("consume", "1"), "order 1 is planned: only a released or started order"),
        ((("order", "release", "1"),), ("order", "complete", "1", "--qty", "1", "--serial", "X"),
         "order 1 is released: only a started order can complete output"),
        ((("order", "release", "1"),), ("order", "close", "1"),
         "order 1 is released: it cannot be closed"),
        ((("order", "release", "1"), ("order", "start", "1")), ("order", "start", "1"),
         "order 1 is in_progress: it cannot be started"),
        ((("order", "release", "1"), ("order", "start", "1")), ("order", "cancel", "1"),
         "order 1 is in_progress: it cannot be cancelled"),
        ((("order", "release", "1"), ("order", "start", "1")),
         ("order", "complete", "1", "--qty", "5", "--auto-serials"),
         "order 1 has 4 pcs of HS-1 left to complete"),
        ((("order", "release", "1"), ("order", "start", "1")),
         ("order", "complete", "1", "--qty", "2", "--serial", "A"),
         "needs as many serials, got 1"),
        ((("order", "release", "1"), ("order", "start", "1")),
         ("order", "complete", "1", "--qty", "1", "--lot", "L"), "serial-tracked: give --serial"),
    ],
)  # fmt: skip
def test_illegal_steps_are_refused_and_change_nothing(
    cli: Cli, shop: Path, setup: tuple[tuple[str, ...], ...], args: tuple[str, ...], message: str
) -> None:
    ok(cli, "order", "create", "HS-1", "4", "--due", day(7))
    for step in setup:
        ok(cli, *step)
    assert message in refused(cli, shop, *args)


def test_a_closed_order_is_finished(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "HS-1", "1", "--due", day(7))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "1", "--serial", "S1")
    ok(cli, "order", "close", "1")
    assert "order 1 is closed" in refused(cli, shop, "order", "close", "1")
    assert "order 1 is closed" in refused(cli, shop, "consume", "1")
    assert "order 1 is closed" in refused(cli, shop, "order", "complete", "1", "--qty", "1")


def test_serials_are_unique_and_auto_serials_need_a_pattern(cli: Cli, shop: Path) -> None:
    ok(cli, "order", "create", "HS-1", "4", "--due", day(7))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "1", "--serial", "S1")
    assert "serial s1 of HS-1 already exists" in refused(
        cli, shop, "order", "complete", "1", "--qty", "1", "--serial", "s1"
    )
    ok(cli, "item", "update", "HS-1", "--serial-pattern", "")
    err = refused(cli, shop, "order", "complete", "1", "--qty", "1", "--auto-serials")
    assert "HS-1 has no serial pattern" in err and "--serial-pattern" in err


def test_order_show_lists_stages_and_output_lots(cli: Cli, shop: Path) -> None:
    ok(cli, "routing", "set", "HS-1", "--stage", "assembly@ASSY:10:2", "--stage", "test")
    ok(cli, "order", "create", "HS-1", "4", "--due", day(7))
    for step in (("order", "release", "1"), ("order", "start", "1"), ("consume", "1")):
        ok(cli, *step)
    ok(cli, "order", "advance", "1", "--stage", "assembly", "--good", "3")
    ok(cli, "order", "advance", "1", "--stage", "test", "--good", "2")
    ok(cli, "order", "complete", "1", "--qty", "2", "--scrap", "1", "--reason", "bent",
       "--auto-serials")  # fmt: skip
    r = ok(cli, "order", "show", "1", "-f", "json")
    shown = json.loads(r.stdout, parse_float=Decimal)
    assert [(s["stage"], s["waiting"], s["good"]) for s in shown["stages"]] == [
        ("assembly", 1, 3),
        ("test", 1, 2),
    ]
    year = __import__("datetime").date.today().year
    assert [
        (o["lot"], o["kind"], o["location"], o["status"], o["qty"]) for o in shown["output"]
    ] == [
        (f"HS-{year}-0001", "output", "STORES", "awaiting_release", 1),
        (f"HS-{year}-0002", "output", "STORES", "awaiting_release", 1),
        ("ORDER-1-SCRAP-1", "scrap", "SCRAP", None, 1),
    ]


def test_good_output_stays_within_what_passed_the_last_stage(cli: Cli, shop: Path) -> None:
    ok(cli, "routing", "set", "HS-1", "--stage", "s1", "--stage", "s2")
    ok(cli, "order", "create", "HS-1", "4", "--due", day(7))
    for step in (("order", "release", "1"), ("order", "start", "1"), ("consume", "1")):
        ok(cli, *step)
    # Untracked stages hold nothing back; once progress is recorded, they do.
    ok(cli, "order", "advance", "1", "--stage", "s1", "--good", "3", "--rejected", "1",
       "--reason", "solder bridge")  # fmt: skip
    ok(cli, "order", "advance", "1", "--stage", "s2", "--good", "2")
    before = dump(shop)
    err = refused(cli, shop, "order", "complete", "1", "--qty", "3", "--auto-serials")
    assert err == (
        "Error: order 1 has 2 pcs HS-1 through its last stage (s2; 1 rejected on the way) and "
        "0 completed: cannot complete 3 good (at most 2; record the stages first with mfgctl "
        "order advance 1)\n"
    )
    assert dump(shop) == before
    ok(cli, "order", "complete", "1", "--qty", "2", "--auto-serials")
    assert "at most 0" in refused(cli, shop, "order", "complete", "1", "--qty", "1",
                                  "--auto-serials")  # fmt: skip
    ok(cli, "order", "advance", "1", "--stage", "s2", "--good", "1")
    ok(cli, "order", "complete", "1", "--qty", "1", "--auto-serials", "--final")
    shown = json.loads(ok(cli, "order", "show", "1", "-f", "json").stdout)
    assert shown["order"][0]["state"] == "completed"
