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

.PHONY: run run-s3 test lint format clean

$(VENV)/bin/python:
	$(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@ $(RUN_STAMP)

# Serve with the database worker beside the server, which runs background tasks (legacy
# registry migrations); $(1) is the environment of both. Ctrl-C reaches both: the server stops,
# the worker finishes the task in hand and then stops (press Ctrl-C again to cut it short; a
# migration resumes when started again). If the server stops by itself, the worker is told to
# stop the same way. No autoreload for the worker: its reloader would kill it mid-task on
# Ctrl-C, so restart after changing a task.
define serve
$(1) $(PY) manage.py db_worker --no-reload & \
worker=$$!; \
trap 'trap - EXIT; wait $$worker; exit 130' INT; \
trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
$(1) $(PY) manage.py runserver $(HOST):$(PORT)
endef

run: $(RUN_STAMP)
	mkdir -p var
	$(LOCAL_ENV) $(PY) manage.py migrate --noinput
	$(LOCAL_ENV) $(PY) manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/ with a background worker (Ctrl-C stops both)"
	$(call serve,$(LOCAL_ENV))

# The same demo with its files in S3: moto's server on 127.0.0.1:9000, in memory, so the bucket
# and the database that points into it start empty on each run.
S3_PORT ?= 9000
S3_ENV := ARTIFACT_S3_BUCKET=registry-blobs AWS_S3_ENDPOINT_URL=http://127.0.0.1:$(S3_PORT) \
	AWS_S3_REGION_NAME=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
	DATABASE_URL=sqlite:///$(CURDIR)/var/registry-s3.sqlite3

run-s3: $(TEST_STAMP)
	mkdir -p var
	rm -f var/registry-s3.sqlite3
	$(VENV)/bin/moto_server -H 127.0.0.1 -p $(S3_PORT) >var/moto.log 2>&1 & \
	trap "kill $$!" EXIT; \
	$(S3_ENV) $(LOCAL_ENV) $(PY) manage.py ensure_bucket --wait 15 && \
	$(S3_ENV) $(LOCAL_ENV) $(PY) manage.py migrate --noinput && \
	$(S3_ENV) $(LOCAL_ENV) $(PY) manage.py seed_demo && \
	echo "Serving on http://$(HOST):$(PORT)/ with files in S3 at 127.0.0.1:$(S3_PORT)" && \
	( $(call serve,$(S3_ENV) $(LOCAL_ENV)) )

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
