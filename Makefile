# gongwen: `make run` installs everything and parses the bundled fixtures; `make test` installs and tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install system run test test-fast fixtures record bench clean

install: system $(STAMP)

system:
	@scripts/system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "gongwen needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

# The main job: every bundled scan read and parsed, one table per document.
run: install
	@for f in fixtures/scans/*.pdf fixtures/scans/*.tiff fixtures/scans/*.jpg fixtures/scans/*.png; do \
	  [ -e "$$f" ] || continue; \
	  $(VENV)/bin/gongwen parse --table "$$f" || exit $$?; \
	done

test: install
	@scripts/system-deps.sh fonts
	$(PY) -m pytest -q

# Parser and unit tests only, without the live OCR engines.
test-fast: install
	$(PY) -m pytest -q -m "not live"

# Re-render the synthetic scans from fixtures/**/*.notice (needs the CJK fonts).
fixtures: install
	@scripts/system-deps.sh fonts
	$(PY) fixtures/render.py

# Re-record the engines' output on the scans, for the parser tests.
record: install
	$(PY) bench/ocr_quality.py --record

bench: install
	$(PY) bench/ocr_quality.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
