PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/civicdesk: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

.PHONY: install run test lint
install: $(BIN)/civicdesk

run: install
	$(BIN)/civicdesk run --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),8000)

test: install
	bash scripts/services.sh
	bash scripts/chromium.sh
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -n 2

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
