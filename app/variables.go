package app

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tracetrack/apperr"
	"tracetrack/internal/scalar"
)

// exactEnumVariables refuses enum values in variables that differ from the schema's in case.
// gqlparser compares variables' enum values case-insensitively but passes them on as sent,
// so "biller" reached the store as a role the database refuses, and "day" failed
// ScanGrouping's unmarshalling: both answered as internal errors. Literals are checked
// exactly by validation already.
type exactEnumVariables struct{ schema *ast.Schema }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*exactEnumVariables)(nil)

func (*exactEnumVariables) ExtensionName() string { return "ExactEnumVariables" }

func (e *exactEnumVariables) Validate(schema graphql.ExecutableSchema) error {
	e.schema = schema.Schema()
	return nil
}

func (e *exactEnumVariables) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	for _, def := range opCtx.Operation.VariableDefinitions {
		value, ok := opCtx.Variables[def.Variable]
		if !ok {
			continue
		}
		if problem := e.enumProblem(def.Type, value); problem != "" {
			return requestError(apperr.New(apperr.BadUserInput, "variable $%s (declared %s): %s", def.Variable, def.Type.String(), problem))
		}
	}
	return nil
}

// enumProblem walks a variable's value along its type and describes the first enum value
// that is not exactly one of the enum's ("" when there is none).
func (e *exactEnumVariables) enumProblem(typ *ast.Type, value any) string {
	if value == nil {
		return ""
	}
	if typ.Elem != nil {
		// coercion may have made the list a typed slice ([]string for a single string sent
		// where a list of enums is declared)
		list := reflect.ValueOf(value)
		if list.Kind() != reflect.Slice {
			return e.enumProblem(typ.Elem, value) // a single value stands for a list of one
		}
		for i := range list.Len() {
			if problem := e.enumProblem(typ.Elem, list.Index(i).Interface()); problem != "" {
				return problem
			}
		}
		return ""
	}
	def := e.schema.Types[typ.NamedType]
	switch {
	case def == nil:
		return ""
	case def.Kind == ast.Enum:
		return exactEnumValue(def, value)
	case def.Kind == ast.InputObject:
		fields, _ := value.(map[string]any)
		for _, field := range def.Fields {
			if problem := e.enumProblem(field.Type, fields[field.Name]); problem != "" {
				return field.Name + ": " + problem
			}
		}
	}
	return ""
}

func exactEnumValue(def *ast.Definition, value any) string {
	s, _ := value.(string)
	names := make([]string, len(def.EnumValues))
	for i, v := range def.EnumValues {
		if v.Name == s {
			return ""
		}
		names[i] = v.Name
	}
	return fmt.Sprintf("%s is not %s; use one of %s (case matters)",
		scalar.Describe(value), scalar.A(def.Name), strings.Join(names, ", "))
}
