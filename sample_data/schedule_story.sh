#!/bin/sh
# The scheduling story that `make demo` runs after the recall story: fresh electronics
# modules and batteries arrive, and four production orders meet the work centres. The
# acoustic test booth works two hours a day (sample_data/workcenters.yaml): of three
# HD-200 orders one finishes late for capacity; the HD-300 order waits for electronics
# modules that are not in stock (MRP's planned order must come first), and an HD-200
# order may wait for modules the earlier sales orders already claim.
# Usage: schedule_story.sh MFGCTL DATABASE START (a Monday, YYYY-MM-DD)
set -eu
BIN=$1
DB=$2
START=$3
PY="$(dirname "$BIN")/python"
m() { echo "\$ mfgctl $*"; "$BIN" --db "$DB" --user demo "$@"; }
day() { "$PY" -c 'import datetime as d, sys; print(d.date.fromisoformat(sys.argv[1]) + d.timedelta(int(sys.argv[2])))' "$START" "$1"; }

m stock receive EM-200 60 --lot EM2-2603-B --cost 41.50 --ref DN-4471 -f plain
m stock receive BAT-312 500 --lot ZA312-2502 --cost 0.42 --ref DN-4472 -f plain
m order create HD-200 20 --due "$(day 1)" --ref SO-3001 -f plain > /dev/null
m order create HD-200 20 --due "$(day 1)" --ref SO-3002 -f plain > /dev/null
m order create HD-200 20 --due "$(day 2)" --ref SO-3003 -f plain > /dev/null
m order create HD-300 10 --due "$(day 3)" --ref SO-3004 -f plain > /dev/null
echo "== Schedule from $START 07:00: Gantt chart, orders, utilisation, late orders"
m schedule --start "$START 07:00" --horizon 14
