#!/bin/sh
# The recall story that `make demo` runs after the production and planning stories:
# two of the released HD-200 devices are shipped to a customer; then the battery
# supplier reports lot ZA312-2410 defective. One command traces the lot forward and
# puts every affected unit still in house on hold (the batteries in stores and the
# devices built with them), cancels their reservations and lists the shipped devices
# by customer; running it again changes nothing. The customer sends one of the shipped
# devices back: it comes back blocked, and the shipment shows what returned.
# Usage: recall_story.sh MFGCTL DATABASE
set -eu
BIN=$1
DB=$2
m() { echo "\$ mfgctl $*"; "$BIN" --db "$DB" --user demo "$@"; }
YY=$(date +%y)  # the serial pattern HD2-{yy}-{seq:05} numbers by the current year

m ship HD-200 2 --to "Hoerwelt GmbH" --ref SO-1001 --serials "HD2-$YY-00001,HD2-$YY-00002" -f plain
echo "== The battery supplier reports lot ZA312-2410 defective: where did it go?"
m trace ZA312-2410 --item BAT-312 --forward
echo "== Recall: hold everything made from it that is still in house"
m trace ZA312-2410 --item BAT-312 --forward --hold --reason "supplier: cell leakage, lot ZA312-2410"
m stock --item HD-200 --by-lot -f plain
echo "== Hoerwelt GmbH sends one recalled device back: it is held like the rest"
m return SHIP-1 1 --serial "HD2-$YY-00001" --status blocked --reason "recall ZA312-2410" -f plain
m shipments --customer "Hoerwelt GmbH"
m check --quick > /dev/null
