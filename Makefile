# TJP: `make run` serves the demo on http://127.0.0.1:$(PORT); `make test` runs the whole suite.
# With no DATABASE_URL both use an embedded PostgreSQL (data under .data/); with no
# CELERY_BROKER_URL background jobs run inline.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
UV_VERSION := 0.13.9
TEST_WORKERS ?= auto

.PHONY: run test install lint format check-migrations check-deploy messages i18n-check stop-db worker beat \
	backup restore

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	touch $@

# Development defaults for plain `manage.py` commands (git- and docker-ignored; never on a server).
.env:
	printf 'DEBUG=1\n' > .env

install: $(VENV)/.installed .env

run: export DEBUG ?= 1
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not celery_worker" $(PYTEST_ARGS)
	@# Real Celery workers on the shared Redis queue: one process (they skip without a broker).
	$(BIN)/pytest -m celery_worker $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A tjp worker -l info

beat: install
	$(BIN)/celery -A tjp beat -l info

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-migrations: export DEBUG ?= 1
check-migrations: install
	$(BIN)/python manage.py makemigrations --check --dry-run

# Production-like environment: must print no warnings.
check-deploy: install
	DEBUG=0 SECRET_KEY=ci-$$(date +%s)-a-long-random-production-like-secret-key-value-0123456789 \
	ALLOWED_HOSTS=tjp.example.org $(BIN)/python manage.py check --deploy --fail-level WARNING

# Re-extract strings after changing them, translate locale/*/LC_MESSAGES/django.po, then compile.
messages: export DEBUG ?= 1
messages: install
	$(BIN)/python manage.py makemessages -l es --no-obsolete --ignore=.venv --ignore=.data --ignore=static
	$(BIN)/python manage.py compilemessages --ignore=.venv

# Fails if any string in the code is missing from, or untranslated in, the catalogues.
i18n-check: export DEBUG ?= 1
i18n-check: install
	$(BIN)/python -m tjp.i18n_check

# The database (pg_dump, custom format) and the uploaded documents, into a new folder of
# BACKUP_DIR (default .data/backups). See docs/operations.md.
backup: export DEBUG ?= 1
backup: install
	$(BIN)/python manage.py backup

# make restore FILE=.data/backups/tjp-20260301T020000Z — into the current database, which must
# be empty unless FORCE=1 (then its contents are replaced).
restore: export DEBUG ?= 1
restore: install
	@test -n "$(FILE)" || { echo "usage: make restore FILE=<backup folder> [FORCE=1]"; exit 2; }
	$(BIN)/python manage.py restore "$(FILE)" $(if $(FORCE),--force)

stop-db: install
	$(BIN)/python -c "from tjp.embedded_db import stop_embedded_database; stop_embedded_database()"
