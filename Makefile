# Helpdesk knowledge base. `make run` on a fresh machine: venv, dependencies, demo data, index, server.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python manage.py
PYTEST_ARGS ?=

.PHONY: install demo run test test-postgres lint format bench clean

install: $(VENV)/.installed

# torch first, from the local CPU wheel: a bare requirement would pull GBs of CUDA packages.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	touch $@

demo: install
	$(MANAGE) migrate --no-input
	$(MANAGE) load_initial_data
	$(MANAGE) rebuild_vector_index --no-progress
	$(MANAGE) load_demo_events

run: demo
	$(MANAGE) runserver 127.0.0.1:8000

test: install
	$(MANAGE) check
	DJANGO_SETTINGS_MODULE=kbsite.settings.test $(MANAGE) makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/pytest $(PYTEST_ARGS)

# The same suite on a real PostgreSQL server (Debian's postgresql package), started here.
test-postgres: install
	bash tests/postgres/start.sh
	KB_TEST_DATABASE_URL=postgres://kb:kb@127.0.0.1:5432/kb HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
		$(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/chunking.py ../shared/eval/banking77.articles.jsonl ../shared/eval/banking77.gold.jsonl

clean:
	rm -rf var/ .pytest_cache test-artifacts
