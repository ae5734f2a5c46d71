package live_test

import (
	"strings"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// TestEventsAreScopedToTheSubscriber: each event's nested fields are resolved with the
// subscriber's actor: billUpdated { parentBags } lists (and counts) a dispatcher's own area
// only, and a scan's bag, parent and user come as that dispatcher may see them.
func TestEventsAreScopedToTheSubscriber(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, jaipur := env.NewUser(t, db.RoleDispatcher, "jaipur")
	fx := newFixture(t, env)
	if _, err := fx.db.Exec(`
		INSERT INTO bags (qr, type, area_id) VALUES
			('SB71001', 'PARENT', (SELECT id FROM areas WHERE code = 'lucknow')),
			('SB72001', 'PARENT', (SELECT id FROM areas WHERE code = 'jaipur'))`); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.db.Exec(`UPDATE users SET email = 'x@example.com', last_login_at = now()`); err != nil {
		t.Fatal(err)
	}
	billID := fx.bill("LIVE-ISO")
	_, other := env.NewUser(t, db.RoleDispatcher, "jaipur")

	c := connectLegacy(t, env, jaipur)
	c.subscribe("bill", `subscription { billUpdated { billNumber parentBagCount parentBags { totalCount edges { node { qr } } } createdBy { email } } }`, nil)
	c.subscribe("scan", `subscription { scanAdded { bagQr bag { qr parent { qr } createdBy { username email lastLoginAt } } user { username email lastLoginAt } } }`, nil)
	waitSubscribed(t, env, 2)

	if _, err := fx.db.Exec(`INSERT INTO bill_bags (bag_id, bill_id) SELECT id, $1 FROM bags WHERE qr IN ('SB71001', 'SB72001')`, billID); err != nil {
		t.Fatal(err)
	}
	for {
		m := c.nextFor("bill")
		payload := string(m.Payload)
		if m.Type != "data" || strings.Contains(payload, "errors") {
			t.Fatalf("billUpdated: %s %s", m.Type, payload)
		}
		if strings.Contains(payload, "SB71001") {
			t.Fatalf("a jaipur dispatcher's billUpdated names lucknow's SB71001: %s", payload)
		}
		if strings.Contains(payload, `"parentBagCount":2`) {
			if !strings.Contains(payload, `"totalCount":1`) || !strings.Contains(payload, "SB72001") {
				t.Errorf("billUpdated after both links: %s, want SB72001 only and totalCount 1", payload)
			}
			break
		}
	}

	// a colleague's scan of the dispatcher's own parent: the colleague's private fields stay hidden
	scanParentAs(t, env, other, "SB72001")
	m := c.nextFor("scan")
	payload := string(m.Payload)
	if m.Type != "data" || !strings.Contains(payload, "SB72001") {
		t.Fatalf("scanAdded: %s %s", m.Type, payload)
	}
	if strings.Contains(payload, "example.com") || !strings.Contains(payload, `"lastLoginAt":null`) {
		t.Errorf("a colleague's email or last login reached a dispatcher's scanAdded: %s", payload)
	}
}

func scanParentAs(t *testing.T, env *apitest.Env, token, qr string) {
	t.Helper()
	var out struct{ ScanParent struct{ ID string } }
	env.MustDo(t, token, `mutation($qr: String!) { scanParent(qr: $qr) { id } }`, map[string]any{"qr": qr}, &out)
}
