package db_test

import (
	"context"
	"strings"
	"testing"
)

// indexedRead is a read of the store (in the shape of its SQL, with literals) and the index
// that serves it: the table, the leading key columns, and for a partial index a condition its
// predicate must hold. trigram asks for a GIN trigram index on the columns instead.
type indexedRead struct {
	name, query string
	table       string
	columns     []string
	predicate   string
	trigram     bool
}

// the predicates of the partial indexes over parents, as pg_get_expr spells them
const (
	parentsOnly  = `(type = 'PARENT'::text)`
	unbilledOnly = `((type = 'PARENT'::text) AND (NOT billed))`
)

// The reads of bags and scans that must each stay an index lookup at any size, with the index
// each one needs. Writes pay for every index (a 30-child batch writes each bag index and each
// scans index 30 times), so an index goes when no read is left for it; one that goes while a
// read still needs it turns that read into a walk of the table as it grows.
var indexedReads = []indexedRead{
	{"scan log newest first", `SELECT id FROM scans ORDER BY id DESC LIMIT 51`, "scans", []string{"id"}, "", false},
	{"scans of an area newest first", `SELECT id FROM scans WHERE area_id = 3 ORDER BY id DESC LIMIT 51`, "scans", []string{"area_id", "id"}, "", false},
	{"scans of a user newest first, undo of the last child scan", `SELECT id FROM scans WHERE user_id = 7 AND kind = 'CHILD_LINKED' ORDER BY id DESC LIMIT 1`, "scans", []string{"user_id", "id"}, "", false},
	{"scans of a bag", `SELECT id FROM scans WHERE bag_id = 9 AND id < 100 ORDER BY id DESC LIMIT 51`, "scans", []string{"bag_id", "id"}, "", false},
	{"scans in a window, summaries of all areas", `SELECT kind, count(*) FROM scans WHERE at >= now() - interval '15 minutes' AND at < now() GROUP BY 1`, "scans", []string{"at"}, "", false},
	{"summaries of one area by user or kind (no buckets)", `SELECT user_id, count(*) FROM scans WHERE area_id = 3 AND at >= now() - interval '7 days' AND at < now() GROUP BY 1`, "scans", []string{"area_id", "at"}, "", false},
	{"a user's activity and last scan", `SELECT count(DISTINCT bag_qr) FROM scans WHERE user_id = 7 AND at >= now() - interval '7 days' AND at < now()`, "scans", []string{"user_id", "at"}, "", false},
	{"the live feed's newest transaction", `SELECT max(write_xid) FROM scans`, "scans", []string{"write_xid"}, "", false},
	{"bags newest first", `SELECT id FROM bags ORDER BY id DESC LIMIT 51`, "bags", []string{"id"}, "", false},
	{"bags of an area", `SELECT id FROM bags WHERE area_id = 3 ORDER BY id DESC LIMIT 51`, "bags", []string{"area_id", "id"}, "", false},
	{"a bag by QR, QRs by prefix", `SELECT id FROM bags WHERE qr >= 'SB1' AND qr < 'SB2'`, "bags", []string{"qr"}, "", false},
	{"QR contains (BagFilter.search)", `SELECT count(*) FROM bags WHERE qr LIKE '%9T1N1%'`, "bags", []string{"qr"}, "", true},
	{"children of a parent", `SELECT id FROM bags WHERE parent_id = 5 ORDER BY id LIMIT 31`, "bags", []string{"parent_id", "id"}, "", false},
	{"parents newest first", `SELECT id FROM bags WHERE type = 'PARENT' ORDER BY id DESC LIMIT 51`, "bags", []string{"id"}, parentsOnly, false},
	{"parents of an area", `SELECT id FROM bags WHERE type = 'PARENT' AND area_id = 3 ORDER BY id DESC LIMIT 51`, "bags", []string{"area_id", "id"}, parentsOnly, false},
	{"parents by status", `SELECT id FROM bags WHERE type = 'PARENT' AND status = 'PENDING' ORDER BY id DESC LIMIT 51`, "bags", []string{"status", "id"}, parentsOnly, false},
	{"parents of an area by status", `SELECT count(*) FROM bags WHERE type = 'PARENT' AND status = 'IN_PROGRESS' AND area_id = 3`, "bags", []string{"area_id", "status", "id"}, parentsOnly, false},
	// a dispatcher looking for a parent with room under a QR prefix (cmd/loadgen's roomyParent)
	{"parents of an area by status under a QR prefix", `SELECT id FROM bags WHERE type = 'PARENT' AND status = 'IN_PROGRESS' AND area_id = 3 AND qr >= 'SB42' AND qr < 'SB43' ORDER BY id DESC LIMIT 51`, "bags", []string{"area_id", "status", "qr"}, parentsOnly, false},
	{"parents on no bill", `SELECT id FROM bags WHERE type = 'PARENT' AND NOT billed ORDER BY id DESC LIMIT 51`, "bags", []string{"id"}, unbilledOnly, false},
	{"parents of an area on no bill", `SELECT id FROM bags WHERE type = 'PARENT' AND NOT billed AND area_id = 3 ORDER BY id DESC LIMIT 51`, "bags", []string{"area_id", "id"}, unbilledOnly, false},
	// deleting a user sets bags.created_by to NULL (00023's trigger): without the index that
	// is a scan of every bag, under the locks of the admin change
	{"bags of a deleted user", `SELECT id FROM bags WHERE created_by = 7`, "bags", []string{"created_by"}, "", false},
}

