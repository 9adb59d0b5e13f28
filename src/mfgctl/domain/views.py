"""SQL views: the main reports as read-only views, so any SQLite tool reads mfgctl's numbers.

The database is an interface: the sqlite3 shell, Datasette or a spreadsheet reading the
file sees the same stock, WIP, reservations, late orders, valuation and genealogy as the
commands print. This module *generates* the view SQL (the exact-decimal expression and
the repeated columns are written once, here); ``schema.sql`` holds the generated text
verbatim and ``tests/test_views.py`` proves the two are equal and that every view agrees
with its command's JSON.

Numbers: quantities and money are stored as integer millionths. A view shows each as
exact decimal TEXT (``'12.5'``, ``'-0.25'``, ``'0'``: sign, integer part, up to six
decimals with trailing zeros and the point trimmed) and, beside it, the stored integer as
``<name>_micro`` for sorting and summing. No division ever produces a floating-point
value: an average is an integer division rounded half-even by hand. A value (quantity x
cost) has twelve decimals and no ``_micro`` column.

"Today" (expired reservations, lateness, ages) is ``date('now', 'localtime')``: the
local date of the machine reading the file, as the commands use.

Changing a view later means a new schema version whose step drops and re-creates it
(and regenerating ``schema.sql``); ``VIEWS`` is the current definition.
"""

from __future__ import annotations

from textwrap import dedent, indent

from mfgctl.domain.reports import EXPECTED_OUTPUT

# The largest SQLite integer: products beyond it would silently become binary floats,
# so the valuation view checks before it multiplies.
INT64_MAX = 9223372036854775807
TODAY = "date('now', 'localtime')"
VALUED = "('internal', 'production')"


def decimal_text(x: str, scale: int = 6) -> str:
    """SQL: the integer expression ``x`` (in units of 10^-scale) as exact decimal text.

    ``x`` should be a plain column name (it is repeated). NULL stays NULL.
    """
    unit = 10**scale
    zeros = "0" * scale
    return (
        f"CASE WHEN {x} IS NULL THEN NULL ELSE "
        f"(CASE WHEN {x} < 0 THEN '-' ELSE '' END) || (abs({x}) / {unit}) || "
        f"rtrim(rtrim('.' || substr('{zeros}' || (abs({x}) % {unit}), -{scale}), '0'), '.') END"
    )


def _exact(columns: list[str], source: str, *, micro: bool = True, scale: int = 6) -> str:
    """Select-list lines: each column as decimal text (and its ``_micro`` integer)."""
    lines = []
    for c in columns:
        lines.append(f"{decimal_text(f'{source}.{c}', scale)} AS {c}")
        if micro:
            lines.append(f"{source}.{c} AS {c}_micro")
    return ",\n       ".join(lines)


def _local_day(stored: str) -> str:
    """SQL: a stored UTC timestamp's local date (seconds only: fractions never round up)."""
    return f"date(substr({stored}, 1, 19), 'localtime')"


def _days(later: str, earlier: str) -> str:
    """SQL: whole days between two dates, in integers (no julianday floats)."""
    return (
        f"((CAST(strftime('%s', {later}) AS INTEGER) "
        f"- CAST(strftime('%s', {earlier}) AS INTEGER)) / 86400)"
    )


# -- stock -----------------------------------------------------------------------------------

_STOCK_QTY = [
    "physical", "available", "reserved", "free", "expired", "pending_inspection",
    "awaiting_release", "blocked", "rejected", "rework", "wip", "on_order",
]  # fmt: skip
_STATUSES = ["pending_inspection", "available", "awaiting_release", "blocked", "rejected", "rework"]


def _expected_output() -> str:
    """``reports.EXPECTED_OUTPUT`` (what ``stock``'s ``on_order`` counts of an open
    production order), indented for the view."""
    return indent(dedent(EXPECTED_OUTPUT).strip(), " " * 22).lstrip()


