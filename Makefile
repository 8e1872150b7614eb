# Phoenix: `make test` is the one command CI runs (.ci/run calls it).
GO        ?= go
PKGS      ?= ./...
STATICCHECK_VERSION := v0.8.2

.PHONY: build test fmt-check vet lint unit unit-postgres demo fuzz clean

build:
	$(GO) build -o bin/phoenix ./cmd/phoenix

test: fmt-check vet lint unit unit-postgres

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# staticcheck, pinned; installed into the Go bin dir on first use.
SC := $(shell $(GO) env GOPATH)/bin/staticcheck
lint:
	@$(SC) -version 2>/dev/null | grep -qF "($(patsubst v%,%,$(STATICCHECK_VERSION)))" || \
		$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(SC) $(PKGS)

# -race turns on checkptr everywhere; it is left on for Phoenix's code and
# off for modernc.org's SQLite, C translated to Go whose every pointer step
# it checked: a third of the CPU of a test that starts a server.
RACE_FLAGS := -race -gcflags='modernc.org/...=-d=checkptr=0'
unit:
	$(GO) test $(RACE_FLAGS) -timeout 15m $(PKGS)

# The domains' suites once more, on PostgreSQL (docs/postgres.md); about
# 80 s on 2 cores. The store and the app run their PostgreSQL tests in unit.
PG_PKGS ?= ./internal/audit/ ./internal/auth/ ./internal/deploy/ ./internal/vault/ ./internal/pipeline/... \
	./internal/monitor/... ./internal/notify/... ./internal/api/ ./internal/certs/ ./internal/report/ ./internal/projectcfg/
unit-postgres:
	PHOENIX_TEST_DATABASE=postgres $(GO) test -timeout 10m $(PG_PKGS)

demo: build
	./bin/phoenix demo

# A short run of every fuzz target (FUZZTIME per target) of PKGS.
FUZZTIME ?= 10s
PKGS     ?= ./...
fuzz:
	FUZZTIME=$(FUZZTIME) PKGS='$(PKGS)' GO=$(GO) ./scripts/fuzz.sh

clean:
	rm -rf bin
