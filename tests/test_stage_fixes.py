"""Fixes to stage progress and serial patterns, found by testing: ``order advance`` takes
whole units of a serial-tracked item and a ``--reason`` only with ``--rejected``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, day, import_yaml, ok, refused

SHOP = """\
items:
  - {code: R, name: Raw, type: raw, unit: pcs, make_or_buy: buy}
  - {code: F, name: Fin, type: finished, unit: pcs, make_or_buy: make, tracking: serial,
     serial_pattern: "F-{seq:03}"}
boms:
  - {item: F, lines: [{item: R, qty: 1}]}
routings:
  - {item: F, stages: [{name: asm}, {name: test}]}
stock:
  - {item: R, qty: 100}
"""


@pytest.fixture
def started(cli, initdb: Path, tmp_path: Path) -> Path:
    """Order 1: 3 serial-tracked F, in progress, through stages asm and test."""
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "order", "create", "F", "3", "--due", day(30))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    return initdb


def stages_now(cli) -> list[tuple[str, float, float, float]]:
    r = ok(cli, "wip", "-f", "json")
    return [
        (s["stage"], s["waiting"], s["passed"], s["rejected"])
        for s in json.loads(r.stdout)[0]["stages"]
    ]


# -- 5: a serial is one unit -----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--good", "0.5"), "Error: F is serial-tracked: --good 0.5 pcs must be a whole "
         "number of units (one serial each)\n"),
        (("--good", "1", "--rejected", "1.25", "--reason", "cracked"),
         "Error: F is serial-tracked: --rejected 1.25 pcs must be a whole number of units "
         "(one serial each)\n"),
    ],
)  # fmt: skip
def test_advance_of_a_serial_item_takes_whole_units(cli, started, args, message):
    err = refused(cli, started, "order", "advance", "1", "--stage", "asm", *args)
    assert err == message
    assert stages_now(cli) == [("asm", 3, 0, 0), ("test", 0, 0, 0)]


def test_whole_units_of_a_serial_item_advance_and_complete(cli, started):
    ok(cli, "order", "advance", "1", "-s", "asm", "-g", "2", "-r", "1.000", "--reason", "bent")
    ok(cli, "order", "advance", "1", "-s", "test", "-g", "2")
    assert stages_now(cli) == [("asm", 0, 2, 1), ("test", 0, 2, 0)]
    r = ok(cli, "order", "complete", "1", "--qty", "2", "--auto-serials", "-f", "json")
    assert "F-001" in r.stdout and "F-002" in r.stdout


# -- 9: a reason goes with rejected units ----------------------------------------------


@pytest.mark.parametrize("rejected", [(), ("--rejected", "0")])
def test_a_reason_without_rejected_units_is_refused(cli, started, rejected):
    err = refused(
        cli, started, "order", "advance", "1", "-s", "asm", "-g", "1", *rejected,
        "--reason", "nothing rejected",
    )  # fmt: skip
    assert err == (
        "Error: order 1: --reason goes with --rejected, and nothing is rejected at asm: "
        "give --rejected N with it, or leave --reason out\n"
    )
    assert stages_now(cli) == [("asm", 3, 0, 0), ("test", 0, 0, 0)]


def test_a_blank_reason_is_no_reason(cli, started):
    ok(cli, "order", "advance", "1", "-s", "asm", "-g", "1", "--reason", "  ")
    assert stages_now(cli) == [("asm", 2, 1, 0), ("test", 1, 0, 0)]


# -- 6: a serial pattern gives serials ---------------------------------------------------

CHARS = "letters A-Z, digits and . _ / + # - : [ ] ( ) (no spaces)"


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("F {seq}", f"serial 'F 1' may only contain {CHARS}"),
        ("F-{seq:03}é", f"serial 'F-001é' may only contain {CHARS}"),
        ("-{yy}{seq}", f"serial '-{day(0)[2:4]}1' may only contain {CHARS}"),
        ("X-{seq:63}", "serial 'X-" + "0" * 45 + "...' is longer than 64 characters"),
        ("X-{seq:99}", "the number is padded to 99 digits, but a serial has at most 64 characters"),
        ("X{seq:0999999999999}",
         "the number is padded to 999999999999 digits, but a serial has at most 64 characters"),
        ("{yyyy}" * 15 + "{mm}{seq:03}",
         f"serial '{day(0)[:4] * 11}{day(0)[:3]}...' is longer than 64 characters"),
    ],
)  # fmt: skip
def test_a_pattern_that_cannot_give_a_serial_is_refused_when_stored(
    cli, started, tmp_path, pattern, problem
):
    err = refused(cli, started, "item", "update", "F", "--serial-pattern", pattern)
    assert err == f"Error: serial_pattern {pattern!r}: {problem}\n"
    err = refused(
        cli, started, "item", "add", "G", "--name", "G", "--type", "finished", "--unit", "pcs",
        "--make-or-buy", "make", "--tracking", "serial", "--serial-pattern", pattern,
    )  # fmt: skip
    assert err == f"Error: serial_pattern {pattern!r}: {problem}\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "items:\n  - {code: G, name: G, type: finished, unit: pcs, make_or_buy: make, "
        f"tracking: serial, serial_pattern: {json.dumps(pattern)}}}\n",
        encoding="utf-8",
    )
    err = refused(cli, started, "import", bad, one_line=False)
    assert f"bad.yaml:2: items[0].serial_pattern: {pattern!r}: {problem}\n" in err
    assert ok(cli, "item", "show", "F", "-f", "json").stdout.count("F-{seq:03}") == 1


@pytest.mark.parametrize(
    ("pattern", "first"),
    [
        ("X-{seq:62}", "X-" + "0" * 61 + "1"),
        ("[F](x):{yy}{mm}.{seq:0}", f"[F](x):{day(0)[2:4]}{day(0)[5:7]}.1"),
        ("{yyyy}" * 14 + "{mm}{seq:06}", day(0)[:4] * 14 + day(0)[5:7] + "000001"),
    ],
)
def test_a_pattern_whose_serials_fit_is_stored_and_numbers_them(cli, started, pattern, first):
    ok(cli, "item", "update", "F", "--serial-pattern", pattern)
    ok(cli, "order", "advance", "1", "-s", "asm", "-g", "1")
    ok(cli, "order", "advance", "1", "-s", "test", "-g", "1")
    r = ok(cli, "order", "complete", "1", "--qty", "1", "--auto-serials", "-f", "json")
    assert first in r.stdout
    assert len(first) <= 64


def test_an_order_for_a_serial_tracked_item_is_whole_units(cli: Cli, initdb: Path) -> None:
    ok(cli, "item", "add", "SN", "--name", "Serial product", "--type", "finished", "--unit",
       "pcs", "--make-or-buy", "make", "--tracking", "serial")  # fmt: skip
    ok(cli, "item", "add", "PART", "--name", "Part", "--type", "component", "--unit", "pcs",
       "--make-or-buy", "buy")  # fmt: skip
    path = initdb.parent / "bom.yaml"
    path.write_text("boms: [{item: SN, lines: [{item: PART, qty: 1}]}]\n", encoding="utf-8")
    ok(cli, "import", path)
    err = refused(cli, initdb, "order", "create", "SN", "2.5", "--due", "2030-01-10")
    assert err == (
        "Error: SN is serial-tracked: quantity 2.5 pcs must be a whole number of units "
        "(one serial each)\n"
    )
