# The two commands the README promises: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo demo-ui test test-fast bench lint check deploy-check clean

$(STAMP): requirements-dev.txt requirements-dev-nodeps.txt shared/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "qbo-sync needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-dev-nodeps.txt
	@touch $@

demo: $(STAMP)
	$(PY) -m local.demo

# The settings page (web/) in your browser, against the local stack: prints its URL.
# Seeds demo contractors, one per state of the page (docs/settings-page.md).
# DEMO_UI_ARGS=--help (--port, --publish, --no-seed)
demo-ui: $(STAMP)
	$(PY) -m local.demo_ui $(DEMO_UI_ARGS)

# The whole of tests/ in TEST_WORKERS parallel processes (pytest-xdist), each with its own
# local stack (moto, the emulator; tests/conftest.py); a test file stays in one process, so a
# module's own stack (the browser tests') is built once. One process may hold the whole suite:
# the leak that once split it was moto's DynamoDB stream iterators (local/streams.py).
TEST_WORKERS ?= 2
TEST_PATHS := tests
test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile $(TEST_PATHS)

# The fast loop: pure modules (tests/unit) and the template, samples and layout (tests/contract).
test-fast: $(STAMP)
	$(PY) -m pytest -q tests/unit tests/contract

# Benchmarks (bench/README.md): one table, and bench/results/latest.json. BENCH_ARGS=--help
bench: $(STAMP)
	$(PY) -m bench $(BENCH_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy shared functions local .ci/check_build.py

check: lint test

# Deployment checks (docs/deployment.md): cfn-lint, sam validate --lint, sam build (no Docker)
# and .ci/check_build.py on what it built. Their own virtualenv keeps `make test` light.
# A region is all the tools need: credentials are blanked to prove that, and IMDS lookups would
# only wait for a timeout on a machine outside EC2. PATH puts the venv's python3 first for
# shared/Makefile's pip.
DEPLOY_VENV ?= .venv-deploy
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed
OFFLINE_AWS := env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
	AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/$(DEPLOY_VENV)/bin:$$PATH"

$(DEPLOY_STAMP): requirements-deploy.txt
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DEPLOY_VENV)/bin/python -m pip install --quiet -r requirements-deploy.txt
	@touch $@

deploy-check: $(DEPLOY_STAMP)
	@echo "== cfn-lint template.yaml" && $(OFFLINE_AWS) cfn-lint template.yaml
	@echo "== sam validate --lint" && $(OFFLINE_AWS) sam validate --lint
	@echo "== sam build" && $(OFFLINE_AWS) sam build
	@echo "== .ci/check_build.py" && $(OFFLINE_AWS) python .ci/check_build.py .aws-sam/build

clean:
	rm -rf $(VENV) $(DEPLOY_VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam .demo
