#!/usr/bin/env python3
"""Bulk-load synthetic service requests into a Tier0 SQLite database.

Benchmark set-up only: it writes rows directly with SQL (a recursive CTE,
100k rows per transaction) because filing a million requests through the
API would take the benchmark's whole time budget. The rows look like a
real history: numbered REQ-n in order, spread over two years, mostly
closed, with the newest 3% still active (new, open, in progress, waiting,
pending approval), every fourth one with a due date, priorities and
assignees spread out, and one "created" timeline entry each.

Ids are `00` + 24 digits: valid opaque ids that sort before every id the
server generates, so loaded requests are "older" than ones filed later.
Stop the server while loading (the script takes the write lock anyway).

Usage: load.py --db DATA_DIR/tier0.db --tenant default --count 1000000
"""

import argparse
import sqlite3
import sys
import time

ACTIVE = ["new", "open", "in_progress", "waiting_on_customer", "pending_approval"]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--tenant", default="default")
    p.add_argument("--count", type=int, required=True, help="requests to add")
    p.add_argument("--requesters", type=int, default=500)
    p.add_argument("--agents", type=int, default=20)
    a = p.parse_args()

    db = sqlite3.connect(a.db, isolation_level=None, timeout=60)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")  # loading only; the server runs FULL
    db.execute("PRAGMA cache_size = -262144")  # 256 MiB
    row = db.execute("SELECT id FROM tenants WHERE slug = ?", (a.tenant,)).fetchone()
    if not row:
        print(f"no tenant {a.tenant!r} in {a.db}", file=sys.stderr)
        return 1
    tenant = row[0]
    now = int(time.time() * 1000)

    def role(name: str) -> str:
        return db.execute("SELECT id FROM roles WHERE tenant_id = ? AND name = ?", (tenant, name)).fetchone()[0]

    # Synthetic people (they cannot sign in: no password).
    db.execute("BEGIN IMMEDIATE")
    for kind, n, role_name in (("user", a.requesters, "requester"), ("agent", a.agents, "fulfiller")):
        rid = role(role_name)
        for i in range(n):
            uid = f"0B{kind[0].upper()}{i:023d}"
            db.execute(
                "INSERT INTO users (tenant_id, id, email, name, username, password_hash, role_id, active, totp_secret, "
                "totp_enabled, totp_last_step, notification_prefs, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, NULL, NULL, ?, 1, NULL, 0, NULL, '{}', ?, ?) ON CONFLICT DO NOTHING",
                (tenant, uid, f"bench-{kind}-{i}@bench.invalid", f"Bench {kind} {i}", rid, now, now),
            )
    db.execute("CREATE TEMP TABLE IF NOT EXISTS bench_people (kind TEXT, k INTEGER, id TEXT, PRIMARY KEY (kind, k))")
    db.execute("DELETE FROM bench_people")
    for kind, n in (("U", a.requesters), ("A", a.agents)):
        db.executemany("INSERT INTO bench_people VALUES (?, ?, ?)", [(kind, i, f"0B{kind}{i:023d}") for i in range(n)])
    start = db.execute("SELECT COALESCE(MAX(number), 0) FROM requests WHERE tenant_id = ?", (tenant,)).fetchone()[0]
    db.execute("COMMIT")

    total = start + a.count
    span = 2 * 365 * 24 * 3600 * 1000  # two years of history
    active_from = int(total * 0.97)
    status_sql = (
        "CASE WHEN i > :active_from THEN "
        + "CASE i % 5 "
        + " ".join(f"WHEN {k} THEN '{s}'" for k, s in enumerate(ACTIVE))
        + " END "
        "WHEN i % 20 = 0 THEN 'cancelled' WHEN i % 10 = 1 THEN 'resolved' ELSE 'closed' END"
    )
    batch = 100_000
    t0 = time.time()
    lo = start + 1
    while lo <= total:
        hi = min(lo + batch - 1, total)
        params = {
            "tenant": tenant, "lo": lo, "hi": hi, "total": total, "now": now, "span": span,
            "active_from": active_from, "nu": a.requesters, "na": a.agents,
        }
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            f"""
            WITH RECURSIVE seq(i) AS (SELECT :lo UNION ALL SELECT i + 1 FROM seq WHERE i < :hi),
            rows AS (
                SELECT i,
                       '00' || printf('%024d', i) AS id,
                       :now - (:total - i) * (:span / :total) AS at,
                       {status_sql} AS status
                FROM seq
            )
            INSERT INTO requests (tenant_id, id, number, title, details, requester_id, created_by, assignee_id, status,
                priority, catalog_item_id, field_values, due_at, resolved_at, closed_at, incident_id, created_at, updated_at)
            SELECT :tenant, r.id, r.i,
                   'Synthetic request ' || r.i || CASE r.i % 4 WHEN 0 THEN ': printer jam' WHEN 1 THEN ': password reset'
                        WHEN 2 THEN ': new laptop' ELSE ': VPN access' END,
                   'Loaded for the queue benchmark.',
                   u.id, u.id,
                   CASE WHEN r.status IN ('new', 'pending_approval') OR r.i % 7 = 0 THEN NULL ELSE ag.id END,
                   r.status,
                   CASE r.i % 20 WHEN 0 THEN 'urgent' WHEN 1 THEN 'high' WHEN 2 THEN 'high' WHEN 3 THEN 'high'
                        WHEN 4 THEN 'low' WHEN 5 THEN 'low' WHEN 6 THEN 'low' WHEN 7 THEN 'low' ELSE 'normal' END,
                   NULL, '{{}}',
                   CASE WHEN r.i % 4 = 0 THEN r.at + 48 * 3600000 ELSE NULL END,
                   CASE WHEN r.status IN ('resolved', 'closed') THEN r.at + 3600000 ELSE NULL END,
                   CASE WHEN r.status IN ('closed', 'cancelled') THEN r.at + 7200000 ELSE NULL END,
                   NULL, r.at,
                   CASE WHEN r.status IN ('closed', 'cancelled') THEN r.at + 7200000 ELSE r.at END
            FROM rows r
            JOIN bench_people u ON u.kind = 'U' AND u.k = r.i % :nu
            JOIN bench_people ag ON ag.kind = 'A' AND ag.k = r.i % :na
            """,
            params,
        )
        db.execute(
            """
            WITH RECURSIVE seq(i) AS (SELECT :lo UNION ALL SELECT i + 1 FROM seq WHERE i < :hi)
            INSERT INTO request_events (tenant_id, id, request_id, at, actor_id, kind, from_value, to_value, note)
            SELECT :tenant, '00' || printf('%024d', i), '00' || printf('%024d', i),
                   :now - (:total - i) * (:span / :total), u.id, 'created', NULL, 'new', NULL
            FROM seq JOIN bench_people u ON u.kind = 'U' AND u.k = i % :nu
            """,
            params,
        )
        db.execute("COMMIT")
        print(f"  {hi - start:>9} / {a.count} requests ({time.time() - t0:.0f} s)", flush=True)
        lo = hi + 1
    db.execute("BEGIN IMMEDIATE")
    db.execute(
        "INSERT INTO counters (tenant_id, kind, value) VALUES (?, 'REQ', ?) "
        "ON CONFLICT (tenant_id, kind) DO UPDATE SET value = MAX(counters.value, excluded.value)",
        (tenant, total),
    )
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    n = db.execute("SELECT COUNT(*) FROM requests WHERE tenant_id = ?", (tenant,)).fetchone()[0]
    print(f"tenant {a.tenant}: {n} requests ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
