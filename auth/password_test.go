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
	// each refusal says which rule the password breaks, counted as a person counts
	for bad, says := range map[string]string{
		"":                              "has 0 characters, too few",
		"aB3$aaa":                       "has 7 characters, too few",
		"Пар#1a":                        "has 6 characters, too few",
		"alllower1#":                    "needs an upper-case letter: use 8 to 72",
		"ALLUPPER1#":                    "needs a lower-case letter: use",
		"NoDigits#":                     "needs a digit: use",
		"NoSymbol12":                    "needs a symbol: use",
		"nothingelse":                   "needs an upper-case letter and a digit and a symbol",
		strings.Repeat("a", 70) + "B1#": "73 bytes long in UTF-8 (73 characters), too long: at most 72 bytes",
		strings.Repeat("😀", 19) + "Aa1": "79 bytes long in UTF-8 (22 characters)",
		"Tab\there#1":                   "a control character (U+0009",
		"Line#1\nbreak":                 "a control character (U+000A",
	} {
		err := ValidatePassword(bad)
		if apperr.CodeOf(err) != apperr.BadUserInput || !strings.Contains(err.Error(), says) {
			t.Errorf("ValidatePassword(%q) = %v, want BAD_USER_INPUT saying %q", bad, err, says)
		}
		if err != nil && strings.Contains(bad, "#") && strings.Contains(err.Error(), bad) {
			t.Errorf("ValidatePassword(%q): the message quotes the password: %v", bad, err)
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
