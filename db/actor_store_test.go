package db_test

import (
	"context"
	"testing"

	"tracetrack/apperr"
	"tracetrack/db"
)

// TestReadableAreaCodes: every area argument of the API resolves the same way; no code,
// "" and blanks mean none asked (a dispatcher's own area, everything for the others), an
// unknown code is BAD_USER_INPUT, another area is FORBIDDEN for a dispatcher.
func TestReadableAreaCodes(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	jaipur, err := store.AreaByCode(ctx, "jaipur")
	if err != nil {
		t.Fatal(err)
	}
	lucknow, _ := store.AreaByCode(ctx, "lucknow")
	dispatcher := db.Actor{Role: db.RoleDispatcher, AreaID: &jaipur.ID}
	admin := db.Actor{Role: db.RoleAdmin}
	str := func(s string) *string { return &s }
	cases := []struct {
		name  string
		actor db.Actor
		code  *string
		want  *int64
		err   apperr.Code
	}{
		{"dispatcher, no code", dispatcher, nil, &jaipur.ID, ""},
		{"dispatcher, empty code", dispatcher, str(""), &jaipur.ID, ""},
		{"dispatcher, blank code", dispatcher, str("  "), &jaipur.ID, ""},
		{"dispatcher, own code in another case", dispatcher, str(" Jaipur "), &jaipur.ID, ""},
		{"dispatcher, another area", dispatcher, str("lucknow"), nil, apperr.Forbidden},
		{"dispatcher, unknown code", dispatcher, str("atlantis"), nil, apperr.BadUserInput},
		{"admin, no code", admin, nil, nil, ""},
		{"admin, empty code", admin, str(""), nil, ""},
		{"admin, an area", admin, str("lucknow"), &lucknow.ID, ""},
		{"admin, unknown code", admin, str("atlantis"), nil, apperr.BadUserInput},
		{"nobody, no code", db.Actor{}, nil, nil, apperr.Unauthenticated},
	}
	for _, c := range cases {
		got, err := store.ReadableArea(ctx, c.actor, c.code)
		if apperr.CodeOf(err) != c.err && (err != nil || c.err != "") {
			t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			continue
		}
		if (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("%s: area %v, want %v", c.name, got, c.want)
		}
	}
}
