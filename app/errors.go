package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tracetrack/apperr"
	"tracetrack/internal/scalar"
)

// presentError is gqlgen's error presenter: it translates gqlgen's own errors (parse,
// validation, variables, scalars, limits) into coded errors and hands every error to
// apperr.Present, the one mapping of errors to what clients see.
func presentError(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		public := apperr.Present(ctx, logger, codedGraphQLError(ctx, gqlErr, err))
		gqlErr.Message = public.Message
		gqlErr.Extensions = public.ExtensionsWithCode()
		return gqlErr
	}
}

// introspectionDisabled is the error gqlgen's generated code returns for __schema and
// __type when the Introspection extension is not in use.
const introspectionDisabled = "introspection disabled"

// codedGraphQLError returns err as an *apperr.Error when it is one of gqlgen's request
// errors, and err unchanged otherwise.
func codedGraphQLError(ctx context.Context, gqlErr *gqlerror.Error, err error) error {
	if _, ok := apperr.As(err); ok {
		return err
	}
	var invalid *scalar.Invalid
	if errors.As(err, &invalid) {
		return apperr.New(apperr.BadUserInput, "%s %s", valueName(gqlErr.Path), invalid.Problem)
	}
	if gqlErr.Message == introspectionDisabled {
		return apperr.New(apperr.Forbidden, "introspection is turned off on this server (INTROSPECTION=false)")
	}
	if gqlErr.Message == "no operation provided" {
		return apperr.New(apperr.BadUserInput, "the request has no query: send {\"query\": \"{ me { id } }\"}, or a persisted query's hash in extensions.persistedQuery")
	}
	switch gqlErr.Extensions["code"] {
	case errcode.ParseFailed:
		if strings.HasPrefix(gqlErr.Message, "exceeded token limit") || strings.HasPrefix(gqlErr.Message, "exceeded maximum nesting depth") {
			return apperr.New(apperr.QueryTooComplex, "%s", gqlErr.Message)
		}
		return apperr.New(apperr.BadUserInput, "the query is not valid GraphQL: %s%s", gqlErr.Message, where(gqlErr))
	case errcode.ValidationFailed:
		return apperr.New(apperr.BadUserInput, "%s", validationMessage(ctx, gqlErr))
	case "COMPLEXITY_LIMIT_EXCEEDED", string(apperr.QueryTooComplex):
		return apperr.New(apperr.QueryTooComplex, "%s", gqlErr.Message)
	}
	return err
}

// valueName names the argument a scalar refused by its path: "createdAfter",
// "childQrs[3]".
func valueName(path ast.Path) string {
	for i := len(path) - 1; i >= 0; i-- {
		if name, ok := path[i].(ast.PathName); ok {
			var index strings.Builder
			for _, p := range path[i+1:] {
				fmt.Fprintf(&index, "[%d]", p)
			}
			return string(name) + index.String()
		}
	}
	return "a value"
}

func where(gqlErr *gqlerror.Error) string {
	if len(gqlErr.Locations) == 0 {
		return ""
	}
	return fmt.Sprintf(" (line %d, column %d)", gqlErr.Locations[0].Line, gqlErr.Locations[0].Column)
}

// validationMessage makes gqlparser's terse variable and operation messages say what is
// wrong and what is accepted.
func validationMessage(ctx context.Context, gqlErr *gqlerror.Error) string {
	var doc *ast.QueryDocument
	var opName string
	if graphql.HasOperationContext(ctx) {
		opCtx := graphql.GetOperationContext(ctx)
		doc, opName = opCtx.Doc, opCtx.OperationName
	}
	if len(gqlErr.Path) >= 2 && gqlErr.Path[0] == ast.PathName("variable") {
		return variableMessage(doc, opName, gqlErr)
	}
	if strings.HasPrefix(gqlErr.Message, "operation ") && strings.HasSuffix(gqlErr.Message, " not found") && doc != nil {
		names := make([]string, 0, len(doc.Operations))
		for _, op := range doc.Operations {
			if op.Name == "" {
				names = append(names, "an unnamed operation (send no operationName)")
			} else {
				names = append(names, op.Name)
			}
		}
		if opName == "" {
			return fmt.Sprintf("the query holds %d operations (%s); say which to run in operationName", len(doc.Operations), strings.Join(names, ", "))
		}
		return fmt.Sprintf("operationName %q is not an operation of the query; it holds: %s", opName, strings.Join(names, ", "))
	}
	return gqlErr.Message + where(gqlErr)
}

// variableMessage: "variable $first (Int): must be a whole number", from gqlparser's
// "cannot use value 0 as Int" at path variable.first.
func variableMessage(doc *ast.QueryDocument, opName string, gqlErr *gqlerror.Error) string {
	name := valueName(gqlErr.Path[1:2])
	declared := ""
	if doc != nil {
		if op := doc.Operations.ForName(opName); op != nil {
			if def := op.VariableDefinitions.ForName(name); def != nil {
				declared = " (declared " + def.Type.String() + ")"
			}
		}
	}
	problem := gqlErr.Message
	if strings.HasPrefix(problem, "cannot use value ") && strings.HasSuffix(problem, " as Int") {
		// gqlparser prints a meaningless value here, for fractions and overflows alike
		problem = scalar.IntRange
	}
	inside := ""
	if len(gqlErr.Path) > 2 {
		inside = " at " + strings.TrimPrefix(gqlErr.Path[2:].String(), ".")
	}
	return fmt.Sprintf("variable $%s%s%s: %s", name, declared, inside, problem)
}

// maxRefusalErrors bounds the errors of a refused request: a document of 2,000 unused
// variables or repeated directives is refused with one error each, a response fifteen times
// the request's size, in which the first errors say all a person can act on.
const maxRefusalErrors = 20

// boundRefusals cuts the errors of a refused request (no data) to maxRefusalErrors, the last
// saying how many more there were.
func boundRefusals(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || len(resp.Errors) <= maxRefusalErrors || (len(resp.Data) > 0 && string(resp.Data) != "null") {
		return resp
	}
	first := resp.Errors[0]
	more := &gqlerror.Error{
		Message:    fmt.Sprintf("and %d more errors like these; correct the ones above and send the query again", len(resp.Errors)-(maxRefusalErrors-1)),
		Extensions: first.Extensions,
	}
	resp.Errors = append(resp.Errors[:maxRefusalErrors-1:maxRefusalErrors-1], more)
	return resp
}

// recoverPanic turns a resolver panic into an error the presenter shows as internal.
func recoverPanic(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "request_id", apperr.RequestID(ctx), "panic", p)
		return errors.New("panic in resolver")
	}
}
