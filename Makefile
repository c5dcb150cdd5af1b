# peerpres: the two quickstart commands are `make demo` and `make test`.
BIN := .venv/bin

.PHONY: setup system demo test test-fast bench lint

setup:
	@bash scripts/setup.sh

system:
	@bash scripts/setup_system.sh

# The main job, offline: the quick preset on synthetic control agents, then the report.
demo: setup
	$(BIN)/peerpres demo

# The whole suite, including the real-browser report test and the real-CLI harness tests. Needs root for
# `system` (apt packages, two system users; see scripts/setup_system.sh and the README).
test: setup system
	$(BIN)/python -m pytest -q

# Everything but the harness, browser and slow (fresh-clone, README-commands) tests: no root, no system packages.
test-fast: setup
	$(BIN)/python -m pytest -q -m "not harness and not browser and not slow"

bench: setup
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

lint: setup
	$(BIN)/ruff check src tests
