# The README's two commands: `make run` and `make test`. Only Python 3.11+ and make are needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist processes: most tests wait on I/O (servers, databases), not the CPU; an idle one
# takes work from a busy one (worksteal), so the run does not end on one long queue
TEST_WORKERS ?= 4

.PHONY: run mail test lint bench docs messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

.env:
	@echo "JWT_SECRET=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))')" > .env
	@echo "AUTHGATE_COOKIE_SECURE=false" >> .env
	@echo "make: wrote a random JWT_SECRET (and AUTHGATE_COOKIE_SECURE=false for plain http) to .env"

# Unless AUTHGATE_PUBLIC_URL is set, links and tokens name http://localhost:$(PORT) (a loopback HOST is named
# localhost, where browsers allow passkeys), or http://$(HOST):$(PORT) for another HOST.
run: $(VENV)/.installed .env
	$(BIN)/authgate serve --host $(HOST) --port $(PORT)

# Development mail: each message's recipient, kind, and link or code, as it is queued (Ctrl-C stops).
mail: $(VENV)/.installed .env
	$(BIN)/authgate mail --follow

test: $(VENV)/.installed
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy src examples
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy src examples

# The configuration reference in docs/configuration.md is written from the Settings class.
# The hosted pages' messages: extract them into authgate.pot and merge it into the shipped catalogues.
messages: $(VENV)/.installed
	$(BIN)/python -m authgate.ui.catalogue

docs: $(VENV)/.installed
	$(BIN)/python -m authgate.settings_reference docs/configuration.md

bench: $(VENV)/.installed .env
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info
