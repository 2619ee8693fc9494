#!/bin/sh
# Checks a systemd unit as installed: `systemd-analyze verify` must accept it and its exposure
# score (`systemd-analyze security`, 0 = locked down, 10 = exposed) must stay below 3.5.
#   usage: check-unit.sh UNIT-FILE
set -eu
unit=$1
systemd-analyze verify "$unit"
# --threshold is ten times the score: exit status non-zero above 3.4.
status=0
report=$(systemd-analyze security --offline=true --threshold=34 "$unit") || status=$?
echo "$report" | tail -n 1
exit "$status"
