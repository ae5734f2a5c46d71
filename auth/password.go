// Package auth holds passwords, tokens and the signed-in user of a request.
package auth

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"tracetrack/apperr"
)

// maxPasswordBytes is the most bcrypt reads of a password.
const maxPasswordBytes = 72

// Hasher hashes and checks passwords with bcrypt in a bounded pool: a login storm queues
// here instead of taking every core from the scanners.
type Hasher struct {
	cost  int
	slots chan struct{}
	// dummy is checked against for unknown users so that they cost as much as a wrong password
	dummy []byte
}

// NewHasher returns a hasher that runs at most workers hashes at once.
func NewHasher(cost, workers int) *Hasher {
	if workers < 1 {
		workers = 1
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("unknown-user-placeholder"), cost)
	if err != nil {
		panic(err) // only an invalid cost gets here, a programming error
	}
	return &Hasher{cost: cost, slots: make(chan struct{}, workers), dummy: dummy}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return apperr.New(apperr.ServiceUnavailable, "the server is busy checking passwords; try again in a moment")
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the bcrypt hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), h.cost)
	if err != nil {
		return "", err
	}
	return string(hash), nil
}

// HashNew checks a new password against the policy and returns its hash.
func (h *Hasher) HashNew(ctx context.Context, password string) (string, error) {
	if err := ValidatePassword(password); err != nil {
		return "", err
	}
	return h.Hash(ctx, password)
}

// Check reports whether password matches hash. An empty hash (unknown user) is checked
// against a placeholder so that it takes the same time, and never matches; so is a password
// longer than bcrypt reads, which no stored hash can have come from.
func (h *Hasher) Check(ctx context.Context, hash, password string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	if hash == "" || len(password) > maxPasswordBytes {
		_ = bcrypt.CompareHashAndPassword(h.dummy, []byte(password))
		return false, nil
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
		return false, nil
	}
	return err == nil, err
}

// PasswordRule is the password policy of SPEC.md, as messages state it.
const PasswordRule = "8 to 72 characters with an upper-case letter, a lower-case letter, a digit and a symbol"

// ValidatePassword enforces the password policy of SPEC.md; its refusal says which rule the
// password breaks.
func ValidatePassword(password string) error {
	var upper, lower, digit, symbol bool
	for _, r := range password {
		switch {
		case unicode.IsControl(r):
			// a tab or a line break pasted into a form: no sign-in form can type it again
			return apperr.New(apperr.BadUserInput, "the password holds a control character (%U, such as a tab or a line break), which no sign-in form can type; use %s", r, PasswordRule)
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r):
			symbol = true
		}
	}
	if n := utf8.RuneCountInString(password); n < 8 {
		return apperr.New(apperr.BadUserInput, "the password has %d characters, too few: use %s", n, PasswordRule)
	}
	if len(password) > maxPasswordBytes {
		// bcrypt reads 72 bytes: 72 plain letters, fewer accented, non-Latin or emoji ones
		return apperr.New(apperr.BadUserInput, "the password is %d bytes long in UTF-8 (%d characters), too long: at most %d bytes (a plain letter, digit or symbol is one byte, an accented or non-Latin letter two or three, an emoji four)",
			len(password), utf8.RuneCountInString(password), maxPasswordBytes)
	}
	var missing []string
	for _, class := range []struct {
		has  bool
		name string
	}{{upper, "an upper-case letter"}, {lower, "a lower-case letter"}, {digit, "a digit"}, {symbol, "a symbol"}} {
		if !class.has {
			missing = append(missing, class.name)
		}
	}
	if len(missing) > 0 {
		return apperr.New(apperr.BadUserInput, "the password needs %s: use %s", strings.Join(missing, " and "), PasswordRule)
	}
	return nil
}
