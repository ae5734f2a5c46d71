package db

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"

	"tracetrack/apperr"
	"tracetrack/qr"
)

// BagByQR returns the bag with the QR (normalised here; a malformed QR is BAD_USER_INPUT), or
// nil when there is none. A bag of an area the actor may not see is FORBIDDEN (naming
// nothing of it).
func (s *Store) BagByQR(ctx context.Context, a Actor, rawQR string) (*Bag, error) {
	code, err := anyCode(rawQR)
	if err != nil {
		return nil, err
	}
	var bag Bag
	err = s.db.GetContext(ctx, &bag, `SELECT `+bagColumns+` FROM bags WHERE qr = $1`, code)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "fetch bag")
	}
	if err := a.checkBag(&bag); err != nil {
		return nil, err
	}
	return &bag, nil
}

// ScanParent registers the parent bag if it is new (in the scanning user's area; none for
// admins and billers) and logs PARENT_SCANNED, in one transaction. A parent of an area the
// actor may not see is FORBIDDEN and nothing is logged.
func (s *Store) ScanParent(ctx context.Context, a Actor, rawQR string, capacity int) (*Bag, error) {
	code, err := parentCode(rawQR)
	if err != nil {
		return nil, err
	}
	var bag *Bag
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var row Bag
		err := tx.GetContext(ctx, &row, `
			WITH inserted AS (
				INSERT INTO bags (qr, type, area_id, capacity, created_by)
				VALUES ($1, 'PARENT', $2, $3, $4)
				ON CONFLICT (qr) DO NOTHING
				RETURNING `+bagColumns+`
			)
			SELECT `+bagColumns+` FROM inserted
			UNION ALL
			SELECT `+bagColumns+` FROM bags WHERE qr = $1 AND NOT EXISTS (SELECT 1 FROM inserted)`,
			code, a.AreaID, capacity, a.UserID)
		if err != nil {
			return wrap(err, "register parent bag")
		}
		if err := a.checkBag(&row); err != nil {
			return err
		}
		bag = &row
		return logScans(ctx, tx, []scanEntry{{Kind: ScanParentScanned, Bag: &row, UserID: a.UserID}})
	})
	return bag, err
}

// parentCode normalises a parent QR, refusing anything else with BAD_USER_INPUT.
func parentCode(raw string) (string, error) {
	code := qr.Normalize(raw)
	switch qr.Classify(code) {
	case qr.Parent:
		return code, nil
	case qr.Child:
		return "", apperr.New(apperr.BadUserInput, "%s is a child QR; scan a parent bag here (SB + 5 digits or M444- + 5 digits)", code)
	}
	return "", apperr.New(apperr.BadUserInput, "%q is not a valid QR: %s", code, qr.Describe)
}

// childCode normalises a child QR, refusing anything else with BAD_USER_INPUT.
func childCode(raw string) (string, error) {
	code := qr.Normalize(raw)
	switch qr.Classify(code) {
	case qr.Child:
		return code, nil
	case qr.Parent:
		return "", apperr.New(apperr.BadUserInput, "%s is a parent QR; use deleteBag to remove a parent bag", code)
	}
	return "", apperr.New(apperr.BadUserInput, "%q is not a valid QR: %s", code, qr.Describe)
}

// lockParent locks the parent bag with the QR for a change of its children. FOR NO KEY
// UPDATE leaves foreign-key checks of concurrent bill links free to proceed.
func lockParent(ctx context.Context, tx *sqlx.Tx, code string) (*Bag, error) {
	var parent Bag
	err := tx.GetContext(ctx, &parent, `SELECT `+bagColumns+` FROM bags WHERE qr = $1 AND type = 'PARENT' FOR NO KEY UPDATE`, code)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "no parent bag %s; scan it with scanParent first", code)
	}
	if err != nil {
		return nil, wrap(err, "lock parent bag")
	}
	return &parent, nil
}

// bagByID reads a bag inside a transaction (after triggers have updated its counters).
func bagByID(ctx context.Context, tx *sqlx.Tx, id int64) (*Bag, error) {
	var bag Bag
	if err := tx.GetContext(ctx, &bag, `SELECT `+bagColumns+` FROM bags WHERE id = $1`, id); err != nil {
		return nil, wrap(err, "fetch bag")
	}
	return &bag, nil
}

// BagByID returns the bag with the id, or nil when there is none. A bag of an area the actor
// may not see is FORBIDDEN (naming nothing of it), as in BagByQR.
func (s *Store) BagByID(ctx context.Context, a Actor, id int64) (*Bag, error) {
	var bags []*Bag
	err := s.db.SelectContext(ctx, &bags, `SELECT `+bagColumns+` FROM bags WHERE id = $1`, id)
	if err != nil || len(bags) == 0 {
		return nil, wrap(err, "fetch bag")
	}
	if err := a.checkBag(bags[0]); err != nil {
		return nil, err
	}
	return bags[0], nil
}
