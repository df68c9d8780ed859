# The two commands a newcomer needs: `make run` and `make test`. Everything else is set up by them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export FLASK_APP := portal
# The portal's address in development: gunicorn binds it, and the portal derives its public
# address (every link, and the card and payment services' addresses) from it. `make run PORT=8101`
# and `make worker PORT=8101` agree; PORTAL_PUBLIC_URL, when set, wins.
export PORTAL_BIND := $(HOST):$(PORT)

.PHONY: a11y run worker test test-fast test-durations coverage setup migrate demo-data browser lint check audit lock bench clean layout layout-down layout-test bench-deps bench-peak

# Exactly the versions of requirements/dev.txt (every package, direct and indirect; `make lock`
# writes it from pyproject.toml), then the portal itself without resolving anything again.
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check
$(VENV)/.installed: pyproject.toml requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (found " + sys.version.split()[0] + ")")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) "$$(grep -E '^pip==' requirements/dev.txt)"
	$(PIP_INSTALL) -r requirements/dev.txt
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	@touch $@

setup: $(VENV)/.installed

migrate: setup
	$(BIN)/flask db upgrade

demo-data: migrate
	$(BIN)/flask demo load

run: demo-data
	@echo ""
	@echo "  いすみ市 オンライン手続ポータル (demonstration)"
	@echo "  Portal:  http://$(HOST):$(PORT)/"
	@echo "  Log in:  http://$(HOST):$(PORT)/login  (mock My Number card; the cards are fictional)"
	@echo "    大原 太郎  PIN 1234  signature password OHARA2026   (any procedure)"
	@echo "    岬 花子    PIN 2345  signature password MISAKI2026  (保育施設等の利用申込: prefilled, signed)"
	@echo "    渡辺 健    PIN 3333  (care manager: 要介護・要支援認定の申請 for 中村 キヨ, PIN 1111)"
	@echo "    山本 結衣  PIN 1357  signature password YUI1992    (引越し: まとめて申請 from /life-events/)"
	@echo "    all cards: portal/demo_data/people.yaml. Demo status links are listed above."
	@echo "  Staff:   http://$(HOST):$(PORT)/staff/login  (demo accounts listed above; the sign-in"
	@echo "           code of one: .venv/bin/flask --app portal staff code kosodate-clerk)"
	@echo "  Pay:     mock payment service, test card 4242 4242 4242 4242; konbini numbers are paid at"
	@echo "           http://$(HOST):$(PORT)/mock-pay/store. Run 'make worker' in another terminal for"
	@echo "           its webhooks (and the mail)."
	@echo ""
	$(BIN)/gunicorn --config python:portal.gunicorn_conf 'portal:create_app()'

# The background worker beside `make run`: mail, the mock payment service's webhooks, and the
# periodic duties (portal/jobs), a round every 5 seconds.
worker: migrate
	$(BIN)/flask portal worker --interval 5

browser:
	@bash scripts/ensure-browser.sh

# The whole suite, spread over every CPU (pytest-xdist: a database, live server and browser per
# worker). `make test-fast` is the inner loop: everything but the browser tests.
TEST_WORKERS ?= auto
test: setup browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --junitxml=instance/junit.xml $(PYTEST_ARGS)

# Where the time goes: the JUnit report of the last `make test` (run it first) summarised into
# the "Where the time goes" section of docs/testing.md.
test-durations:
	$(BIN)/python scripts/test-durations.py instance/junit.xml

# Line coverage of portal/ over the whole suite (browser tests' live servers included).
coverage: setup browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -q -p no:cacheprovider --cov --cov-report=term $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not e2e" --ignore=tests/e2e $(PYTEST_ARGS)

# The production layout on this machine (docs/decisions/0052-production-layout.md): nginx with
# TLS in front of 2 web instances in production mode, 2 workers, a database of its own on the
# PostgreSQL at 127.0.0.1:5432 and a Redis of its own, all on free ports. Prints the https
# address; Ctrl+C (or `make layout-down` from another terminal) stops it and drops the database.
layout: setup
	@bash scripts/ensure-nginx.sh
	$(BIN)/python scripts/layout.py up

layout-down: setup
	$(BIN)/python scripts/layout.py down

# The layout test (tests/layout, a CI stage of its own): a journey alternating between the two
# instances, uploads, limits and lockout across them, duties once, a killed worker's job taken over;
# then the fault tests (a web instance, a worker, the database's connections, Redis) during
# submissions, whose recovery times are printed and kept in instance/layout-faults.json.
layout-test: setup
	@bash scripts/ensure-nginx.sh
	@rm -f instance/layout-faults.json
	PORTAL_LAYOUT_TEST=1 $(BIN)/python -m pytest tests/layout -n 0 -p no:random_order -p no:cacheprovider $(PYTEST_ARGS)
	@echo "Fault tests (instance/layout-faults.json):" && cat instance/layout-faults.json

# The JIS X 8341-3 conformance report (decision 0065): the page sample on a live server with the
# demo data, axe + the Nu Html Checker + the tool checks on each page, then accessibility/report.md
# and report.json. Fails on any automated failure or a criterion without evidence. A11Y_SEED
# repeats a run's crawl picks (the seed is in the report).
# It also audits every page state the last `make test` recorded in build/visited-pages/ (decision
# 0080) and fails without that recording; A11Y_SKIP_VISITED=1 writes a report that says those
# pages were not checked.
A11Y_SEED ?=
A11Y_SKIP_VISITED ?=
a11y: setup browser
	$(BIN)/python scripts/a11y.py $(if $(A11Y_SEED),--seed $(A11Y_SEED)) $(if $(A11Y_SKIP_VISITED),--skip-visited)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy  # the files listed under [tool.mypy] in pyproject.toml

check: setup
	$(BIN)/flask catalog check

# pip-audit --strict over every pinned package (scripts/audit.py): exit 0 audited and clean, 1 a
# known vulnerability or an unchecked package, 75 "dependency audit not run" (no advisory data
# reachable from this machine; nothing is claimed).
audit: setup
	$(BIN)/python scripts/audit.py

# Rewrite requirements/runtime.txt and requirements/dev.txt from the pins in pyproject.toml.
lock: setup
	$(BIN)/python scripts/lock-dependencies.py

# Benchmarks print figures (ratios against baselines measured in the same run); never in CI.
# Locust for the April peak load test (bench/april_peak.py; never in CI), pinned in bench.txt.
bench-deps: setup
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/bench.txt

# The April peak at 3x the model against the production layout (docs/benchmarks.md): MINUTES=10.
bench-peak: bench-deps
	$(BIN)/python bench/april_peak.py --minutes $(or $(MINUTES),10)

bench: setup
	$(BIN)/python bench/step_pages.py
	$(BIN)/python bench/appointments.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/klm.py
	$(BIN)/python bench/inbox.py  # needs PostgreSQL at $$BENCH_PG_URL

clean:
	rm -rf $(VENV) instance/*.sqlite3* .pytest_cache
