package resolvers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// Every write takes a fixed number of SQL statements, whatever its batch size, and the usual
// ones take the fewest the rules allow: a scan of new children is one statement (which answers
// with its parent as the triggers leave it), and so is a retried batch that links nothing.
func TestWriteStatements(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.DebugSQLCount = true })
	_, biller := env.NewUser(t, db.RoleBiller, "")
	kids := func(prefix string, n int) string {
		qrs := make([]string, n)
		for i := range qrs {
			qrs[i] = fmt.Sprintf("%q", fmt.Sprintf("%s%04d", prefix, i))
		}
		return strings.Join(qrs, ", ")
	}
	scanChildren := func(parent, children string) string {
		return fmt.Sprintf(`mutation { scanChildren(parentQr: %q, childQrs: [%s]) { parent { childCount status } linked { qr } rejected { code } } }`, parent, children)
	}
	scanParent(t, env, biller, "SB71002")
	bill := mustCreateBill(t, env, biller, "B-STMTS", 5)
	cases := []struct {
		name  string
		query string
		want  int
	}{
		{"scanParent of a new parent", `mutation { scanParent(qr: "SB71001") { qr childCount } }`, 1},
		{"scanParent again", `mutation { scanParent(qr: "SB71001") { qr childCount } }`, 1},
		{"scanChildren of 1 new child", scanChildren("SB71001", kids("ONE", 1)), 1},
		{"scanChildren of 29 new children", scanChildren("SB71001", kids("MANY", 29)), 1},
		{"scanChildren retried", scanChildren("SB71001", kids("MANY", 29)), 1},
		{"scanChildren into a full parent", scanChildren("SB71001", kids("OVER", 5)), 1},
		{"scanChildren of a billed parent", scanChildren("SB71002", kids("BILLED", 30)), 1},
		{"unlinkChild", `mutation { unlinkChild(childQr: "ONE0000") { qr childCount } }`, 3},
		{"undoLastChildScan of a child of a billed parent (its bill locked too)", `mutation { undoLastChildScan { parent { qr childCount } removedQr } }`, 5},
		{"linkBagsToBill of 1 parent", fmt.Sprintf(`mutation { linkBagsToBill(billId: %q, parentQrs: ["SB71001"]) { linked { qr } } }`, bill.ID), 5},
		{"unlinkBagFromBill", fmt.Sprintf(`mutation { unlinkBagFromBill(billId: %q, parentQr: "SB71001") { parentBagCount } }`, bill.ID), 4},
	}
	for _, c := range cases {
		if c.name == "scanChildren of a billed parent" {
			mustLink(t, env, biller, bill.ID, "SB71002")
		}
		if got := statements(t, env, biller, c.query); got != c.want {
			t.Errorf("%s: %d statements, want %d", c.name, got, c.want)
		}
	}
}

// A parent whose children change while a batch waits for its row lock: here a child of the
// batch is unlinked meanwhile. The batch's one statement sees that the parent it locked is newer
// than the one its snapshot saw (which still has the child), changes nothing, and the batch runs
// as a transaction that sees the unlink: the child is linked again, not "already linked".
func TestBatchAfterWaitingForAChangedParent(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	scanParent(t, env, token, "SB72001")
	scanChildren(t, env, token, "SB72001", "WAIT0001", "WAIT0002")
	ctx := t.Context()
	tx, err := env.Store.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// what a concurrent unlink does: the parent locked, the child deleted, the count moved
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM bags WHERE qr = 'SB72001' FOR NO KEY UPDATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM bags WHERE qr = 'WAIT0002'`); err != nil {
		t.Fatal(err)
	}
	done := make(chan scanResult, 1)
	go func() { done <- scanChildrenNoT(env, token, "SB72001", "WAIT0002", "WAIT0003") }()
	waitForLockWaiter(t, env)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if len(got.Linked) != 2 || got.Linked[0].QR != "WAIT0002" || got.Linked[1].QR != "WAIT0003" || len(got.AlreadyLinked) != 0 {
		t.Errorf("linked %v, already linked %v, rejected %v; want WAIT0002 and WAIT0003 linked", got.Linked, got.AlreadyLinked, got.Rejected)
	}
	if got.Parent.ChildCount != 3 {
		t.Errorf("parent holds %d children, want 3", got.Parent.ChildCount)
	}
	var recount int
	if err := env.Store.DB().QueryRow(`SELECT count(*) FROM bags c JOIN bags p ON p.id = c.parent_id WHERE p.qr = 'SB72001'`).Scan(&recount); err != nil {
		t.Fatal(err)
	}
	if recount != 3 {
		t.Errorf("recount %d children, want 3", recount)
	}
}

// waitForLockWaiter returns once a session of the test's database waits on a lock.
func waitForLockWaiter(t *testing.T, env *apitest.Env) {
	t.Helper()
	for range 500 {
		var waiting int
		if err := env.Store.DB().QueryRow(`SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE NOT l.granted AND a.datname = current_database()`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the batch never waited for the concurrent change")
}
