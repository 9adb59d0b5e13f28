"""Only the BOM lines in use keep their units convertible (``items.refuse_units_in_use``),
so activating an old revision again checks its lines: one written in a unit removed
since is refused, not left for ``check`` to report as ``bom_unit``."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, import_yaml, ok, refused

SHOP = """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make}
  - {code: W, name: Wire, type: component, unit: m, make_or_buy: buy, units: {reel: 100}}
boms:
  - item: P
    revision: A
    lines:
      - {item: W, qty: 1, unit: reel}
"""
REVISION_B = """
boms:
  - item: P
    revision: B
    lines:
      - {item: W, qty: 5}
"""


def test_an_old_revision_in_a_removed_unit_is_not_activated(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, SHOP)
    import_yaml(cli, tmp_path, REVISION_B, name="b.yaml")
    # Revision A is not in use any more, so its unit may go.
    ok(cli, "item", "update", "W", "--remove-unit", "reel")
    message = refused(cli, initdb, "bom", "activate", "P", "A")
    assert message == (
        "Error: cannot activate BOM P rev A: line 1 (W): unit 'reel' cannot convert to W's "
        "base unit 'm'; define the unit on W again, or add a revision in a unit it has\n"
    )
    ok(cli, "item", "update", "W", "--units", "reel=100")
    ok(cli, "bom", "activate", "P", "A")
    assert "bom_unit" not in ok(cli, "check", "-f", "csv").stdout
