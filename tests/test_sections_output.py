"""Commands that print several tables share one layout (``render.emit_sections``): a
blank line between tables, each under its name in table and plain, a ``##`` heading in
Markdown, no name in CSV, one object in JSON."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, import_yaml, ok

SHOP = """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make}
  - {code: C, name: Cap, type: component, unit: pcs, make_or_buy: buy}
boms:
  - {item: P, lines: [{item: C, qty: 2}]}
"""


def _order(cli: Cli, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, SHOP)
    ok(cli, "order", "create", "P", "3", "--due", "2030-01-10")


def test_order_show_in_markdown_has_a_heading_per_table(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    _order(cli, tmp_path)
    out = ok(cli, "order", "show", "1", "-f", "markdown").stdout
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Order",
        "## Materials",
        "## Stages",
        "## Output",
        "## Cost",
        "## History",
    ]
    assert "| C " in out.split("## Materials")[1].split("## Stages")[0]


def test_order_show_in_csv_separates_tables_by_a_blank_line_only(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    _order(cli, tmp_path)
    blocks = ok(cli, "order", "show", "1", "-f", "csv").stdout.split("\n\n")
    assert blocks[0].startswith("order,item,")
    assert blocks[1].startswith("position,item,")
    assert all(not b.startswith(("Order", "Materials")) for b in blocks)


def test_workcenter_show_plain_names_its_tables_and_json_is_one_object(
    cli: Cli, initdb: Path
) -> None:
    ok(cli, "workcenter", "add", "SMT")
    plain = ok(cli, "workcenter", "show", "SMT", "-f", "plain").stdout
    assert plain.startswith("Workcenter\n")
    assert "\n\nDowntime\n" in plain
    doc = json.loads(ok(cli, "workcenter", "show", "SMT", "-f", "json").stdout)
    assert set(doc) == {"workcenter", "downtime"}
