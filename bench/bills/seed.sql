-- 1M bags (40k parents x 24 children), 1M scans over ~12 days, 2,000 bills with 20k parents, into a
-- scratch database migrated with 00001 and 00004 (see README "Bills, stats, summaries, export").
\timing on
INSERT INTO users (username, password_hash, role, area_id)
SELECT 'disp_' || a.id || '_' || i, 'x', 'DISPATCHER', a.id FROM areas a, generate_series(1, 5) i;
INSERT INTO users (username, password_hash, role) SELECT 'biller_' || i, 'x', 'BILLER' FROM generate_series(1, 10) i;
-- 40,000 parents over 10 areas, then 960,000 children (24 per parent): 1,000,000 bags
INSERT INTO bags (qr, type, area_id, created_by, created_at)
SELECT 'SB' || lpad(i::text, 5, '0'), 'PARENT', 1 + i % 10, 1 + i % 50, now() - (i % 30) * interval '1 day'
FROM generate_series(0, 39999) i;
INSERT INTO bags (qr, type, parent_id, area_id, created_by)
SELECT 'C' || lpad((p.id * 100 + c)::text, 9, '0'), 'CHILD', p.id, p.area_id, p.created_by
FROM bags p, generate_series(1, 24) c WHERE p.type = 'PARENT';
-- 1,000,000 scans over the last 30 days
INSERT INTO scans (kind, at, bag_qr, bag_id, user_id, area_id)
SELECT (ARRAY['PARENT_SCANNED','CHILD_LINKED','CHILD_LINKED','CHILD_LINKED','BILL_LINKED'])[1 + i % 5],
       now() - (i % 2592000) * interval '1 second', 'SB00001', 1, 1 + i % 60, 1 + i % 10
FROM generate_series(1, 1000000) i;
-- 2,000 bills, 20,000 parents linked (10 each)
INSERT INTO bills (bill_number, capacity, destination, created_by, created_at)
SELECT 'INV-' || i, 20, (ARRAY['Delhi','Kota','Jaipur Mandi','Indore'])[1 + i % 4], 51 + i % 10, now() - (i % 60) * interval '1 day'
FROM generate_series(1, 2000) i;
INSERT INTO bill_bags (bag_id, bill_id)
SELECT p.id, 1 + (p.id % 2000) FROM bags p WHERE p.type = 'PARENT' AND p.id <= 20000;
UPDATE bills SET completed_at = now() WHERE id % 3 = 0;
VACUUM ANALYZE;
