# Kuntaflow front door. `make run` and `make test` set everything up on a fresh Debian machine
# (venv, Python packages, Debian packages) and are quick when it is already set up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEBIAN_PACKAGES := xmlsec1 chromium chromium-driver
# Chromium, Selenium and Prefect write into $HOME; keep test runs hermetic.
export SE_OFFLINE := true
export SE_AVOID_STATS := true

.PHONY: setup system-packages bytecode run test lint bench bench-library-card clean

setup: system-packages $(INSTALLED) bytecode

# Kuntaflow's own modules compiled ahead (only those changed since): every robot is a new Python
# process, and where PYTHONDONTWRITEBYTECODE is set none of them would keep what it compiled
# (~0.3 s of CPU at every robot's start). pip does the same for the installed packages.
bytecode: $(INSTALLED)
	@PYTHONDONTWRITEBYTECODE= $(BIN)/python -m compileall -q -j 0 apps connectors flows kuntaflow processes robots schemas > /dev/null

# Debian packages: pysaml2 needs xmlsec1; robots and browser tests need Chromium and its driver.
system-packages:
	@missing=""; \
	for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; } \
	    > /tmp/kuntaflow-apt.log 2>&1 || { tail -n 30 /tmp/kuntaflow-apt.log; exit 1; }; \
	fi

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Kuntaflow and its Python packages into $(VENV) (log: $(VENV)/install.log)"
	@{ $(BIN)/python -m pip install --upgrade pip && $(BIN)/python -m pip install -e '.[dev]'; } > $(VENV)/install.log 2>&1 \
	  || { tail -n 40 $(VENV)/install.log; exit 1; }
	touch $@

run: setup
	$(BIN)/kuntaflow run

# In parallel: pytest-xdist workers, as [tool.pytest.ini_options] in pyproject.toml says; `-n 0` runs one process.
test: setup lint
	$(BIN)/python -m pytest -q

# The layers (docs/architecture.md), ruff and robocop: before the tests, as CI runs them.
lint: setup
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/robocop check robots
	$(BIN)/robocop format --check robots

# Benchmarks print figures with the machine's load beside them (bench/README.md); not tests.
bench: setup bench-library-card
	$(BIN)/python bench/queue_bench.py
	$(BIN)/python bench/mass_recruitment_bench.py
	$(BIN)/python bench/person_vault_bench.py
	$(BIN)/python bench/compare.py
	$(BIN)/python bench/scale_out.py
	$(BIN)/python bench/latency_curve.py
	$(BIN)/python bench/chaos.py
	$(BIN)/python bench/chaos.py --database postgresql --workers 2

bench-library-card: setup
	$(BIN)/python bench/library_card_latency.py
	$(BIN)/python bench/library_card_throughput.py

clean:
	rm -rf $(VENV) .kuntaflow
