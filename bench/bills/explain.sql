-- EXPLAIN (ANALYZE) of stats and the summary queries as the store runs them; run after seed.sql.
PREPARE stats(int, timestamptz, timestamptz) AS
SELECT coalesce(sum(parent_bags) FILTER (WHERE $1::int IS NULL OR area_id = $1), 0) AS parent_bags,
       coalesce(sum(child_bags) FILTER (WHERE $1::int IS NULL OR area_id = $1), 0) AS child_bags,
       coalesce(sum(scans) FILTER (WHERE $1::int IS NULL OR area_id = $1), 0) AS total_scans,
       coalesce(sum(open_bills), 0), coalesce(sum(in_progress_bills), 0), coalesce(sum(completed_bills), 0),
       (SELECT coalesce(sum(scans), 0) FROM scan_buckets WHERE bucket >= $2 AND bucket < $3 AND ($1::int IS NULL OR area_id = $1)) AS scans_today,
       (SELECT count(*) FROM users WHERE active AND ($1::int IS NULL OR area_id = $1)) AS users
FROM stat_counters;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE stats(NULL, (date_trunc('day', now() AT TIME ZONE 'Asia/Kolkata') AT TIME ZONE 'Asia/Kolkata'), (date_trunc('day', now() AT TIME ZONE 'Asia/Kolkata') AT TIME ZONE 'Asia/Kolkata') + interval '1 day');
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE stats(3, (date_trunc('day', now() AT TIME ZONE 'Asia/Kolkata') AT TIME ZONE 'Asia/Kolkata'), (date_trunc('day', now() AT TIME ZONE 'Asia/Kolkata') AT TIME ZONE 'Asia/Kolkata') + interval '1 day');
\echo ==== scanSummary DAY, all areas, 7 days
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT g.k AS key, sum(g.n) AS count FROM (
  SELECT to_char(s.at AT TIME ZONE 'Asia/Kolkata', 'YYYY-MM-DD') AS k, count(*) AS n FROM scans s
  WHERE s.at >= now() - interval '7 days' AND s.at < now() AND (NULL::int IS NULL OR s.area_id = NULL::int) GROUP BY 1) g
GROUP BY 1 ORDER BY 1;
\echo ==== scanSummary USER, area 3, 7 days
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT coalesce(u.username, '(no user)') AS key, sum(g.n) AS count FROM (
  SELECT s.user_id AS k, count(*) AS n FROM scans s
  WHERE s.at >= now() - interval '7 days' AND s.at < now() AND (3::int IS NULL OR s.area_id = 3) GROUP BY 1) g
LEFT JOIN users u ON u.id = g.k GROUP BY 1 ORDER BY 1;
\echo ==== scanSummary AREA, 7 days
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT coalesce(a.code, '(no area)') AS key, sum(g.n) AS count FROM (
  SELECT s.area_id AS k, count(*) AS n FROM scans s
  WHERE s.at >= now() - interval '7 days' AND s.at < now() GROUP BY 1) g
LEFT JOIN areas a ON a.id = g.k GROUP BY 1 ORDER BY 1;
\echo ==== scanSummary HOUR, 1 day
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT g.k AS key, sum(g.n) AS count FROM (
  SELECT to_char(s.at AT TIME ZONE 'Asia/Kolkata', 'YYYY-MM-DD"T"HH24') AS k, count(*) AS n FROM scans s
  WHERE s.at >= now() - interval '1 day' AND s.at < now() GROUP BY 1) g
GROUP BY 1 ORDER BY 1;
\echo ==== billSummary STATUS, 7 days
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT b.status AS key, count(*) AS bills, coalesce(sum(b.parent_bag_count), 0), coalesce(sum(b.child_bag_count), 0),
       coalesce(sum(b.capacity), 0), count(*) FILTER (WHERE b.status = 'COMPLETED')
FROM bills b LEFT JOIN users u ON u.id = b.created_by
WHERE b.created_at >= now() - interval '7 days' AND b.created_at < now() GROUP BY 1 ORDER BY 1;
\echo ==== bills search
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT id FROM bills WHERE (bill_number ILIKE '%INV-19%' OR destination ILIKE '%INV-19%') ORDER BY id DESC LIMIT 51;
