"""A hypothesis state machine mixing receipts, reservations, cancellations, consumption,
completion and inspection; after every step free stock is never negative, reserved never
exceeds available, and every check passes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bom_builders import bom, item, line
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from mfgctl import db as dbmod
from mfgctl.domain import checks, orders, production, quality, reports, reservations, stock
from mfgctl.errors import MfgError


class Production(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        path = Path(self.dir.name) / "t.db"
        dbmod.create(path).close()
        self.conn = dbmod.connect(path)
        with dbmod.transaction(self.conn):
            item(self.conn, "A")
            item(self.conn, "B", tracking="lot")
            item(self.conn, "P", make=True, type="finished", inspect_on_receipt=True)
            bom(self.conn, "P", [line("A", 2), line("B", 1)])
        self.lots = 0

    def teardown(self) -> None:
        if hasattr(self, "conn"):
            self.conn.close()
            self.dir.cleanup()

    def _try(self, fn, **kw) -> None:  # type: ignore[no-untyped-def]
        try:
            with dbmod.transaction(self.conn):
                fn(self.conn, user="t", **kw)
        except MfgError:
            pass

    @rule(code=st.sampled_from(["A", "B"]), qty=st.integers(1, 12))
    def receive(self, code: str, qty: int) -> None:
        self.lots += 1
        lot = f"L{self.lots}" if code == "B" else None
        self._try(stock.receive, item=code, qty=str(qty), lot=lot)

    @rule(qty=st.integers(1, 5))
    def create_and_release(self, qty: int) -> None:
        try:
            with dbmod.transaction(self.conn):
                o = orders.create(self.conn, item="P", qty=str(qty), due="2999-01-01", user="t")
                orders.release(self.conn, o.id, user="t", partial=True)
        except MfgError:
            pass

    @rule(code=st.sampled_from(["A"]), qty=st.integers(1, 6))
    def reserve_other(self, code: str, qty: int) -> None:
        self._try(reservations.reserve, item=code, qty=str(qty), ref="SO-1")

    @rule(n=st.integers(1, 6))
    def cancel(self, n: int) -> None:
        self._try(orders.cancel, order=n)

    @rule(n=st.integers(1, 6), qty=st.none() | st.integers(1, 3))
    def backflush(self, n: int, qty: int | None) -> None:
        self._try(production.backflush, order=n, qty=None if qty is None else str(qty))

    @rule(n=st.integers(1, 6), qty=st.integers(1, 4))
    def use_a(self, n: int, qty: int) -> None:
        self._try(production.consume_item, order=n, item="A", qty=str(qty))

    @rule(n=st.integers(1, 6), good=st.integers(0, 3), bad=st.integers(0, 1))
    def complete(self, n: int, good: int, bad: int) -> None:
        self._try(production.complete, order=n, qty=str(good), scrap=str(bad) if bad else None)

    @rule(n=st.integers(1, 6), back=st.booleans())
    def close(self, n: int, back: bool) -> None:
        self._try(production.close, order=n, return_unconsumed=back)

    @rule(passed=st.booleans())
    def inspect(self, passed: bool) -> None:
        try:
            with dbmod.transaction(self.conn):
                quality.inspect(
                    self.conn, item="P", decision="pass" if passed else "fail", user="t"
                )
        except MfgError:
            pass

    @invariant()
    def consistent(self) -> None:
        if not hasattr(self, "conn"):
            return
        assert checks.run(self.conn) == []
        for row in reports.stock(self.conn):
            assert row.free >= 0, row
            assert row.reserved <= row.available, row
            assert row.wip >= 0, row


Production.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestProduction = Production.TestCase
