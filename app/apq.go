package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tracetrack/apperr"
	"tracetrack/internal/scalar"
)

// persistedQueries serves automatic persisted queries (Apollo's APQ): a client sends
// extensions.persistedQuery {"version": 1, "sha256Hash": "<hex>"} with the query once, and
// then the hash alone. It replaces gqlgen's extension, whose refusals (a malformed
// extension, a hash that does not match its query) carry no code and read as internal errors.
type persistedQueries struct{ cache graphql.Cache[string] }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = persistedQueries{}

func (persistedQueries) ExtensionName() string { return "AutomaticPersistedQuery" }

func (p persistedQueries) Validate(graphql.ExecutableSchema) error {
	if p.cache == nil {
		return errors.New("app: persistedQueries needs a cache")
	}
	return nil
}

// persistedQueryNotFound is the message APQ clients look for (Apollo compares it exactly) to
// resend the query with its hash, so it cannot say more; extensions.reason does.
const persistedQueryNotFound = "PersistedQueryNotFound"

func (p persistedQueries) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	raw, present := params.Extensions["persistedQuery"]
	if !present || raw == nil {
		return nil
	}
	hash, err := persistedQueryHash(raw)
	if err != nil {
		return requestError(err)
	}
	if params.Query == "" {
		query, ok := p.cache.Get(ctx, hash)
		if !ok {
			return requestError(apperr.New(apperr.NotFound, persistedQueryNotFound).
				With("reason", "the server does not know this sha256Hash (or no longer does); send the query text with it"))
		}
		params.Query = query
		return nil
	}
	if sum := sha256.Sum256([]byte(params.Query)); hex.EncodeToString(sum[:]) != hash {
		return requestError(apperr.New(apperr.BadUserInput,
			"extensions.persistedQuery.sha256Hash is not the SHA-256 of the query sent with it (that is %s); hash the exact query text, or send the query without the extension",
			hex.EncodeToString(sum[:])))
	}
	p.cache.Add(ctx, hash, params.Query)
	return nil
}

const persistedQueryShape = `{"version": 1, "sha256Hash": "<64 hex digits: the SHA-256 of the query>"}`

// persistedQueryHash checks the extension's shape and returns its hash in lower case.
func persistedQueryHash(raw any) (string, *apperr.Error) {
	ext, ok := raw.(map[string]any)
	if !ok {
		return "", badRequest("extensions.persistedQuery must be an object %s, got %s", persistedQueryShape, scalar.Describe(raw))
	}
	if version, _ := ext["version"].(json.Number); version != "1" {
		return "", badRequest("extensions.persistedQuery.version must be 1, the only version served, got %s", scalar.Describe(ext["version"]))
	}
	hash, _ := ext["sha256Hash"].(string)
	decoded, err := hex.DecodeString(hash)
	if err != nil || len(decoded) != sha256.Size {
		return "", badRequest("extensions.persistedQuery.sha256Hash must be 64 hex digits (the SHA-256 of the query), got %s", scalar.Describe(ext["sha256Hash"]))
	}
	return hex.EncodeToString(decoded), nil
}
