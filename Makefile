# Cruddur: `make dev` to run it, `make test` to test it. Nothing else to install by hand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

# Local engines accept any credentials; real AWS reads yours from the environment.
export AWS_ACCESS_KEY_ID ?= local
export AWS_SECRET_ACCESS_KEY ?= local
export AWS_DEFAULT_REGION ?= us-east-1
export DYNAMODB_PORT ?= 8001

.PHONY: install dev test schemathesis lint format bench clean lock

# Versions are chosen in pyproject.toml; the locks pin everything they pull in, with
# hashes. requirements-dev.lock (this venv) = requirements.lock (the image) + extra "dev".
$(VENV)/.installed: requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes \
	  -r requirements-dev.lock
	touch $@

# After changing a pin in pyproject.toml: `make lock`, then `make install`.
UV_COMPILE := $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
  --generate-hashes --no-header --quiet
lock: $(VENV)/.installed
	$(UV_COMPILE) -o requirements.lock
	$(UV_COMPILE) --extra dev -o requirements-dev.lock

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

dev: install
	bash devtools/dev.sh

test: install
	bash devtools/test.sh

# The full API fuzz run (every check; coverage, fuzzing and stateful phases; 300 examples
# per operation) through the suite's own schemathesis test, which runs a small one.
schemathesis: install
	SCHEMATHESIS_EXAMPLES=300 SCHEMATHESIS_MAX_TIME=1800 \
	  $(PY) -m pytest -q -s messaging/tests/test_api_schema.py -k schemathesis

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Installs wrk from Debian (needs root, as on the dev machines and CI), then runs the
# whole benchmark on its own stack, the django-postman peer beside it (its packages are
# in requirements.txt), and rewrites docs/benchmarks.md from the run.
bench: install
	command -v wrk >/dev/null || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk)
	$(PY) -m bench.run

clean:
	rm -rf var db.sqlite3
