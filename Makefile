# 闪签云 — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Certificates name their CRL under the address they are served from (SPEC §10).
DEV_ENV = DJANGO_DEBUG=1 SIGNING_PKI_BASE_URL=$${SIGNING_PKI_BASE_URL:-http://$(HOST):$(PORT)}
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run setup venv test lint format migrate seed clean bench bench-upload

venv: $(VENV)/.installed

# The development set: requirements.txt (production) plus tests and tools (requirements-dev.txt).
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## Set everything up on the embedded default (SQLite, local media) and serve.
setup: venv
	mkdir -p var/media
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py pki_init
	$(DEV_ENV) $(PY) manage.py seed_dictionaries
	$(DEV_ENV) $(PY) manage.py seed_demo

run: setup
	@echo ""
	@echo "  闪签云 is starting on http://$(HOST):$(PORT)"
	@echo "  API docs (Swagger UI):  http://$(HOST):$(PORT)/api/docs"
	@echo "  OpenAPI schema:         http://$(HOST):$(PORT)/api/schema"
	@echo "  Back office (admin):    http://$(HOST):$(PORT)/admin/"
	@echo "  Demo login:             admin / $${DEMO_ADMIN_PASSWORD:-shanqian-demo}"
	@echo "  Mini-program header:    X-platform-code: demo   (WeChat: fake, SMS: console)"
	@echo ""
	$(DEV_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

## The whole suite on the embedded default (set DATABASE_URL / REDIS_URL to change that).
test: venv
	$(VENV)/bin/pytest -q -n 2 --dist loadfile

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: venv
	$(PY) bench/run.py
	$(PY) bench/upload_memory.py

## Peak worker memory with 4 parallel worst-case uploads (budget 150 MB); also the last step of `make bench`.
bench-upload: venv
	$(PY) bench/upload_memory.py

clean:
	rm -rf var/db.sqlite3 var/media var/sms.jsonl
