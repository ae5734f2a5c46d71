package db_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lib/pq"
)

// bags_qr_format was rewritten for speed (migration 00020: a length test and '^[A-Z0-9]+$'
// for a child's '^[A-Z0-9]{4,20}$', a length test before the series pattern). It must accept
// exactly what the rule of 00014 accepted: the test evaluates the constraint as the catalog
// holds it and the old rule side by side over edge cases and random strings, for both bag
// types, with the default series, with more series, and with none.

// oldQRFormat is 00014's rule, with the series pattern built from label_series as 00014's
// tt_label_series_rebuild built it.
const oldQRFormat = `
	WITH s AS (SELECT '^(' || string_agg(prefix || '[0-9]{' || digits || '}', '|' ORDER BY id) || ')$' AS pattern FROM label_series)
	SELECT CASE type
		WHEN 'PARENT' THEN coalesce(qr ~ s.pattern, false)
		ELSE qr ~ '^[A-Z0-9]{4,20}$' AND NOT coalesce(qr ~ s.pattern, false) END
	FROM s`

func qrFormatCandidates() []string {
	c := []string{"", "A", "ABC", "ABCD", "abcd", "ABCd", strings.Repeat("A", 20), strings.Repeat("9", 21),
		"ABCD\n", "\nABCD", "AB CD", "AB-CD", "ÄBCD", "ＡＢＣＤ", "١٢٣٤", "ABC١", "ABCDÉFGHIJKLMNOPQRST",
		"SB12345", "SB1234", "SB123456", "sb12345", "SB12345\n", "M444-12345", "M444-1234", "M44412345",
		"M444-123456", "M444-1234Ä", "SB1234Ä", "AB1234567", "AB123456", "X-9123", "X-912", "X-91234", "X9123"}
	r := rand.New(rand.NewPCG(13, 20))
	alphabets := []string{"SBM4-0123456789", "ABSXM-9", "ABCXYZ0189-é_a\n Ä"}
	for range 20000 {
		alphabet := []rune(alphabets[r.IntN(len(alphabets))])
		var b strings.Builder
		switch r.IntN(4) {
		case 0:
			b.WriteString("SB")
		case 1:
			b.WriteString("M444-")
		case 2:
			b.WriteString("AB")
		}
		for n := r.IntN(23); n > 0; n-- {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		c = append(c, b.String())
	}
	return c
}

func TestQRFormatAcceptsWhatTheOldRuleAccepted(t *testing.T) {
	conn, mustExec := rawSQL(t)
	var def string
	if err := conn.QueryRow(`SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'bags_qr_format'`).Scan(&def); err != nil {
		t.Fatal(err)
	}
	check, ok := strings.CutPrefix(def, "CHECK ")
	if !ok {
		t.Fatalf("bags_qr_format is %q, not a CHECK", def)
	}
	candidates := qrFormatCandidates()
	compare := func(series string) {
		t.Helper()
		rows, err := conn.Query(`
			SELECT bags.qr, bags.type, `+check+` AS now, (`+oldQRFormat+`) AS before
			FROM unnest($1::text[]) AS q(code) CROSS JOIN (VALUES ('PARENT'), ('CHILD')) AS t(kind),
			     LATERAL (SELECT q.code COLLATE "C" AS qr, t.kind AS type) AS bags`, pq.Array(candidates))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		accepted, n := 0, 0
		for rows.Next() {
			var qr, typ string
			var now, before bool
			if err := rows.Scan(&qr, &typ, &now, &before); err != nil {
				t.Fatal(err)
			}
			n++
			if now {
				accepted++
			}
			if now != before {
				t.Errorf("series %s: %s %q: bags_qr_format says %v, the rule of 00014 %v", series, typ, qr, now, before)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		// the candidates hold both kinds of answer, so the comparison compares something
		if accepted == 0 || accepted == n {
			t.Fatalf("series %s: %d of %d candidates accepted", series, accepted, n)
		}
	}
	compare("SB+5, M444-+5")
	mustExec(`INSERT INTO label_series (prefix, digits) VALUES ('AB', 7), ('X-9', 3), ('SB', 8)`)
	compare("SB+5, M444-+5, AB+7, X-9+3, SB+8")
	mustExec(`DELETE FROM label_series`)
	compare("none")
}
