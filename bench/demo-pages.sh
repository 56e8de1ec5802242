#!/usr/bin/env bash
# Server time of the main portal pages with the demo data: start a release
# `tier0 serve --demo` on a temporary SQLite data directory, sign the demo
# requester in through the sign-in form, and load each page with wrk. For
# every page: wrk's throughput and p50/p99 (client side, loopback included)
# and, from the server's own `/metrics` histogram for the route, the share
# of requests served within 1 ms and within 5 ms.
#
#   bench/demo-pages.sh [DURATION_SECS] [CONNECTIONS]     # defaults: 10 4
#
# Needs: a release build (cargo build --release -p tier0), wrk, curl, jq.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNS="${2:-4}"
. bench/lib.sh
need wrk curl jq
serve_tmp --demo
PW="sunny lemon harbour"

JAR="$DATA/jar"
curl -sf -c "$JAR" -o /dev/null -X POST "$BASE/login" --data-urlencode "email=requester@example.com" --data-urlencode "password=$PW"
COOKIE=$(awk '$6 == "tier0_session" { print $7 }' "$JAR")
[ -n "$COOKIE" ] || { echo "sign-in failed" >&2; exit 1; }
TOKEN=$(curl -sf -H 'content-type: application/json' -X POST "$BASE/api/auth/login" \
  -d "{\"email\":\"requester@example.com\",\"password\":\"$PW\"}" | jq -r .token)
API=(-H "authorization: Bearer $TOKEN")
REQ=$(curl -sf "${API[@]}" "$BASE/api/itsm/requests?limit=1" | jq -r '.items[0].id')
ART=$(curl -sf "${API[@]}" -H 'content-type: application/json' -X POST "$BASE/api/itsm/kedb/search" -d '{"query":"reset password"}' \
  | jq -r '[.items[] | select(.url | startswith("/portal/knowledge/"))][0].url')

# label | path | route as /metrics names it
PAGES=(
  "Service Catalog|/portal|/portal"
  "Knowledge search|/portal/knowledge?q=vpn%20not%20connecting|/portal/knowledge"
  "Article|$ART|/portal/knowledge/{id}"
  "My Requests|/portal/requests|/portal/requests"
  "Request detail|/portal/requests/$REQ|/portal/requests/{id}"
  "Status|/portal/status|/portal/status"
)

bucket() { # route le -> count
  curl -s "$BASE/metrics" | grep "tier0_http_request_duration_seconds_bucket" | grep "route=\"$1\"" | grep "le=\"$2\"" \
    | awk '{s += $2} END {print s + 0}'
}

echo "# machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# date: $(date -u +%FT%TZ); demo data; signed-in requester; wrk -t$(( CONNS < 2 ? CONNS : 2 )) -c$CONNS -d${DURATION}s --latency"
echo
echo "| page | HTML | req/s | p50 | p99 | server ≤ 1 ms | server ≤ 5 ms |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for p in "${PAGES[@]}"; do
  IFS='|' read -r label path route <<<"$p"
  code=$(curl -s -o "$DATA/page" -w '%{http_code}' -H "cookie: tier0_session=$COOKIE" "$BASE$path")
  [ "$code" = 200 ] || { echo "$path answered $code" >&2; exit 1; }
  bytes=$(wc -c <"$DATA/page")
  c0=$(bucket "$route" "+Inf"); a0=$(bucket "$route" "0.001"); b0=$(bucket "$route" "0.005")
  out=$(wrk -t"$(( CONNS < 2 ? CONNS : 2 ))" -c"$CONNS" -d"${DURATION}s" --latency -H "cookie: tier0_session=$COOKIE" "$BASE$path")
  if grep -qE "Non-2xx" <<<"$out"; then echo "errors on $path: $(grep Non-2xx <<<"$out")" >&2; fi
  c1=$(bucket "$route" "+Inf"); a1=$(bucket "$route" "0.001"); b1=$(bucket "$route" "0.005")
  n=$((c1 - c0))
  printf '| %s | %.1f KB | %s | %s | %s | %s %% | %s %% |\n' "$label" "$(awk -v b="$bytes" 'BEGIN {print b / 1024}')" \
    "$(awk '/^Requests\/sec/ {printf "%\047.0f", $2}' <<<"$out")" \
    "$(awk '/^ +50%/ {print $2}' <<<"$out")" "$(awk '/^ +99%/ {print $2}' <<<"$out")" \
    "$(awk -v a=$((a1 - a0)) -v n="$n" 'BEGIN {printf "%.2f", n ? 100 * a / n : 0}')" \
    "$(awk -v b=$((b1 - b0)) -v n="$n" 'BEGIN {printf "%.2f", n ? 100 * b / n : 0}')"
done
