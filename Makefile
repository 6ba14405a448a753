# `make run`: the service with a demo on http://127.0.0.1:5000 (SQLite, mail on the console).
# `make test`: the checks (`make lint`: ruff, mypy), then the whole suite, on SQLite and PostgreSQL.
# `make lock`: refresh requirements.lock after changing the dependencies in pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
DEV_CONFIG := $(CURDIR)/instance/dev.py
export BALLOT_CONFIG ?= $(DEV_CONFIG)

.PHONY: run test lint lock bench check clean browser screenshots wrk

# The browser tests drive Debian's Chromium (browsers cannot be downloaded
# here, so never `playwright install`) and check pages with axe-core from npm.
CHROMIUM := /usr/bin/chromium
AXE := .cache/npm/node_modules/axe-core/axe.min.js
# The benchmark's HTTP load comes from Debian's wrk, a compiled client, so that the client does not set the pace.
WRK := /usr/bin/wrk

# The locked, hash-checked dependencies (runtime, test and dev), then the project itself.
# `pip check` fails when pyproject.toml names a dependency that the lock lacks: run `make lock`.
$(BIN)/ballot: $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/pip check
	touch $@

# Keeps the versions pinned in the lock where pyproject.toml allows them; `make lock UPGRADE=1`
# moves every dependency to its newest release. For Python 3.11 on Linux x86_64, as on the servers.
lock: $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --extra test --extra dev \
	  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
	  --generate-hashes --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade) -o $(LOCK)

# uv comes with the locked tools; this is for a checkout whose lock is missing or broken.
$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q uv

$(DEV_CONFIG): | $(BIN)/ballot
	$(BIN)/ballot secrets --write $(DEV_CONFIG)
	printf "SESSION_COOKIE_SECURE = False\nBALLOT_MAIL_TRANSPORT = 'console'\n" >> $(DEV_CONFIG)

run: $(BIN)/ballot $(DEV_CONFIG)
	$(BIN)/ballot db upgrade
	$(BIN)/ballot demo
	@echo "Serving on http://127.0.0.1:5000 (Ctrl-C stops); the worker sends mail to this console."
	$(BIN)/ballot worker --interval 5 & trap 'kill $$!' EXIT INT TERM; $(BIN)/ballot run --host 127.0.0.1 --port 5000

test: lint browser
	$(BIN)/python -m pytest

lint: $(BIN)/ballot
	$(BIN)/ruff check
	$(BIN)/mypy

# What the browser tests need; without it they are skipped (and fail under CI).
browser: $(AXE)
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; \
	  else \
	    echo "The browser tests need Debian's Chromium at $(CHROMIUM): run 'sudo apt-get install chromium'," \
	         "or they are skipped."; \
	  fi; \
	fi

$(AXE):
	@if command -v npm >/dev/null; then \
	  npm install --no-save --no-audit --no-fund --prefix .cache/npm axe-core@4; \
	else \
	  echo "The accessibility checks need axe-core from npm: install Node.js and npm, or they are skipped."; \
	fi

# What the casting benchmark needs; without it, that figure fails and says so.
wrk:
	@if [ ! -x $(WRK) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk; \
	  else \
	    echo "The casting benchmark needs Debian's wrk at $(WRK): run 'sudo apt-get install wrk'."; \
	  fi; \
	fi

# The README's pictures of the voters' pages and the console, phone and desktop, into docs/screenshots/.
screenshots: $(BIN)/ballot browser
	BALLOT_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/browser/test_voter_pages.py -k accessible
	BALLOT_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/browser/test_console_pages.py

bench: $(BIN)/ballot wrk
	$(BIN)/python bench/run.py
	$(BIN)/python bench/counting.py

check: $(BIN)/ballot $(DEV_CONFIG)
	$(BIN)/ballot db upgrade && $(BIN)/ballot db check

clean:
	rm -rf $(VENV) instance *.egg-info .cache