def _stock() -> str:
    by_status = ",\n               ".join(
        f"sum(CASE WHEN l.kind = 'internal' AND b.status = '{s}' THEN b.qty ELSE 0 END) AS {s}"
        for s in _STATUSES
    )
    return f"""
WITH bal AS (
        SELECT b.item_id,
               sum(CASE WHEN l.kind = 'internal' THEN b.qty ELSE 0 END) AS physical,
               {by_status},
               sum(CASE WHEN l.kind = 'internal' AND b.status = 'available'
                         AND lt.expires_on < {TODAY} THEN b.qty ELSE 0 END) AS expired,
               sum(CASE WHEN l.kind = 'production' THEN b.qty ELSE 0 END) AS wip
          FROM balance AS b
          JOIN location AS l ON l.id = b.location_id
          LEFT JOIN lot AS lt ON lt.id = b.lot_id
         WHERE l.kind IN {VALUED} AND b.qty <> 0
         GROUP BY b.item_id
     ),
     held AS (
        SELECT r.item_id, sum(r.remaining) AS reserved
          FROM reservation AS r
          LEFT JOIN lot AS lt ON lt.id = r.lot_id
         WHERE r.state = 'open' AND r.remaining > 0
           AND (r.until_on IS NULL OR r.until_on >= {TODAY})
           AND (lt.expires_on IS NULL OR lt.expires_on >= {TODAY})
         GROUP BY r.item_id
     ),
     expected AS (
        SELECT item_id, sum(expected) AS on_order FROM (
            SELECT o.item_id, {_expected_output()} AS expected
              FROM production_order AS o
             WHERE o.state IN ('planned', 'released', 'in_progress')
            UNION ALL
            SELECT p.item_id, p.qty - p.received
              FROM purchase_order AS p
             WHERE p.state = 'open'
        )
         GROUP BY item_id
     ),
     s AS (
        SELECT i.id AS item_id, i.code, i.name, i.type, i.unit,
               ifnull(bal.physical, 0) AS physical,
               ifnull(bal.available, 0) AS available,
               ifnull(held.reserved, 0) AS reserved,
               ifnull(bal.available, 0) - ifnull(bal.expired, 0) - ifnull(held.reserved, 0)
                   AS free,
               ifnull(bal.expired, 0) AS expired,
               {", ".join(f"ifnull(bal.{s}, 0) AS {s}" for s in _STATUSES if s != "available")},
               ifnull(bal.wip, 0) AS wip,
               ifnull(expected.on_order, 0) AS on_order
          FROM item AS i
          LEFT JOIN bal ON bal.item_id = i.id
          LEFT JOIN held ON held.item_id = i.id
          LEFT JOIN expected ON expected.item_id = i.id
         WHERE bal.item_id IS NOT NULL OR expected.item_id IS NOT NULL
     )
SELECT s.code AS item, s.name, s.type, s.unit,
       {_exact(_STOCK_QTY, "s")}
  FROM s
 ORDER BY upper(s.code)"""


# -- work in progress ------------------------------------------------------------------------


def _wip_stage() -> str:
    return f"""
SELECT st.order_id, st.place, st.item, st.position, st.stage, st.workcenter,
       {_exact(["waiting", "passed", "rejected"], "st")}
  FROM (
        SELECT os.order_id, l.code AS place, i.code AS item, os.position, os.name AS stage,
               os.workcenter,
               ifnull(lag(os.good) OVER w, o.qty) - os.good - os.rejected AS waiting,
               os.good AS passed, os.rejected
          FROM order_stage AS os
          JOIN production_order AS o ON o.id = os.order_id
          JOIN location AS l ON l.id = o.location_id
          JOIN item AS i ON i.id = o.item_id
         WHERE o.state IN ('released', 'in_progress')
        WINDOW w AS (PARTITION BY os.order_id ORDER BY os.position)
       ) AS st
 ORDER BY st.order_id, st.position"""


