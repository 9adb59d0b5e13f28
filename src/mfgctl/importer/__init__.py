"""YAML import and export: items, BOMs, routings, work centres, locations, opening
stock, lots, demand and purchase orders.

An import is one or more YAML files, each holding one or more documents. A document is
a mapping with any of nine sections, each a list of records::

    locations: [{code: QC, name: Incoming inspection}, {code: MAIN, was: STORES}]
    workcenters: [{code: ASSY, name: Assembly, machines: 2, hours: 8, day_start: '06:00',
                   rate: 45.5, downtime: [{from: 2025-08-04, to: 2025-08-16,
                                           reason: Summer holiday}]}]
    items:     [{code: MIC-100, name: MEMS microphone, type: component, unit: pcs, ...}]
    boms:      [{item: HD-200, revision: A, lines: [{item: MIC-100, qty: 2, unit: pcs}]}]
    routings:  [{item: HD-200, stages: [{name: assembly, workcenter: ASSY, setup_min: 15,
                                         run_min: 12}, {name: qc}]}]
    stock:     [{item: MIC-100, qty: 5000, location: STORES, lot: L2401}]
    lots:      [{item: HD-200, serials: [SN-0001, SN-0002]}]
    demand:    [{item: HD-200, qty: 40, due: 2025-07-01, kind: sales, ref: SO-1042}]
    purchase_orders: [{item: MIC-100, qty: 1, unit: reel, due: 2025-06-20,
                       supplier: Knowles, unit_cost: 0.85}]

All files are read and every record is validated before anything is written; then
everything is written in the caller's one transaction, in the order locations, work
centres, items, BOMs, routings, stock, lots, demand, purchase orders. Every problem found is
reported (``ImportInvalid``), each naming the file, the line and the field:
``items.yaml:14: items[3].lead_time_days: must be ...``.

Defaults: a BOM without ``revision`` is revision ``A``, ``output_qty`` 1, ``active``
true; a line without ``unit`` is in the child's base unit. Opening stock goes to
``STORES``, into ``pending_inspection`` if the item is inspected on receipt, else
``available``; a lot-tracked item needs ``lot``, a serial-tracked one ``serials``. A
location with ``was`` renames the location ``was`` to its ``code`` when the database
has ``was`` and not ``code`` (``load``).

Importing is idempotent: a record equal to what is stored changes nothing. A changed
item is updated field by field (a key the record leaves out keeps its value); a changed
BOM becomes a new revision (``bom.save``); a changed routing replaces the stored one
(released orders keep their own stages); an opening balance already posted with the same
quantity is left alone, and one posted with a different quantity is refused (stock is
corrected with ``stock count``/``adjust``); a demand record or purchase order the same
as a stored one (``planning``) is not added again. A changed work centre is updated; its
downtime windows not stored yet are added (``workcenters``); a lot or serial already
recorded is not added again (``lots``).

Modules: ``yamlread`` reads YAML into plain data with line numbers; ``load`` validates
and writes (with ``workcenters``, ``boms``, ``routings``, ``opening``, ``lots`` and
``planning`` for those sections, ``records`` for messages and results); ``exporter`` writes the
database back in the same format, so export -> import into a new database -> export
gives the same text.
"""

from mfgctl.importer.boms import DEFAULT_REVISION
from mfgctl.importer.exporter import export, export_data
from mfgctl.importer.load import LOCATION_KEYS, run
from mfgctl.importer.lots import LOT_KEYS
from mfgctl.importer.opening import DEFAULT_LOCATION, STOCK_KEYS
from mfgctl.importer.planning import DEMAND_KEYS, PURCHASE_KEYS
from mfgctl.importer.records import KINDS, SECTIONS, Change, Result
from mfgctl.importer.yamlread import Document, Record, Seq, parse, read_files

__all__ = [
    "DEFAULT_LOCATION",
    "DEFAULT_REVISION",
    "DEMAND_KEYS",
    "KINDS",
    "LOCATION_KEYS",
    "LOT_KEYS",
    "PURCHASE_KEYS",
    "SECTIONS",
    "STOCK_KEYS",
    "Change",
    "Document",
    "Record",
    "Result",
    "Seq",
    "export",
    "export_data",
    "parse",
    "read_files",
    "run",
]
