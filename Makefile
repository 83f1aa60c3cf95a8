# Two commands on a fresh machine: `make run` serves the demo, `make test` runs every test.
PYTHON_BIN ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# Local use only: DEBUG serves static files and allows an insecure key and plain-http cookies.
LOCAL_ENV := DEBUG=true
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format clean

$(VENV)/bin/python:
	$(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	mkdir -p var
	$(LOCAL_ENV) $(PY) manage.py migrate --noinput
	$(LOCAL_ENV) $(PY) manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(LOCAL_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# The suite runs on SQLite, then again on PostgreSQL when DATABASE_URL names one.
test: $(TEST_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	env -u DATABASE_URL $(LOCAL_ENV) $(PY) -m pytest
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "Running the suite again on $$DATABASE_URL"; \
		$(LOCAL_ENV) $(PY) -m pytest; \
	else \
		echo "DATABASE_URL is not set: the PostgreSQL run is skipped."; \
	fi

lint: $(TEST_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(TEST_STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) var
