"""Commands whose location defaults to STORES tell an omitted --location (the default,
gone once STORES was renamed) from a typed STORES (an unknown code)."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, dump, import_yaml, ok

ITEMS = """
items:
  - {code: BOLT, name: Bolt, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 2}
"""


def test_typed_and_default_stores_after_a_rename(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    import_yaml(cli, tmp_path, ITEMS)
    ok(cli, "location", "rename", "STORES", "MAIN")
    before = dump(initdb)
    for args in (
        ("stock", "receive", "BOLT", "5"),
        ("stock", "count", "BOLT", "5"),
        ("stock", "adjust", "BOLT", "--add", "1", "--reason", "found"),
    ):
        omitted = cli(*args)
        assert omitted.exit_code == 1
        assert "the default location STORES no longer exists" in omitted.stderr, args
        typed = cli(*args, "--location", "STORES")
        assert typed.exit_code == 1
        assert "Error: unknown location 'STORES' (renamed to MAIN?" in typed.stderr, args
        assert "default" not in typed.stderr, args
    assert dump(initdb) == before
    ok(cli, "stock", "receive", "BOLT", "5", "--location", "MAIN")
