# gongwen: `make run` installs everything and parses the bundled fixtures; `make test` installs and tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install system run serve test test-fast fixtures record bench bench-ablation accuracy clean

install: system $(STAMP)

system:
	@scripts/system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "gongwen needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

# The main job: every bundled scan, the seed text and the inbox of bad files ingested into
# notices.db, then the register, the deadlines as deadlines.ics, and the forwarding chain.
# Explicit globs keep the truth texts and labels out of the batch. The fixtures hold deliberate
# errors, so the audit's exit 9 (findings of error severity) counts as a finished run.
INBOX := fixtures/scans/*.pdf fixtures/scans/*.tiff fixtures/scans/*.jpg fixtures/seed/*.txt fixtures/chains/*/*.txt fixtures/inbox
run: install
	@mkdir -p out
	$(VENV)/bin/gongwen ingest --db notices.db $(INBOX) > out/ingest.jsonl
	$(VENV)/bin/gongwen list --db notices.db --table
	$(VENV)/bin/gongwen deadlines --db notices.db --ics deadlines.ics > out/deadlines.json
	$(VENV)/bin/gongwen chain --db notices.db --svg chain.svg > out/chain.txt
	$(VENV)/bin/gongwen audit --db notices.db; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 9 ]
	@echo "wrote notices.db, deadlines.ics, chain.svg; records in out/" >&2

# The clerk's desk on the same store: http://127.0.0.1:8000 (make run first).
serve: install
	@[ -e notices.db ] || $(MAKE) run
	$(VENV)/bin/gongwen serve --db notices.db

test: install
	@scripts/system-deps.sh test
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

# Speed and quality figures (not tests): OCR per scan and engine, ingest throughput, and the
# desk under load (20 clients for 60 s on 127.0.0.1 while an ingest writes to the same store).
bench: install
	$(PY) bench/ocr_quality.py --steps default
	$(PY) bench/ingest_bench.py
	$(PY) bench/desk_load.py

# Accuracy per field on the real notices in ../shared/real, as text and as scans of them rendered
# into build/real-scans in two faces and two degradations (slow the first time: every scan is OCR'd;
# the readings are kept beside the scans, so later runs only parse).
accuracy: install
	@scripts/system-deps.sh fonts
	$(PY) bench/accuracy.py

# The preparation steps one at a time, per engine (slow: about an hour on 2 cores).
bench-ablation: install
	$(PY) bench/ocr_quality.py --steps ablation

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
