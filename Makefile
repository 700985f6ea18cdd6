# 问政助手: `make run` serves the assistant on the embedded default, `make test` runs the suite.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
EVAL_DIR ?= ../shared/eval
export BOT_DATA_DIR ?= var

.PHONY: run test eval bench lint clean

$(VENV)/.base: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# torch stays out of the default install; the optional extra is installed for the tests.
$(VENV)/.dev: $(VENV)/.base requirements-dev.txt requirements-st.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-st.txt
	touch $@

run: $(VENV)/.base
	$(PY) -m bot serve

test: $(VENV)/.dev
	$(PY) -m pytest -q

eval: $(VENV)/.base
	$(PY) -m bot eval all --shared $(EVAL_DIR)

bench: $(VENV)/.base
	$(PY) -m bot bench --shared $(EVAL_DIR)

lint: $(VENV)/.dev
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) var
