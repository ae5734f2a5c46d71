# TraceTrack: the two commands a newcomer needs are `make run` and `make test`.
GO ?= go

.PHONY: run test build generate check-schema check-generated lint web check-web e2e screenshots

run: ## build and start the server (local PostgreSQL by default; see README)
	$(GO) run .

test: lint ## every test, with the race detector, against the real PostgreSQL
	$(GO) test -race -count=1 -timeout 25m $$($(GO) list ./... | grep -v '^tracetrack/web$$')
	@# the console's browser tests after the others: Chromium on the same two cores would slow
	@# the timing-sensitive batching tests of the other packages
	$(GO) test -race -count=1 -timeout 10m ./web

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

# The console (web/): sources in web/src, built into web/dist, which is committed and embedded
# in the binary, so `make run` needs no Node. After changing web/src: make web, commit web/dist.
web: ## install the console's npm packages and build web/dist
	cd web && npm ci --no-audit --no-fund && npm run build

check-web: web ## web/dist is what web/src builds to
	@git diff --exit-code --stat -- web/dist || { echo "web/dist is stale: run make web and commit web/dist"; exit 1; }
	@test -z "$$(git status --porcelain -- web/dist)" || { git status --porcelain -- web/dist; echo "web/dist has files not committed: run make web and commit web/dist"; exit 1; }

e2e: ## the console's browser tests only (headless Chromium)
	$(GO) test -count=1 -v -run TestConsoleEndToEnd ./web

README_SCREENSHOTS = station-phone-full.png station-phone-offline.png dashboard-desktop.png bill-desktop.png \
	bills-desktop.png bags-desktop.png admin-desktop.png graphiql-subscription-desktop.png login-locked-phone.png \
	dashboard-phone.png

screenshots: ## run the browser tests and keep their screenshots in docs/screenshots
	rm -rf web/e2e/out
	E2E_OUT=$(CURDIR)/web/e2e/out $(GO) test -count=1 -run TestConsoleEndToEnd ./web
	mkdir -p docs/screenshots
	cd web/e2e/out/screenshots && cp $(README_SCREENSHOTS) $(CURDIR)/docs/screenshots/
