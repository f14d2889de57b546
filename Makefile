# greenfactory — `make demo` and `make test` do all set-up themselves (libtorch 2.11.0 from PyPI
# and the foolbox sample images into ~/.cache/greenfactory, idempotent). Nothing else needs
# installing by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := demo

# Resolved once per make run; the setup script is a no-op when libtorch is already cached.
LIBTORCH_DIR = $(shell scripts/setup-libtorch | tail -1)
CARGO_ENV = LIBTORCH="$(LIBTORCH_DIR)"

.PHONY: setup setup-cuda build test demo bench lint fmt python python-test notebooks

setup:
	@scripts/setup-libtorch >/dev/null
	@scripts/setup-images >/dev/null

setup-cuda:
	@scripts/setup-libtorch --cuda

build: setup
	$(CARGO_ENV) cargo build --release --bin greenfactory

# The real ground truth (NATS-Bench accuracies, official archives; never committed): the data
# tier of the tests reads it. Without it `make test` runs the core tier (unit, doc, golden and
# engine tests on committed files) and says so; GREENFACTORY_REQUIRE_DATA=1 (CI) makes its
# absence an error instead.
DATA_DIR ?= ../shared/data
CORE_TESTS = --lib --bins --test golden --test golden_forward --test predict --test proxies_edge --test formula --test evolve --test batched

ifeq ($(wildcard $(DATA_DIR)/PROVENANCE.md),)
test: setup
	@if [ -n "$$GREENFACTORY_REQUIRE_DATA" ]; then echo "error: $(DATA_DIR) not found (GREENFACTORY_REQUIRE_DATA is set)" >&2; exit 1; fi
	$(CARGO_ENV) cargo test --no-default-features --lib
	$(CARGO_ENV) cargo test --no-default-features --doc
	@echo "make test: data tier skipped: $(DATA_DIR) not found (NATS-Bench ground truth, README 'Data'); running the core tier"
	$(CARGO_ENV) cargo test $(CORE_TESTS)
	$(CARGO_ENV) cargo test --doc
else
test: setup
	$(CARGO_ENV) cargo test --no-default-features --lib
	$(CARGO_ENV) cargo test --no-default-features --doc
	$(CARGO_ENV) cargo test
	@# The search example (built by cargo test), on a model that saw 200 labels. It needs only
	@# `--no-default-features --features table` (no libtorch), which rebuilds Polars (8 min).
	target/debug/greenfactory train --features datasets/tss_cifar10_all.parquet \
	  --labels $(DATA_DIR)/nats_tss/nats_tss_test_acc_hp200.csv --dataset cifar10 \
	  --arch-features --max-features 0.33 --n-train 200 --cv 0 --out target/search-example.gfm --force
	$(CARGO_ENV) cargo run --example search_tool -- \
	  target/search-example.gfm datasets/tss_cifar10_all.parquet
endif

demo: build
	target/release/greenfactory demo

bench: setup
	$(CARGO_ENV) cargo bench

lint: setup
	cargo fmt --check
	$(CARGO_ENV) cargo clippy --all-targets -- -D warnings
	$(CARGO_ENV) cargo clippy --no-default-features --lib -- -D warnings
	@# The binding's crate (its own workspace): the library API it uses is linted with it.
	cargo fmt --check --manifest-path python/Cargo.toml
	cd python && PYO3_PYTHON=$$(command -v python3) cargo clippy --all-targets -- -D warnings

# The Python binding (python/, its own cargo workspace and target dir): a venv outside the repo
# (~/.cache/greenfactory/venv-python, pinned PyPI packages), wheel built by maturin and installed.
# The last line printed is the venv's path.
python:
	@scripts/setup-python

# Binding tests on the committed tables and models; compares with the CLI binary
# (target/release or target/debug, which `make test` builds) and runs python/examples/.
python-test:
	@venv=$$(scripts/setup-python | tail -1) && "$$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests

# Executes notebooks/*.ipynb headless and writes their outputs back; fails when a cell fails.
# GF_NOTEBOOKS_QUICK=1 runs them with fewer repeats and leaves the committed outputs untouched.
notebooks:
	@venv=$$(scripts/setup-python --notebooks | tail -1) && "$$venv/bin/python" scripts/run-notebooks.py notebooks/*.ipynb