def _wip() -> str:
    since = (
        "CASE WHEN o.state = 'in_progress' AND w.started IS NOT NULL "
        "THEN w.started ELSE o.created_at END"
    )
    return f"""
SELECT w.order_id, w.place, w.item, {decimal_text("w.qty")} AS qty, w.qty AS qty_micro,
       w.unit, w.state, w.stage,
       {_exact(["waiting", "finished"], "w")},
       {decimal_text("w.consumed_value", 12)} AS consumed_value,
       w.uncosted, w.age_days, w.age_from, w.due, w.late
  FROM (
        SELECT o.id AS order_id, l.code AS place, i.code AS item, o.qty, i.unit, o.state,
               CASE WHEN cur.stage IS NOT NULL THEN cur.stage
                    WHEN last.stage IS NOT NULL THEN 'done' END AS stage,
               ifnull(cur.waiting_micro, 0) AS waiting,
               last.passed_micro AS finished,
               (SELECT ifnull(sum(b.qty * it.std_cost), 0)
                  FROM balance AS b JOIN item AS it ON it.id = b.item_id
                 WHERE b.location_id = o.location_id AND b.qty <> 0
                   AND it.std_cost IS NOT NULL) AS consumed_value,
               (SELECT json_group_array(code) FROM (
                    SELECT DISTINCT it.code COLLATE BINARY AS code
                      FROM balance AS b JOIN item AS it ON it.id = b.item_id
                     WHERE b.location_id = o.location_id AND b.qty <> 0
                       AND it.std_cost IS NULL
                     ORDER BY 1)) AS uncosted,
               {_days(TODAY, _local_day(since))} AS age_days,
               CASE WHEN o.state = 'in_progress' AND w.started IS NOT NULL
                    THEN 'started' ELSE 'created' END AS age_from,
               o.due_on AS due, o.due_on < {TODAY} AS late,
               o.priority
          FROM production_order AS o
          JOIN location AS l ON l.id = o.location_id
          JOIN item AS i ON i.id = o.item_id
          LEFT JOIN (SELECT order_id, max(at) AS started FROM order_event
                      WHERE to_state = 'in_progress' AND from_state IS NOT 'in_progress'
                      GROUP BY order_id) AS w
                 ON w.order_id = o.id
          LEFT JOIN v_wip_stage AS cur
                 ON cur.order_id = o.id AND cur.position = (
                    SELECT min(position) FROM v_wip_stage AS s
                     WHERE s.order_id = o.id AND s.waiting_micro > 0)
          LEFT JOIN v_wip_stage AS last
                 ON last.order_id = o.id AND last.position = (
                    SELECT max(position) FROM v_wip_stage AS s WHERE s.order_id = o.id)
         WHERE o.state IN ('released', 'in_progress')
       ) AS w
 ORDER BY w.due, -w.priority, w.order_id"""


# -- reservations ----------------------------------------------------------------------------


def _reservations() -> str:
    return f"""
SELECT r.id, i.code AS item, l.code AS location, lt.code AS lot,
       {decimal_text("r.qty")} AS qty, r.qty AS qty_micro,
       {decimal_text("r.remaining")} AS remaining, r.remaining AS remaining_micro,
       i.unit, r.ref, r.order_id, r.priority, r.until_on AS until,
       CASE WHEN r.state = 'open' AND r.until_on IS NOT NULL AND r.until_on < {TODAY}
            THEN 'expired' ELSE r.state END AS status,
       datetime(substr(r.created_at, 1, 19), 'localtime') AS created_at, r.user
  FROM reservation AS r
  JOIN item AS i ON i.id = r.item_id
  JOIN location AS l ON l.id = r.location_id
  LEFT JOIN lot AS lt ON lt.id = r.lot_id
 ORDER BY r.id"""


# -- late orders -----------------------------------------------------------------------------


def _late_orders() -> str:
    from mfgctl.domain.supply_reports import needed_by_rows

    return f"""
SELECT x.kind, x.id, x.item, x.name, x.supplier,
       {_exact(["qty", "done", "remaining"], "x")},
       x.unit, x.state, x.due, {_days(TODAY, "x.due")} AS days_late, x.ref, x.needed_by
  FROM (
        SELECT 'production' AS kind, o.id, i.code AS item, i.name, NULL AS supplier,
               o.qty, g.good AS done, max(o.qty - g.good, 0) AS remaining, i.unit, o.state,
               o.due_on AS due, o.ref, NULL AS needed_by
          FROM production_order AS o
          JOIN item AS i ON i.id = o.item_id
          JOIN location AS l ON l.id = o.location_id
          JOIN (SELECT o2.id, ifnull((SELECT sum(m.qty) FROM move AS m
                                       WHERE m.ref = l2.code AND m.item_id = o2.item_id
                                         AND m.kind = 'output'), 0) AS good
                  FROM production_order AS o2 JOIN location AS l2 ON l2.id = o2.location_id
               ) AS g ON g.id = o.id
         WHERE o.state IN ('planned', 'released', 'in_progress') AND o.due_on < {TODAY}
        UNION ALL
        SELECT 'purchase', p.id, i.code, i.name, p.supplier, p.qty, p.received,
               p.qty - p.received, i.unit, p.state, p.due_on, p.ref,
               (SELECT json_group_array(what) FROM (
                    {needed_by_rows("p.item_id", 20)}
                     ORDER BY 1, 2))
          FROM purchase_order AS p
          JOIN item AS i ON i.id = p.item_id
         WHERE p.state = 'open' AND p.due_on < {TODAY}
       ) AS x
 ORDER BY x.kind, x.due, x.id"""


# -- valuation -------------------------------------------------------------------------------


