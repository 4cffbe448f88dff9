# Brokerage. `make run` starts a local cluster and the operator's CRDs; `make test` runs
# every check CI runs. Everything else they need is built or fetched by these targets.

CARGO ?= cargo
TESTENV = $(CARGO) run --quiet -p brokerage-testenv --

.PHONY: all run test lint bench tools crds check-go

all: test

## run: a real local Kubernetes with Brokerage's CRDs, the operator, and examples/ applied (Ctrl-C stops it)
run: tools
	$(CARGO) build --quiet -p brokerage
	$(TESTENV) run --apply install/crds --then-apply examples/kafka --then-apply examples/rocketmq \
		--wait-for Kafka --wait-for NameService --wait-for Broker \
		--exec target/debug/brokerage run --http-address 127.0.0.1:8080

## test: formatting, lints, unit tests and the end-to-end tests on a real local cluster
test: lint tools
	$(CARGO) test --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## tools: build etcd, the Kubernetes control plane, kubectl and kwok, and fetch the Kafka and RocketMQ jars, once (cached in ~/.cache/brokerage)
tools: check-go
	$(TESTENV) tools

## crds: regenerate install/crds from the Rust types
crds:
	$(CARGO) run --quiet -p brokerage -- crds --output-dir install/crds

check-go:
	@command -v go >/dev/null || { echo "Go is needed to build the local control plane (apt-get install golang-go, or go.dev)"; exit 1; }

## bench: speed and memory figures; prints a table and writes target/bench/results.json
bench: tools
	$(CARGO) build --release --quiet -p brokerage
	$(CARGO) run --release --quiet -p brokerage-bench
