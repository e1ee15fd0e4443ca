# Two commands for a new user: `make run` and `make test`. Everything else is a building block.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHON

.PHONY: run test install browser venv lint format train models models-check benchmark clean

run: install ## install, train if data/config/domain changed, start everything on 127.0.0.1
	$(PY) -m scripts.run

test: install browser ## install and run the whole test suite
	$(PY) -m pytest $(PYTEST_ARGS)

# The Inbox is tested in Debian's Chromium, driven by Playwright (its own browser download is not used).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests" && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "the browser tests need Chromium at /usr/bin/chromium: sudo apt-get install chromium chromium-driver"; \
	  fi; \
	fi

install: $(STAMP)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade "pip>=23.3" wheel
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

$(VENV)/bin/python:
	@python=$$(scripts/find-python) && echo "creating $(VENV) with $$python" && "$$python" -m venv $(VENV)

train: install
	$(PY) -m scripts.project_model

models: install ## retrain the learned scorers from ../shared/data (see scripts/DATA_CARD.md)
	$(PY) -m scripts.train_scorers

models-check: install ## retrain into a temporary file: fails unless it equals the shipped weights
	$(PY) -m scripts.train_scorers --check

lint: install ## ruff (lint and format), mypy (types, the whole package: [tool.mypy]), biome (the Inbox's JS and CSS: biome.json)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/biome lint --error-on-warnings

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

benchmark: install ## every benchmark, figures printed (see benchmarks/README.md)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .data models/bot-*.tar.gz
