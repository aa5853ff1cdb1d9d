# The two commands a new user types: `make run` and `make test`. Nothing else is needed first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000

.PHONY: run test bench lint clean

$(VENV)/.run-deps: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test-deps: $(VENV)/.run-deps requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.run-deps
	PORT=$(PORT) $(PY) -m matchmaker.launch

test: $(VENV)/.test-deps
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.test-deps
	$(PY) -m tests.bench

lint: $(VENV)/.test-deps
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache
