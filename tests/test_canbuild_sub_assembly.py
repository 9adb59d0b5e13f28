"""``mfgctl mrp can-build`` counts the substitutes of a short *subassembly* line as
``order release`` of the parent reserves them, before it builds the rest: the
subassembly's free stock first, then its line's substitutes' free stock left over once
every item took its own, and only what is still lacking is built from its components
(which are then no longer needed for what the substitutes gave). Properties: the plan
the answer describes never uses more than is free; yes exactly up to ``--max``; and
``order release`` of the parent reserves everything exactly when can-build says yes
without building anything first."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, dump, import_yaml, ok
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mfgctl.domain.canbuild import CanBuild
from mfgctl.domain.mrp import Component, Part, Snapshot
from mfgctl.domain.orders import coverage

M = 1_000_000  # micro-units per base unit

FINDING = """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make}
  - {code: S, name: S, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: S2, name: S alt, type: subassembly, unit: pcs, make_or_buy: buy}
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy}
  - {code: C, name: C, type: component, unit: pcs, make_or_buy: buy}
boms:
  - {item: P, lines: [{item: S, qty: 1, substitutes: [S2]}, {item: A, qty: 1}]}
  - {item: S, lines: [{item: C, qty: 1}]}
stock:
  - {item: S, qty: 1}
  - {item: S2, qty: 5}
  - {item: A, qty: 10}
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


def test_a_short_subassembly_takes_its_lines_substitutes_before_it_is_built(
    initdb: Path, cli: Cli, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, FINDING)
    before = dump(initdb)
    # S: 1 free, S2 5 in its place; C (to build S) none. It said No, at most 1.
    r = ok(cli, "mrp", "can-build", "P", 4, "--max")
    assert r.stdout.splitlines()[0] == (
        "Yes: 4 pcs of P can be built now from free stock (with 3 S2 in place of S)"
    )
    assert "At most 6 pcs of P can be built now" in r.stdout
    doc = can_build(cli, "P", 7)
    assert doc["buildable"] is False
    assert doc["builds"] == [{"item": "S", "qty": 1}]
    assert doc["substitutions"] == [{"item": "S", "substitute": "S2", "qty": 5}]
    assert [(x["item"], x["needed"], x["free"], x["short"]) for x in doc["limiting"]] == [
        ("C", 1, 0, 1)
    ]
    assert dump(initdb) == before
    # --max is what a release of P reserves in full.
    assert release(cli, "P", 7)[0] != 0
    code, out = release(cli, "P", 6)
    assert code == 0 and "all materials reserved" in out


def test_the_substitutes_first_then_a_build_for_the_rest(
    initdb: Path, cli: Cli, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, FINDING + "  - {item: C, qty: 2}\n")
    r = ok(cli, "mrp", "can-build", "P", 8, "--max")
    assert r.stdout.splitlines()[0] == (
        "Yes: 8 pcs of P can be built now from free stock (building 2 S first; "
        "with 5 S2 in place of S)"
    )
    assert "At most 8 pcs of P can be built now" in r.stdout
    doc = can_build(cli, "P", 9)
    assert [(x["item"], x["short"]) for x in doc["limiting"]] == [("C", 1)]


CROSSED = """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make}
  - {code: S, name: S, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy}
  - {code: X, name: X, type: component, unit: pcs, make_or_buy: buy}
  - {code: Y, name: Y, type: component, unit: pcs, make_or_buy: buy}
boms:
  - item: P
    lines:
      - {item: A, qty: 1, substitutes: [Y]}
      - {item: S, qty: 1, substitutes: [X]}
  - {item: S, lines: [{item: Y, qty: 1}]}
stock:
  - {item: X, qty: 3}
  - {item: Y, qty: 3}
"""


