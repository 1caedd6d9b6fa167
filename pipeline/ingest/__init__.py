"""Batch ingest: paths in, every input in the store once with one status (or quarantined) out.

    inputs      walking folders, zip members under caps, hashing: paths to Inputs
    workers     the process pool: limits (memory, time), a file parsed per request
    cluster     the same, on a Dask cluster's workers (`--cluster`): files out as bytes, parses back
    batch       statuses, quarantine, the summary: Inputs to Outcomes, the only writer

The names below are what `gongwen ingest`, `gongwen reparse` and the desk's uploads call.
"""

from pipeline.ingest.batch import Outcome, Summary, ingest, quarantine_folder, reparse
from pipeline.ingest.inputs import Input, collect
from pipeline.ingest.workers import Options

__all__ = ["Input", "Options", "Outcome", "Summary", "collect", "ingest", "quarantine_folder", "reparse"]