def _half_even(n: str, d: str) -> str:
    """SQL: n / d rounded half-even, for integers n >= 0 and d > 0."""
    return (
        f"({n} / {d} + CASE WHEN 2 * ({n} % {d}) > {d} "
        f"OR (2 * ({n} % {d}) = {d} AND ({n} / {d}) % 2 = 1) THEN 1 ELSE 0 END)"
    )


def _fits(a: str, b: str) -> str:
    """SQL: a * b (both >= 0) stays within half the integer range."""
    return f"({b} = 0 OR {a} <= {INT64_MAX // 2} / {b})"


def _valuation() -> str:
    n = "(rp.held * rp.avg + mv.qty * mv.unit_cost)"
    d = "(rp.held + mv.qty)"
    costed = (
        f"CASE WHEN rp.held <= 0 OR rp.avg IS NULL THEN mv.unit_cost "
        f"WHEN {_fits('rp.held', 'rp.avg')} AND {_fits('mv.qty', 'mv.unit_cost')} "
        f"THEN {_half_even(n, d)} END"
    )
    # A scrap-only completion's material carried onto what is on hand (no quantity).
    carry = (
        "CASE WHEN rp.held <= 0 OR rp.avg IS NULL THEN rp.avg "
        f"WHEN {_fits('rp.held', 'rp.avg')} AND {_fits('mv.carried', '1000000')} "
        f"THEN {_half_even('(rp.held * rp.avg + mv.carried * 1000000)', 'rp.held')} END"
    )
    value_cols = ["value", *[c for c in _VALUE_STATUSES]]
    values = ",\n       ".join(f"{decimal_text(f'v.{c}', 12)} AS {c}" for c in value_cols)
    products = ",\n               ".join(
        f"CASE WHEN {_fits(f'abs(h.{q})', 'a.avg')} THEN h.{q} * a.avg END AS {c}"
        for c, q in [("value", "qty"), *[(s, s) for s in _VALUE_STATUSES]]
    )
    status_sums = ",\n                       ".join(
        f"sum(CASE WHEN {k} THEN b.qty ELSE 0 END) AS {s}"
        for s, k in [
            ("available", "l.kind = 'internal' AND b.status = 'available'"),
            ("wip", "l.kind = 'production'"),
            *[
                (s, f"l.kind = 'internal' AND b.status = '{s}'")
                for s in _VALUE_STATUSES
                if s not in ("available", "wip")
            ],
        ]
    )
    from mfgctl.domain.valuation import own_output

    # A completion stands for its own make and scrap moves of the product (the same rule
    # as valuation.replay): one inflow of its good units at its stored unit cost; a
    # scrap-only one that carries its material, an inflow of that value alone.
    return f"""
WITH RECURSIVE
     mv AS (
        SELECT item_id, qty, unit_cost, carried, inflow,
               row_number() OVER (PARTITION BY item_id ORDER BY effective_at, seq) AS n
          FROM (
                SELECT m.item_id, m.qty, m.unit_cost, NULL AS carried,
                       tl.kind IN {VALUED} AS inflow, m.effective_at, m.seq
                  FROM move AS m
                  JOIN location AS fl ON fl.id = m.from_location_id
                  JOIN location AS tl ON tl.id = m.to_location_id
                 WHERE (fl.kind IN {VALUED}) <> (tl.kind IN {VALUED})
                   AND NOT {own_output(23)}
                UNION ALL
                SELECT c.item_id, c.good, c.unit_cost, NULL, 1, c.effective_at, c.first_seq
                  FROM completion AS c
                 WHERE c.good > 0
                UNION ALL
                SELECT c.item_id, 0, NULL, c.carried, 1, c.effective_at, c.first_seq
                  FROM completion AS c
                 WHERE c.good = 0 AND c.carried > 0
               )
     ),
     rp (item_id, n, held, avg, basis) AS (
        SELECT DISTINCT mv.item_id, 0, 0, NULL, 'none' FROM mv
        UNION ALL
        SELECT rp.item_id, mv.n,
               rp.held + CASE WHEN mv.inflow THEN mv.qty ELSE -mv.qty END,
               CASE WHEN rp.basis = 'overflow' THEN NULL
                    WHEN NOT mv.inflow THEN rp.avg
                    WHEN mv.carried IS NOT NULL THEN {carry}
                    WHEN mv.unit_cost IS NOT NULL THEN {costed}
                    WHEN rp.avg IS NOT NULL THEN rp.avg
                    ELSE ifnull(it.std_cost, 0) END,
               CASE WHEN rp.basis = 'overflow' THEN 'overflow'
                    WHEN NOT mv.inflow THEN rp.basis
                    WHEN mv.carried IS NOT NULL
                    THEN CASE WHEN rp.held <= 0 OR rp.avg IS NULL THEN rp.basis
                              WHEN ({carry}) IS NULL THEN 'overflow' ELSE 'average' END
                    WHEN mv.unit_cost IS NOT NULL
                    THEN CASE WHEN ({costed}) IS NULL THEN 'overflow' ELSE 'average' END
                    WHEN rp.avg IS NOT NULL THEN rp.basis
                    WHEN it.std_cost IS NOT NULL THEN 'standard'
                    ELSE 'none' END
          FROM rp
          JOIN mv ON mv.item_id = rp.item_id AND mv.n = rp.n + 1
          JOIN item AS it ON it.id = rp.item_id
     ),
     a AS (
        SELECT rp.item_id, rp.avg, rp.basis FROM rp
          JOIN (SELECT item_id, max(n) AS n FROM rp GROUP BY item_id) AS last
            ON last.item_id = rp.item_id AND last.n = rp.n
     ),
     h AS (
        SELECT b.item_id, sum(b.qty) AS qty,
                       {status_sums}
          FROM balance AS b
          JOIN location AS l ON l.id = b.location_id
         WHERE l.kind IN {VALUED}
         GROUP BY b.item_id
        HAVING sum(b.qty) <> 0
     ),
     v AS (
        SELECT h.item_id, h.qty,
               CASE WHEN a.basis = 'overflow' THEN NULL ELSE ifnull(a.avg, 0) END AS average_cost,
               ifnull(a.basis, 'none') AS basis,
               {products}
          FROM h
          LEFT JOIN a ON a.item_id = h.item_id
     )
SELECT i.code AS item, i.name, i.unit,
       {decimal_text("v.qty")} AS qty, v.qty AS qty_micro,
       {decimal_text("v.average_cost")} AS average_cost, v.average_cost AS average_cost_micro,
       {values},
       v.basis
  FROM v
  JOIN item AS i ON i.id = v.item_id
 ORDER BY upper(i.code)"""


