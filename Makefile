# The two commands that matter: `make demo` and `make test`.
GO      ?= go
BIN     := bin/inkform
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build install test demo fuzz lint clean bench screenshots

# gosnmp_nodebug compiles gosnmp's debug logging out (fewer allocations per
# request); inkform never installs a gosnmp logger.
build:
	$(GO) build -tags gosnmp_nodebug -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/inkform

# inkform into $(go env GOPATH)/bin, with its version.
install:
	$(GO) install -tags gosnmp_nodebug -ldflags "-X main.version=$(VERSION)" ./cmd/inkform

# vet, then the whole suite under the race detector. Integration tests start
# net-snmp's snmpd and snmpsimd when installed (.ci/run installs them) and skip
# otherwise, unless INKFORM_REQUIRE_INTEGRATION=1.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

# A simulated 25-printer fleet goes from drifted to converged:
# plan (changes), apply, plan again (exit 0: no changes).
demo: build
	./scripts/demo.sh $(BIN)

# The README's pictures (docs/img/*.png): a plan against a simulated fleet,
# photographed with headless Chromium as a terminal and as a pull-request
# comment, and the status page as its browser test sees it. Needs chromium
# and util-linux's script; not part of `make test`.
screenshots:
	GO=$(GO) ./scripts/screenshots.sh docs/img

# Short runs of every fuzz target (FUZZTIME=1m for longer).
FUZZTIME ?= 10s
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# Fleet-scale benchmarks against a simulated fleet on loopback; prints a
# table (see docs/performance.md): plan, apply and watch rows, then
# discover-16-s (a sweep of a simulated /16 at the default rate) and the
# packets it sent. BENCH_ONLY=discover (or watch) runs only those rows.
# gosnmp_nodebug compiles gosnmp's debug logging out of inkform, the
# simulator and the floor.
BENCH_SIZES ?= 1000,10000
BENCH_ONLY ?=
bench:
	$(GO) build -tags gosnmp_nodebug -ldflags "-X main.version=$(VERSION)" -o bin/inkform-bench ./cmd/inkform
	$(GO) build -tags gosnmp_nodebug -o bin/floor ./bench/floor
	$(GO) build -o bin/fleetbench ./bench/fleetbench
	./bin/fleetbench -inkform bin/inkform-bench -floor bin/floor -sizes $(BENCH_SIZES) $(if $(BENCH_ONLY),-only $(BENCH_ONLY))

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin
