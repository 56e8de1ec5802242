#!/usr/bin/env bash
# Server time of portal pages: start a release `tier0 serve` on a temporary
# SQLite database, fill the status page (services, maintenance, updates and
# an active announcement), sign a requester in, and measure the signed-in
# Status tab with wrk. Results go to BENCHMARKS.md by hand, with the machine.
#
#   bench/portal-pages.sh [DURATION_SECS] [CONNECTIONS]
#
# Needs: a release build (cargo build --release -p tier0), wrk, curl, jq.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-15}"
CONNS="${2:-4}"
. bench/lib.sh
need wrk curl jq
serve_tmp
PW="correct horse battery staple 42"

j() { curl -sf -H 'content-type: application/json' "$@"; }
ADMIN=$(j -X POST "$BASE/api/auth/register" -d "{\"email\":\"admin@example.com\",\"password\":\"$PW\",\"name\":\"Admin\"}" | jq -r .token)
A=(-H "authorization: Bearer $ADMIN")
INVITE=$(j "${A[@]}" -X POST "$BASE/api/auth/invite" -d '{"email":"rita@example.com","role":"requester"}' | jq -r .invite_url)
TOKEN=${INVITE##*token=}
j -X POST "$BASE/api/auth/signup-exchange" -d "{\"token\":\"$TOKEN\",\"password\":\"$PW\",\"name\":\"Rita\"}" >/dev/null

NOW=$(date -u +%s)
iso() { date -u -d "@$(( NOW + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
FIRST=""
for n in E-mail VPN Wi-Fi Printing "Shared drives" "HR system" Intranet Phones "Video calls" "Single sign-on"; do
  ID=$(j "${A[@]}" -X POST "$BASE/api/itsm/status/services" -d "{\"name\":\"$n\",\"description\":\"$n for everyone\"}" | jq -r .id)
  FIRST=${FIRST:-$ID}
  j "${A[@]}" -X POST "$BASE/api/itsm/status/notes" -d "{\"service_id\":\"$ID\",\"body\":\"Update about $n: all fine again.\"}" >/dev/null
done
j "${A[@]}" -X PATCH "$BASE/api/itsm/status/services/$FIRST" -d '{"state":"degraded"}' >/dev/null
for i in 1 2 3; do
  j "${A[@]}" -X POST "$BASE/api/itsm/status/maintenance" \
    -d "{\"title\":\"Planned work $i\",\"starts_at\":\"$(iso $(( i * 3600 )))\",\"ends_at\":\"$(iso $(( i * 3600 + 1800 )))\",\"service_ids\":[\"$FIRST\"]}" >/dev/null
done
j "${A[@]}" -X POST "$BASE/api/itsm/announcements" -d '{"body":"E-mail is slow this morning.","severity":"warning"}' >/dev/null

JAR="$DATA/jar"
curl -sf -c "$JAR" -o /dev/null -X POST "$BASE/login" --data-urlencode "email=rita@example.com" --data-urlencode "password=$PW"
COOKIE=$(awk '$6 == "tier0_session" { print $7 }' "$JAR")
[ -n "$COOKIE" ] || { echo "sign-in failed" >&2; exit 1; }
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "cookie: tier0_session=$COOKIE" "$BASE/portal/status")
[ "$STATUS" = 200 ] || { echo "/portal/status answered $STATUS" >&2; exit 1; }
BYTES=$(curl -s -H "cookie: tier0_session=$COOKIE" "$BASE/portal/status" | wc -c)

echo "== GET /portal/status (signed-in requester, 10 services, 3 windows, 10 updates, 1 banner; $BYTES bytes of HTML)"
echo "   wrk -t$(( CONNS < 2 ? CONNS : 2 )) -c$CONNS -d${DURATION}s --latency"
wrk -t"$(( CONNS < 2 ? CONNS : 2 ))" -c"$CONNS" -d"${DURATION}s" --latency -H "cookie: tier0_session=$COOKIE" "$BASE/portal/status"
echo "== server-side histogram for the route (from /metrics)"
curl -s "$BASE/metrics" | grep 'route="/portal/status"' | grep -E 'duration_seconds_(bucket\{.*le="0.00(1|25|5)"|count)' || true