_VALUE_STATUSES = [
    "available", "wip", "pending_inspection", "blocked", "rejected", "rework", "awaiting_release",
]  # fmt: skip


# -- genealogy -------------------------------------------------------------------------------


def _genealogy() -> str:
    from mfgctl.domain.trace import GENEALOGY

    return f"""
SELECT o.id AS order_id, pl.code AS place,
       ii.code AS input_item, il.code AS input_lot,
       {decimal_text("g.input_qty")} AS input_qty, g.input_qty AS input_qty_micro,
       oi.code AS output_item, ol.code AS output_lot,
       {decimal_text("g.output_qty")} AS output_qty, g.output_qty AS output_qty_micro
  FROM ({GENEALOGY}) AS g
  JOIN location AS pl ON pl.id = g.order_location_id
  LEFT JOIN production_order AS o ON o.location_id = g.order_location_id
  JOIN item AS ii ON ii.id = g.input_item_id
  LEFT JOIN lot AS il ON il.id = g.input_lot_id
  LEFT JOIN item AS oi ON oi.id = g.output_item_id
  LEFT JOIN lot AS ol ON ol.id = g.output_lot_id
 ORDER BY o.id, upper(ii.code), upper(il.code), upper(oi.code), upper(ol.code)"""


# name -> SELECT, in creation order (v_wip reads v_wip_stage).
def views() -> dict[str, str]:
    """Every view's SELECT, keyed by name, in the order they must be created."""
    return {
        "v_stock": _stock(),
        "v_wip_stage": _wip_stage(),
        "v_wip": _wip(),
        "v_reservations": _reservations(),
        "v_late_orders": _late_orders(),
        "v_valuation": _valuation(),
        "v_genealogy": _genealogy(),
    }


def ddl() -> str:
    """The CREATE VIEW statements, exactly as ``schema.sql`` holds them."""
    return "\n\n".join(f"CREATE VIEW {name} AS{select};" for name, select in views().items())


def statements() -> list[str]:
    """The CREATE VIEW statements one by one (for a migration step)."""
    return [f"CREATE VIEW {name} AS{select}" for name, select in views().items()]


def statement(name: str) -> str:
    """One view's CREATE VIEW statement (for a step that re-creates it)."""
    return f"CREATE VIEW {name} AS{views()[name]}"


if __name__ == "__main__":  # python -m mfgctl.domain.views: the text for schema.sql
    print(ddl())
