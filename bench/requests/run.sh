#!/usr/bin/env bash
# Request queue benchmark (SQLite): queue-page latency at 1k and 1M
# requests, and durable request creation throughput.
#
#   CARGO_TARGET_DIR=... cargo build --release -p tier0
#   bench/requests/run.sh [ROWS] [SECONDS]        # defaults: 1000000 10
#
# Needs: wrk, curl, jq, python3. Starts its own server on a fresh data
# directory (removed at the end), so it never touches real data. Each wrk
# run lasts SECONDS (4 and 16 connections per query); with the default 10 s
# the whole run takes about 7 minutes at 1M rows.
set -euo pipefail

ROWS=${1:-1000000}
SECS=${2:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
TIER0=${TIER0:-${CARGO_TARGET_DIR:-target}/release/tier0}
PORT=${PORT:-18080}
BASE="http://127.0.0.1:$PORT"
DIR=$(mktemp -d /tmp/tier0-bench.XXXXXX)
PID=""

for tool in wrk curl jq python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install wrk curl jq python3)"; exit 1; }
done
[ -x "$TIER0" ] || { echo "no release binary at $TIER0; run cargo build --release -p tier0"; exit 1; }

stop() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; fi; }
cleanup() { stop; rm -rf "$DIR"; }
trap cleanup EXIT

start() {
  # Request logs at info level cost CPU on a 2-core machine; keep warnings.
  TIER0_LOG=${TIER0_LOG:-warn} "$TIER0" serve --data-dir "$DIR" --listen "127.0.0.1:$PORT" >>"$DIR/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do curl -fs "$BASE/readyz" >/dev/null && return; sleep 0.1; done
  echo "server did not start"; cat "$DIR/server.log"; exit 1
}

# One wrk run: "p50 p99 req/s" (and a warning on non-2xx answers).
wrk_run() {
  local conns=$1 path=$2
  local out
  out=$(wrk -t2 -c"$conns" -d"${SECS}s" --latency -H "Authorization: Bearer $TOKEN" "$BASE$path")
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers for $path: $(grep Non-2xx <<<"$out")" >&2; fi
  printf '%s %s %s' "$(awk '/^ +50%/ {print $2}' <<<"$out")" "$(awk '/^ +99%/ {print $2}' <<<"$out")" \
    "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
}

# A table row: latency with 4 and with 16 concurrent clients.
measure() {
  local label=$1 path=$2
  read -r a50 a99 ars <<<"$(wrk_run 4 "$path")"
  read -r b50 b99 brs <<<"$(wrk_run 16 "$path")"
  printf '| %-40s | %8s | %8s | %8s | %8s | %8s | %8s |\n' "$label" "$a50" "$a99" "$ars" "$b50" "$b99" "$brs"
}

cursor_at() { printf '00%024d' "$1" | base64 | tr '+/' '-_' | tr -d '=\n'; }

echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(date -u +%FT%TZ)"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
start
TOKEN=$(curl -fs -X POST "$BASE/api/auth/register" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"correct horse battery staple 42","name":"Bench Admin"}' | jq -r .token)

queue_runs() {
  local rows=$1
  measure "$rows rows: first page" "/api/itsm/requests?limit=50"
  measure "$rows rows: status=active" "/api/itsm/requests?status=active&limit=50"
  measure "$rows rows: status=in_progress" "/api/itsm/requests?status=in_progress&limit=50"
  measure "$rows rows: priority=urgent" "/api/itsm/requests?priority=urgent&limit=50"
  measure "$rows rows: assignee=none" "/api/itsm/requests?assignee=none&limit=50"
  measure "$rows rows: overdue=true" "/api/itsm/requests?overdue=true&limit=50"
  measure "$rows rows: a page in the middle" "/api/itsm/requests?limit=50&cursor=$(cursor_at $((rows / 2)))"
}

echo "| GET /api/itsm/requests | c=4 p50 | c=4 p99 | c=4 req/s | c=16 p50 | c=16 p99 | c=16 req/s |"
echo "|---|---|---|---|---|---|---|"
stop
python3 "$HERE/load.py" --db "$DIR/tier0.db" --count 1000 >/dev/null
start
queue_runs 1000
if [ "$ROWS" -gt 1000 ]; then
  stop
  echo "(loading $((ROWS - 1000)) more requests ...)" >&2
  python3 "$HERE/load.py" --db "$DIR/tier0.db" --count $((ROWS - 1000)) >&2
  start
  # Warm the page cache once, as a server that has been running would be.
  curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE/api/itsm/requests?limit=50"
  queue_runs "$ROWS"
fi
out=$(wrk -t2 -c16 -d"${SECS}s" --latency -s "$HERE/create.lua" -H "Authorization: Bearer $TOKEN" "$BASE/api/itsm/requests" 2>&1)
echo
echo "| POST /api/itsm/requests, 16 connections | p50 | p99 | created/s |"
echo "|---|---|---|---|"
printf '| %-40s | %8s | %8s | %8s |\n' "on top of $ROWS requests" "$(awk '/^ +50%/ {print $2}' <<<"$out")" \
  "$(awk '/^ +99%/ {print $2}' <<<"$out")" "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
if grep -q "unexpected status" <<<"$out"; then echo "creation errors:"; grep "unexpected status" <<<"$out"; fi
n=$(curl -fs -H "Authorization: Bearer $TOKEN" "$BASE/api/itsm/requests?limit=1" | jq -r '.items[0].number')
echo "newest request after the run: $n"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
