# Entry points for humans and CI. On a fresh machine `make demo` or `make test` is all you type:
# both start with `deps`, which installs only what is missing (scripts/install-deps.sh).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
# Port of the throwaway server `test-browser` starts; the browser tests get its URL baked in
# at compile time through SYNC_SERVER_URL.
TEST_SERVER_PORT ?= 18787
DEMO_PORT ?= 8787
DEMO_WEB_PORT ?= 5173
# Which wasm-pack browsers `test-browser` runs, and the per-run limit of the browser runner.
BROWSERS ?= chrome firefox
WASM_BINDGEN_TEST_TIMEOUT ?= 600
export TEST_SERVER_PORT DEMO_PORT DEMO_WEB_PORT BROWSERS WASM_BINDGEN_TEST_TIMEOUT

.PHONY: help deps fmt fmt-check check-cycles clippy clippy-host clippy-wasm test-native test-server \
        test-browser test demo fuzz-server fuzz-server-long fuzz

help:
	@echo "make demo          install what is missing, build pkg + www, seed data/demo.db, serve it on :$(DEMO_PORT) and the page on :$(DEMO_WEB_PORT)"
	@echo "make www           build the demo backoffice page (www/dist) on top of make pkg"
	@echo "make test-demo     Playwright tests of the demo page in headless Chromium (own server, docs/demo.png)"
	@echo "make test          deps + fmt-check + check-cycles + clippy + test-native + test-server + fuzz-server + test-browser + test-pkg + test-demo + bench-quick"
	@echo "make pkg           build the npm package sync-core (wasm-pack, tsc, npm pack)"
	@echo "make test-pkg      consumer build of the packed tarball + Playwright tests in headless Chromium"
	@echo "make deps          install missing toolchain pieces (idempotent)"
	@echo "make fmt           cargo fmt --all"
	@echo "make fmt-check     cargo fmt --all -- --check"
	@echo "make check-cycles  fail on an import cycle between Rust files (src/, server/src/)"
	@echo "make clippy        clippy -D warnings on the host and on wasm32"
	@echo "make test-native   cargo test -p sync-core"
	@echo "make test-server   cargo test -p sync-server on SQLite, then on PostgreSQL (a throwaway cluster, or SYNC_TEST_DATABASE_URL)"
	@echo "make test-browser  browser tests in headless $(BROWSERS) against a local sync-server"
	@echo "make fuzz-server   schemathesis against docs/openapi.yaml and a throwaway sync-server (short budget)"
	@echo "make fuzz          the long fuzzing runs: fuzz-client (every client decoder, 20 000 proptest cases) and fuzz-server-long (schemathesis, 300 s per pass)"
	@echo "make bench         benchmarks in headless Chromium against a raw IndexedDB floor and Dexie 4; results in bench/results, see BENCHMARKS.md"
	@echo "make bench-native  the engine alone, natively (examples/apply_bench.rs): parse, privacy, plan per page"
	@echo "make bench-quick   the same harness on smaller figures, 1 trial (no timing asserted; part of make test)"
	@echo "make bench-server  load on sync-server from simulated devices: SQLite, PostgreSQL 1 and 2 replicas (bench/results/server.md)"

deps:
	@scripts/install-deps.sh

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

# No Rust file may depend on itself through a chain of imports (scripts/check-cycles.py).
check-cycles:
	python3 scripts/check-cycles.py src server/src

clippy: clippy-host clippy-wasm

clippy-host:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clippy-wasm:
	$(CARGO) clippy -p sync-core --target wasm32-unknown-unknown --lib --tests -- -D warnings

test-native:
	$(CARGO) test -p sync-core

test-server:
	@CARGO="$(CARGO)" scripts/test-server.sh

test-browser:
	@scripts/test-browser.sh

# OpenAPI-driven fuzzing of the reference server (scripts/fuzz-server.sh, schemathesis): a short
# budget in `make test`, a long one in `make fuzz`.
fuzz-server:
	@scripts/fuzz-server.sh

fuzz-server-long:
	@scripts/fuzz-server.sh --long

fuzz: fuzz-client fuzz-server-long

# Runs every step even after one fails, then prints a summary and fails if any step failed.
test: deps
	@scripts/test-all.sh fmt-check check-cycles clippy test-native test-server fuzz-server test-browser test-pkg test-demo bench-quick

demo: deps
	@scripts/demo.sh

# The demo backoffice (www/, a Vite app on the package through "file:../pkg"): built to www/dist,
# which `make demo` serves with www/serve.mjs.
.PHONY: www test-demo
www: pkg
	cd www && { [ -x node_modules/.bin/vite ] || npm install --no-audit --no-fund --loglevel=error; } && npm run --silent build

# The demo page end to end: cold start, offline reload, offline rename, conflicts, epoch reset,
# revocation (www/test-e2e.sh; tests/e2e/demo*.test.mjs start and stop their own server).
test-demo:
	@www/test-e2e.sh

# The npm package `sync-core` (pkg/): wasm-pack build, wasm-opt (scripts/optimize-wasm.sh), tsc
# to pkg/dist, `npm pack` to pkg/sync-core-<version>.tgz.
.PHONY: pkg test-pkg
pkg:
	cd pkg && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build && npm pack --silent >/dev/null

# Consumer install + type check + Vite build, then Playwright tests in headless Chromium
# against a throwaway reference server (tests/e2e/run.sh).
test-pkg:
	@tests/e2e/run.sh

# Benchmarks (issue 7, bench/): sync-core against a raw IndexedDB floor and a same-semantics
# Dexie 4 implementation in headless Chromium, plus first render, rename latency, memory and
# bundle size; writes bench/results/{full,quick}.{md,json} (BENCHMARKS.md quotes a full run).
# Targets are reported, never asserted. `bench-quick` runs a few trials so the harness never rots.
.PHONY: bench bench-quick bench-server
bench: pkg
	@bench/run.sh

# bench-quick (a `make test` step, ≈ 1–2 min) needs the packed tarball, but rebuilds it only when
# something it is built from is newer: right after test-pkg's `make pkg` it is not built twice.
PKG_TGZ := pkg/sync-core-0.1.0.tgz
PKG_INPUTS = $(shell find src pkg/src -type f) $(wildcard Cargo.toml Cargo.lock .cargo/config.toml \
             pkg/package.json pkg/package-lock.json pkg/tsconfig.json pkg/README.md)
$(PKG_TGZ): $(PKG_INPUTS)
	@$(MAKE) --no-print-directory pkg

bench-quick: $(PKG_TGZ)
	@bench/run.sh --quick

# Load on the reference server (issue 15): simulated devices on loopback against SQLite and
# PostgreSQL with 1 and 2 replicas (a throwaway cluster); reported, never asserted.
# `make bench-server BENCH_SERVER_ARGS=--outage` also stops PostgreSQL for 3 s mid-load.
bench-server:
	@node bench/server-load.mjs $(BENCH_SERVER_ARGS)

# Client decoders under a long fuzz budget: pull pages, push answers, command answers
# (tests/engine/{pull,push}/fuzz.rs, proptest over arbitrary bytes and JSON). `make test` runs the same
# properties with a small budget.
.PHONY: fuzz-client
FUZZ_CASES ?= 20000
fuzz-client:
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test -p sync-core --release --test engine -- fuzz::

# The engine alone (parse, privacy, plan of the bench's workload, in-memory store), natively.
.PHONY: bench-native
bench-native:
	$(CARGO) run --release --example apply_bench -- --rounds 5
