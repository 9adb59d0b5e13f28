"""What the README shows a user is what the CLI does: its main YAML example imports as
printed, and the messages and columns it quotes are the ones printed. Each test reads
the README itself, so an edit to either side that makes them disagree fails here."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import Cli, import_yaml, ok, refused

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def flat(text: str) -> str:
    """README prose wraps lines: one space for every run of white space."""
    return re.sub(r"\s+", " ", text)


def quoted(pattern: str) -> str:
    """The one backticked quote of the README (lines joined) that matches ``pattern``
    (``[^`]*`` for the words a test does not spell out)."""
    found = re.findall(f"`({pattern})`", flat(README))
    assert len(found) == 1, (pattern, found)
    return found[0]


def main_yaml_example() -> str:
    """The first ```yaml block under "## YAML format": the example a user copies first."""
    section = README[README.index("\n## YAML format\n") :]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match
    return match.group(1)


def test_the_main_yaml_example_imports_as_printed(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    example = main_yaml_example()
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    r = ok(cli, "import", path)
    assert "Imported 1 file: 13 records written" in r.stderr
    # Re-importing the same file changes nothing, as the README says.
    assert "Imported 1 file: 0 records written" in ok(cli, "import", path).stderr

    locations = json.loads(ok(cli, "location", "list", "-f", "json").stdout)
    assert {"code": "LINE-1", "name": "Line-side rack, assembly line 1"}.items() <= next(
        loc for loc in locations if loc["code"] == "LINE-1"
    ).items()
    lines = json.loads(ok(cli, "bom", "show", "HD-200", "-f", "json").stdout)
    text = json.dumps(lines)
    assert "MIC-101" in text and "SOLDER" in text
    [mic] = json.loads(ok(cli, "stock", "--item", "MIC-100", "-f", "json").stdout)
    # Both opening lots wait for inspection (the item inspects on receipt); 2 reels on order.
    assert (mic["physical"], mic["pending_inspection"], mic["on_order"]) == (15000, 15000, 10000)


def test_bom_list_columns_are_the_ones_the_readme_lists(cli: Cli, initdb: Path) -> None:
    row = next(line for line in README.splitlines() if line.startswith("| `mfgctl bom list"))
    columns = re.search(r"columns `([a-z_,]+)`", row)
    assert columns
    r = ok(cli, "bom", "list", "-f", "csv")
    assert r.stdout == columns.group(1) + "\n"


SERIALS = """\
locations:
  - {code: QC, name: Quality control}
items:
  - {code: SENS, name: Sensor, type: component, unit: pcs, make_or_buy: buy,
     tracking: serial, lead_time_days: 5}
stock:
  - {item: SENS, qty: 3, serials: [S1, S2, S3]}
"""


def test_a_fraction_of_a_serial_is_refused_with_the_quoted_message(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, SERIALS)
    message = quoted(r"Error: SENS is serial-tracked: quantity 0\.5 pcs must be [^`]*")
    move = ("stock", "move", "SENS", "0.5", "--from", "STORES", "--to", "QC", "--lot", "S1")
    adjust = ("stock", "adjust", "SENS", "--remove", "0.5", "--lot", "S2", "--reason", "x")
    assert refused(cli, initdb, *move) == message + "\n"
    assert refused(cli, initdb, *adjust) == message + "\n"
    # stock count's own wording, which the README gives next to it.
    counted = quoted(r"counted quantity 0\.5 pcs")
    err = refused(cli, initdb, "stock", "count", "SENS", "0.5", "--lot", "S2")
    assert err == message.replace("quantity 0.5 pcs", counted) + "\n"


def test_passing_available_stock_is_refused_with_the_quoted_message(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(
        cli,
        tmp_path,
        "locations:\n  - {code: QC, name: Quality control}\n"
        "items:\n  - {code: MIC-100, name: Mic, type: component, unit: pcs, make_or_buy: buy,"
        " tracking: lot, inspect_on_receipt: true}\n",
    )
    ok(cli, "stock", "receive", "MIC-100", "500", "--lot", "M1", "--location", "QC")
    ok(cli, "inspect", "MIC-100", "--lot", "M1", "--pass")
    message = quoted(r"Error: MIC-100 lot M1 [^`]*: nothing to pass")
    assert refused(cli, initdb, "inspect", "MIC-100", "--lot", "M1", "--pass") == message + "\n"


def test_demand_list_all_adds_cancelled_and_shipped_demand_as_its_help_says(
    cli: Cli, initdb: Path
) -> None:
    assert "Cancelled and shipped demand too" in flat(ok(cli, "demand", "list", "--help").stdout)
    assert "open only unless `--all` (cancelled and shipped too)" in flat(README)
    ok(cli, "item", "add", "P", "--name", "Part", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "buy")  # fmt: skip
    ok(cli, "stock", "receive", "P", "10")
    for qty, ref in ((2, "SO-1"), (3, "SO-2"), (4, "SO-3")):
        ok(cli, "demand", "add", "P", qty, "--due", "2030-01-10", "--kind", "sales", "--ref", ref)
    ok(cli, "demand", "cancel", "2")
    ok(cli, "ship", "P", "4", "--to", "Acme", "--ref", "SO-3")

    def states(*args: str) -> list[tuple[int, str]]:
        rows = json.loads(ok(cli, "demand", "list", *args, "-f", "json").stdout)
        return [(r["demand"], r["state"]) for r in rows]

    assert states() == [(1, "open")]
    assert states("--all") == [(1, "open"), (2, "cancelled"), (3, "shipped")]


def test_the_development_tree_names_every_module() -> None:
    # So a new developer finds MRP and the scheduler from the README.
    section = README[README.index("\n## Development\n") :]
    tree = section[: section.index("```", section.index("```") + 3)]
    src = Path(__file__).resolve().parents[1] / "src" / "mfgctl"
    for folder in (src, src / "domain", src / "importer"):
        for module in sorted(folder.glob("*.py")):
            if module.name == "__init__.py":
                continue
            name = module.name if folder == src else module.stem
            assert re.search(rf"(?<![\w.]){re.escape(name)}\b", tree), f"{folder.name}/{name}"
