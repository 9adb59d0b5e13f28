"""``mfgctl mrp can-build`` counts a BOM line's substitutes as ``order release`` reserves
them: a short material takes its substitutes' free stock left over once every material
took its own, one for one, in the line's order, never counting free stock twice. The
answer names the substitute; ``--max`` is what a release can reserve in full. Properties:
can-build says yes exactly when a release of that quantity reserves everything, and
stays monotone (yes exactly up to ``--max``) with substitutes."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, dump, import_yaml, ok
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfgctl.domain.canbuild import CanBuild
from mfgctl.domain.mrp import Component, Part, Snapshot
from mfgctl.domain.orders import coverage

M = 1_000_000  # micro-units per base unit

FINDING = """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 1}
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 5}
  - {code: B, name: B alt, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 5}
boms:
  - {item: P, lines: [{item: A, qty: 1, substitutes: [B]}]}
stock:
  - {item: A, qty: 2}
  - {item: B, qty: 10}
"""


def can_build(cli: Cli, *args: object) -> dict:
    r = ok(cli, "mrp", "can-build", *args, "-f", "json")
    return json.loads(r.stdout, parse_float=Decimal)


def release(cli: Cli, item: str, qty: int) -> tuple[int, str]:
    """Create an order of ``qty`` ``item`` and release it: (exit code, output)."""
    r = ok(cli, "order", "create", item, qty, "--due", "2030-01-10", "-f", "json")
    order_id = json.loads(r.stdout)["order"][0]["order"]
    r = cli("order", "release", order_id)
    return r.exit_code, r.stdout + r.stderr


def test_a_substitute_covers_what_the_material_lacks(
    initdb: Path, cli: Cli, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, FINDING)
    before = dump(initdb)
    r = ok(cli, "mrp", "can-build", "P", 5, "--max")
    assert r.stdout.splitlines()[0] == (
        "Yes: 5 pcs of P can be built now from free stock (with 3 B in place of A)"
    )
    assert "At most 12 pcs of P can be built now" in r.stdout
    doc = can_build(cli, "P", 5, "--max")
    assert doc["buildable"] is True
    assert doc["substitutions"] == [{"item": "A", "substitute": "B", "qty": 3}]
    assert doc["max"] == 12
    # 13: A 2 and B 10 leave 1 short, counted once.
    doc = can_build(cli, "P", 13)
    assert doc["buildable"] is False
    (limit,) = doc["limiting"]
    assert (limit["item"], limit["needed"], limit["free"], limit["short"]) == ("A", 13, 2, 1)
    assert limit["substitutes"] == [{"item": "B", "qty": 10}]
    assert dump(initdb) == before
    # --max is what a release reserves in full: 13 is refused, 12 is reserved.
    code, out = release(cli, "P", 13)
    assert code != 0 and "short" in out
    code, out = release(cli, "P", 12)
    assert code == 0 and "all materials reserved" in out
    # Now nothing is free for another.
    assert can_build(cli, "P", 1, "--max")["max"] == 0


SHARED = """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make}
  - {code: A1, name: A1, type: component, unit: pcs, make_or_buy: buy}
  - {code: A2, name: A2, type: component, unit: pcs, make_or_buy: buy}
  - {code: B, name: B, type: component, unit: pcs, make_or_buy: buy}
boms:
  - item: P
    lines:
      - {item: A1, qty: 1, substitutes: [B]}
      - {item: A2, qty: 1, substitutes: [B]}
stock:
  - {item: A1, qty: 2}
  - {item: A2, qty: 1}
  - {item: B, qty: 4}
"""


def test_a_substitute_shared_by_two_lines_is_counted_once(
    initdb: Path, cli: Cli, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, SHARED)
    # 3: A1 lacks 1, A2 lacks 2, B's 4 covers both (in the lines' order).
    doc = can_build(cli, "P", 3, "--max")
    assert doc["buildable"] is True
    assert doc["substitutions"] == [
        {"item": "A1", "substitute": "B", "qty": 1},
        {"item": "A2", "substitute": "B", "qty": 2},
    ]
    assert doc["max"] == 3
    # 4: A1 takes 2 of B first, A2 lacks 3 and finds 2: 1 short.
    doc = can_build(cli, "P", 4)
    assert doc["buildable"] is False
    (limit,) = doc["limiting"]
    assert limit["item"] == "A2"
    assert (limit["needed"], limit["free"], limit["short"]) == (4, 1, 1)
    assert limit["substitutes"] == [{"item": "B", "qty": 2}]
    r = ok(cli, "mrp", "can-build", "P", 4)
    assert "B 2" in r.stdout  # the table's substitutes column
    code, _out = release(cli, "P", 4)
    assert code != 0
    code, out = release(cli, "P", 3)
    assert code == 0 and "all materials reserved" in out


OWN_FIRST = """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make}
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy}
  - {code: B, name: B, type: component, unit: pcs, make_or_buy: buy}
boms:
  - item: P
    lines:
      - {item: A, qty: 1, substitutes: [B]}
      - {item: B, qty: 1}
