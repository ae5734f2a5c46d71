package app

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// passwordFields are the mutations that compare a password: each is a guess, and each costs
// a slow hash from the bounded hashing pool.
var passwordFields = map[string]bool{"login": true, "changePassword": true}

// onePasswordCheck is the gqlgen extension that refuses an operation holding more than one
// password comparison. Rate limits count requests, so without it one request could carry
// hundreds of aliased logins: hundreds of guesses (a password sprayed over many usernames)
// and hundreds of hashes that starve everybody's logins.
type onePasswordCheck struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = onePasswordCheck{}

func (onePasswordCheck) ExtensionName() string                   { return "OnePasswordCheck" }
func (onePasswordCheck) Validate(graphql.ExecutableSchema) error { return nil }

func (onePasswordCheck) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil || opCtx.Operation.Operation != ast.Mutation {
		return nil
	}
	checks := 0
	for _, field := range graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{"Mutation"}) {
		if passwordFields[field.Name] {
			checks++
		}
	}
	if checks <= 1 {
		return nil
	}
	err := gqlerror.Errorf("a request may hold one login or changePassword, this one holds %d; send them one per request", checks)
	errcode.Set(err, errcode.ValidationFailed)
	return err
}