// TestEveryReadHasItsIndex: each read of indexedReads has its index (found in the catalog, so
// the test does not depend on the planner's statistics), and with sequential scans disabled
// none of them falls back to one: a sequential scan then means no index can serve the read.
// The planner's choice among several indexes is left to it: on a test table that choice
// follows the statistics, not what a million rows would make it.
func TestEveryReadHasItsIndex(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	conn, err := store.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// one row per index and key column, in key order: table, index, access method, column, predicate
	rows, err := conn.QueryContext(ctx, `
		SELECT t.relname, i.relname, am.amname, a.attname, coalesce(pg_get_expr(x.indpred, x.indrelid), ''),
		       coalesce(oc.opcname, '')
		FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class t ON t.oid = x.indrelid
		JOIN pg_am am ON am.oid = i.relam
		CROSS JOIN LATERAL unnest(x.indkey::int2[], x.indclass::oid[]) WITH ORDINALITY AS k(attnum, opclass, n)
		JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
		LEFT JOIN pg_opclass oc ON oc.oid = k.opclass
		WHERE t.relname IN ('bags', 'scans') AND k.n <= x.indnkeyatts
		ORDER BY i.relname, k.n`)
	if err != nil {
		t.Fatal(err)
	}
	type index struct {
		table, method, predicate string
		columns, opclasses       []string
	}
	indexes := map[string]*index{}
	var names []string
	for rows.Next() {
		var table, name, method, column, predicate, opclass string
		if err := rows.Scan(&table, &name, &method, &column, &predicate, &opclass); err != nil {
			t.Fatal(err)
		}
		ix := indexes[name]
		if ix == nil {
			ix = &index{table: table, method: method, predicate: predicate}
			indexes[name] = ix
			names = append(names, name)
		}
		ix.columns = append(ix.columns, column)
		ix.opclasses = append(ix.opclasses, opclass)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	serves := func(ix *index, r indexedRead) bool {
		// an index of all rows but NULL keys serves a read of one key as well
		samePredicate := ix.predicate == r.predicate || (r.predicate == "" && strings.HasSuffix(ix.predicate, "IS NOT NULL)"))
		if ix.table != r.table || len(ix.columns) < len(r.columns) || !samePredicate {
			return false
		}
		if r.trigram {
			return ix.method == "gin" && ix.columns[0] == r.columns[0] && ix.opclasses[0] == "gin_trgm_ops"
		}
		if ix.method != "btree" {
			return false
		}
		for i, c := range r.columns {
			if ix.columns[i] != c {
				return false
			}
		}
		return true
	}
	if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	for _, r := range indexedReads {
		found := false
		for _, name := range names {
			found = found || serves(indexes[name], r)
		}
		if !found {
			t.Errorf("%s: no index on %s (%s)%s serves it any more (%s)", r.name, r.table, strings.Join(r.columns, ", "),
				map[bool]string{true: " using gin_trgm_ops", false: ""}[r.trigram], r.query)
		}
		var plan strings.Builder
		lines, err := conn.QueryContext(ctx, `EXPLAIN (COSTS OFF) `+r.query)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		for lines.Next() {
			var line string
			if err := lines.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		lines.Close()
		if strings.Contains(plan.String(), "Seq Scan on "+r.table) {
			t.Errorf("%s: a sequential scan of %s even with sequential scans disabled, so no index serves it:\n%s", r.name, r.table, plan.String())
		}
	}
}
