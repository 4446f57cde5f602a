# efspipe — see README.md. Every target works from a clean clone.
GO        ?= go
MOUNT     ?= .efspipe
OUT       ?= out
FUNCTIONS := ingest split compress checkpoint finalize trigger
GOBIN     := $(shell $(GO) env GOPATH)/bin

# The CLI is built with grpcnotrace: gocloud.dev's retry package brings in
# gRPC, whose golang.org/x/net/trace efspipe never uses (no gRPC is spoken);
# without it the process peaks 1.6 MiB lower (README.md, "Performance").
.PHONY: all run test test-quick test-go test-infra lint build synth deploy bench corpus fuzz clean

# Fuzz targets: package:function. New crashers land in the package's
# testdata/fuzz/ and are kept as regression seeds.
FUZZTIME ?= 20s
FUZZ := ./pkg/asl:FuzzParse ./pkg/asl:FuzzFilterPath ./pkg/pdfsplit:FuzzOpen ./pkg/jobfs:FuzzCheckPath ./pkg/local:FuzzStateInput ./stages/trigger:FuzzObjects ./pkg/pdfsplit:FuzzAssemble ./pkg/pdfsplit:FuzzRepair ./pkg/pdfcheck:FuzzPage

all: lint test

## run: build the CLI and run the whole pipeline locally on the bundled sample
run:
	$(GO) build -tags grpcnotrace -o bin/efspipe ./cmd/efspipe
	./bin/efspipe run --mount $(MOUNT) --out $(OUT) testdata/sample.pdf

## test: everything CI runs: the Go tests with the race detector and the CDK
## checks, side by side (each is idle part of the time: a cold run on 2 cores
## spends 1.7 of them); -O prints each one's output whole, when it ends
test:
	@$(MAKE) --no-print-directory -j2 -O test-go test-infra

# Go caches a package's passing result until its code, its test files, the
# files it reads or the environment it reads change: a second `make test`
# reruns only what a change touched (GOFLAGS=-count=1 reruns everything).
test-go:
	$(GO) test -race ./...

## test-quick: the edit loop: Go tests without the race detector and with
## -short, which leaves out the largest generated documents, the kill-anywhere
## run, moto's comparison run and the CDK checks (make test runs them all)
test-quick:
	$(GO) test -short ./...

# The CDK app is a nested module: its tests and the offline synth, cfn-lint
# and asl-validator checks run here (npm ci installs the pinned CDK CLI).
test-infra:
	cd infra && npm ci --no-audit --no-fund --loglevel=error && $(GO) test -count=1 ./... && ./check.sh

## lint: gofmt, go vet and staticcheck stay clean
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

## build: cross-compile each Lambda to build/<fn>/bootstrap (linux/arm64) and zip it
build:
	@for fn in $(FUNCTIONS); do \
		if [ -d stages/$$fn/lambda ]; then \
			CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
				-o build/$$fn/bootstrap ./stages/$$fn/lambda || exit 1; \
			(cd build/$$fn && rm -f ../$$fn.zip && zip -q -X ../$$fn.zip bootstrap) || exit 1; \
			printf '%-11s %s bytes\n' $$fn $$(stat -c %s build/$$fn/bootstrap); \
		fi; \
	done

## synth: synthesize the CDK stack offline
synth: build
	cd infra && npm ci --no-audit --no-fund --loglevel=error && ./check.sh

## deploy: deploy the stack to the AWS account of the current credentials
deploy: build
	cd infra && npm ci --no-audit --no-fund --loglevel=error && CDK_DISABLE_CLI_TELEMETRY=true JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx cdk deploy EfsPipe --no-notices

## bench: efspipe vs qpdf --split-pages + zstd -3 on real PDFs (Debian doc
## packages, fetched into the ignored bench/corpus/), local disk vs the
## EFS-like slowfs mount (as root), then the Go benchmarks
bench:
	bench/run.sh
	@if [ -e /dev/fuse ] && [ "$$(id -u)" = 0 ]; then FILES=3 bench/efs.sh; \
	else echo "bench/efs.sh skipped: the EFS-like mount needs root and /dev/fuse"; fi
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/zpage ./pkg/jobfs ./pkg/local ./pkg/pdfsplit ./pkg/asl

## corpus: efspipe beside qpdf --split-pages on every PDF under DIR (not
## part of test): classes, refusals, every silent fault (bench/README.md).
##   make corpus DIR="dir1 dir2" [JOBS=2] [PAGES=4] [JSON=runs.json] [COMPARE=old.json] [CORPUSFLAGS=...]
JOBS  ?= 2
PAGES ?= 4
corpus:
	@test -n "$(DIR)" || { echo 'usage: make corpus DIR="dir1 dir2" [JOBS=2] [PAGES=4] [JSON=runs.json] [COMPARE=old.json]' >&2; exit 2; }
	$(GO) build -tags grpcnotrace -o bin/efspipe ./cmd/efspipe
	$(GO) run ./bench/corpuscheck -efspipe bin/efspipe -j $(JOBS) -pages $(PAGES) \
		$(if $(JSON),-json $(JSON)) $(if $(COMPARE),-compare $(COMPARE)) $(CORPUSFLAGS) $(DIR)

## fuzz: run every fuzz target for FUZZTIME (CI: 20s each); a failure prints
## the test's message and the input it wrote under testdata/fuzz. New inputs are
## not minimized (-fuzzminimizetime 1x): the go command fails a run whose
## -fuzztime ends during a minimization with a bare "context deadline
## exceeded" and no crasher; that case alone is reported and tolerated.
fuzz:
	@for t in $(FUZZ); do pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$fn in $$pkg for $(FUZZTIME)"; \
		out=$$($(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1x $$pkg 2>&1); rc=$$?; \
		if [ $$rc -eq 0 ]; then echo "$$out" | grep -v '^fuzz: elapsed' | tail -2; \
		else echo "$$out" | grep -v '^fuzz: elapsed' | tail -40; fi; \
		if [ $$rc -ne 0 ]; then \
			if echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
				echo "fuzz $$fn: stopped at the deadline inside the go command, no failing input (tolerated)"; \
			else exit 1; fi; \
		fi; \
	done

clean:
	rm -rf bin build $(MOUNT) $(OUT)
