"""The stock report's on_order column: output still expected from open production orders."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from conftest import Cli, day

SAMPLE = sorted((Path(__file__).resolve().parents[1] / "sample_data").glob("*.yaml"))


def hd200(cli: Cli) -> dict:
    r = cli("stock", "--item", "HD-200", "-f", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout, parse_float=Decimal)[0]


def test_on_order_follows_an_order_from_creation_to_completion(cli: Cli, initdb: Path) -> None:
    assert cli("import", *SAMPLE).exit_code == 0
    assert hd200(cli)["on_order"] == 0
    assert cli("order", "create", "HD-200", "5", "--due", day(7)).exit_code == 0
    assert hd200(cli)["on_order"] == 5
    for step in (("order", "release", "1"), ("order", "start", "1"), ("consume", "1")):
        assert cli(*step).exit_code == 0, step
    r = cli("order", "complete", "1", "--qty", "2", "--auto-serials")
    assert r.exit_code == 0, r.stderr
    row = hd200(cli)
    assert (row["on_order"], row["awaiting_release"]) == (3, 4)  # 2 from the sample, 2 made
    r = cli("order", "complete", "1", "--qty", "2", "--scrap", "1", "--reason", "dropped",
            "--auto-serials")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    row = hd200(cli)
    assert (row["on_order"], row["awaiting_release"]) == (0, 6)
    # Not per lot, not for one location, not in the past: it is a current, per-item figure.
    by_lot = json.loads(cli("stock", "--item", "HD-200", "--by-lot", "-f", "json").stdout)
    assert {r["on_order"] for r in by_lot} == {0}


def test_a_cancelled_order_is_no_longer_on_order(cli: Cli, initdb: Path) -> None:
    assert cli("import", *SAMPLE).exit_code == 0
    assert cli("order", "create", "HD-300", "3", "--due", day(7)).exit_code == 0
    r = cli("stock", "--type", "finished", "-f", "json")
    assert {row["item"]: row["on_order"] for row in json.loads(r.stdout)}["HD-300"] == 3
    assert cli("order", "cancel", "1").exit_code == 0
    r = cli("stock", "--item", "HD-300", "-f", "json")
    assert json.loads(r.stdout) == []
