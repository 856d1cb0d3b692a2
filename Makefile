# Targets only call tools. `make run` and `make test` set up everything on a fresh machine.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt migrate schema bench

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

# Quiet unless it fails: pip's output goes to $(VENV)/install.log, shown when pip fails.
$(STAMP): pyproject.toml
	@echo "Installing into $(VENV)/ (log: $(VENV)/install.log) ..."
	@python3 -m venv $(VENV)
	@$(BIN)/python -m pip install --upgrade pip > $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; exit 1; }
	@$(BIN)/python -m pip install -e '.[dev]' >> $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

install: $(STAMP) ## create the virtualenv and install the project

run: $(STAMP) ## start the database, migrate, load demo data, serve GraphQL + GraphiQL
	@$(BIN)/vesper run

test: $(STAMP) ## run the test suite against a real PostgreSQL
	$(BIN)/pytest

lint: $(STAMP) ## ruff + mypy --strict + the import contracts (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo

fmt: $(STAMP) ## format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(STAMP) ## apply pending migrations (DATABASE_URL or the embedded server)
	$(BIN)/vesper migrate

bench: $(STAMP) ## load benchmark at small scale (seeds vesper_bench_small once), report in bench/reports
	$(BIN)/vesper bench --scale small --out bench/reports

schema: $(STAMP) ## rewrite docs/schema.graphql (the published schema) after a deliberate change
	$(BIN)/vesper schema > docs/schema.graphql
