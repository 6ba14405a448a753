# `make run`: the service with a demo on http://127.0.0.1:5000 (SQLite, mail on the console).
# `make test`: the whole suite, on SQLite and PostgreSQL.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEV_CONFIG := $(CURDIR)/instance/dev.py
export BALLOT_CONFIG ?= $(DEV_CONFIG)

.PHONY: run test bench check clean

$(BIN)/ballot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

$(DEV_CONFIG): | $(BIN)/ballot
	$(BIN)/ballot secrets --write $(DEV_CONFIG)
	printf "SESSION_COOKIE_SECURE = False\nBALLOT_MAIL_TRANSPORT = 'console'\n" >> $(DEV_CONFIG)

run: $(BIN)/ballot $(DEV_CONFIG)
	$(BIN)/ballot db upgrade
	$(BIN)/ballot demo
	@echo "Serving on http://127.0.0.1:5000 (Ctrl-C stops); the worker sends mail to this console."
	$(BIN)/ballot worker --interval 5 & trap 'kill $$!' EXIT INT TERM; $(BIN)/ballot run --host 127.0.0.1 --port 5000

test: $(BIN)/ballot
	$(BIN)/python -m pytest

bench: $(BIN)/ballot
	$(BIN)/python bench/run.py

check: $(BIN)/ballot $(DEV_CONFIG)
	$(BIN)/ballot db upgrade && $(BIN)/ballot db check

clean:
	rm -rf $(VENV) instance *.egg-info
