# Two commands: `make run` (ingest the bundled sample) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: run test install system-deps eval docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/minutes ingest data/raw --out data/processed

test: $(STAMP)
	$(BIN)/python -m pytest -q

eval: $(STAMP)
	$(BIN)/minutes ingest ../shared/corpus/dev --out .eval-out
	$(BIN)/minutes eval ../shared/corpus/dev --pred .eval-out

docs: $(STAMP)
	$(BIN)/python -m pipeline.dictionary > docs/data-dictionary.md

clean:
	rm -rf $(VENV) data/processed/* .eval-out .prefect
