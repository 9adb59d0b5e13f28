#!/bin/sh
# The production story that `make demo` runs on the sample data (see README):
# an order for five HD-200 hearing devices is created, released (its materials
# reserved), started, consumed into WIP, advanced through its seven stages, completed
# with generated serials, inspected (one unit fails), signed off and released, then
# closed; the stock report before and after shows what moved.
# Usage: production_story.sh MFGCTL DATABASE DUE-DATE (the mfgctl executable and a
# database freshly loaded with sample_data/*.yaml)
set -eu
BIN=$1
DB=$2
DUE=$3
m() { echo "\$ mfgctl $*"; "$BIN" --db "$DB" --user demo "$@"; }
ITEMS="HD-200 EM-200 SHL-200-BTE BAT-312"
report() { for i in $ITEMS; do "$BIN" --db "$DB" stock --item "$i" -f plain | tail -n +2; done; }

echo "== Stock before (item, name, type, unit, physical, available, reserved, free, expired, pending_inspection, awaiting_release, blocked, rejected, rework, wip, on_order)"
report
m order create HD-200 5 --due "$DUE" --ref SO-1001 -f plain
m order release 1 -f plain
m order start 1
m consume 1 -f plain > /dev/null
m stock --item EM-200 -f plain
for stage in assembly calibration acoustic_test qc cleaning labeling packaging; do
    m order advance 1 --stage "$stage" --good 5 -f plain > /dev/null
done
m wip
m order complete 1 --qty 5 --auto-serials -f plain > /dev/null
YY=$(date +%y)  # the serial pattern HD2-{yy}-{seq:05} numbers by the current year
m inspect HD-200 --serial "HD2-$YY-00005" --fail --note "feedback whistle at 4 kHz" -f plain
for n in 1 2 3 4; do
    serial="HD2-$YY-0000$n"
    m inspect HD-200 --serial "$serial" --pass --measure gain_db=42.5 -f plain > /dev/null
    m release check "$serial" acoustic_test --item HD-200
    m release check "$serial" labeling --item HD-200
done
m release status
for n in 1 2 3 4; do m release "HD2-$YY-0000$n" --item HD-200 -f plain > /dev/null; done
m order close 1
echo "== Stock after"
report
m check
