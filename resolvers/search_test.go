package resolvers_test

import (
	"net/http"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// The bags list and the bags export apply one QR search rule (db.QRPrefix, db.QRSubstring):
// the same text is refused or accepted by both.
func TestBagSearchTextIsOneRuleForListAndExport(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	for _, tc := range []struct {
		filter, param string
		ok            bool
	}{
		{`{search: "ab"}`, "search=ab", false},
		{`{search: " sb0 "}`, "search=+sb0+", true},
		{`{qrPrefix: "s"}`, "qrPrefix=s", true},
		{`{qrPrefix: "SB000000000000000000000000000000000000000000000000001"}`, "qrPrefix=SB000000000000000000000000000000000000000000000000001", false},
	} {
		code := env.Do(t, admin, `{ bags(filter: `+tc.filter+`) { totalCount } }`, nil).Code()
		if (code == "") != tc.ok || (!tc.ok && code != "BAD_USER_INPUT") {
			t.Errorf("bags(filter: %s): code %q, want ok %v", tc.filter, code, tc.ok)
		}
		status, _ := env.Get(t, admin, "/export/bags.csv?"+tc.param)
		if want := map[bool]int{true: http.StatusOK, false: http.StatusBadRequest}[tc.ok]; status != want {
			t.Errorf("/export/bags.csv?%s: %d, want %d", tc.param, status, want)
		}
	}
}
