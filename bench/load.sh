#!/usr/bin/env bash
# The load matrix: every hot endpoint at 1, 16 and 64 connections on one
# server holding a realistic tenant plus ROWS historic requests, with the
# server's RSS idle and under load and the cold start to the first 200.
#
#   bench/load.sh [ROWS] [SECONDS]          # defaults: 1000000 10
#
# Endpoints (all as a signed-in requester unless noted):
#   portal page      GET /portal (Service Catalog tab, session cookie)
#   catalog API      GET /api/itsm/catalog
#   request detail   GET /api/itsm/requests/{id} (own request, with timeline)
#   KB search        POST /api/itsm/kedb/search (rotating real queries)
#   request create   POST /api/itsm/requests (durable: acknowledged after commit)
#   queue list       GET /api/itsm/requests?limit=50 as an agent, over ROWS
#
# Needs a release build (cargo build --release -p tier0), wrk, curl, jq,
# python3. Starts its own server on a fresh SQLite data directory, removed
# at the end; it never touches real data. Prints a Markdown table.
set -euo pipefail
ROWS=${1:-1000000}
SECS=${2:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${TIER0_BIN:-${CARGO_TARGET_DIR:-$HERE/../target}/release/tier0}
PORT=${PORT:-18090}
BASE="http://127.0.0.1:$PORT"
DIR=$(mktemp -d /tmp/tier0-load.XXXXXX)
PID=""
PW="correct horse battery staple 42"

for t in wrk curl jq python3; do command -v "$t" >/dev/null || { echo "needs $t" >&2; exit 1; }; done
[ -x "$BIN" ] || { echo "no release binary at $BIN (cargo build --release -p tier0)" >&2; exit 1; }

stop() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; fi; }
trap 'stop; rm -rf "$DIR"' EXIT

# Start the server; sets COLD to the milliseconds from exec to the first
# 200 (run in this shell, not a subshell, so PID stays known).
start() {
  local t0 t1
  t0=$(date +%s%N)
  TIER0_LOG=warn "$BIN" serve --data-dir "$DIR" --listen "127.0.0.1:$PORT" >>"$DIR/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 4000); do
    if curl -fs -o /dev/null "$BASE/readyz"; then
      t1=$(date +%s%N)
      COLD=$(((t1 - t0) / 1000000))
      return
    fi
    sleep 0.005
  done
  echo "server did not start" >&2; cat "$DIR/server.log" >&2; exit 1
}
rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$PID/status"; }

j() { curl -fsS -H 'content-type: application/json' "$@"; }

echo "# machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "# date: $(date -u +%FT%TZ); rows: $ROWS; $SECS s per run; wrk -t<min(2,c)> -c<c> --latency"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

start; COLD_EMPTY=$COLD

# --- A realistic tenant through the API ------------------------------------
ADMIN=$(j -X POST "$BASE/api/auth/register" -d "{\"email\":\"admin@example.com\",\"password\":\"$PW\",\"name\":\"Ada Admin\"}" | jq -r .token)
A=(-H "authorization: Bearer $ADMIN")
INVITE=$(j "${A[@]}" -X POST "$BASE/api/auth/invite" -d '{"email":"rita@example.com","role":"requester"}' | jq -r .invite_url)
j -X POST "$BASE/api/auth/signup-exchange" -d "{\"token\":\"${INVITE##*token=}\",\"password\":\"$PW\",\"name\":\"Rita Requester\"}" >/dev/null

for c in "Accounts and access" "Hardware" "Software" "Network and VPN" "Phones and e-mail"; do
  CAT=$(j "${A[@]}" -X POST "$BASE/api/itsm/catalog/categories" -d "{\"name\":\"$c\",\"description\":\"Everything about $c\"}" | jq -r .id)
  for i in 1 2 3 4; do
    j "${A[@]}" -X POST "$BASE/api/itsm/catalog" -d "{\"name\":\"$c request $i\",\"description\":\"Ask for help with $c ($i): we usually sort this out within a day.\",\"category_id\":\"$CAT\",\"icon\":\"key\",\"fulfillment_target_hours\":24,\"published\":true,\"fields\":[{\"key\":\"reason\",\"label\":\"Why do you need it?\",\"type\":\"text\",\"required\":true}]}" >/dev/null
  done