def test_what_a_subassembly_need_not_build_is_spare_for_another_line(
    initdb: Path, cli: Cli, tmp_path: Path
) -> None:
    """A lacks 3 and may take Y; S lacks 3 and may take X, else it is built from Y. With
    X standing in for S, no Y goes into S, so A takes Y: what a release reserves."""
    import_yaml(cli, tmp_path, CROSSED)
    doc = can_build(cli, "P", 3, "--max")
    assert doc["buildable"] is True and doc["builds"] == []
    assert doc["substitutions"] == [
        {"item": "A", "substitute": "Y", "qty": 3},
        {"item": "S", "substitute": "X", "qty": 3},
    ]
    assert doc["max"] == 3
    code, out = release(cli, "P", 3)
    assert code == 0 and "all materials reserved" in out


def test_a_tree_that_does_not_settle_is_answered_without_substitutes_for_it() -> None:
    """S's substitute T is also half of S's build: what T gives S halves each round
    toward 4 (4 T in place of S, 6 S built from 3 T) and does not settle in
    ``ROUNDS``; S is then built from its components alone, which 7 T and 20 C allow."""
    parts = {c: Part(c, make_or_buy="make") for c in ("P", "S")}
    parts.update({c: Part(c, make_or_buy="buy") for c in ("T", "C")})
    boms = {
        "P": (Component("S", 1, 1, substitutes=("T",)),),
        "S": (Component("T", 1, 2), Component("C", 1, 1)),
    }
    check = CanBuild(Snapshot(parts=parts, boms=boms, free={"T": 7 * M, "C": 20 * M}), "P")
    answer = check.answer(10 * M)
    assert answer.buildable
    assert (answer.builds, answer.substitutions) == ((("S", 10 * M),), ())
    # 15 S need 7.5 T: short, with or without T standing in.
    assert [(lim.item, lim.short) for lim in check.answer(15 * M).limits] == [("T", M // 2)]


# -- properties ------------------------------------------------------------------------

TOP = ["C0", "C1", "C2", "C3"]
MAKE = ["C0", "C1"]  # subassemblies, built from C2, C3, D0..D2
BUY = ["C2", "C3", "D0", "D1", "D2"]
Lines = list[tuple[str, int, list[str]]]


@st.composite
def two_levels(draw: st.DrawFn) -> tuple[Lines, dict[str, Lines], dict[str, int]]:
    """P from 1-3 of C0..C3 (C0 and C1 subassemblies with BOMs of 1-3 buy items), each
    line with up to two substitutes among the other items; random free stock."""
    every = TOP + BUY[2:]

    def lines(choices: list[str], subs_from: list[str]) -> Lines:
        used = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3, unique=True))
        found = []
        for code in used:
            others = [c for c in subs_from if c != code]
            subs = draw(st.lists(st.sampled_from(others), max_size=2, unique=True))
            found.append((code, draw(st.integers(1, 2)), subs))
        return found

    top = lines(TOP, every)
    # A subassembly's own lines: no substitute that is a subassembly (no cycles).
    boms = {code: lines(BUY, BUY) for code in MAKE}
    free = {c: draw(st.integers(0, 6)) for c in every}
    return top, boms, free


def snapshot(top: Lines, boms: dict[str, Lines], free: dict[str, int]) -> Snapshot:
    parts = {c: Part(c, make_or_buy="make") for c in ["P", *MAKE]}
    parts.update({c: Part(c, make_or_buy="buy") for c in free if c not in MAKE})
    tree = {"P": top, **boms}
    return Snapshot(
        parts=parts,
        boms={
            code: tuple(Component(c, n, 1, substitutes=tuple(s)) for c, n, s in lines)
            for code, lines in tree.items()
        },
        free={c: n * M for c, n in free.items()},
    )


