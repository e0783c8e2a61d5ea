# Gridflow: `make run` starts the app with demo data; `make test` runs the whole test suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# pytest-xdist processes for `make test`; 0 runs the tests in one process; PYTEST_ARGS go to pytest as they are
TEST_WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: run stop test bench clean translations

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# `make run`: gunicorn (2 x cores + 1 web processes, serving/gunicorn_conf.py) and $(RQ_WORKERS) RQ workers, one
# supervisor for all (serving/supervisor.py); Ctrl-C stops them all
RQ_WORKERS ?= 2

run: $(BIN)/.installed
	$(BIN)/flask --app app demo
	@echo "Gridflow on http://$(HOST):$(PORT)/  (sign in as worker, leader, supervisor, 350583106_police; password gridflow-demo; API docs: /api/v1/docs)"
	$(BIN)/python -m serving --bind $(HOST):$(PORT) --workers $(RQ_WORKERS)

test: $(BIN)/.installed
	$(BIN)/ruff check .
	bash .ci/browser-deps
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: $(BIN)/.installed
	$(BIN)/python -m bench.throughput
	$(BIN)/python -m bench.steps
	$(BIN)/python -m bench.grid
	$(BIN)/python -m bench.sla
	$(BIN)/python -m bench.pages
	$(BIN)/python -m bench.webhooks

translations: $(BIN)/.installed  # after changing a page's strings: extract, merge, then translate messages.po and run again
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k lazy_gettext --no-location --omit-header -o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations -l zh_Hans_CN -w 120 --ignore-pot-creation-date
	$(BIN)/pybabel compile -d web/translations

stop:  # stops the embedded Redis that `make run` left running in instance/
	$(BIN)/python -c "from engine.store import embedded_redis; embedded_redis.stop('instance')"

clean: stop
	rm -rf $(VENV) instance
