"""The default ``report variance`` (flagged lines only, what a cron job mails) lists the
material used up by orders that made nothing: such a line has no percent (nothing was
planned) but is over plan by any threshold (tester t20 #7)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from conftest import Cli, import_yaml, ok

PLANT = """
items:
  - {code: A, name: part A, type: component, unit: pcs, make_or_buy: buy, cost: 2}
  - {code: B, name: part B, type: component, unit: kg, make_or_buy: buy, cost: 3}
  - {code: P, name: product, type: finished, unit: pcs, make_or_buy: make}
boms:
  - item: P
    lines: [{item: A, qty: 1, unit: pcs}, {item: B, qty: 0.5, unit: kg}]
"""


def rows(cli: Cli, *args: str) -> list[dict[str, str]]:
    out = ok(cli, "report", "variance", *args, "-f", "csv").stdout
    return list(csv.DictReader(io.StringIO(out)))


def abandoned(cli: Cli, n: str) -> None:
    ok(cli, "order", "create", "P", "4", "--due", "2030-12-20")
    ok(cli, "order", "release", n)
    ok(cli, "consume", n)
    ok(cli, "order", "complete", n, "--final")


def test_material_of_an_order_that_made_nothing_is_flagged(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, PLANT)
    ok(cli, "stock", "receive", "A", "10", "--cost", "2")
    ok(cli, "stock", "receive", "B", "50", "--cost", "3")
    abandoned(cli, "1")

    got = rows(cli, "--min-orders", "1", "--threshold", "1000")
    assert [(r["component"], r["planned"], r["actual"], r["variance_pct"], r["flagged"])
            for r in got] == [("A", "0", "4", "", "yes"), ("B", "0", "2", "", "yes")]  # fmt: skip
    # Fewer orders than --min-orders (default 3): not flagged, listed only with --all.
    assert rows(cli) == []
    assert [r["flagged"] for r in rows(cli, "--all")] == ["no", "no"]


SUBSTITUTED = """
items:
  - {code: A, name: part A, type: component, unit: pcs, make_or_buy: buy, cost: 2}
  - {code: A2, name: part A2, type: component, unit: pcs, make_or_buy: buy, cost: 2}
  - {code: P, name: product, type: finished, unit: pcs, make_or_buy: make}
boms:
  - item: P
    lines: [{item: A, qty: 1, unit: pcs, substitutes: [A2]}]
"""


def test_a_substitute_used_beyond_its_line_is_still_never_flagged(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # Orders that made something: a row with nothing planned is a substitute's, unflagged.
    import_yaml(cli, tmp_path, SUBSTITUTED)
    ok(cli, "stock", "receive", "A2", "10", "--cost", "2")
    ok(cli, "order", "create", "P", "4", "--due", "2030-12-20")
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1", "--item", "A2", "--qty", "6")
    ok(cli, "order", "complete", "1", "--qty", "4")
    got = {r["component"]: r for r in rows(cli, "--all", "--min-orders", "1")}
    assert (got["A2"]["planned"], got["A2"]["actual"], got["A2"]["flagged"]) == ("0", "2", "no")
