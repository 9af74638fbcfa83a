# cnncalc developer tasks. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test fuzz venv dev lint typecheck bench clean

$(VENV)/.core:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt -e .
	touch $@

$(VENV)/.dev: $(VENV)/.core
	$(PIP) install -c constraints.txt -e '.[torch,dev]'
	touch $@

venv: $(VENV)/.core
dev: $(VENV)/.dev

demo: $(VENV)/.core  ## set up (no torch needed) and run the main job
	$(VENV)/bin/cnncalc summary vgg16.yaml

test: $(VENV)/.dev  ## set up with torch/fvcore and run the whole test suite
	$(PY) -m pytest -q -n 2 tests

fuzz: $(VENV)/.dev  ## search new random specs for disagreements with torch (10x the suite's examples)
	CNNCALC_DIFFERENTIAL_RANDOM=1 CNNCALC_DIFFERENTIAL_SCALE=10 $(PY) -m pytest -q -n 2 tests/test_differential.py

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check cnncalc tests benchmarks

typecheck: $(VENV)/.dev
	$(VENV)/bin/mypy cnncalc

bench: $(VENV)/.dev
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
