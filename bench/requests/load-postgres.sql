-- Bulk-load synthetic requests into a Tier0 PostgreSQL database: the
-- PostgreSQL twin of load.py (same rows, same ids), for checking plans and
-- latency at 1M rows on PostgreSQL.
--
--   psql postgres://…/tier0 -v count=1000000 -v tenant=default -f bench/requests/load-postgres.sql
\set ON_ERROR_STOP on
BEGIN;
SELECT id AS tenant_id FROM tenants WHERE slug = :'tenant' \gset
SELECT (EXTRACT(EPOCH FROM now()) * 1000)::bigint AS now_ms \gset
SELECT COALESCE(MAX(number), 0) AS start FROM requests WHERE tenant_id = :'tenant_id' \gset
INSERT INTO users (tenant_id, id, email, name, username, password_hash, role_id, active, totp_secret, totp_enabled,
                   totp_last_step, notification_prefs, created_at, updated_at)
SELECT :'tenant_id', '0BU' || lpad(i::text, 23, '0'), 'bench-user-' || i || '@bench.invalid', 'Bench user ' || i, NULL, NULL,
       (SELECT id FROM roles WHERE tenant_id = :'tenant_id' AND name = 'requester'), TRUE, NULL, FALSE, NULL, '{}', :now_ms, :now_ms
FROM generate_series(0, 499) i ON CONFLICT DO NOTHING;
INSERT INTO users (tenant_id, id, email, name, username, password_hash, role_id, active, totp_secret, totp_enabled,
                   totp_last_step, notification_prefs, created_at, updated_at)
SELECT :'tenant_id', '0BA' || lpad(i::text, 23, '0'), 'bench-agent-' || i || '@bench.invalid', 'Bench agent ' || i, NULL, NULL,
       (SELECT id FROM roles WHERE tenant_id = :'tenant_id' AND name = 'fulfiller'), TRUE, NULL, FALSE, NULL, '{}', :now_ms, :now_ms
FROM generate_series(0, 19) i ON CONFLICT DO NOTHING;
WITH seq AS (SELECT i, :start + :count AS total FROM generate_series(:start + 1, :start + :count) i),
rows AS (
    SELECT i, '00' || lpad(i::text, 24, '0') AS id,
           :now_ms - (total - i) * ((2::bigint * 365 * 24 * 3600 * 1000) / total) AS at,
           CASE WHEN i > (total * 97) / 100 THEN
                (ARRAY['new', 'open', 'in_progress', 'waiting_on_customer', 'pending_approval'])[(i % 5) + 1]
                WHEN i % 20 = 0 THEN 'cancelled' WHEN i % 10 = 1 THEN 'resolved' ELSE 'closed' END AS status
    FROM seq
)
INSERT INTO requests (tenant_id, id, number, title, details, requester_id, created_by, assignee_id, status, priority,
                      catalog_item_id, field_values, due_at, resolved_at, closed_at, incident_id, created_at, updated_at)
SELECT :'tenant_id', r.id, r.i,
       'Synthetic request ' || r.i || CASE r.i % 4 WHEN 0 THEN ': printer jam' WHEN 1 THEN ': password reset'
            WHEN 2 THEN ': new laptop' ELSE ': VPN access' END,
       'Loaded for the queue benchmark.',
       '0BU' || lpad((r.i % 500)::text, 23, '0'), '0BU' || lpad((r.i % 500)::text, 23, '0'),
       CASE WHEN r.status IN ('new', 'pending_approval') OR r.i % 7 = 0 THEN NULL ELSE '0BA' || lpad((r.i % 20)::text, 23, '0') END,
       r.status,
       CASE r.i % 20 WHEN 0 THEN 'urgent' WHEN 1 THEN 'high' WHEN 2 THEN 'high' WHEN 3 THEN 'high'
            WHEN 4 THEN 'low' WHEN 5 THEN 'low' WHEN 6 THEN 'low' WHEN 7 THEN 'low' ELSE 'normal' END,
       NULL, '{}',
       CASE WHEN r.i % 4 = 0 THEN r.at + 48 * 3600000 ELSE NULL END,
       CASE WHEN r.status IN ('resolved', 'closed') THEN r.at + 3600000 ELSE NULL END,
       CASE WHEN r.status IN ('closed', 'cancelled') THEN r.at + 7200000 ELSE NULL END,
       NULL, r.at,
       CASE WHEN r.status IN ('closed', 'cancelled') THEN r.at + 7200000 ELSE r.at END
FROM rows r;
INSERT INTO request_events (tenant_id, id, request_id, at, actor_id, kind, from_value, to_value, note)
SELECT tenant_id, id, id, created_at, requester_id, 'created', NULL, 'new', NULL
FROM requests WHERE tenant_id = :'tenant_id' AND number > :start;
INSERT INTO counters (tenant_id, kind, value) VALUES (:'tenant_id', 'REQ', :start + :count)
ON CONFLICT (tenant_id, kind) DO UPDATE SET value = GREATEST(counters.value, excluded.value);
COMMIT;
ANALYZE requests;
ANALYZE request_events;
SELECT COUNT(*) AS requests FROM requests WHERE tenant_id = :'tenant_id';
