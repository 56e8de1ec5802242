#!/usr/bin/env bash
# Every benchmark in one command, bounded in time (about 15 minutes with
# the defaults on a 2-core machine). Builds the release binaries first.
#
#   bench/run-all.sh [SECONDS_PER_RUN]        # default 10
#
# 1. bench/load.sh        the load matrix (portal page, catalog API, request
#                         detail, KB search, request creation, queue list at
#                         1M rows) at 1/16/64 connections, RSS, cold start
# 2. bench/portal-pages.sh  server-side time of a signed-in portal page
#    bench/demo-pages.sh    the same for the main portal pages on --demo data
# 3. bench/kb/run.sh      knowledge search over 100,000 articles, in-process
#                         and over HTTP
#
# Needs wrk, curl, jq, python3 (apt-get install wrk curl jq python3).
# Results are printed; copy them into BENCHMARKS.md with the date.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release -p tier0

echo "## bench/load.sh 1000000 $SECS"
bench/load.sh 1000000 "$SECS"
for c in 1 16; do
  echo "## bench/portal-pages.sh $SECS $c"
  bench/portal-pages.sh "$SECS" "$c"
done
echo "## bench/demo-pages.sh $SECS 4"
bench/demo-pages.sh "$SECS" 4
echo "## bench/kb/run.sh 100000 ${SECS}s"
bench/kb/run.sh 100000 "${SECS}s"
