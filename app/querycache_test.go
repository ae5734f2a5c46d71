package app

import (
	"context"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

func TestBoundedCacheRefusesLongText(t *testing.T) {
	ctx := context.Background()
	queries := newBoundedCache(10, func(query string, _ *ast.QueryDocument) string { return query })
	persisted := newBoundedCache(10, func(_, query string) string { return query })
	for _, tc := range []struct {
		text string
		kept bool
	}{
		{"{ me { id } }", true},
		{strings.Repeat("#", maxCachedQueryBytes), true},
		{strings.Repeat("#", maxCachedQueryBytes+1), false},
		{"# " + strings.Repeat("x", 1<<20) + "\n{ me { id } }", false},
	} {
		queries.Add(ctx, tc.text, &ast.QueryDocument{})
		persisted.Add(ctx, "hash", tc.text)
		_, inQueries := queries.Get(ctx, tc.text)
		got, inPersisted := persisted.Get(ctx, "hash")
		if inQueries != tc.kept || (inPersisted && got == tc.text) != tc.kept {
			t.Errorf("%d bytes: kept by the query cache %v, by the persisted-query cache %v; want %v",
				len(tc.text), inQueries, inPersisted && got == tc.text, tc.kept)
		}
	}
}
