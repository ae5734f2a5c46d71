//go:build tools

// This file pins gqlgen, whose command `go generate ./...` runs, so that go.mod and go.sum
// keep everything it needs (go mod tidy would drop a tool nothing imports).
package main

import _ "github.com/99designs/gqlgen"
