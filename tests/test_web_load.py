"""The desk under load, short: bench/desk_load.py with 4 clients × 8 requests while an ingest of
5 files writes to the same store (the full run, 20 clients for 60 s and 50 files, is `make bench`).

Everything is real: `gongwen serve` on 127.0.0.1, `gongwen ingest` with its worker processes,
HTTP clients on their own connections. Bounded by count, not by time, and no latency is
asserted (that is the benchmark's business): every request answered 200, the ingest stored
every file, and "database is locked" appeared nowhere.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from pipeline import store

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("desk_load", ROOT / "bench" / "desk_load.py")
assert _spec and _spec.loader
desk_load = importlib.util.module_from_spec(_spec)
sys.modules["desk_load"] = desk_load  # its dataclasses look their module up while being made
_spec.loader.exec_module(desk_load)


def test_readers_and_an_ingest_share_the_store_without_errors_or_locks() -> None:
    report = desk_load.run(clients=4, seconds=None, requests=8, files=5)
    assert report.errors == []
    assert report.locked == 0
    assert report.requests == {"register": 8, "search": 8, "document": 8, "page image": 8}
    assert report.ingest_exit == 0 and sum(report.ingest_statuses.values()) == 5
    assert set(report.ingest_statuses) <= {*store.STORED, "duplicate"}  # every file stored (or known already)
    assert all(figures["p95"] > 0 for figures in report.latency_ms.values())
