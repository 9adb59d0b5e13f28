"""A phantom line passes through to its components, so substitutes written on the
phantom line itself are never used: `bom validate` and `check` say so."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, import_yaml

PLANT = """
items:
  - {code: F, name: Fixture, type: finished, unit: pcs, make_or_buy: make}
  - {code: KIT, name: Screw kit, type: subassembly, unit: pcs, make_or_buy: make}
  - {code: KIT2, name: Other kit, type: subassembly, unit: pcs, make_or_buy: buy}
  - {code: SCREW, name: Screw, type: component, unit: pcs, make_or_buy: buy}
boms:
  - item: F
    lines:
      - {item: KIT, qty: 1, phantom: true, substitutes: [KIT2]}
  - item: KIT
    lines:
      - {item: SCREW, qty: 4}
"""

MESSAGE = (
    "line 1 (KIT): phantom KIT passes through to its components, so its substitutes "
    "(KIT2) are never used: list them on the lines of KIT's BOM"
)


def test_validate_warns_of_substitutes_on_a_phantom_line(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, PLANT)
    result = cli("bom", "validate", "-f", "csv")
    assert result.exit_code == 4
    lines = result.stdout.replace('"', "").splitlines()
    assert lines == ["check,subject,message", f"bom_phantom_substitutes,F rev A,{MESSAGE}"]


def test_check_lists_it_as_a_warning(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, PLANT)
    result = cli("check", "-f", "csv")
    assert f"warning,bom_phantom_substitutes,F rev A,{MESSAGE}" in result.stdout.replace('"', "")
