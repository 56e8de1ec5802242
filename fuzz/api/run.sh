#!/usr/bin/env bash
# API fuzzing: schemathesis against Tier0's own /api/openapi.json, as an
# anonymous caller, a requester and an admin (see fuzz.py for the passes).
#
#   python3 -m pip install -r fuzz/api/requirements.txt
#   fuzz/api/run.sh                          (release binary)
#   TIER0_BIN=path/to/tier0 fuzz/api/run.sh
#   TIER0_FUZZ_POSTGRES_URL=postgres://postgres@127.0.0.1:5432 fuzz/api/run.sh
#
# TIER0_BIN defaults to $CARGO_TARGET_DIR/release/tier0 (or target/ here).
# Without schemathesis the run is SKIPPED, or fails when
# TIER0_TEST_REQUIRE_ALL=1 (CI). Exits non-zero on any failure.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

skip() {
  case "${TIER0_TEST_REQUIRE_ALL:-}" in
    1 | true | TRUE | yes)
      echo "SKIPPED is not allowed (TIER0_TEST_REQUIRE_ALL=1): $*" >&2
      exit 1
      ;;
  esac
  echo "SKIPPED: $*"
  exit 0
}

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export TIER0_BIN="${TIER0_BIN:-$TARGET/release/tier0}"
if [ ! -x "$TIER0_BIN" ]; then
  echo "no tier0 binary at $TIER0_BIN: run cargo build --release -p tier0, or set TIER0_BIN" >&2
  exit 1
fi
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
# pip may put the command where PATH does not look (e.g. ~/.local/bin).
PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$HOME/.local/bin"
export PATH
if ! command -v schemathesis >/dev/null 2>&1; then
  skip "schemathesis is not installed (python3 -m pip install -r fuzz/api/requirements.txt)"
fi
want="$(sed -n 's/^schemathesis==//p' "$HERE/requirements.txt")"
have="$(schemathesis --version 2>/dev/null | sed -n 's/.*version //p')"
if [ "$have" != "$want" ]; then
  echo "warning: schemathesis $have is installed; fuzz/api/requirements.txt pins $want" >&2
fi
if [ -n "${TIER0_FUZZ_POSTGRES_URL:-}" ] && ! command -v psql >/dev/null 2>&1; then
  echo "TIER0_FUZZ_POSTGRES_URL is set but psql is not installed" >&2
  exit 1
fi

exec python3 "$HERE/fuzz.py"
