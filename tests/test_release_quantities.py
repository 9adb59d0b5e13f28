"""Release criteria hold for the quantity released, not for "the lot has a pass somewhere":
a pass (or a sign-off) covers what awaits release when it is recorded; output completed
into the lot later needs a pass and sign-offs of its own; units leaving awaiting_release
otherwise use up the pass first; ``release LOT --qty`` releases the covered part;
``release status`` says releasable exactly when ``release LOT`` would succeed."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, ok, refused

SHOP = """
items:
  - {code: A, name: Part A, type: component, unit: pcs, make_or_buy: buy, cost: 1}
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make, tracking: lot,
     release_criteria: [inspection, labeling]}
boms:
  - item: P
    lines:
      - {item: A, qty: 1}
stock:
  - {item: A, qty: 10}
"""


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    """Product P (lot-tracked; criteria inspection, labeling) with order 1 for 6 started."""
    doc = tmp_path / "shop.yaml"
    doc.write_text(SHOP)
    ok(cli, "import", doc)
    ok(cli, "order", "create", "P", "6", "--due", "2030-01-01")
    ok(cli, "order", "release", "1")
    ok(cli, "order", "start", "1")
    return initdb


def stock(cli: Cli) -> dict[str, Decimal]:
    """P's stock by status (non-zero only, without the order's on_order)."""
    [row] = json.loads(ok(cli, "stock", "-f", "json", "--item", "P").stdout, parse_float=Decimal)
    return {k: v for k, v in row.items() if isinstance(v, int | Decimal) and v and k != "on_order"}


def status(cli: Cli) -> list[tuple[str, int, list[str], bool]]:
    """``release status``: (lot, qty, unmet, releasable) per waiting lot."""
    rows = json.loads(ok(cli, "release", "status", "-f", "json").stdout)
    return [(r["lot"], r["qty"], r["unmet"], r["releasable"]) for r in rows]


def complete(cli: Cli, qty: int, lot: str = "P1") -> None:
    ok(cli, "order", "complete", "1", "--qty", qty, "--lot", lot)


def test_output_completed_after_a_release_needs_its_own_pass(cli: Cli, shop: Path) -> None:
    complete(cli, 1)
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    ok(cli, "release", "check", "P1", "labeling")
    ok(cli, "release", "P1")
    assert stock(cli) == {"physical": 1, "available": 1, "free": 1}

    complete(cli, 1)  # a new, never-inspected, never-labelled unit of the same lot
    assert stock(cli) == {"physical": 2, "available": 1, "free": 1, "awaiting_release": 1}
    assert status(cli) == [("P1", 1, ["inspection", "labeling"], False)]
    err = refused(cli, shop, "release", "P1")
    assert err == (
        "Error: P lot P1 cannot be released: criteria not met: inspection, labeling; "
        "no pass inspection covers the 1 pcs to release; no sign-off of labeling covers the "
        "1 pcs to release; next: mfgctl inspect P --lot P1 --pass and "
        "mfgctl release check P1 labeling\n"
    )

    # A pass of the new unit covers it; so does a new labeling sign-off.
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    assert status(cli) == [("P1", 1, ["labeling"], False)]
    ok(cli, "release", "check", "P1", "labeling")
    assert status(cli) == [("P1", 1, [], True)]
    ok(cli, "release", "P1")
    assert stock(cli) == {"physical": 2, "available": 2, "free": 2}
    assert status(cli) == []


def test_a_partly_covered_lot_releases_only_the_covered_part(cli: Cli, shop: Path) -> None:
    complete(cli, 2)
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    complete(cli, 1)  # after the pass: not covered
    ok(cli, "release", "check", "P1", "labeling")  # covers all 3
    assert stock(cli) == {"physical": 3, "awaiting_release": 3}
    assert status(cli) == [("P1", 3, ["inspection"], False)]

    err = refused(cli, shop, "release", "P1")
    assert err == (
        "Error: P lot P1 cannot be released: criteria not met: inspection (met: labeling); "
        "a pass inspection covers only 2 of the 3 pcs to release; next: mfgctl inspect P "
        "--lot P1 --pass, or release the covered part: mfgctl release P1 --qty 2\n"
    )
    err = refused(cli, shop, "release", "P1", "--qty", "3")
    assert "covers only 2 of the 3 pcs to release" in err

    ok(cli, "release", "P1", "--qty", "2")
    assert stock(cli) == {"physical": 3, "available": 2, "free": 2, "awaiting_release": 1}
    assert status(cli) == [("P1", 1, ["inspection"], False)]
    err = refused(cli, shop, "release", "P1", "--qty", "1")
    assert "no pass inspection covers the 1 pcs to release" in err


def test_units_taken_out_of_awaiting_release_use_up_the_pass_first(cli: Cli, shop: Path) -> None:
    complete(cli, 2)
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    complete(cli, 1)  # 3 waiting, 2 covered
    ok(cli, "release", "check", "P1", "labeling")  # covers all 3
    # Which unit failed is not recorded: it may have been a covered one.
    ok(cli, "inspect", "P", "--fail", "--lot", "P1", "--qty", "1")
    assert stock(cli) == {"physical": 3, "awaiting_release": 2, "rejected": 1}
    err = refused(cli, shop, "release", "P1")
    assert "a pass inspection covers only 1 of the 2 pcs to release" in err

    # Held and unblocked units come back uncovered: they are inspected again.
    ok(cli, "inspect", "P", "--hold", "--lot", "P1", "--qty", "1")
    ok(cli, "inspect", "P", "--unblock", "--lot", "P1")
    assert stock(cli) == {"physical": 3, "awaiting_release": 2, "rejected": 1}
    err = refused(cli, shop, "release", "P1")
    assert "no pass inspection covers the 2 pcs to release" in err

    ok(cli, "inspect", "P", "--pass", "--lot", "P1", "--status", "awaiting_release")
    # The held unit uses up the labeling sign-off too: it comes back needing a new one.
    assert status(cli) == [("P1", 2, ["labeling"], False)]
    ok(cli, "release", "check", "P1", "labeling")
    ok(cli, "release", "P1")
    assert stock(cli) == {"physical": 3, "available": 2, "free": 2, "rejected": 1}


def test_a_pass_of_one_lot_covers_nothing_of_another(cli: Cli, shop: Path) -> None:
    complete(cli, 1, "P1")
    complete(cli, 1, "P2")
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    for lot in ("P1", "P2"):
        ok(cli, "release", "check", lot, "labeling")
    assert status(cli) == [("P1", 1, [], True), ("P2", 1, ["inspection"], False)]
    refused(cli, shop, "release", "P2")
    ok(cli, "release", "P1")
    assert stock(cli) == {"physical": 2, "available": 1, "free": 1, "awaiting_release": 1}


@pytest.mark.parametrize(
    ("qty", "message"),
    [
        ("3", "Error: only 2 pcs of P lot P1 await release, not 3\n"),
        ("0", "Error: --qty must be greater than zero\n"),
        ("x", "Error: --qty "),
    ],
)
def test_a_release_quantity_beyond_what_waits_is_refused(
    cli: Cli, shop: Path, qty: str, message: str
) -> None:
    complete(cli, 2)
    ok(cli, "inspect", "P", "--pass", "--lot", "P1")
    ok(cli, "release", "check", "P1", "labeling")
    err = refused(cli, shop, "release", "P1", "--qty", qty)
    assert err.startswith(message)
    assert stock(cli) == {"physical": 2, "awaiting_release": 2}


def test_status_says_releasable_exactly_when_release_succeeds(cli: Cli, shop: Path) -> None:
    """At each step, ``release status`` agrees with what ``release LOT`` does."""
    steps = [
        ("order", "complete", "1", "--qty", "2", "--lot", "P1"),
        ("inspect", "P", "--pass", "--lot", "P1"),
        ("order", "complete", "1", "--qty", "1", "--lot", "P1"),
        ("release", "check", "P1", "labeling"),
        ("inspect", "P", "--pass", "--lot", "P1"),
    ]
    for step in steps[:-1]:
        ok(cli, *step)
        assert [r[3] for r in status(cli)] == [False], step
        refused(cli, shop, "release", "P1")
    ok(cli, *steps[-1])
    assert status(cli) == [("P1", 3, [], True)]
    ok(cli, "release", "P1")
    assert stock(cli) == {"physical": 3, "available": 3, "free": 3}
