# echoconf: the conformance framework for the TCP Echo protocol (RFC 862).
# On a fresh machine, `make demo` and `make test` do all the set-up.

GO      ?= go
CC      ?= gcc
CFLAGS  ?= -Wall -Wextra -Werror -O2
BIN     := bin
# The race detector and vet run on every `make test`. go vet runs every
# analyzer before the tests, so go test's own vet subset is off.
TESTFLAGS ?= -race -count=1 -timeout 15m -vet=off

.PHONY: all build c test vet lint fmt bench bench-payload bench-compare accuracy demo examples clean screenshots

all: build

## build: the three Go binaries into bin/, the classic C server and client into bin/c/, the UDP C servers into bin/c/udp/ and the C client gallery into bin/c/clients/
build: c
	$(GO) build -o $(BIN)/ ./cmd/echoconf ./cmd/echo-server ./cmd/echo-client

# The UDP gallery: correct servers in testdata/c/udp/, faulty ones in
# testdata/c/udp/faulty/, built to the same paths under bin/c/udp/.
UDP_C := $(patsubst testdata/c/%.c,$(BIN)/c/%,$(wildcard testdata/c/udp/*.c testdata/c/udp/faulty/*.c))

# The gallery of C echo clients, correct and faulty (testdata/clients.json).
CLIENTS := $(patsubst testdata/c/clients/%.c,$(BIN)/c/clients/%,$(wildcard testdata/c/clients/*.c))

c: $(BIN)/c/echo-server $(BIN)/c/echo-client $(UDP_C) $(CLIENTS)

$(BIN)/c/%: testdata/c/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $<

# The npm readers of the reports (tap-parser, test-results-parser), pinned
# by the lock file and installed beside it; without npm those tests skip.
VALIDATORS := testdata/validators/node_modules/.package-lock.json

$(VALIDATORS): testdata/validators/package-lock.json
	@if command -v npm >/dev/null 2>&1; then cd testdata/validators && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the tests that read reports with tap-parser and test-results-parser will skip"; fi

## test: go vet, then every package's tests under the race detector, and beside them the example module's vet and tests
test: vet $(VALIDATORS)
	@log=$$(mktemp); \
	echo "cd examples/echoserver && $(GO) vet ./... && $(GO) test -race -count=1 ./... (beside the tests; its output follows theirs)"; \
	(cd examples/echoserver && $(GO) vet ./... && $(GO) test -race -count=1 ./...) >$$log 2>&1 & example=$$!; \
	echo "$(GO) test $(TESTFLAGS) ./..."; \
	$(GO) test $(TESTFLAGS) ./...; status=$$?; \
	wait $$example; example_status=$$?; \
	echo "--- examples/echoserver:"; cat $$log; rm -f $$log; \
	[ $$status -eq 0 ] && [ $$example_status -eq 0 ]

vet:
	$(GO) vet ./...

## lint: a gofmt check and go vet
lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: speed figures, each against a peer measured in the same run
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./internal/engine/
	$(GO) test -run '^$$' -bench . -benchmem ./impl/
	$(GO) test -run '^$$' -bench . -benchtime 2x ./grade/

## bench-payload: the payload generator and verifier of check and bench, 10 runs for benchstat
bench-payload:
	@mkdir -p $(BIN)
	$(GO) test -run '^$$' -bench EchoStream -count 10 ./spec/ | tee $(BIN)/payload.bench
	$(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da $(BIN)/payload.bench

## bench-compare: the reference server against its peers, side by side; rewrites docs/performance.md
bench-compare:
	$(GO) run ./internal/cmd/benchcompare -out docs/performance.md

## accuracy: the verdict on every C server in testdata/, as a table (ACCURACY_FLAGS='-repeat 5 -hogs 2': on a loaded machine)
accuracy:
	$(GO) run ./internal/cmd/accuracy $(ACCURACY_FLAGS)

## demo: build everything, start the servers on free ports, exchange messages, run the suite, stop everything
demo: build
	$(GO) run ./internal/cmd/demo -bin $(BIN)

## screenshots: the README's screenshots, from real runs: a failure report and the class page
screenshots: $(VALIDATORS)
	@mkdir -p docs
	ECHOCONF_SCREENSHOTS=$(CURDIR)/docs $(GO) test -count=1 ./cmd/echoconf/ -ginkgo.focus 'HTML report of a real failure'
	ECHOCONF_SCREENSHOTS=$(CURDIR)/docs $(GO) test -count=1 ./grade/ -ginkgo.focus 'sample class'

clean:
	rm -rf $(BIN) out
	$(GO) clean -testcache
