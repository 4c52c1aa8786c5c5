#!/usr/bin/env bash
# Load benchmark of the web app: 50 concurrent clients on loopback, pages and API mixed, over a
# profiles folder (the 1.1M store's by default). Target (issue 7): p95 ≤ 100 ms.
#
#   bash bench/web.sh [PROFILES_DIR] [SECONDS]
#
# Needs wrk (Debian: apt-get install wrk) and a release build of phm. Prints wrk's summary and
# the percentiles for three mixes: pages only, API only, and both.
set -euo pipefail
cd "$(dirname "$0")/.."
profiles="${1:-data/profiles}"
seconds="${2:-30}"
phm="${PHM:-./target/release/phm}"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 2; }
work="$(mktemp -d)"
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
"$phm" serve --profiles "$profiles" --accounts "$work/accounts" --port 0 --insecure-cookies >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "http://" "$work/serve.log" && break; sleep 0.2; done
url="$(grep -o 'http://[0-9.:]*' "$work/serve.log" | head -1)"
[ -n "$url" ] || { cat "$work/serve.log" >&2; exit 1; }
echo "server: $url (peak memory is reported at the end)"

# The paths a session visits: every place and neighbourhood page, indicator pages by area,
# inequalities, and the API calls a client makes for the same figures.
curl -s "$url/api/areas" | python3 -c '
import json, sys
areas = json.load(sys.stdin)["areas"]
inds = ["mmr1_by_24_months", "premature_mortality_under_75", "smoking_prevalence", "life_expectancy_male", "emergency_admissions_under_18"]
pages, api = ["/", "/indicators", "/data-quality", "/inequalities"], []
for a in areas:
    pages.append("/areas/" + a["code"])
    for i in inds[:2]:
        pages.append("/indicators/%s?area=%s" % (i, a["code"]))
    api.append("/api/profiles?area=%s&breakdown=all" % a["code"])
    api.append("/api/trends?indicator=%s&area=%s" % (inds[0], a["code"]))
    api.append("/api/population?area=%s" % a["code"])
for a in areas[:5]:
    pages.append("/inequalities?indicator=%s&area=%s" % (inds[1], a["code"]))
api += ["/api/indicators", "/api/areas", "/api/area-types"]
open(sys.argv[1], "w").write("\n".join(pages) + "\n")
open(sys.argv[2], "w").write("\n".join(api) + "\n")
open(sys.argv[3], "w").write("\n".join(pages + api) + "\n")
' "$work/pages" "$work/api" "$work/mixed"

# Cold: each path once, one client, before anything is cached (the cost of rendering).
echo "== cold: every path once, one client (rendered, not cached)"
while read -r path; do curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$url$path"; done <"$work/mixed" | python3 -c '
import sys
rows = [tuple(map(float, l.split())) for l in sys.stdin]
t = sorted(r[0] * 1000 for r in rows)
q = lambda p: t[min(len(t) - 1, int(p * len(t)))]
print("%d paths: p50 %.1f  p95 %.1f  max %.1f ms; mean page %.0f KB" % (len(t), q(0.5), q(0.95), t[-1], sum(r[1] for r in rows) / len(rows) / 1024))'

# Warm: 50 clients; anonymous pages and API answers are served from the app's cache after
# their first render (the released tables do not change while it runs).
for mix in pages api mixed; do
  echo "== $mix: $(wc -l <"$work/$mix") paths, 50 connections, 2 threads, ${seconds}s"
  PATHS_FILE="$work/$mix" wrk -t2 -c50 -d"${seconds}s" --timeout 10s -s bench/web.lua "$url" | tail -2
done
echo "server peak memory: $(grep VmHWM /proc/$server/status | awk '{printf "%.0f MiB", $2/1024}')"
