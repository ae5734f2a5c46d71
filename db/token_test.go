package db_test

import (
	"context"
	"testing"
	"time"

	"tracetrack/db"
)

func TestLoginDeletesDeadTokensOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := openStore(t)
	user := newAdmin(t, store, "returning")
	other := newAdmin(t, store, "other")
	now := time.Now()
	for i, tok := range []struct {
		owner   *db.User
		expires time.Time
		revoked bool
	}{
		{user, now.Add(-time.Hour), false},  // expired: deleted
		{user, now.Add(time.Hour), true},    // logged out: deleted
		{user, now.Add(time.Hour), false},   // another live session: kept
		{other, now.Add(-time.Hour), false}, // someone else's: left for their next login
	} {
		id, err := store.CreateToken(ctx, tok.owner.ID, []byte{byte(i)}, tok.expires)
		if err != nil {
			t.Fatal(err)
		}
		if tok.revoked {
			if err := store.RevokeToken(ctx, actor(tok.owner), id); err != nil {
				t.Fatal(err)
			}
		}
	}
	signedIn, err := store.RecordLogin(ctx, db.Actor{}, db.NewSession{
		UserID: user.ID, PasswordHash: "x", Now: now, TokenHash: []byte("new"), ExpiresAt: now.Add(time.Hour)})
	if err != nil || signedIn == nil {
		t.Fatalf("login: %v, %v", signedIn, err)
	}
	for owner, want := range map[*db.User]int{user: 2, other: 1} {
		var n int
		if err := store.DB().QueryRow(`SELECT count(*) FROM auth_tokens WHERE user_id = $1`, owner.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%s has %d tokens after the login, want %d", owner.Username, n, want)
		}
	}
}
