# Two commands: `make run` (ingest the bundled sample) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: run test install system-deps browser-deps style-fonts eval eval-styles docs bench screenshot clean demo-fetch

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# poppler-utils (pdftotext, for the benchmark) and tesseract with its Finnish model (OCR of scanned
# pages). Installed with apt-get where that is possible (root, Debian/Ubuntu); elsewhere a message
# says what is missing and the build goes on: scanned pages then make a document `partial`.
SYSTEM_PACKAGES := poppler-utils tesseract-ocr tesseract-ocr-fin
system-deps:
	@if command -v pdftotext >/dev/null 2>&1 && command -v tesseract >/dev/null 2>&1 \
	    && tesseract --list-langs 2>/dev/null | grep -qx fin; then \
	  echo "system-deps: pdftotext, tesseract and its Finnish model are installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "system-deps: installing $(SYSTEM_PACKAGES) with apt-get"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      $(SYSTEM_PACKAGES) >/dev/null; } \
	    || echo "system-deps: apt-get could not install $(SYSTEM_PACKAGES); continuing without OCR" \
	         "(scanned pages make a document partial; install them by hand)"; \
	else \
	  echo "system-deps: cannot install $(SYSTEM_PACKAGES) here (needs root and apt-get); continuing" \
	       "without them: scanned pages make a document partial and the benchmark skips pdftotext." \
	       "Install them with your system's package manager."; \
	fi

# Headless Chromium for the browser tests of `minutes browse` (tests/test_browser.py): Debian's
# `chromium`, installed with apt-get where that is possible (root); elsewhere those tests skip,
# saying why. Waits for another apt-get holding the lock instead of failing.
browser-deps:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
	  echo "browser-deps: chromium is installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "browser-deps: installing chromium with apt-get"; \
	  { apt-get update -qq -o DPkg::Lock::Timeout=300 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      -o DPkg::Lock::Timeout=300 --no-install-recommends chromium >/dev/null; } \
	    || echo "browser-deps: apt-get could not install chromium; the browser tests will be skipped"; \
	else \
	  echo "browser-deps: cannot install chromium here (needs root and apt-get); the browser tests will be" \
	       "skipped. Install it with your system's package manager to run them."; \
	fi

# The fonts the style generator (../shared/corpus/stylegen) draws its PDFs with: needed by
# `make eval-styles` and by the test that regenerates tests/fixtures/stylegen (skipped without them).
STYLE_FONTS := fonts-dejavu-core fonts-dejavu-extra fonts-crosextra-carlito
style-fonts:
	@if [ -f /usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf ] \
	    && [ -f /usr/share/fonts/truetype/crosextra/Carlito-Bold.ttf ]; then \
	  echo "style-fonts: DejaVu and Carlito are installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "style-fonts: installing $(STYLE_FONTS) with apt-get"; \
	  { apt-get update -qq -o DPkg::Lock::Timeout=300 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      -o DPkg::Lock::Timeout=300 --no-install-recommends $(STYLE_FONTS) >/dev/null; } \
	    || echo "style-fonts: apt-get could not install $(STYLE_FONTS); generating styles will not work"; \
	else \
	  echo "style-fonts: cannot install $(STYLE_FONTS) here (needs root and apt-get); the generator's" \
	       "test is skipped and eval-styles cannot make PDFs. Install them with your package manager."; \
	fi

run: $(STAMP) system-deps
	$(BIN)/minutes ingest data/raw --out data/processed

test: $(STAMP) system-deps browser-deps style-fonts
	$(BIN)/python -m pytest -q

# `minutes fetch --ingest` twice against test sites on 127.0.0.1: listing pages -> decisions -> feeds
demo-fetch: $(STAMP)
	$(BIN)/python -m tests.fetch_demo

eval: $(STAMP)
	$(BIN)/minutes ingest ../shared/corpus/dev --out .eval-out
	$(BIN)/minutes eval ../shared/corpus/dev --pred .eval-out

# Documents in styles nobody wrote rules for: generate (seeds, count), ingest, score per axis value.
STYLE_SEEDS ?= 1001-1005
STYLE_COUNT ?= 60
eval-styles: $(STAMP) style-fonts
	$(BIN)/python benchmarks/eval_styles.py --seeds $(STYLE_SEEDS) --count $(STYLE_COUNT)

bench: $(STAMP) system-deps
	$(BIN)/python benchmarks/run.py

docs: $(STAMP)
	$(BIN)/python -m pipeline.dictionary > docs/data-dictionary.md

# The README's picture of the decision page, taken by the browser test.
screenshot: $(STAMP) browser-deps
	MINUTES_SCREENSHOT=$(CURDIR)/docs/browse-decision.png $(BIN)/python -m pytest -q tests/test_browser.py

clean:
	rm -rf $(VENV) data/processed/* .eval-out .prefect
