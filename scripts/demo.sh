#!/usr/bin/env bash
# make demo: start a simulated 25-printer fleet on free ports, then plan,
# apply and plan again with the quickstart configuration. The demo succeeds
# only if the last plan checked every printer and found nothing to do.
set -euo pipefail
bin=${1:-bin/inkform}
printers=25

work=$(mktemp -d)
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Bold and red only on a terminal that wants them (https://no-color.org).
bold="" red="" reset=""
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-dumb}" != dumb ]; then
  bold=$'\033[1m' red=$'\033[1;31m' reset=$'\033[0m'
fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$reset"; }
fail() { printf '\n%sDemo failed:%s %s\n' "$red" "$reset" "$*"; exit 1; }

# The quickstart configuration, with the simulated fleet as its printers.csv:
# the simulator picks free ports and says where its printers are.
config="$work/quickstart"
mkdir -p "$config"
cp examples/quickstart/main.hcl "$config/"

step "inkform sim --printers $printers --base-port 0 --write-csv sim.csv"
# INKFORM_DEMO_SIM_ARGS adds simulator flags (its test makes printers offline).
# shellcheck disable=SC2086
"$bin" sim --printers "$printers" --listen 127.0.0.1 --base-port 0 --print-rate 0 \
  --write-csv "$work/sim.csv" ${INKFORM_DEMO_SIM_ARGS:-} >"$work/sim.log" 2>&1 &
sim_pid=$!
# Wait for the simulator's "ready" line (bounded), not a fixed sleep.
for _ in $(seq 1 100); do
  grep -q '^ready' "$work/sim.log" 2>/dev/null && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.log"; fail "the simulator stopped"; }
  sleep 0.1
done
grep -q '^ready' "$work/sim.log" || { cat "$work/sim.log"; fail "the simulator did not become ready"; }
head -n 1 "$work/sim.log"

# printers.csv as examples/quickstart has it: the first 15 printers at
# headquarters, the rest in the warehouse.
awk -F, 'NR == 1 { print "name,address,serial,site,room"; next }
         { site = (NR <= 16) ? "hq" : "wh"; printf "%s,%s,%s,%s,Room %d\n", $1, $2, $3, site, NR - 1 }' \
  "$work/sim.csv" >"$config/printers.csv"
[ "$(($(wc -l <"$config/printers.csv") - 1))" = "$printers" ] || fail "printers.csv does not list $printers printers"

# The write community is a sensitive variable: it comes from the environment.
export INKFORM_VAR_snmp_community=private

step "inkform validate"
"$bin" validate -config "$config"

step "inkform plan"
"$bin" plan -config "$config"

step "inkform apply -auto-approve"
"$bin" apply -config "$config" -auto-approve

step "inkform plan -detailed-exitcode -require-all"
set +e
"$bin" plan -config "$config" -detailed-exitcode -require-all
code=$?
set -e
echo
# -require-all: exit 1 unless every printer was checked, so 0 means every
# printer was read and matches.
[ "$code" = 0 ] || fail "the second plan exited $code; expected 0 (every printer checked, no changes)."
echo "Converged: all $printers printers checked, and the second plan found no changes (exit 0)."
