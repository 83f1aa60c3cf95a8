# Two commands on a fresh machine: `make run` serves the demo, `make test` runs every test;
# `make serve` runs it the way a team would.
PYTHON_BIN ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# Tests: DEBUG's local defaults (an insecure key, local hosts, plain-http cookies).
TEST_ENV := DEBUG=true
# The demo, local use only: DEBUG off, so that it shows the product's own error pages, and LOCAL
# on, which allows an insecure key and plain-http cookies; `runserver --insecure` serves static
# files with DEBUG off.
LOCAL_ENV := LOCAL=true DEBUG=false
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo as `make run` serves it: its automation's webhook posts to the demo receiver on this
# same server, a loopback address, which webhooks may not reach unless allowed; links it sends
# name this server.
DEMO_ENV := $(LOCAL_ENV) AUTOMATIONS_ALLOW_PRIVATE_TARGETS=true SITE_URL=http://$(HOST):$(PORT)

.PHONY: run run-s3 serve test lint format clean

$(VENV)/bin/python:
	$(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@ $(RUN_STAMP)

# Serve beside $(3) database workers, which run background tasks (legacy registry migrations);
# $(1) is the environment of all, $(2) the server's command. Ctrl-C reaches them all: the server
# stops, each worker finishes the task in hand and then stops (press Ctrl-C again to cut it short;
# a migration resumes when started again). SIGTERM, as a service manager sends, is passed on to
# each the same way. If the server stops by itself, the workers are told to stop the same way.
# If this shell is killed outright (SIGKILL passes nothing on), each worker sees its parent gone
# and stops as on SIGTERM, and so does the server where Linux's setpriv can ask for that signal
# (--pdeathsig); a worker killed outright has its task taken up by another (apps/jobs).
# Everything runs in the background, so that the shell can pass signals on while it waits; a
# background job starts deaf to Ctrl-C, which gunicorn and the workers hear anyway (they set
# their own handlers) but runserver does not, so it is passed $(4) instead. No one gets a second
# signal: it would cut a worker's task short, and can hang a gunicorn worker as it stops. No
# autoreload for the workers: their reloader would kill them mid-task on Ctrl-C, so restart after
# changing a task.
PARENT_DEATH_SIGNAL := $(shell command -v setpriv >/dev/null 2>&1 && echo setpriv --pdeathsig TERM)
define serve
workers=; \
for n in $$(seq $(3)); do $(1) $(PY) manage.py db_worker --no-reload & workers="$$workers $$!"; done; \
$(1) $(PARENT_DEATH_SIGNAL) $(2) & server=$$!; \
trap 'stopping=1; $(if $(4),kill -$(4) $$server 2>/dev/null)' INT; \
trap 'stopping=1; kill -TERM $$server $$workers 2>/dev/null' TERM; \
while kill -0 $$server 2>/dev/null; do wait $$server; status=$$?; done; \
[ -n "$$stopping" ] || kill -TERM $$workers 2>/dev/null; \
wait $$workers; \
exit $$status
endef

run: $(RUN_STAMP)
	mkdir -p var
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/ with a background worker (Ctrl-C stops both)"
	$(call serve,$(DEMO_ENV),$(PY) manage.py runserver --insecure $(HOST):$(PORT),1,TERM)

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
	$(S3_ENV) $(DEMO_ENV) $(PY) manage.py ensure_bucket --wait 15 && \
	$(S3_ENV) $(DEMO_ENV) $(PY) manage.py migrate --noinput && \
	$(S3_ENV) $(DEMO_ENV) $(PY) manage.py seed_demo && \
	echo "Serving on http://$(HOST):$(PORT)/ with files in S3 at 127.0.0.1:$(S3_PORT)" && \
	( $(call serve,$(S3_ENV) $(DEMO_ENV),$(PY) manage.py runserver --insecure $(HOST):$(PORT),1,TERM) )

# Production: gunicorn (registry_site/gunicorn_conf.py: WEB_CONCURRENCY processes of WEB_THREADS
# threads) beside TASK_WORKERS database workers, DEBUG off, on the database and blob store the
# environment names (README: Serving in production).
TASK_WORKERS ?= 1
SERVE_ENV := DEBUG=false HOST=$(HOST) PORT=$(PORT)

serve: $(RUN_STAMP)
	@[ -n "$$SECRET_KEY" ] || { echo "make serve: SECRET_KEY is not set. DEBUG is off here, \
	which needs a long random SECRET_KEY (see the README, Serving in production)." >&2; exit 2; }
	$(SERVE_ENV) $(PY) manage.py migrate --noinput
	$(SERVE_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "Serving on http://$(HOST):$(PORT)/ with $${WEB_CONCURRENCY:-2} processes and \
	$(TASK_WORKERS) background worker(s) (Ctrl-C stops them all)"
	$(call serve,$(SERVE_ENV),$(VENV)/bin/gunicorn -c registry_site/gunicorn_conf.py \
	registry_site.wsgi,$(TASK_WORKERS))

# The suite runs on SQLite, then again on PostgreSQL when DATABASE_URL names one, each time in
# TEST_WORKERS processes (pytest-xdist; on PostgreSQL each has a test database of its own). More
# processes than cores pay: many tests wait on servers, subprocesses and the database.
TEST_WORKERS ?= 3
PYTEST := $(PY) -m pytest --numprocesses $(TEST_WORKERS) --dist worksteal

test: lint
	env -u DATABASE_URL $(TEST_ENV) $(PYTEST)
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "Running the suite again on $$DATABASE_URL"; \
		$(TEST_ENV) $(PYTEST); \
	else \
		echo "DATABASE_URL is not set: the PostgreSQL run is skipped."; \
	fi

lint: $(TEST_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

format: $(TEST_STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) var
