# Grassroots: `make demo` runs the platform with demo data; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOUSEHOLDS ?= 20000
SEED ?= 2026
PORT ?= 8000

.PHONY: demo test check assets system-deps serve clean-demo

$(VENV)/.base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base pyproject.toml
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

grassroots/static/vendor/.copied: node_modules/.package-lock.json scripts/copy_assets.sh
	scripts/copy_assets.sh
	touch $@

assets: grassroots/static/vendor/.copied

system-deps:
	scripts/system_deps.sh

var/.demo-$(HOUSEHOLDS)-$(SEED): $(VENV)/.base
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py init_keys
	$(PY) manage.py demo_city --households $(HOUSEHOLDS) --seed $(SEED) --replace
	touch $@

demo: $(VENV)/.base assets var/.demo-$(HOUSEHOLDS)-$(SEED)
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py demo_accounts
	$(PY) manage.py seed_categories
	$(PY) manage.py demo_cases
	$(PY) manage.py seed_skills
	$(PY) manage.py demo_forces
	$(PY) manage.py demo_insights
	$(PY) manage.py demo_linkage
	$(PY) manage.py registry_quality_snapshot
	$(PY) manage.py serve --port $(PORT)

test: $(VENV)/.dev assets system-deps
	$(PY) -m pytest -n 2 --dist loadfile --durations=15

check: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy grassroots config
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run -v1

clean-demo:
	rm -f var/grassroots.sqlite3* var/.demo-*
