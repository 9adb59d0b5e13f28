"""Routings and order stages in the domain: the routing is frozen into the order at
release, a later change keeps the order's own stages, progress is kept as history."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest
from bom_builders import bom, item, line
from conftest import day
from stage_story import stage_rows

from mfgctl import db as dbmod
from mfgctl.domain import items, orders, stages
from mfgctl.errors import InvalidInput


def make_shop(conn: sqlite3.Connection) -> None:
    with dbmod.transaction(conn):
        item(conn, "PCB")
        item(conn, "DEV", make=True, type="finished")
        bom(conn, "DEV", [line("PCB", 1)])
        stages.set_routing(conn, "DEV", ["assembly@ASSY:15:12", "test:0:2.5", "pack"])


def test_parse_spec_forms() -> None:
    assert stages.parse_spec("assembly@ASSY:15:12", 1) == stages.Stage(
        1, "assembly", "ASSY", Decimal(15), Decimal(12)
    )
    assert stages.parse_spec(" qc ", 2) == stages.Stage(2, "qc")
    assert stages.parse_spec("qc:0:0.25", 3).run_min == Decimal("0.25")
    with pytest.raises(InvalidInput, match="more than 6 decimal places"):
        stages.parse_spec("qc:0:0.0000001", 1)
    with pytest.raises(InvalidInput, match="name must not be empty"):
        stages.parse_spec("@ASSY", 1)


def test_release_freezes_the_routing_and_a_later_change_keeps_it(conn) -> None:
    make_shop(conn)
    with dbmod.transaction(conn):
        first = orders.create(conn, item="DEV", qty="3", due=day(5), user="t")
        planned = orders.create(conn, item="DEV", qty="2", due=day(5), user="t")
        assert stages.order_stages(conn, first) == []  # planned: no stages yet
        orders.release(conn, first.id, user="t", partial=True)
    assert stage_rows(conn, first.id) == [("assembly", 0, 0), ("test", 0, 0), ("pack", 0, 0)]
    with dbmod.transaction(conn):
        _, new, action = stages.set_routing(conn, "DEV", ["kitting", "assembly@ASSY2:10:10"])
        assert action == "changed" and [s.name for s in new] == ["kitting", "assembly"]
        orders.release(conn, planned.id, user="t", partial=True)
    found = stages.order_stages(conn, orders.get(conn, first.id))
    assert [(s.name, s.workcenter, s.setup_min, s.run_min) for s in found] == [
        ("assembly", "ASSY", 15, 12),
        ("test", None, 0, Decimal("2.5")),
        ("pack", None, 0, 0),
    ]
    assert [s.name for s in stages.order_stages(conn, orders.get(conn, planned.id))] == [
        "kitting",
        "assembly",
    ]


def test_progress_is_history_plus_totals(conn) -> None:
    make_shop(conn)
    with dbmod.transaction(conn):
        order = orders.create(conn, item="DEV", qty="4", due=day(5), user="t")
        orders.release(conn, order.id, user="t", partial=True)
        orders.transition(conn, orders.get(conn, order.id), "in_progress", user="t")
        stages.advance(conn, order.id, stage="assembly", good="2", user="ann")
        done = stages.advance(
            conn, order.id, stage="assembly", good="1", rejected="1", reason="bent pin", user="bob"
        )
    assert (done.good, done.rejected) == (1, 1)
    assert stage_rows(conn, order.id)[0] == ("assembly", 3_000_000, 1_000_000)
    events = conn.execute(
        "SELECT position, good, rejected, reason, user FROM stage_event ORDER BY id"
    ).fetchall()
    assert [tuple(e) for e in events] == [
        (1, 2_000_000, 0, None, "ann"),
        (1, 1_000_000, 1_000_000, "bent pin", "bob"),
    ]
    assert stages.current(done.stages).name == "test"


def test_store_reports_added_changed_unchanged(conn) -> None:
    with dbmod.transaction(conn):
        dev = item(conn, "DEV", make=True)
        route = [stages.Stage(1, "a"), stages.Stage(2, "b", "WC", Decimal(1), Decimal(2))]
        assert stages.store(conn, dev, route) == "added"
        assert stages.store(conn, dev, route) == "unchanged"
        assert stages.store(conn, dev, route[:1]) == "changed"
        assert stages.routing(conn, items.get(conn, "DEV")) == route[:1]
