PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv, pinned, in a small tools venv of its own; it installs exactly what uv.lock says
TOOLS := .tools
UV_VERSION := 0.13.9
UV := $(TOOLS)/bin/uv
UV_STAMP := $(TOOLS)/uv-$(UV_VERSION)
# uv reads no pip configuration (this machine's extra indexes and constraints); it must not fetch a
# Python of its own either: the venv is made from $(PY)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

$(UV_STAMP):
	$(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	touch $@

# the locked versions, checked against their hashes, with the dev extra and the project editable;
# fails (run `make lock`) when pyproject.toml asks for something uv.lock does not have
$(BIN)/civicdesk: $(UV_STAMP) uv.lock pyproject.toml setup.py
	$(UV) sync --locked --extra dev --python $(PY) \
		|| { echo "make install failed; if uv.lock is out of date with pyproject.toml, run: make lock" >&2; exit 1; }
	touch $@

.PHONY: install lock dist run test lint screenshots messages
install: $(BIN)/civicdesk

# refresh uv.lock after a change of dependencies in pyproject.toml; LOCK_ARGS=--upgrade takes the newest
# versions allowed, LOCK_ARGS="--upgrade-package NAME" one package's
lock: $(UV_STAMP)
	$(UV) lock --python $(PY) $(LOCK_ARGS)

# what a server installs: dist/civicdesk-*.whl and dist/requirements.txt (the locked runtime
# dependencies with their hashes); see "Installing the wheel" in README.md
dist: $(UV_STAMP)
	rm -rf build dist  # setuptools would otherwise pack files left in build/ by an earlier build
	$(UV) build --wheel --out-dir dist
	$(UV) export --locked --no-emit-project --output-file dist/requirements.txt

run: install
	$(BIN)/civicdesk run --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),8000)

test: install
	bash scripts/services.sh
	bash scripts/chromium.sh
	bash scripts/nginx.sh
	bash scripts/espeak.sh
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/vulture  # dead code; what frameworks call is in vulture_whitelist.py
	$(BIN)/lint-imports  # the layering contracts of .importlinter (docs/architecture.md)
	$(BIN)/pytest -q -n 2

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/vulture
	$(BIN)/lint-imports

# refresh the README's pictures in docs/screenshots/ (the tests alone write theirs to a temporary folder)
screenshots: install
	bash scripts/chromium.sh
	CIVICDESK_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest -q -p no:xdist tests/test_browser.py tests/test_staff_browser.py tests/test_staff_lists_browser.py tests/test_ioc.py

# refresh kernel/locale/messages.pot from the code (Python, Jinja templates, JavaScript) and merge it
# into the vi and en catalogues; `$(BIN)/python scripts/messages.py from-dicts` first moves any
# "key": {"vi": ..., "en": ...} entries still in web/i18n*.py into the catalogues
messages: install
	$(BIN)/python scripts/messages.py extract
