package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// seed creates the users the generator signs in as, named like cmd/seed's, and a few
// parents so that the lists have something to show and bill.
func seed(t *testing.T, env *apitest.Env) {
	t.Helper()
	ctx := context.Background()
	hash, err := env.Hasher.Hash(ctx, apitest.Password)
	if err != nil {
		t.Fatal(err)
	}
	jaipur, err := env.Store.AreaByCode(ctx, "jaipur")
	if err != nil {
		t.Fatal(err)
	}
	users := []db.NewUser{
		{Username: "disp_jaipur_1", PasswordHash: hash, Role: db.RoleDispatcher, AreaID: &jaipur.ID},
		{Username: "biller_1", PasswordHash: hash, Role: db.RoleBiller},
		{Username: "admin_1", PasswordHash: hash, Role: db.RoleAdmin},
	}
	var dispatcher *db.User
	for _, nu := range users {
		u, err := env.Store.CreateUser(ctx, db.System, nu)
		if err != nil {
			t.Fatal(err)
		}
		if dispatcher == nil {
			dispatcher = u
		}
	}
	token := env.TokenFor(t, dispatcher.ID)
	for i := range 5 {
		env.MustDo(t, token, `mutation($qr: String!) { scanParent(qr: $qr) { id } }`,
			map[string]any{"qr": fmt.Sprintf("SB%05d", 100+i)}, &struct{}{})
	}
}

func TestRunMixAgainstRealServer(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	seed(t, env)
	mix, err := parseMix(defaultMix)
	if err != nil {
		t.Fatal(err)
	}
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	var table strings.Builder
	cfg := config{
		URLs: []string{env.URL}, Users: 4, Duration: 5 * time.Second, Password: apitest.Password,
		JSONPath: jsonPath, Mix: mix, Scenario: scenarioMix, MaxChildren: 30, Timeout: 30 * time.Second,
		Seeded: seededUsers{DispatcherPrefix: "disp_", BillerPrefix: "biller_", AdminPrefix: "admin_",
			Areas: []string{"jaipur"}, DispatchersPerArea: 1, Billers: 1, Admins: 1},
		Out: &table, Progress: io.Discard,
	}
	rep, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(table.String())
	if rep.Total.Errors != 0 {
		t.Errorf("errors: %+v", rep.Operations)
	}
	if len(rep.Notes) != 0 {
		t.Errorf("notes: %v", rep.Notes)
	}
	for _, e := range mix {
		if ranRows(rep, e.op.name) == 0 {
			t.Errorf("operation %s never ran: %+v", e.op.name, rep.Operations)
		}
	}
	checkJSONShape(t, jsonPath)
}

// ranRows counts requests of the operation's rows ("bill" records bill-create and bill-link).
func ranRows(rep report, op string) int64 {
	var n int64
	for _, row := range rep.Operations {
		if row.Name == op || strings.HasPrefix(row.Name, op+"-") {
			n += row.Requests
		}
	}
	return n
}

func checkJSONShape(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Total      map[string]any   `json:"total"`
		Operations []map[string]any `json:"operations"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	fields := []string{"requests", "errors", "rps", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms"}
	for _, f := range fields {
		if _, ok := doc.Total[f].(float64); !ok {
			t.Errorf("total.%s missing or not a number: %s", f, data)
		}
	}
	if len(doc.Operations) == 0 {
		t.Fatalf("no operations: %s", data)
	}
	for _, op := range doc.Operations {
		if name, _ := op["name"].(string); name == "" {
			t.Errorf("operation without a name: %v", op)
		}
		for _, f := range fields {
			if _, ok := op[f].(float64); !ok {
				t.Errorf("%v: %s missing or not a number", op["name"], f)
			}
		}
	}
}
