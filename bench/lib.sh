# Sourced by the bench scripts. Checks the release binary and the tools,
# and starts `tier0 serve` on port 0 in a temporary data directory that is
# removed on exit.
#
#   . bench/lib.sh; need wrk curl jq; serve_tmp [serve flags...]
#   -> BIN, DATA (temporary directory), PID, BASE (http://127.0.0.1:PORT)

BIN="${TIER0_BIN:-${CARGO_TARGET_DIR:-target}/release/tier0}"
[ -x "$BIN" ] || { echo "no release binary at $BIN (cargo build --release -p tier0)" >&2; exit 1; }

need() {
  for t in "$@"; do command -v "$t" >/dev/null || { echo "needs $t" >&2; exit 1; }; done
}

serve_tmp() {
  DATA=$(mktemp -d)
  local log="$DATA/serve.log" port
  TIER0_LOG=warn "$BIN" serve "$@" --listen 127.0.0.1:0 --data-dir "$DATA/d" >"$log" 2>&1 &
  PID=$!
  trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
  for _ in $(seq 1 600); do grep -q "running at" "$log" && break; sleep 0.1; done
  port=$(grep -o "running at http://[^:]*:[0-9]*" "$log" | grep -o "[0-9]*$" || true)
  [ -n "$port" ] || { echo "server did not start" >&2; cat "$log" >&2; exit 1; }
  BASE="http://127.0.0.1:$port"
}
