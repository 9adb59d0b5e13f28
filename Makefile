# The two commands of the README: `make demo` and `make test`. Both build the virtual
# environment themselves, so a fresh clone needs nothing but python3 (>= 3.11).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
DEMO_DB ?= demo.db

.PHONY: demo test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install when the project's metadata changes; the stamp files record it.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(BIN)/mfgctl --db $(DEMO_DB) init
	$(BIN)/mfgctl --db $(DEMO_DB) import sample_data/*.yaml
	$(BIN)/mfgctl --db $(DEMO_DB) stock
	sh sample_data/production_story.sh $(BIN)/mfgctl $(DEMO_DB) \
	    $$($(BIN)/python -c 'import datetime as d; print(d.date.today() + d.timedelta(7))')
	sh sample_data/planning_story.sh $(BIN)/mfgctl $(DEMO_DB) \
	    $$($(BIN)/python -c 'import datetime as d; print(d.date.today())')
	sh sample_data/recall_story.sh $(BIN)/mfgctl $(DEMO_DB)
	sh sample_data/schedule_story.sh $(BIN)/mfgctl $(DEMO_DB) \
	    $$($(BIN)/python -c 'import datetime as d; t = d.date.today(); print(t + d.timedelta(7 - t.weekday()))')
	@echo "== The shop at a glance"
	$(BIN)/mfgctl --db $(DEMO_DB) status

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

test: lint
	$(BIN)/pytest

format: $(VENV)/.installed-test
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(VENV)/.installed
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm .pytest_cache .ruff_cache
