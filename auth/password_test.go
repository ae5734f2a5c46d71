package auth

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"tracetrack/apperr"
)

func TestValidatePassword(t *testing.T) {
	for _, ok := range []string{"Test#Pass1", "aB3$aaaa", "Пароль#1a", strings.Repeat("a", 68) + "B1#!"} {
		if err := ValidatePassword(ok); err != nil {
			t.Errorf("ValidatePassword(%q) = %v, want ok", ok, err)
		}
	}
	for _, bad := range []string{"", "aB3$aaa", "alllower1#", "ALLUPPER1#", "NoDigits#", "NoSymbol12", strings.Repeat("a", 70) + "B1#"} {
		if err := ValidatePassword(bad); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("ValidatePassword(%q) = %v, want BAD_USER_INPUT", bad, err)
		}
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(bcrypt.MinCost, 1)
	hash, err := h.HashNew(ctx, "Test#Pass1")
	if err != nil {
		t.Fatal(err)
	}
	longest := strings.Repeat("a", 68) + "B1#!"
	longHash, err := h.HashNew(ctx, longest)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		hash, password string
		want           bool
	}{
		{hash, "Test#Pass1", true},
		{hash, "Test#Pass2", false},
		{"", "Test#Pass1", false}, // unknown user
		{longHash, longest, true},
		{longHash, longest + "x", false}, // bcrypt would read only the first 72 bytes
	} {
		if got, err := h.Check(ctx, tt.hash, tt.password); got != tt.want || err != nil {
			t.Errorf("Check(%q) = %v, %v; want %v", tt.password, got, err, tt.want)
		}
	}
	if _, err := h.HashNew(ctx, "weak"); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("HashNew(weak) = %v, want BAD_USER_INPUT", err)
	}
}

func TestHasherGivesUpWhenTheCallerDoes(t *testing.T) {
	h := NewHasher(bcrypt.MinCost, 1)
	h.slots <- struct{}{} // the only worker is busy
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "Test#Pass1"); apperr.CodeOf(err) != apperr.ServiceUnavailable {
		t.Errorf("Hash with a full pool and a cancelled caller: %v, want SERVICE_UNAVAILABLE", err)
	}
}