stock:
  - {item: B, qty: 5}
"""


def test_a_substitute_that_is_a_material_too_keeps_its_own_need(
    initdb: Path, cli: Cli, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, OWN_FIRST)
    # B's own line takes its share first, though A's line comes first: 2 + 2 of 5.
    assert can_build(cli, "P", 1, "--max")["max"] == 2
    doc = can_build(cli, "P", 3)
    assert doc["buildable"] is False
    assert [(x["item"], x["short"]) for x in doc["limiting"]] == [("A", 1)]
    assert release(cli, "P", 3)[0] != 0
    assert release(cli, "P", 2)[0] == 0


# -- properties ------------------------------------------------------------------------


@st.composite
def one_level(draw: st.DrawFn) -> tuple[list[tuple[str, int, list[str]]], dict[str, int]]:
    """P from 1-4 lines of buy items C0..C4 (an item once), integer quantities, each
    line with up to two substitutes among the other items; random free stock."""
    codes = [f"C{k}" for k in range(5)]
    used = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=4, unique=True))
    lines = []
    for code in used:
        others = [c for c in codes if c != code]
        subs = draw(st.lists(st.sampled_from(others), max_size=2, unique=True))
        lines.append((code, draw(st.integers(1, 3)), subs))
    free = {c: draw(st.integers(0, 8)) for c in codes}
    return lines, free


def snapshot(lines: list[tuple[str, int, list[str]]], free: dict[str, int]) -> Snapshot:
    parts = {"P": Part("P", make_or_buy="make")}
    parts.update({c: Part(c, make_or_buy="buy") for c in free})
    boms = {"P": tuple(Component(c, n, 1, substitutes=tuple(s)) for c, n, s in lines)}
    return Snapshot(parts=parts, boms=boms, free={c: n * M for c, n in free.items()})


@settings(max_examples=200, deadline=None)
@given(one_level(), st.integers(1, 12))
def test_yes_exactly_when_the_release_rule_covers_every_material(
    plant: tuple[list[tuple[str, int, list[str]]], dict[str, int]], qty: int
) -> None:
    lines, free = plant
    check = CanBuild(snapshot(lines, free), "P")
    materials = [(c, n * qty, s) for c, n, s in lines]
    covered = coverage(materials, free)
    expected = all(
        cover >= required for cover, (_c, required, _s) in zip(covered, materials, strict=True)
    )
    assert check.answer(qty * M).buildable == expected
    most = check.largest() // M
    assert check.answer(qty * M).buildable == (qty <= most)
    for lim in check.answer((most + 1) * M).limits:
        assert lim.short > 0 and lim.needed == lim.free + lim.substituted + lim.short


_n = itertools.count()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(one_level(), st.integers(1, 10))
def test_yes_exactly_when_order_release_reserves_everything(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: Cli,
    plant: tuple[list[tuple[str, int, list[str]]], dict[str, int]],
    qty: int,
) -> None:
    lines, free = plant
    where = tmp_path / f"ex{next(_n)}"
    where.mkdir()
    monkeypatch.setenv("MFGCTL_DB", str(where / "t.db"))
    ok(cli, "init")
    text = ["items:", "  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make}"]
    text += [
        f"  - {{code: {c}, name: {c}, type: component, unit: pcs, make_or_buy: buy}}" for c in free
    ]
    text += ["boms:", "  - item: P", "    lines:"]
    text += [f"      - {{item: {c}, qty: {n}, substitutes: [{', '.join(s)}]}}" for c, n, s in lines]
    stocked = [f"  - {{item: {c}, qty: {n}}}" for c, n in free.items() if n]
    if stocked:
        text += ["stock:", *stocked]
    import_yaml(cli, where, "\n".join(text) + "\n")
    says = can_build(cli, "P", qty)["buildable"]
    code, out = release(cli, "P", qty)
    assert says == (code == 0), out
    if code == 0:
        assert "all materials reserved" in out


def test_multi_level_with_substitutes_stays_monotone() -> None:
    """A subassembly built from components, a short component covered by a substitute
    that the subassembly also uses: yes exactly up to --max."""
    parts = {c: Part(c, make_or_buy="make") for c in ("P", "S")}
    parts.update({c: Part(c, make_or_buy="buy") for c in ("A", "B", "C")})
    boms = {
        "P": (Component("S", 1, 1), Component("A", 1, 1, substitutes=("B",))),
        "S": (Component("B", 1, 1), Component("C", 1, 1)),
    }
    free = {"A": 3 * M, "B": 10 * M, "C": 20 * M, "S": 2 * M}
    check = CanBuild(Snapshot(parts=parts, boms=boms, free=free), "P")
    # q P: S builds q-2 from B; A lacks q-3, B's spare 10-(q-2): q-3 <= 12-q, q <= 7.
    assert check.largest() == 7 * M
    answer = check.answer(7 * M)
    assert answer.buildable and answer.substitutions == (("A", "B", 4 * M),)
    assert answer.builds == (("S", 5 * M),)
    assert not check.answer(8 * M).buildable
