# The two commands of the quick start: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HUB := $(VENV)/bin/hub
PYTEST_ARGS ?=
# Two pytest workers, each with its own throwaway PostgreSQL; the tests that start real
# processes stay on one of them, one after another (tests/conftest.py, SERIAL_GROUP).
PYTEST_WORKERS ?= 2

.PHONY: run test test-fast bench lint format lock clean venv airflow

venv: $(VENV)/.installed

# One environment for everything (hub, Airflow, Great Expectations, test tools), pinned by
# constraints.txt. uv installs it in seconds; plain pip is the fallback. Bytecode is compiled
# at install: where PYTHONDONTWRITEBYTECODE is set (CI images often do) every `hub` process
# would otherwise compile its imports again, 3.7 s instead of 1 s per start.
$(VENV)/.installed: pyproject.toml constraints.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@if $(PY) -m pip install -q uv 2>/dev/null; then \
	  $(VENV)/bin/uv pip install --python $(PY) -q --compile-bytecode -c constraints.txt \
	    -e '.[dev,airflow,s3]'; \
	else \
	  $(PY) -m pip install -q -c constraints.txt -e '.[dev,airflow,s3]'; \
	fi
	@touch $@

run: venv
	$(HUB) demo --host 127.0.0.1 --port 8000

test: venv
	@$(PY) -m compileall -q exchange basebases bench dags tests >/dev/null  # see venv above
	scripts/ensure-postgres
	scripts/ensure-test-tools
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=20 $(PYTEST_ARGS)

test-fast: venv
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# Apache Airflow 3 (standalone) on a free loopback port, with dags/ and the hub's database.
airflow: venv
	$(HUB) airflow up

bench: venv
	@$(PY) -m compileall -q exchange basebases bench dags >/dev/null
	scripts/ensure-postgres
	$(PY) -m bench $(BENCH_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy exchange basebases dags bench
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lock:
	$(PY) -m pip install -q uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra airflow --extra s3 -q -o constraints.txt

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