done
TOPICS=(password vpn wifi printer outlook teams onedrive laptop mfa "shared drive" monitor zoom excel keyboard "remote desktop" certificate)
for i in $(seq 0 199); do
  t=${TOPICS[$((i % ${#TOPICS[@]}))]}
  j "${A[@]}" -X POST "$BASE/api/itsm/kb/articles" -d "{\"title\":\"How to fix $t problems ($i)\",\"body_markdown\":\"If your **$t** does not work, restart it first. Then check the cable, the network and your password. Still stuck? Submit a request and we will help.\",\"category\":\"How-to\",\"tags\":[\"$t\"],\"status\":\"published\"}" >/dev/null
done

JAR="$DIR/jar"
curl -fs -c "$JAR" -o /dev/null -X POST "$BASE/login" --data-urlencode "email=rita@example.com" --data-urlencode "password=$PW"
COOKIE=$(awk '$6 == "tier0_session" { print $7 }' "$JAR")
[ -n "$COOKIE" ] || { echo "sign-in failed" >&2; exit 1; }
RT=$(j -X POST "$BASE/api/auth/login" -d "{\"email\":\"rita@example.com\",\"password\":\"$PW\"}" | jq -r .token)
REQ=$(j -H "authorization: Bearer $RT" -X POST "$BASE/api/itsm/requests" -d '{"title":"My laptop will not start","details":"It beeps three times and stays black.","priority":"normal"}' | jq -r .id)
j -H "authorization: Bearer $RT" -X POST "$BASE/api/itsm/requests/$REQ/comments" -d '{"body":"It is the grey Dell on desk 12."}' >/dev/null

# --- ROWS historic requests, loaded directly (the server is stopped) -------
stop
if [ "$ROWS" -gt 0 ]; then
  echo "(loading $ROWS requests ...)" >&2
  python3 "$HERE/requests/load.py" --db "$DIR/tier0.db" --count "$ROWS" >&2
fi
start; COLD_FULL=$COLD
IDLE=$(rss_mib)
# Warm the page cache once, as a server that has been running would be.
curl -fs -o /dev/null -H "authorization: Bearer $ADMIN" "$BASE/api/itsm/requests?limit=50"

PEAK=$IDLE
run() { # label conns [wrk args...] -> table row
  local label=$1 c=$2; shift 2
  local out t
  t=$(( c < 2 ? c : 2 ))
  out=$(wrk -t"$t" -c"$c" -d"${SECS}s" --latency "$@" 2>&1 &
        WPID=$!; while kill -0 $WPID 2>/dev/null; do r=$(rss_mib); echo "rss $r" >>"$DIR/rss"; sleep 1; done; wait $WPID)
  if grep -qE "Non-2xx|unexpected status" <<<"$out"; then echo "errors in $label c=$c: $(grep -E 'Non-2xx|unexpected' <<<"$out" | head -2)" >&2; fi
  printf '| %s | %s | %s | %s | %s |\n' "$label" "$c" "$(awk '/^Requests\/sec/ {printf "%\047.0f", $2}' <<<"$out")" \
    "$(awk '/^ +50%/ {print $2}' <<<"$out")" "$(awk '/^ +99%/ {print $2}' <<<"$out")"
}

echo
echo "| endpoint | connections | req/s | p50 | p99 |"
echo "|---|---:|---:|---:|---:|"
for c in 1 16 64; do run "portal page \`GET /portal\`" "$c" -H "cookie: tier0_session=$COOKIE" "$BASE/portal"; done
for c in 1 16 64; do run "catalog API \`GET /api/itsm/catalog\`" "$c" -H "authorization: Bearer $RT" "$BASE/api/itsm/catalog"; done
for c in 1 16 64; do run "request detail \`GET /api/itsm/requests/{id}\`" "$c" -H "authorization: Bearer $RT" "$BASE/api/itsm/requests/$REQ"; done
for c in 1 16 64; do KB_TOKEN=$RT run "KB search \`POST /api/itsm/kedb/search\`" "$c" -s "$HERE/kb/search.lua" "$BASE"; done
for c in 1 16 64; do run "request creation \`POST /api/itsm/requests\`" "$c" -s "$HERE/requests/create.lua" -H "authorization: Bearer $RT" "$BASE/api/itsm/requests"; done
for c in 1 16 64; do run "queue list at $ROWS rows (agent)" "$c" -H "authorization: Bearer $ADMIN" "$BASE/api/itsm/requests?limit=50"; done
PEAK=$(awk 'BEGIN {m = 0} {if ($2 > m) m = $2} END {print m}' "$DIR/rss")

echo
echo "| measure | value |"
echo "|---|---:|"
echo "| cold start to first 200, empty database | ${COLD_EMPTY} ms |"
echo "| cold start to first 200, $ROWS requests + 200 articles | ${COLD_FULL} ms |"
echo "| RSS idle (after start, $ROWS requests) | ${IDLE} MiB |"
echo "| RSS peak under load (sampled each second) | ${PEAK} MiB |"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
