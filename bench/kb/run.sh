#!/usr/bin/env bash
# Knowledge search benchmark: in-process latency, then HTTP throughput and
# latency under concurrent load with wrk, with and without the result cache.
#
#   bench/kb/run.sh [ARTICLES] [DURATION]     (defaults: 100000 30s)
#
# Needs wrk (apt-get install wrk). Uses CARGO_TARGET_DIR if set.
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-100000}"
DURATION="${2:-30s}"
TARGET="${CARGO_TARGET_DIR:-target}"
ADDR=127.0.0.1:8099
READY="$(mktemp -u /tmp/kb_bench.XXXXXX.ready)"

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
cargo build --release -p tier0-search --example kb_inproc
cargo build --release -p tier0 --example kb_bench

echo "== machine"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc: $(nproc)"
grep -m1 "model name" /proc/cpuinfo || true
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== in-process: $TARGET/release/examples/kb_inproc $N 20000"
"$TARGET/release/examples/kb_inproc" "$N" 20000

http_run() {
  local mode="$1"
  rm -f "$READY"
  "$TARGET/release/examples/kb_bench" "$N" "$ADDR" "$READY" "$mode" &
  local pid=$!
  for _ in $(seq 1 300); do [ -f "$READY" ] && break; sleep 1; done
  [ -f "$READY" ] || { echo "server did not start"; kill "$pid"; exit 1; }
  read -r URL TOKEN < "$READY"
  echo "== HTTP ($mode): wrk -t2 -c32 -d$DURATION --latency -s bench/kb/search.lua $URL"
  KB_TOKEN="$TOKEN" wrk -t2 -c32 -d"$DURATION" --latency -s bench/kb/search.lua "$URL"
  if [ "$mode" = "cache" ]; then
    echo "== HTTP baseline: wrk -t2 -c32 -d$DURATION --latency -s bench/kb/me.lua $URL (GET /api/me)"
    KB_TOKEN="$TOKEN" wrk -t2 -c32 -d"$DURATION" --latency -s bench/kb/me.lua "$URL"
  fi
  kill -INT "$pid"
  wait "$pid" || true
}

http_run cache
http_run nocache
rm -f "$READY"
