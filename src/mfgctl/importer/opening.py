"""The ``stock:`` section of an import: opening balances, each posted once.

Opening stock goes to ``STORES`` unless a location is given, into
``pending_inspection`` if the item is inspected on receipt, else ``available``; a
lot-tracked item needs ``lot``, a serial-tracked one ``serials``. An opening balance
already posted with the same quantity is left alone; one posted with a different
quantity is refused (stock is corrected with ``stock count`` or ``stock adjust``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mfgctl import qty as q
from mfgctl.domain import codes, items, ledger, locations, stock
from mfgctl.domain.items import Item
from mfgctl.errors import InvalidInput
from mfgctl.importer.records import At, Change, upper
from mfgctl.timefmt import parse_date

if TYPE_CHECKING:
    from mfgctl.importer.load import Import

STOCK_KEYS = (
    "item",
    "location",
    "status",
    "lot",
    "serials",
    "qty",
    "unit",
    "expires",
    "cost",
    "date",
)
DEFAULT_LOCATION = locations.DEFAULT


@dataclass(slots=True)
class Opening:
    """A valid opening balance, ready to post."""

    item: Item
    qty: Decimal  # in the base unit
    number: Decimal  # as written, in ``unit``
    location: str
    status: str
    lot: str | None
    serials: list[str]
    expires: date | None
    cost: object
    unit: str | None
    when: str | None
    at: At

    @property
    def key(self) -> str:
        what = f" lot {self.lot}" if self.lot else ""
        return f"{self.item.code}{what} at {self.location}/{self.status}"


class OpeningStock:
    """The opening balances of one import: each checked, then posted unless it was before."""

    def __init__(self, job: Import) -> None:
        self.db = job.db
        self.problems = job.problems
        self.find_item = job.find_item
        self.location_known = job.location_known
        self.guard = job.guard
        self.entries: list[Opening] = []

    def check(self, at: At) -> None:
        """Validate one opening balance; a valid one is kept for ``write``."""
        rec = at.record
        path = at.path
        if "item" not in rec:
            self.problems.append(at.say("missing", "item"))
            return
        start = len(self.problems)
        try:
            code = codes.code(rec["item"], what=f"{path}.item")
        except InvalidInput as e:
            self.problems.append(at.explain(e))
            return
        item = self.find_item(code)
        if item is None:
            self.problems.append(at.say(f"unknown item {code!r}", "item"))
            return
        # A deactivated item may still hold stock: its opening balance is accepted.

        def check(key: str, fn: Any) -> Any:
            if key not in rec or rec[key] is None:
                return None
            try:
                return fn(rec[key])
            except (InvalidInput, ValueError) as e:
                self.problems.append(at.explain(e))
                return None

        location = check("location", lambda v: codes.code(v, what=f"{path}.location"))
        location = location or DEFAULT_LOCATION
        if "location" not in rec and not self.location_known(location):
            self.problems.append(
                at.say(
                    f"the default location {DEFAULT_LOCATION} no longer exists "
                    "(renamed?); give the location"
                )
            )
        elif len(self.problems) == start and not self.location_known(location):
            self.problems.append(
                at.say(
                    f"unknown location {location!r}: add it under locations: first",
                    "location",
                )
            )
        status = check("status", lambda v: _status(v, f"{path}.status"))
        if status is None:
            status = "pending_inspection" if item.inspect_on_receipt else "available"
        lot = check("lot", lambda v: codes.lot_code(v, what=f"{path}.lot"))
        serials = check("serials", lambda v: _serials(v, f"{path}.serials")) or []
        unit = check("unit", lambda v: q.parse_unit(v, what=f"{path}.unit"))
        expires = check("expires", lambda v: parse_date(v, what=f"{path}.expires"))
        when = check("date", lambda v: _past_date(v, f"{path}.date"))
        cost = check("cost", lambda v: q.parse_qty(v, what=f"{path}.cost", allow_zero=True))
        amount: Decimal | None = None
        number = Decimal(0)
        if "qty" in rec:
            try:
                number = q.parse_qty(rec["qty"], what=f"{path}.qty")
                amount = item.to_base(number, unit)
                q.to_micro(amount, what=f"{path}.qty in {item.unit}")
            except InvalidInput as e:
                self.problems.append(at.say(str(e).replace(f"{path}.qty ", ""), "qty"))
        elif item.tracking != "serial":
            self.problems.append(at.say("missing", "qty"))
        # Tracking rules, said with the field to fix.
        if item.tracking == "none" and (lot or serials):
            key = "lot" if lot else "serials"
            self.problems.append(at.say(f"{item.code} is not lot- or serial-tracked", key))
        elif item.tracking == "none" and expires is not None:
            # An expiry date belongs to a lot: on untracked stock it would be dropped.
            self.problems.append(
                at.say(
                    f"{item.code} is not lot- or serial-tracked: an expiry date needs a lot "
                    "(make the item lot-tracked)",
                    "expires",
                )
            )
        if item.tracking == "lot":
            if serials:
                self.problems.append(
                    at.say(f"{item.code} is lot-tracked: give lot, not serials", "serials")
                )
            elif lot is None and rec.get("lot") is None:
                self.problems.append(
                    at.say(f"missing: {item.code} is lot-tracked, give the lot number", "lot")
                )
        if item.tracking == "serial":
            if lot:
                self.problems.append(
                    at.say(f"{item.code} is serial-tracked: give serials, not lot", "lot")
                )
            elif not serials and rec.get("serials") is None:
                self.problems.append(
                    at.say(f"missing: {item.code} is serial-tracked, list its serials", "serials")
                )
            elif serials and amount is not None and amount != len(serials):
                self.problems.append(
                    at.say(
                        f"{q.fmt(amount)} must equal the number of serials ({len(serials)})",
                        "qty",
                    )
                )
            if serials:
                amount = number = Decimal(len(serials))
        if len(self.problems) > start or amount is None:
            return
        entry = Opening(
            item, amount, number, location, status, lot, serials, expires, cost, unit, when, at
        )
        for other in self.entries:
            same = (
                other.item.code == item.code
                and upper(other.location) == upper(location)
                and other.status == status
            )
            if not same:
                continue
            overlap = {s.upper() for s in other.serials} & {s.upper() for s in serials}
            if (not serials and (other.lot or "").upper() == (lot or "").upper()) or overlap:
                self.problems.append(
                    at.say(
                        f"opening stock {entry.key} is given twice (first at "
                        f"{other.at.file}:{other.at.line}); give it once with the total",
                        "item",
                    )
                )
                return
        self.entries.append(entry)

    def write(self, user: str) -> list[Change]:
        """Post every opening balance not posted before; problems are collected."""
        changes: list[Change] = []
        for opening in self.entries:
            done = self.guard(opening.at, lambda o=opening: self._post(o, user))
            if done is not None:
                changes.append(Change("stock", opening.key, done, _detail(opening)))
        return changes

    def _post(self, o: Opening, user: str) -> str:
        """Post one opening balance unless the same one was posted before."""
        db = self.db
        item = items.get(db, o.item.code)
        loc = locations.get(db, o.location)

        def posted(lot_id: int | None) -> Decimal:
            return stock.opening_qty(
                db, item_id=item.id, location_id=loc.id, status=o.status, lot_id=lot_id
            )

        place = ledger.Place(loc, o.status)
        if item.tracking == "serial":
            new = []
            for s in o.serials:
                lot = ledger.find_lot(db, item, s)
                if lot is None:
                    new.append(s)
                elif posted(lot.id) != 1 and ledger.balance(db, item, place, lot) != 1:
                    # Neither its opening balance nor held here (as an export of this
                    # database says it is): it came in and went elsewhere.
                    raise InvalidInput(
                        f"serial {lot.code} of {item.code} already exists outside this "
                        "opening balance: leave it out, or correct stock with stock adjust"
                    )
            if not new:
                return "unchanged"
            stock.receive(
                db,
                item=item.code,
                qty=len(new),
                user=user,
                location=loc.code,
                serials=new,
                expires=o.expires,
                cost=o.cost if o.unit is None else None,
                when=o.when,
                source="OPENING",
                status=o.status,
            )
            return "added"
        lot = ledger.find_lot(db, item, o.lot) if o.lot else None
        before = held = Decimal(0)
        if lot is not None or not o.lot:
            before = posted(lot.id if lot else None)
            held = ledger.balance(db, item, place, lot)
        if held and held == o.qty:
            return "unchanged"  # the place holds what the file says (an export of it)
        if before:
            if before == o.qty:
                return "unchanged"
            raise InvalidInput(
                f"opening stock of {o.key} was already imported as {q.fmt(before)} "
                f"{item.unit}, not {q.fmt(o.qty)}: an opening balance is not changed by a "
                "new import; correct it with `mfgctl stock count` or `mfgctl stock adjust`"
            )
        if held:
            # Stock that came another way (a receipt...): the file and the database
            # disagree, and adding would count the stock twice.
            raise InvalidInput(
                f"{o.key} already holds {q.fmt(held)} {item.unit} that did not come from an "
                f"opening balance, not {q.fmt(o.qty)}: an opening balance is for stock "
                "mfgctl does not hold yet; correct it with `mfgctl stock count` or "
                "`mfgctl stock adjust`"
            )
        stock.receive(
            db,
            item=item.code,
            qty=o.number,
            unit=o.unit,
            user=user,
            location=loc.code,
            lot=o.lot,
            expires=o.expires,
            cost=o.cost,
            when=o.when,
            source="OPENING",
            status=o.status,
        )
        return "added"


def _status(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be one of {', '.join(ledger.STATUSES)}; got {value!r}")
    return ledger.parse_status(value, what=what)


def _serials(value: object, what: str) -> list[str]:
    if not isinstance(value, list):
        raise InvalidInput(f"{what} must be a list of serial numbers")
    result: list[str] = []
    seen: set[str] = set()
    for n, s in enumerate(value):
        serial = codes.lot_code(s, what=f"{what}[{n}]")
        if serial.upper() in seen:
            raise InvalidInput(f"{what}[{n}] serial {serial} is given twice")
        seen.add(serial.upper())
        result.append(serial)
    return result


def _past_date(value: object, what: str) -> str:
    day = parse_date(value, what=what)
    if day > date.today():
        raise InvalidInput(f"{what} {day.isoformat()} is in the future: back-dating only")
    return day.isoformat()


def _detail(o: Opening) -> str:
    if o.serials:
        return f"{len(o.serials)} serials"
    return f"{q.fmt(o.qty)} {o.item.unit}"
