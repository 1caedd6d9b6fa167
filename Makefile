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

# The main job: a demo inbox ingested into notices.db, then the register, the deadlines as
# deadlines.ics, the forwarding chain and its audit. The demo takes a few scans of each kind
# (the four-level fire chain as PDFs, the rotated TIFF, the old JPEG, a notice with its bundled
# upstream) with every text notice, one notice of each other kind a notice arrives in (.docx,
# a saved web page, an e-mail with a .docx attached, OFD, an Outlook .msg: fixtures/inputs/)
# and the inbox of broken files, so it finishes in about a minute on 2 cores; the tests read
# every scan (make test). Explicit globs keep the truth texts and labels out of the batch.
# The fixture chains hold deliberate faults, so the audit's exit 9 (findings of error
# severity) counts as a finished run.
DEMO_SCANS := fixtures/scans/h0[1-5]_*.pdf fixtures/scans/h06_*.tiff fixtures/scans/h10_*.jpg
INBOX := $(DEMO_SCANS) fixtures/seed/*.txt fixtures/chains/*/*.txt fixtures/inputs/demo fixtures/inputs/*.msg fixtures/inbox
GONGWEN := $(VENV)/bin/gongwen
run: install
	@mkdir -p out
	@echo "run: ingesting the demo inbox into notices.db, a line per file:" >&2
	$(GONGWEN) ingest --workers 2 --db notices.db $(INBOX) > out/ingest.jsonl
	$(GONGWEN) list --db notices.db --table
	$(GONGWEN) deadlines --db notices.db --ics deadlines.ics > out/deadlines.json
	$(GONGWEN) chain --db notices.db --svg chain.svg > out/chain.txt
	@$(GONGWEN) audit --db notices.db > out/audit.txt 2>&1; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 9 ] || { cat out/audit.txt >&2; exit $$rc; }
	@docs=$$($(GONGWEN) list --db notices.db | $(PY) -c 'import json, sys; print(len(json.load(sys.stdin)))'); \
	rejected=$$(grep -c '"status": "rejected"' out/ingest.jsonl); \
	echo ""; \
	echo "Finished. What was written:"; \
	echo "  notices.db        $$docs documents (gongwen list/show/search --db notices.db; make serve opens the desk)"; \
	echo "  out/ingest.jsonl  a line per input; the $$rejected rejected are fixtures/inbox's broken files, on purpose,"; \
	echo "                    each copied to quarantine/ with a note of the reason"; \
	echo "  deadlines.ics     the deadlines as calendar items (out/deadlines.json: the same as JSON)"; \
	echo "  chain.svg         the forwarding chain (out/chain.txt: as a tree)"; \
	echo "  out/audit.txt     $$(grep '^audit:' out/audit.txt): the fixture chains are built to show each"; \
	echo "                    kind of finding (fixtures/chains/README.md), so these are expected"

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

# Speed and quality figures (not tests), per engine: CER and labelled fields right on every
# scan, where a page's CPU time goes stage by stage against bare tesseract, then ingest pages/min with 1 and 2 workers against bare tesseract timed in the same
# run, and a worker's peak memory on a 50-page scan; ingest on a Dask LocalCluster against local
# workers; then the desk under load (20 clients for 60 s on 127.0.0.1 while an ingest writes to
# the same store).
bench: install
	$(PY) bench/ocr_quality.py --steps default
	$(PY) bench/page_stages.py
	$(PY) bench/ingest_bench.py --engine rapidocr
	$(PY) bench/ingest_bench.py --engine tesseract
	$(PY) bench/cluster_bench.py
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
