# TraceTrack: the two commands a newcomer needs are `make run` and `make test`.
GO ?= go

.PHONY: run test build generate check-schema check-generated lint

run: ## build and start the server (local PostgreSQL by default; see README)
	$(GO) run .

test: lint ## every test, with the race detector, against the real PostgreSQL
	$(GO) test -race -count=1 -timeout 25m ./...

build:
	$(GO) build -o bin/tracetrack .

generate: ## regenerate graph/ and resolver stubs from graph/*.graphqls
	$(GO) generate ./...

check-schema: ## the schema contains the whole API contract
	../shared/contract/check-schema

check-generated: generate ## generated code is committed and up to date
	git diff --exit-code -- graph resolvers

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
