# Brokerage. `make run` starts a local cluster and the operator's CRDs; `make test` runs
# every check CI runs. Everything else they need is built or fetched by these targets.

CARGO ?= cargo
# What `make run` applies: every example but persistent-dual-pool, whose six nodes ask for more
# memory (15 GiB) than a workstation has to spare; apply it yourself on a bigger machine.
RUN_EXAMPLES = $(filter-out examples/kafka/persistent-dual-pool.yaml,$(wildcard examples/kafka/*.yaml)) examples/rocketmq
TESTENV = $(CARGO) run --quiet -p brokerage-testenv --

.PHONY: all run test lint bench crash-points dry-run tools crds check-go

all: test

## run: a real local Kubernetes with a real node, the operator installed from install/ in its pod, and examples/ applied (Ctrl-C stops it)
run: tools
	$(CARGO) build --quiet -p brokerage
	$(TESTENV) run --install install --operator target/debug/brokerage \
		$(patsubst %,--apply %,$(RUN_EXAMPLES)) \
		--wait-for Kafka --wait-for NameService --wait-for Controller --wait-for Broker --wait-for Proxy

## test: formatting, lints, unit tests and the end-to-end tests on a real local cluster (the tests on
## real pods run the operator image built from target/debug/brokerage; the fault-injection and
## leadership tests run target/release/brokerage, the binary users run)
test: lint tools
	$(CARGO) build --quiet -p brokerage
	$(CARGO) build --release --quiet -p brokerage
	$(CARGO) test --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## tools: install the real node's Debian packages, build etcd, Kubernetes, kwok, CoreDNS and helm, fetch the Kafka and RocketMQ jars, and build the node's images, once (cached in ~/.cache/brokerage)
tools: check-go
	$(TESTENV) tools

## crds: regenerate install/crds from the Rust types, and the Helm chart's copy of them
crds:
	$(CARGO) run --quiet -p brokerage -- crds --output-dir install/crds
	cp install/crds/*.yaml install/helm/brokerage/crds/

check-go:
	@command -v go >/dev/null || { echo "Go is needed to build the local control plane (apt-get install golang-go, or go.dev)"; exit 1; }

## dry-run: 5,000 generated Kafka specs rendered and every built object dry-run in the API server,
## which `make test` runs 128 of; DRY_RUN_SEED=<seed> replays a run
dry-run: tools
	DRY_RUN_CASES=5000 $(CARGO) test -p brokerage-e2e --test dry_run -- --nocapture

## crash-points: the crash-after-every-write scenarios at full size (50 topics, 20 users), which
## `make test` runs smaller
crash-points: tools
	$(CARGO) build --release --quiet -p brokerage
	CRASH_POINTS=full $(CARGO) test -p brokerage-e2e --test faults -- --nocapture crash_at_every_write

## bench: speed and memory figures; prints a table and writes target/bench/results.json
## (BENCH="real-node brokers" runs only those: real-node, failover, kafka-cluster, brokers, moves, rocketmq-topics,
## topic-transfer, outage)
bench: tools
	$(CARGO) build --release --quiet -p brokerage
	$(CARGO) run --release --quiet -p brokerage-bench -- $(BENCH)
