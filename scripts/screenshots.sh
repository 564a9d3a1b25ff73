#!/usr/bin/env bash
# make screenshots: the README's pictures. A simulated fleet on free ports,
# one printer offline; a configuration is applied, then changed, and the
# plan of that change is photographed twice with headless Chromium: as a
# colour terminal shows it (docs/img/plan-terminal.png) and as the Markdown
# plan comment reads in a pull request (docs/img/plan-comment.png).
# Then the status page (docs/img/status-*.png): watch/web's browser test
# logs in, opens a printer and acknowledges an alert, photographing each
# page into the output directory.
# Needs chromium and util-linux's script (for a terminal); talks only to
# loopback.
set -euo pipefail
out=${1:-docs/img}
chromium=${CHROMIUM:-chromium}
go=${GO:-go}
command -v "$chromium" >/dev/null || { echo "screenshots: $chromium not found (apt-get install chromium)" >&2; exit 1; }
command -v script >/dev/null || { echo "screenshots: script not found (apt-get install util-linux)" >&2; exit 1; }

work=$(mktemp -d)
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$go" build -o "$work/inkform" ./cmd/inkform
"$go" build -o "$work/screenshots" ./internal/screenshots
inkform=$work/inkform

# Four printers, the first offline; only PJL besides SNMP (paper size
# travels over PJL). The simulator says "ready" once every port is bound:
# read its output through a FIFO until then, with a deadline.
mkfifo "$work/sim.out"
"$inkform" sim --printers 4 --offline 1 --listen 127.0.0.1 --base-port 0 --print-rate 0 \
  --services pjl --write-hcl "$work/sim.hcl" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
exec 3<"$work/sim.out"
ready=""
while IFS= read -r -t 30 line <&3; do
  if [ "$line" = ready ]; then ready=1; break; fi
done
[ -n "$ready" ] || { cat "$work/sim.err" >&2; echo "screenshots: the simulator did not become ready" >&2; exit 1; }

# printers.csv from the simulator's configuration: three printers at
# headquarters, one in the warehouse.
config=$work/fleet
mkdir -p "$config"
awk '
  BEGIN { print "name,address,serial,pjl,site,room" }
  /^printer "/ { name = $2; gsub(/"/, "", name) }
  /^  address / { addr = $3; gsub(/"/, "", addr) }
  /^  serial / { serial = $3; gsub(/"/, "", serial) }
  /^    pjl / { pjl = $3 }
  /^}/ && name != "" {
    n++; site = (n <= 3) ? "hq" : "wh"
    printf "%s,%s,%s,%s,%s,Room %d\n", name, addr, serial, pjl, site, 200 + n
    name = ""
  }' "$work/sim.hcl" >"$config/printers.csv"
[ "$(wc -l <"$config/printers.csv")" = 5 ] || { cat "$config/printers.csv" >&2; echo "screenshots: expected 4 printers" >&2; exit 1; }

common='credentials "fleet" {
  snmp {
    version   = "2c"
    community = "private"
    timeout   = "1s"
    retries   = 1
  }
}
'

# What the fleet had: headquarters' contact, paper and sleep timeout.
cat >"$config/main.hcl" <<HCL
$common
configuration "office" {
  contact    = "IT Service Desk x4000"
  transports = ["snmp", "pjl"]
  settings = {
    "paper.default_size"      = "A4"
    "power.sleep_timeout_min" = 15
  }
}

printer "office" {
  for_each = { for r in csvdecode(file("printers.csv")) : r.name => r if r.site == "hq" }

  address       = each.value.address
  serial        = each.value.serial
  ports         = { pjl = tonumber(each.value.pjl) }
  configuration = configuration.office
  credentials   = credentials.fleet
}
HCL
"$inkform" apply -config "$config" -auto-approve >"$work/apply.log" 2>&1 || { cat "$work/apply.log" >&2; exit 1; }

# The change under review: a new helpdesk number, rooms as locations, a
# longer sleep timeout, and the warehouse printer on Letter paper.
cat >"$config/main.hcl" <<HCL
$common
configuration "office" {
  contact    = "IT Service Desk x4100"
  transports = ["snmp", "pjl"]
  settings = {
    "paper.default_size"      = "A4"
    "power.sleep_timeout_min" = 30
  }
}

configuration "warehouse" {
  contact    = "Warehouse Operations x5100"
  location   = "Warehouse, loading dock"
  transports = ["snmp", "pjl"]
  settings = {
    "paper.default_size" = "Letter"
  }
}

printer "office" {
  for_each = { for r in csvdecode(file("printers.csv")) : r.name => r if r.site == "hq" }

  address       = each.value.address
  serial        = each.value.serial
  location      = "Headquarters, \${each.value.room}"
  ports         = { pjl = tonumber(each.value.pjl) }
  configuration = configuration.office
  credentials   = credentials.fleet
}

printer "warehouse" {
  for_each = { for r in csvdecode(file("printers.csv")) : r.name => r if r.site == "wh" }

  address       = each.value.address
  serial        = each.value.serial
  ports         = { pjl = tonumber(each.value.pjl) }
  configuration = configuration.warehouse
  credentials   = credentials.fleet
}
HCL

# Colour only on a terminal: script gives plan one (stdin and stdout).
cmd="cd '$work' && '$inkform' plan -config fleet"
{
  printf '\033[32m$\033[0m inkform plan -config fleet\n'
  env -u NO_COLOR TERM=xterm-256color script -qec "$cmd" /dev/null </dev/null
} >"$work/plan.ansi"
(cd "$work" && "$inkform" plan -config fleet -markdown) >"$work/plan.md"
grep -q '\[32m' "$work/plan.ansi" || { cat "$work/plan.ansi" >&2; echo "screenshots: the plan has no colours" >&2; exit 1; }
grep -q '<details>' "$work/plan.md" || { cat "$work/plan.md" >&2; echo "screenshots: the Markdown plan has no diff" >&2; exit 1; }

"$work/screenshots" terminal -title "inkform plan" <"$work/plan.ansi" >"$work/terminal.html"
"$work/screenshots" markdown -title "github-actions bot commented" <"$work/plan.md" >"$work/comment.html"

shoot() { # html png width
  "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/chromium" --default-background-color=00000000 \
    --force-device-scale-factor=1.5 --window-size="$3,2000" --screenshot="$2" "file://$1" \
    >"$work/chromium.log" 2>&1 || { cat "$work/chromium.log" >&2; exit 1; }
  "$work/screenshots" trim -pad 24 "$2"
}
mkdir -p "$out"
shoot "$work/terminal.html" "$out/plan-terminal.png" 880
shoot "$work/comment.html" "$out/plan-comment.png" 900
ls -l "$out/plan-terminal.png" "$out/plan-comment.png"

# The status page, photographed by its browser test.
INKFORM_SCREENSHOTS_DIR="$(cd "$out" && pwd)" INKFORM_REQUIRE_INTEGRATION=1 \
  "$go" test -count=1 -run '^TestBrowser$' ./watch/web/ >"$work/browser.log" 2>&1 || { cat "$work/browser.log" >&2; exit 1; }
ls -l "$out"/status-*.png
