# binlake: the targets the README names. Every target installs what it needs itself.
SHELL := /bin/bash
export BINLAKE_CACHE ?= $(HOME)/.cache/binlake
export TESTCONTAINERS_HOST_OVERRIDE ?= 127.0.0.1
export TESTCONTAINERS_RYUK_DISABLED ?= true
export BINLAKE_PYTHON ?= $(BINLAKE_CACHE)/venv/bin/python

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
TOOLS   := $(BINLAKE_CACHE)/bin
GOLANGCI_LINT_VERSION := v2.7.2
GOTESTSUM_VERSION := v1.13.0

.PHONY: all build test unit integration lint fmt vet race images deps python bench quickstart docs clean

all: build

## build: the binlake binary in bin/
build:
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/binlake ./cmd/binlake

## deps: host packages (Docker engine, debootstrap, ...) and a running dockerd
deps:
	bash deploy/local/install-deps.sh
	bash deploy/local/ensure-docker.sh

## images: the test images, built offline and cached by content
images: deps
	bash deploy/images/build.sh

## python: the venv with the independent lake readers (pyiceberg, hudi-rs) and Spark with the Iceberg runtime
python:
	bash deploy/local/setup-python.sh
	bash deploy/local/setup-spark.sh

## test: everything CI runs: unit tests with the race detector, then the integration suite on real servers
test: images python
	bash deploy/local/run-tests.sh

## unit: unit tests only (no servers), with the race detector
unit:
	go test -race -count=1 ./...

## integration: the integration suite only (needs `make images python`)
integration:
	go test -tags integration -count=1 -timeout 40m ./...

## lint: gofmt, go vet and golangci-lint
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	go vet ./...
	go vet -tags integration ./...
	@test -x $(TOOLS)/golangci-lint || GOBIN=$(TOOLS) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	$(TOOLS)/golangci-lint run ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: the benchmark table (see docs/benchmarks.md): end-to-end figures of the real worker (integration), the source
## alone (source/mysql) and the Iceberg sink alone; raw output in bench.out. BINLAKE_BENCH_ROWS (default 1000000),
## BINLAKE_BENCH_TX (40000), BINLAKE_BENCH_RATE (5000), BINLAKE_BENCH_FRESH_SECONDS (30) and BINLAKE_BENCH_COMMIT_MS (1000)
## size the runs.
bench: images python
	@load0="$$(cut -d' ' -f1-3 /proc/loadavg)"; { status=0; \
	  go test -tags integration -count=1 -run '^$$' -bench '^(BenchmarkStreamingToRocketMQ|BenchmarkMigration)$$' -benchtime 1x -timeout 40m ./integration/ || status=1; \
	  go test -tags integration -count=1 -run '^$$' -bench '^(BenchmarkStreaming|BenchmarkSnapshot)$$/^mysql$$' -benchtime 1x -timeout 20m ./source/mysql/ || status=1; \
	  go test -count=1 -run '^$$' -bench '^BenchmarkSink' -benchtime 1x -timeout 10m ./sink/lake/iceberg/ || status=1; \
	  exit $$status; } 2>&1 | tee bench.out; status=$${PIPESTATUS[0]}; \
	echo; echo "## make bench: $$(date -u '+%Y-%m-%d %H:%M UTC'), $$(nproc) cores, $$(free -g | awk '/^Mem/{print $$2}') GiB, load average $$load0 at the start, $$(cut -d' ' -f1-3 /proc/loadavg) at the end"; echo; \
	go run ./internal/benchtable/cmd/benchtable bench.out; exit $$status

## docs: regenerate docs/config.md from the config specs
docs:
	go run ./cmd/binlake docs config > docs/config.md

## quickstart: build binlake, start the environment and the worker (see README)
quickstart: build images
	bash deploy/local/quickstart.sh

clean:
	rm -rf bin bench.out