@settings(max_examples=300, deadline=None)
@given(two_levels(), st.integers(1, 8))
def test_the_answer_is_a_plan_that_fits_in_free_stock(
    plant: tuple[Lines, dict[str, Lines], dict[str, int]], qty: int
) -> None:
    top, boms, free = plant
    check = CanBuild(snapshot(top, boms, free), "P")
    answer = check.answer(qty * M)
    most = check.largest() // M
    assert answer.buildable == (qty <= most)
    # Replay the plan: every line's need is met by the item's own stock, a build, or a
    # substitute the line lists, and nothing is drawn beyond its free stock.
    built = dict(answer.builds)
    assert set(built) <= set(MAKE)
    used = {c for c, _n, _s in top}
    tree = {"P": top, **{code: boms[code] for code in MAKE if code in used}}
    subs_of: dict[str, list[str]] = {}  # an item's substitutes: the first line's
    for lines in tree.values():
        for c, _n, s in lines:
            subs_of.setdefault(c, s)
    needed: dict[str, int] = defaultdict(int)
    for code, per, _subs in top:
        needed[code] += per * qty * M
    for code, n in built.items():
        for c, per, _subs in boms[code]:
            needed[c] += per * n
    drawn: dict[str, int] = defaultdict(int)
    stood_in: dict[str, int] = defaultdict(int)
    for code, sub, n in answer.substitutions:
        assert sub in subs_of[code] and n > 0
        stood_in[code] += n
        drawn[sub] += n
    short = {lim.item: lim.short for lim in answer.limits}
    for code, n in needed.items():
        own = n - built.get(code, 0) - stood_in[code] - short.get(code, 0)
        assert own >= 0
        drawn[code] += own
    for code, n in drawn.items():
        assert n <= free.get(code, 0) * M, (code, n, answer)
    assert answer.buildable == (not short)


@settings(max_examples=300, deadline=None)
@given(two_levels(), st.integers(1, 8))
def test_nothing_to_build_exactly_when_the_release_rule_covers_every_line(
    plant: tuple[Lines, dict[str, Lines], dict[str, int]], qty: int
) -> None:
    top, boms, free = plant
    answer = CanBuild(snapshot(top, boms, free), "P").answer(qty * M)
    materials = [(c, n * qty, s) for c, n, s in top]
    covered = coverage(materials, free)
    full = all(cover >= need for cover, (_c, need, _s) in zip(covered, materials, strict=True))
    assert full == (answer.buildable and not answer.builds)


_n = itertools.count()
SUB_ONLY = {"C0": 0, "C1": 0, "C2": 3, "C3": 0, "D0": 0, "D1": 0, "D2": 0}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(two_levels(), st.integers(1, 6))
@example(  # C0 lacks 2 and C2 stands in for it: nothing to build, release reserves it all
    ([("C0", 1, ["C2"])], {"C0": [("D0", 1, [])], "C1": [("D0", 1, [])]}, SUB_ONLY), 2
)
def test_order_release_reserves_everything_exactly_when_nothing_is_to_be_built(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: Cli,
    plant: tuple[Lines, dict[str, Lines], dict[str, int]],
    qty: int,
) -> None:
    top, boms, free = plant
    where = tmp_path / f"ex{next(_n)}"
    where.mkdir()
    monkeypatch.setenv("MFGCTL_DB", str(where / "t.db"))
    ok(cli, "init")
    text = ["items:", "  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make}"]
    for c in free:
        kind = "subassembly, make_or_buy: make" if c in MAKE else "component, make_or_buy: buy"
        text.append(f"  - {{code: {c}, name: {c}, unit: pcs, type: {kind}}}")
    text.append("boms:")
    for code, lines in {"P": top, **boms}.items():
        text += [f"  - item: {code}", "    lines:"]
        text += [
            f"      - {{item: {c}, qty: {n}, substitutes: [{', '.join(s)}]}}" for c, n, s in lines
        ]
    stocked = [f"  - {{item: {c}, qty: {n}}}" for c, n in free.items() if n]
    if stocked:
        text += ["stock:", *stocked]
    import_yaml(cli, where, "\n".join(text) + "\n")
    doc = can_build(cli, "P", qty)
    code, out = release(cli, "P", qty)
    assert (code == 0) == (doc["buildable"] and not doc["builds"]), (doc, out)
