# Short commands for everything. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=
# Test processes (pytest-xdist): `auto` is one per core; 0 runs the tests in pytest's own
# process (for --pdb, or to read a failure's output in order).
PYTEST_WORKERS ?= auto
# e.g. BENCH_ARGS=--quick (20 chats, short steps), or --chats 500 --rates 100,200,400
BENCH_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup run test lint fmt check-deploy bench clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[dev]'
	touch $@

setup: $(BIN)/.installed ## Create the virtualenv and install everything

# Seeds in floor order: cannedresponses_seed_demo switches the answer bot on for the demo
# topics that have articles, so helpdesk_seed_articles must have run.
run: setup ## Migrate, load demo data and serve the product (127.0.0.1:8000)
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py helpdesk_seed_articles
	$(BIN)/python manage.py routing_seed_demo
	$(BIN)/python manage.py cannedresponses_seed_demo
	@echo ""
	@echo "  Customer page  http://$(HOST):$(PORT)/chat/"
	@echo "  Widget demo    http://$(HOST):$(PORT)/widget-demo/"
	@echo "  Agent console  http://$(HOST):$(PORT)/console/"
	@echo "  Admin          http://$(HOST):$(PORT)/admin/"
	@echo "  API docs       http://$(HOST):$(PORT)/api/docs/"
	@echo ""
	$(BIN)/python -m helpdesk.server -b $(HOST) -p $(PORT)

test: setup ## Run the whole test suite (set DATABASE_URL / REDIS_URL for real services)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: setup ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: setup ## Fix what ruff can fix and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-deploy: setup ## Django's deployment checks with production-like settings
	DJANGO_DEBUG=false DJANGO_SECRET_KEY=check-deploy-only-$$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz \
	DJANGO_ALLOWED_HOSTS=helpdesk.example.com DATABASE_URL=postgres://helpdesk@127.0.0.1/helpdesk \
	REDIS_URL=redis://127.0.0.1:6379/0 $(BIN)/python manage.py check --deploy --fail-level WARNING

# Needs the local PostgreSQL and Redis (it makes its own database and uses Redis db 5).
bench: setup ## Load benchmark of the live chat against its baselines (docs/performance.md)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var test-artifacts
