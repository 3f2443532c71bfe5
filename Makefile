# Quantum Gear marketplace backend. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app:create_app

.PHONY: help run test lint format migrate seed serve bench clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.installed  ## Apply database migrations
	$(FLASK) db upgrade

seed: migrate  ## Load the sample catalogue and accounts (safe to repeat)
	$(BIN)/python seed_all.py

run: seed  ## Install, migrate, seed and serve on http://localhost:$(PORT)
	PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py run:app

test: $(VENV)/.installed-dev  ## Run the whole test suite (PostgreSQL when TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev  ## Ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev  ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:  ## Remove the virtualenv and local database
	rm -rf $(VENV) instance
