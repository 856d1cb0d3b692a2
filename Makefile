# Targets only call tools. `make run` and `make test` set up everything on a fresh machine.
VENV ?= .venv
BIN := $(VENV)/bin
LOG := $(VENV)/install.log
# Two stamps: the server alone (`make run`, quick to install), and with the tools to test,
# lint and benchmark it (`make test`).
SERVER := $(VENV)/.installed-server
TOOLS := $(VENV)/.installed-tools

.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt migrate schema bench

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

# Quiet unless it fails: pip's output goes to $(LOG), shown when pip fails.
$(VENV)/bin/python:
	@echo "Creating $(VENV)/ (install log: $(LOG)) ..."
	@mkdir -p $(VENV)
	@python3 -m venv $(VENV) > $(LOG) 2>&1 || { cat $(LOG); exit 1; }

$(SERVER): pyproject.toml | $(VENV)/bin/python
	@echo "Installing the server ..."
	@$(BIN)/python -m pip install -e . >> $(LOG) 2>&1 || { cat $(LOG); exit 1; }
	@touch $@

$(TOOLS): pyproject.toml | $(VENV)/bin/python
	@echo "Installing the server and its tools ..."
	@$(BIN)/python -m pip install -e '.[dev]' >> $(LOG) 2>&1 || { cat $(LOG); exit 1; }
	@touch $(SERVER) $@

install: $(TOOLS) ## create the virtualenv and install the project with its tools

run: $(SERVER) ## start the database, migrate, load demo data, serve GraphQL + GraphiQL
	@$(BIN)/vesper run

test: $(TOOLS) ## run the test suite against a real PostgreSQL
	$(BIN)/pytest

lint: $(TOOLS) ## ruff + mypy --strict + the import contracts (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo

fmt: $(TOOLS) ## format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(SERVER) ## apply pending migrations (DATABASE_URL or the embedded server)
	@$(BIN)/vesper migrate

bench: $(TOOLS) ## load benchmark at small scale (seeds vesper_bench_small once) and the fan-out, reports in bench/reports
	$(BIN)/vesper bench --scale small --out bench/reports
	$(BIN)/vesper fanout --out bench/reports

schema: $(SERVER) ## rewrite docs/schema.graphql (the published schema) after a deliberate change
	$(BIN)/vesper schema > docs/schema.graphql
