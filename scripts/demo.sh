#!/usr/bin/env bash
# make demo: start a simulated 25-printer fleet, then plan, apply and plan
# again with the quickstart configuration. The last plan must find nothing
# to do (exit 0 with -detailed-exitcode).
set -euo pipefail
bin=${1:-bin/inkform}
config=examples/quickstart
base_port=${INKFORM_DEMO_BASE_PORT:-16101}

work=$(mktemp -d)
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "inkform sim --printers 25 --base-port $base_port"
"$bin" sim --printers 25 --listen 127.0.0.1 --base-port "$base_port" --print-rate 0 >"$work/sim.log" 2>&1 &
sim_pid=$!
# Wait for the simulator's "ready" line (bounded), not a fixed sleep.
for _ in $(seq 1 100); do
  grep -q '^ready' "$work/sim.log" 2>/dev/null && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.log"; exit 1; }
  sleep 0.1
done
grep -q '^ready' "$work/sim.log" || { echo "simulator did not become ready"; cat "$work/sim.log"; exit 1; }
head -n 1 "$work/sim.log"

# The write community is a sensitive variable: it comes from the environment.
export INKFORM_VAR_snmp_community=private
rm -f "$config"/inkform.db "$config"/inkform.db-wal "$config"/inkform.db-shm

step "inkform validate"
"$bin" validate -config "$config"

step "inkform plan"
"$bin" plan -config "$config"

step "inkform apply -auto-approve"
"$bin" apply -config "$config" -auto-approve

step "inkform plan -detailed-exitcode"
set +e
"$bin" plan -config "$config" -detailed-exitcode
code=$?
set -e
echo
if [ "$code" = 0 ]; then
  echo "Converged: the second plan found no changes (exit 0)."
else
  echo "The second plan exited $code; expected 0."
  exit 1
fi
