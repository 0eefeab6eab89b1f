# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv if it is missing and installs the project (editable) with what it
# needs: make test the dev extra, make demo only the svg and train extras.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_STAMP := $(VENV)/.demo-stamp

.PHONY: setup test test-thorough test-pythons lint demo bench bench-quick bench-torch clean handouts

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The demo draws graph.svg (svg extra), loss.svg and boundary.svg (train extra); an
# up-to-date dev install already holds both.
$(DEMO_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	if [ ! $(STAMP) -nt pyproject.toml ]; then \
		$(PY) -m pip install --quiet --upgrade pip && \
		$(PY) -m pip install --quiet -e ".[svg,train]"; fi
	touch $(DEMO_STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest -n 2 -q

# Before resolving an issue: random examples (never CI's fixed seed), ten times as
# many, and bigger random-DAG and state-machine budgets (see tests/conftest.py).
test-thorough: lint
	CI= HYPOTHESIS_PROFILE=thorough $(PY) -m pytest -n 2 -q

# The suite (all but the notebooks) on every Python 3.10-3.13 found, one venv each in
# .venv-pythons/; names any version it could not find. PYTHONS="3.12 3.13" picks some.
test-pythons: lint
	$(PY) tools/test_pythons.py $(PYTHONS)

demo: $(DEMO_STAMP)
	$(PY) -m nn train --out out
	$(PY) -m autograd.viz --legend --out out/lecture_graph.svg
	$(PY) -m autograd.viz --steps --out out/lecture_steps.html

# PyTorch is an optional reference for the benchmark only (pinned; never a library dependency).
bench-torch: $(STAMP)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet torch==2.13.0 \
		|| echo "torch==2.13.0 unavailable: the PyTorch column will be skipped"

# CPU time, not wall-clock: on a shared machine a millisecond step is often descheduled
# for another process's whole time slice, which wall-clock medians then report.
# BENCH_ARGS adds options, e.g. make bench BENCH_ARGS="--json out/bench.json" (both clocks).
bench: bench-torch
	$(PY) -m benchmarks.bench --clock cpu $(BENCH_ARGS)

bench-quick: bench-torch
	$(PY) -m benchmarks.bench --quick --clock cpu

# Every notebook as self-contained HTML (student and teacher versions) in out/handouts/.
handouts: $(STAMP)
	$(PY) notebooks/handouts.py --out out/handouts

clean:
	rm -rf $(VENV) .venv-pythons out .pytest_cache .hypothesis build *.egg-info
