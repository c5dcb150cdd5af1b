# peerpres: the two quickstart commands are `make demo` and `make test`.
BIN := .venv/bin

.PHONY: setup system demo test test-fast bench lint local-model demo-local

setup:
	@bash scripts/setup.sh

system:
	@bash scripts/setup_system.sh

# The main job, offline: the quick preset on synthetic control agents, then the report.
demo: setup
	$(BIN)/peerpres demo

# A real open-weight model (llama-cpp-python built once and cached in ~/.cache/peerpres/wheels; the weights, verified).
local-model: setup
	@bash scripts/setup_local_model.sh

# One real episode per scenario on the local 0.5B model, graded by the same model; report beside scripted controls.
demo-local: local-model
	$(BIN)/peerpres demo --local

# The whole suite, including the real-browser report test, the real-CLI harness tests and the real local model.
# Needs root for `system` (apt packages, two system users; see scripts/setup_system.sh and the README).
test: setup system local-model
	$(BIN)/python -m pytest -q

# Everything but the harness, browser, local-model and slow (fresh-clone, README-commands) tests: no root, no
# system packages.
test-fast: setup
	$(BIN)/python -m pytest -q -m "not harness and not browser and not slow and not local_model"

bench: setup
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

lint: setup
	$(BIN)/ruff check src tests
