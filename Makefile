# The project's commands. `make test` is the one test command: CI runs it
# (.ci/run), and it installs what it needs on a fresh machine.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

export ORDERS_TOOLS_DIR ?= $(HOME)/.cache/orders-platform/tools
# Node 24 LTS: the machine's when it has it, else installed once into the tools cache.
NODE_PATH_DIR = $(shell scripts/install-node.sh)
WITH_NODE = PATH="$(or $(NODE_PATH_DIR),$(error Node 24 is not available: see scripts/install-node.sh)):$$PATH"

.PHONY: help
help: ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

.PHONY: tools
tools: bin/devdb ## install or build what the tests need (cached outside the repo by version)
	@scripts/install-node.sh >/dev/null
	test/tools/install-kube.sh
	test/tools/install-kwok.sh
	test/tools/install-trivy.sh
	test/tools/install-promtool.sh
	test/tools/install-shellcheck.sh

GO_SOURCES = go.mod go.sum $(shell find cmd internal -name '*.go' -not -name '*_test.go')
bin/%: $(GO_SOURCES)
	go build -o $@ ./cmd/$*

services/node_modules/.package-lock.json: services/package-lock.json
	cd services && $(WITH_NODE) npm ci --no-audit --no-fund

.PHONY: test
test: tools lint test-go test-services ## run every test suite (what CI runs)

.PHONY: lint
lint: ## gofmt and go vet
	@unformatted="$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go'))"; \
	if [[ -n "$$unformatted" ]]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...

.PHONY: test-go
test-go: services/node_modules/.package-lock.json ## Go tests: devdb, smoke on the local stack, charts on a real API server, Terraform checks, …
	$(WITH_NODE) ORDERS_REQUIRE_TOOLS=1 go test -count=1 -timeout 30m ./...

.PHONY: test-services
test-services: bin/devdb services/node_modules/.package-lock.json ## the services' suites against a fresh devdb
	cd services && $(WITH_NODE) ../scripts/with-devdb.sh npm test

.PHONY: run
run: bin/localstack services/node_modules/.package-lock.json ## the whole system: gateway on :8080, services on :3000/:3001, devdb on :27017
	$(WITH_NODE) bin/localstack

.PHONY: smoke
smoke: bin/smoke ## check the public contract: make smoke URL=http://<load balancer> (default: the local gateway)
	bin/smoke -url $(or $(URL),http://127.0.0.1:8080)

.PHONY: loadtest
loadtest: bin/loadtest ## load with verification: make loadtest [URL=http://<load balancer>] [ARGS='-concurrency 32 -duration 1m -timeout 10s']
	bin/loadtest -url $(or $(URL),http://127.0.0.1:8080) $(ARGS)

.PHONY: bench
bench: bin/devdb services/node_modules/.package-lock.json ## throughput and p99 as ratios to the prototype's services, and peak memory, against devdb
	cd services && $(WITH_NODE) ../scripts/with-devdb.sh node bench/bench.js

.PHONY: clean
clean: ## remove build output and installed packages (not the tools cache)
	rm -rf bin services/node_modules .devdb
