# echoconf: the conformance framework for the TCP Echo protocol (RFC 862).
# On a fresh machine, `make demo` and `make test` do all the set-up.

GO      ?= go
CC      ?= gcc
CFLAGS  ?= -Wall -Wextra -Werror -O2
BIN     := bin
# The race detector and vet run on every `make test`.
TESTFLAGS ?= -race -count=1 -timeout 15m

.PHONY: all build c test vet lint fmt bench bench-payload bench-compare accuracy demo examples clean

all: build

## build: the three Go binaries into bin/, and the classic C server and client into bin/c/
build: c
	$(GO) build -o $(BIN)/ ./cmd/echoconf ./cmd/echo-server ./cmd/echo-client

c: $(BIN)/c/echo-server $(BIN)/c/echo-client

$(BIN)/c/%: testdata/c/%.c
	@mkdir -p $(BIN)/c
	$(CC) $(CFLAGS) -o $@ $<

## test: go vet, then every package's tests under the race detector, then the example module
test: vet
	$(GO) test $(TESTFLAGS) ./...
	cd examples/echoserver && $(GO) vet ./... && $(GO) test -race -count=1 ./...

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
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./conformance/
	$(GO) test -run '^$$' -bench . -benchmem ./impl/
	$(GO) test -run '^$$' -bench . -benchtime 2x ./grade/

## bench-payload: the payload generator and verifier of check and bench, 10 runs for benchstat
bench-payload:
	$(GO) test -run '^$$' -bench EchoStream -count 10 ./spec/ | tee $(BIN)/payload.bench
	$(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da $(BIN)/payload.bench

## bench-compare: the reference server against its peers, side by side; rewrites docs/performance.md
bench-compare:
	$(GO) run ./internal/cmd/benchcompare -out docs/performance.md

## accuracy: the verdict on every C server in testdata/, as a table
accuracy:
	$(GO) run ./internal/cmd/accuracy

## demo: build everything, start the servers on free ports, exchange messages, run the suite, stop everything
demo: build
	$(GO) run ./internal/cmd/demo -bin $(BIN)

clean:
	rm -rf $(BIN) out
	$(GO) clean -testcache
