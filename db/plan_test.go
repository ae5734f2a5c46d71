package db_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"tracetrack/db"
)

const testBagColumns = `id, qr, type, status, area_id, parent_id, child_count, capacity, billed, created_by, created_at, updated_at`

// TestPlannedReadsAsSqlxReadsThem: a bag with its children and a bill with its parent bags,
// each read by hand in one statement, are what sqlx reads from the same rows: every field,
// null and non-null ids alike, the page cut and the link positions.
func TestPlannedReadsAsSqlxReadsThem(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	user := newAdmin(t, store, "planreader")
	raw := sqlx.NewDb(store.DB(), "postgres")
	mustRun := func(query string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	mustRun(`INSERT INTO bags (qr, type, area_id, created_by) SELECT 'SB0000'||g, 'PARENT', 1, CASE WHEN g % 2 = 0 THEN $1::bigint END FROM generate_series(1, 4) g`, user.ID)
	mustRun(`INSERT INTO bags (qr, type, parent_id, area_id, created_by)
		SELECT 'K'||p.id||'X'||k, 'CHILD', p.id, 1, CASE WHEN k % 2 = 0 THEN $1::bigint END
		FROM bags p, generate_series(1, 5) k WHERE p.type = 'PARENT'`, user.ID)
	mustRun(`INSERT INTO bills (bill_number, capacity, created_by) VALUES ('PLAN-1', 10, $1)`, user.ID)
	mustRun(`INSERT INTO bill_bags (bag_id, bill_id) SELECT g.id, (SELECT id FROM bills) FROM bags g WHERE g.type = 'PARENT' ORDER BY g.id DESC`)

	var parent db.Bag
	var children []*db.Bag
	if err := raw.GetContext(ctx, &parent, `SELECT `+testBagColumns+` FROM bags WHERE qr = 'SB00002'`); err != nil {
		t.Fatal(err)
	}
	if err := raw.SelectContext(ctx, &children, `SELECT `+testBagColumns+` FROM bags WHERE parent_id = $1 ORDER BY id`, parent.ID); err != nil {
		t.Fatal(err)
	}
	bag, kids, more, err := store.BagWithChildren(ctx, db.System, "SB00002", db.Page{Limit: 3}, 0)
	if err != nil || !reflect.DeepEqual(bag, &parent) || !reflect.DeepEqual(kids, children[:3]) || !more {
		t.Errorf("bag with children: %+v %d children (more %v) %v; sqlx read %+v", bag, len(kids), more, err, parent)
	}
	_, kids, more, err = store.BagWithChildren(ctx, db.System, "SB00002", db.Page{Limit: 3, AfterID: children[2].ID}, 0)
	if err != nil || !reflect.DeepEqual(kids, children[3:]) || more {
		t.Errorf("second page of children: %d (more %v) %v", len(kids), more, err)
	}

	var bill db.Bill
	if err := raw.GetContext(ctx, &bill, `SELECT id, bill_number, description, destination, vehicle_number, capacity, status,
		parent_bag_count, child_bag_count, created_by, created_at, updated_at, completed_at, completed_by FROM bills`); err != nil {
		t.Fatal(err)
	}
	var links []struct {
		LinkID int64 `db:"link_id"`
		db.Bag
	}
	if err := raw.SelectContext(ctx, &links, `SELECT bb.id AS link_id, g.`+strings.ReplaceAll(testBagColumns, ", ", ", g.")+` FROM bill_bags bb JOIN bags g ON g.id = bb.bag_id ORDER BY bb.id`); err != nil {
		t.Fatal(err)
	}
	got, parents, err := store.BillWithParentBags(ctx, db.System, "plan-1", db.Page{Limit: 3}, 0)
	if err != nil || !reflect.DeepEqual(got, &bill) || len(parents.Bags) != 3 || len(parents.Positions) != 3 || !parents.HasNext {
		t.Fatalf("bill with parents: %+v %+v %v; sqlx read %+v", got, parents, err, bill)
	}
	for i, p := range parents.Bags {
		if !reflect.DeepEqual(p, &links[i].Bag) || parents.Positions[i] != links[i].LinkID {
			t.Errorf("parent %d: %+v at %d; sqlx read %+v at %d", i, p, parents.Positions[i], links[i].Bag, links[i].LinkID)
		}
	}

	// each column alone, a few together: the bags hold those columns as sqlx read them (and
	// the id), every other field zero; the bag of a tree and the bill stay whole
	sets := []db.BagColumns{db.BagColumnQR | db.BagColumnChildCount, db.BagColumnQR | db.BagColumnCreatedAt | db.BagColumnAreaID | db.BagColumnCreatedBy}
	for c := db.BagColumnID; c <= db.BagColumnUpdatedAt; c <<= 1 {
		sets = append(sets, db.BagColumnID|c)
	}
	for _, columns := range sets {
		bag, kids, more, err := store.BagWithChildren(ctx, db.System, "SB00002", db.Page{Limit: 3}, columns)
		if err != nil || !reflect.DeepEqual(bag, &parent) || len(kids) != 3 || !more {
			t.Fatalf("bag with children of columns %b: %+v %d children (more %v) %v", columns, bag, len(kids), more, err)
		}
		for i, kid := range kids {
			if want := onlyColumns(*children[i], columns); !reflect.DeepEqual(kid, &want) {
				t.Errorf("child %d of columns %b: %+v, want %+v", i, columns, kid, want)
			}
		}
		got, parents, err := store.BillWithParentBags(ctx, db.System, "plan-1", db.Page{Limit: 3}, columns)
		if err != nil || !reflect.DeepEqual(got, &bill) || len(parents.Bags) != 3 || !parents.HasNext {
			t.Fatalf("bill with parents of columns %b: %+v %+v %v", columns, got, parents, err)
		}
		for i, p := range parents.Bags {
			if want := onlyColumns(links[i].Bag, columns); !reflect.DeepEqual(p, &want) || parents.Positions[i] != links[i].LinkID {
				t.Errorf("parent %d of columns %b: %+v at %d, want %+v at %d", i, columns, p, parents.Positions[i], want, links[i].LinkID)
			}
		}
	}
}

// onlyColumns is the bag with the fields of the columns and its id, the others zero.
func onlyColumns(b db.Bag, columns db.BagColumns) db.Bag {
	out := db.Bag{ID: b.ID}
	for _, f := range []struct {
		column db.BagColumns
		copy   func()
	}{
		{db.BagColumnQR, func() { out.QR = b.QR }},
		{db.BagColumnType, func() { out.Type = b.Type }},
		{db.BagColumnStatus, func() { out.Status = b.Status }},
		{db.BagColumnAreaID, func() { out.AreaID = b.AreaID }},
		{db.BagColumnParentID, func() { out.ParentID = b.ParentID }},
		{db.BagColumnChildCount, func() { out.ChildCount = b.ChildCount }},
		{db.BagColumnCapacity, func() { out.Capacity = b.Capacity }},
		{db.BagColumnBilled, func() { out.Billed = b.Billed }},
		{db.BagColumnCreatedBy, func() { out.CreatedByID = b.CreatedByID }},
		{db.BagColumnCreatedAt, func() { out.CreatedAt = b.CreatedAt }},
		{db.BagColumnUpdatedAt, func() { out.UpdatedAt = b.UpdatedAt }},
	} {
		if columns&f.column != 0 {
			f.copy()
		}
	}
	return out
}
