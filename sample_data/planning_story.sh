#!/bin/sh
# The planning story that `make demo` runs after the production story (see README):
# customer orders and a forecast arrive, a purchase order is already open, and MRP
# says what to make and buy and when, what is short and which customer order it
# endangers; then why (explain) and the time-phased record of the short chip.
# Usage: planning_story.sh MFGCTL DATABASE START-DATE
set -eu
BIN=$1
DB=$2
START=$3
PY="$(dirname "$BIN")/python"
m() { echo "\$ mfgctl $*"; "$BIN" --db "$DB" --user demo "$@"; }
day() { "$PY" -c 'import datetime as d, sys; print(d.date.fromisoformat(sys.argv[1]) + d.timedelta(int(sys.argv[2])))' "$START" "$1"; }

m demand add HD-300 500 --due "$(day 21)" --kind sales --ref SO-2001 -f plain
m demand add HD-200 40 --due "$(day 14)" --kind forecast -f plain
m demand add HD-200 25 --due "$(day 16)" --kind sales --ref SO-2002 -f plain
m purchase add PCB-FLX-30 200 --due "$(day 40)" --supplier "Flexline GmbH" -f plain
echo "== MRP from $START: shortages, planned orders, exceptions"
m mrp --start "$START" --horizon 56 || true
m mrp explain PCB-FLX-30 --start "$START" --horizon 56
m mrp grid PCB-FLX-30 --start "$START" --horizon 56
