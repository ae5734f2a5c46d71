package db_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"tracetrack/apperr"
	"tracetrack/db"
	"tracetrack/internal/testdb"
)

func openStore(t *testing.T) *db.Store {
	t.Helper()
	store, err := db.Open(context.Background(), testdb.New(t), 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func newAdmin(t *testing.T, store *db.Store, name string) *db.User {
	t.Helper()
	u, err := store.CreateUser(context.Background(), db.System, db.NewUser{Username: name, PasswordHash: "x", Role: db.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func actor(u *db.User) db.Actor { return db.Actor{UserID: &u.ID} }

func TestTheLastAdminStays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := openStore(t)
	last := newAdmin(t, store, "only_admin")
	biller, _ := store.CreateUser(ctx, db.System, db.NewUser{Username: "a_biller", PasswordHash: "x", Role: db.RoleBiller})
	system := db.Actor{}
	role, inactive := db.RoleBiller, false

	for name, ch := range map[string]db.UserChanges{"demote": {Role: &role}, "deactivate": {Active: &inactive}} {
		_, err := store.UpdateUser(ctx, system, last.ID, ch, 0)
		if apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("%s the last admin: %v, want CONFLICT", name, err)
		}
	}
	if err := store.DeleteUser(ctx, system, last.ID); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("delete the last admin: %v, want CONFLICT", err)
	}
	if err := store.DeleteUser(ctx, actor(last), biller.ID); err != nil {
		t.Errorf("delete a biller: %v", err)
	}
}

// Two admins demote (or deactivate, or delete) each other at the same moment, both already
// authorized: the row locks make the second see the first's outcome, so one admin remains.
func TestAdminsRemovingEachOtherLeaveOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	role, inactive := db.RoleBiller, false
	removals := map[string]func(store *db.Store, by, target *db.User) error{
		"demote": func(store *db.Store, by, target *db.User) error {
			_, err := store.UpdateUser(ctx, actor(by), target.ID, db.UserChanges{Role: &role}, 0)
			return err
		},
		"deactivate": func(store *db.Store, by, target *db.User) error {
			_, err := store.UpdateUser(ctx, actor(by), target.ID, db.UserChanges{Active: &inactive}, 0)
			return err
		},
		"delete": func(store *db.Store, by, target *db.User) error { return store.DeleteUser(ctx, actor(by), target.ID) },
	}
	for name, remove := range removals {
		store := openStore(t)
		var survivor *db.User
		for round := range 30 {
			a := newAdmin(t, store, fmt.Sprintf("a_%d", round))
			b := newAdmin(t, store, fmt.Sprintf("b_%d", round))
			if survivor != nil { // three admins now: the last round's may go
				if _, err := store.UpdateUser(ctx, db.Actor{}, survivor.ID, db.UserChanges{Role: &role}, 0); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			var errA, errB error
			start := make(chan struct{})
			wg.Add(2)
			go func() { defer wg.Done(); <-start; errA = remove(store, a, b) }()
			go func() { defer wg.Done(); <-start; errB = remove(store, b, a) }()
			close(start)
			wg.Wait()
			refused := errA // a failed, so b removed a
			survivor = b
			if errA == nil {
				refused, survivor = errB, a
			}
			if (errA == nil) == (errB == nil) || apperr.CodeOf(refused) != apperr.Conflict {
				t.Fatalf("%s round %d: errors %v and %v, want one success and one CONFLICT", name, round, errA, errB)
			}
			if n := activeAdmins(t, store); n != 1 {
				t.Fatalf("%s round %d: %d active admins left, want 1", name, round, n)
			}
		}
	}
}

func activeAdmins(t *testing.T, store *db.Store) int {
	t.Helper()
	role := db.RoleAdmin
	admins, err := store.Users(context.Background(), db.System, db.UserFilter{Role: &role}, db.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range admins.Users {
		if u.Active {
			n++
		}
	}
	return n
}

func TestCreateFirstAdminOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := openStore(t)
	var wg sync.WaitGroup
	created := make([]bool, 8)
	errs := make([]error, 8)
	for i := range created {
		wg.Add(1)
		go func() {
			defer wg.Done()
			created[i], errs[i] = store.CreateFirstAdmin(ctx, "hash")
		}()
	}
	wg.Wait()
	n := 0
	for i := range created {
		if errs[i] != nil {
			t.Errorf("call %d: %v", i, errs[i])
		}
		if created[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d calls created the admin, want exactly 1", n)
	}
	if count, _ := store.CountUsers(ctx); count != 1 {
		t.Errorf("%d users, want 1", count)
	}
}
