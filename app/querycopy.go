package app

import (
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

// documentCopy copies a cached document for another text of its shape: every node anew,
// with the positions of the text's tokens and the values of its string literals, and
// everything validation resolved against the schema (definitions, expected types) shared.
// References inside the document (a spread's fragment, a variable's definition, a default
// value's type) point at the copies. The nodes of each kind come from one allocation.
type documentCopy struct {
	shape  *documentShape
	tokens []lexer.Token
	// valueStrings marks the string tokens that are values (only when the shape is made).
	valueStrings []bool
	failed       bool

	positions  slab[ast.Position]
	fields     slab[ast.Field]
	selections slab[ast.Selection]
	arguments  slab[ast.Argument]
	argLists   slab[*ast.Argument]
	values     slab[ast.Value]
	children   slab[ast.ChildValue]
	childLists slab[*ast.ChildValue]
	directives slab[ast.Directive]
	dirLists   slab[*ast.Directive]
	fragments  map[*ast.FragmentDefinition]*ast.FragmentDefinition
	variables  map[*ast.VariableDefinition]*ast.VariableDefinition
	types      map[*ast.Type]*ast.Type
}

// copySizes are the nodes of each kind in a copy.
type copySizes struct {
	positions, fields, selections, arguments, argLists, values, children, childLists, directives, dirLists int
}

func (c *documentCopy) used() copySizes {
	return copySizes{c.positions.used, c.fields.used, c.selections.used, c.arguments.used, c.argLists.used,
		c.values.used, c.children.used, c.childLists.used, c.directives.used, c.dirLists.used}
}

func (c *documentCopy) reserve(s copySizes) {
	c.positions.reserve(s.positions)
	c.fields.reserve(s.fields)
	c.selections.reserve(s.selections)
	c.arguments.reserve(s.arguments)
	c.argLists.reserve(s.argLists)
	c.values.reserve(s.values)
	c.children.reserve(s.children)
	c.childLists.reserve(s.childLists)
	c.directives.reserve(s.directives)
	c.dirLists.reserve(s.dirLists)
}

// slab hands out nodes from one allocation, and single allocations once it is used up.
type slab[T any] struct {
	free []T
	used int
}

func (s *slab[T]) reserve(n int) {
	if n > 0 {
		s.free = make([]T, n)
	}
}

func (s *slab[T]) one() *T {
	s.used++
	if len(s.free) == 0 {
		return new(T)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

func (s *slab[T]) many(n int) []T {
	s.used += n
	if len(s.free) < n {
		return make([]T, n)
	}
	list := s.free[:n:n]
	s.free = s.free[n:]
	return list
}

// document copies doc; false if a position of doc is not one of its tokens' (the shape is
// then not cached).
func (c *documentCopy) document(doc *ast.QueryDocument) (*ast.QueryDocument, bool) {
	out := &ast.QueryDocument{Position: c.position(doc.Position), Comment: c.comments(doc.Comment)}
	// first what selections refer to: fragments (filled in below) and variable definitions
	if doc.Fragments != nil {
		out.Fragments = make(ast.FragmentDefinitionList, len(doc.Fragments))
		c.fragments = make(map[*ast.FragmentDefinition]*ast.FragmentDefinition, len(doc.Fragments))
		for i, f := range doc.Fragments {
			out.Fragments[i] = new(ast.FragmentDefinition)
			c.fragments[f] = out.Fragments[i]
		}
	}
	if doc.Operations != nil {
		out.Operations = make(ast.OperationList, len(doc.Operations))
		for i, op := range doc.Operations {
			o := *op
			o.VariableDefinitions = c.variableDefinitions(op.VariableDefinitions)
			out.Operations[i] = &o
		}
	}
	for i, f := range doc.Fragments {
		o := out.Fragments[i]
		*o = *f
		o.VariableDefinition = c.variableDefinitions(f.VariableDefinition)
	}
	for i, op := range doc.Operations {
		o := out.Operations[i]
		o.Position = c.position(op.Position)
		o.Comment = c.comments(op.Comment)
		o.Directives = c.directiveList(op.Directives)
		o.SelectionSet = c.selectionSet(op.SelectionSet)
	}
	for i, f := range doc.Fragments {
		o := out.Fragments[i]
		o.Position = c.position(f.Position)
		o.Comment = c.comments(f.Comment)
		o.Directives = c.directiveList(f.Directives)
		o.SelectionSet = c.selectionSet(f.SelectionSet)
	}
	return out, !c.failed
}

// token is the index of the token at p in the shape's text.
func (c *documentCopy) token(p *ast.Position) int {
	i, found := slices.BinarySearch(c.shape.starts, p.Start)
	if !found || i >= len(c.tokens) {
		c.failed = true
		return 0
	}
	return i
}

func (c *documentCopy) position(p *ast.Position) *ast.Position {
	if p == nil {
		return nil
	}
	out := c.positions.one()
	*out = c.tokens[c.token(p)].Pos
	return out
}

func (c *documentCopy) comments(g *ast.CommentGroup) *ast.CommentGroup {
	if g == nil {
		return nil
	}
	out := &ast.CommentGroup{}
	if g.List != nil {
		out.List = make([]*ast.Comment, len(g.List))
		for i, comment := range g.List {
			out.List[i] = &ast.Comment{Value: comment.Value, Position: c.position(comment.Position)}
		}
	}
	return out
}

func (c *documentCopy) variableDefinitions(defs ast.VariableDefinitionList) ast.VariableDefinitionList {
	if defs == nil {
		return nil
	}
	if c.variables == nil {
		c.variables = map[*ast.VariableDefinition]*ast.VariableDefinition{}
		c.types = map[*ast.Type]*ast.Type{}
	}
	out := make(ast.VariableDefinitionList, len(defs))
	for i, def := range defs {
		d := *def
		d.Position = c.position(def.Position)
		d.Comment = c.comments(def.Comment)
		d.Type = c.typeRef(def.Type)
		d.DefaultValue = c.value(def.DefaultValue) // after the type: its expected type
		d.Directives = c.directiveList(def.Directives)
		out[i] = &d
		c.variables[def] = &d
	}
	return out
}

// typeRef copies a variable's type, remembering each level (a default value's expected type).
func (c *documentCopy) typeRef(t *ast.Type) *ast.Type {
	if t == nil {
		return nil
	}
	out := *t
	out.Position = c.position(t.Position)
	out.Elem = c.typeRef(t.Elem)
	c.types[t] = &out
	return &out
}

func (c *documentCopy) selectionSet(set ast.SelectionSet) ast.SelectionSet {
	if set == nil {
		return nil
	}
	out := ast.SelectionSet(c.selections.many(len(set)))
	for i, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			f := c.fields.one()
			*f = *s
			f.Position = c.position(s.Position)
			f.Comment = c.comments(s.Comment)
			f.Arguments = c.argumentList(s.Arguments)
			f.Directives = c.directiveList(s.Directives)
			f.SelectionSet = c.selectionSet(s.SelectionSet)
			out[i] = f
		case *ast.InlineFragment:
			f := *s
			f.Position = c.position(s.Position)
			f.Comment = c.comments(s.Comment)
			f.Directives = c.directiveList(s.Directives)
			f.SelectionSet = c.selectionSet(s.SelectionSet)
			out[i] = &f
		case *ast.FragmentSpread:
			f := *s
			f.Position = c.position(s.Position)
			f.Comment = c.comments(s.Comment)
			f.Directives = c.directiveList(s.Directives)
			if s.Definition != nil {
				f.Definition = c.fragments[s.Definition]
				c.failed = c.failed || f.Definition == nil
			}
			out[i] = &f
		default:
			c.failed = true
		}
	}
	return out
}

func (c *documentCopy) argumentList(args ast.ArgumentList) ast.ArgumentList {
	if args == nil {
		return nil
	}
	out := ast.ArgumentList(c.argLists.many(len(args)))
	for i, arg := range args {
		a := c.arguments.one()
		*a = *arg
		a.Position = c.position(arg.Position)
		a.Comment = c.comments(arg.Comment)
		a.Value = c.value(arg.Value)
		out[i] = a
	}
	return out
}

func (c *documentCopy) directiveList(dirs ast.DirectiveList) ast.DirectiveList {
	if dirs == nil {
		return nil
	}
	out := ast.DirectiveList(c.dirLists.many(len(dirs)))
	for i, dir := range dirs {
		d := c.directives.one()
		*d = *dir
		d.Position = c.position(dir.Position)
		d.Arguments = c.argumentList(dir.Arguments)
		out[i] = d
	}
	return out
}

func (c *documentCopy) value(v *ast.Value) *ast.Value {
	if v == nil {
		return nil
	}
	out := c.values.one()
	*out = *v
	out.Position = c.position(v.Position)
	out.Comment = c.comments(v.Comment)
	if (v.Kind == ast.StringValue || v.Kind == ast.BlockValue) && v.Position != nil {
		i := c.token(v.Position)
		out.Raw = c.tokens[i].Value
		if c.valueStrings != nil {
			c.valueStrings[i] = true
		}
	}
	if v.VariableDefinition != nil {
		out.VariableDefinition = c.variables[v.VariableDefinition]
		c.failed = c.failed || out.VariableDefinition == nil
	}
	if t, ok := c.types[v.ExpectedType]; ok {
		out.ExpectedType = t // a variable's type, not the schema's
	}
	if v.Children != nil {
		out.Children = ast.ChildValueList(c.childLists.many(len(v.Children)))
		for i, child := range v.Children {
			ch := c.children.one()
			*ch = *child
			ch.Position = c.position(child.Position)
			ch.Comment = c.comments(child.Comment)
			ch.Value = c.value(child.Value)
			out.Children[i] = ch
		}
	}
	return out
}
