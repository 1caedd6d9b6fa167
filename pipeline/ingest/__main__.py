"""`python -m pipeline.ingest --worker --memory-mb N`: a worker process, started by `gongwen ingest`."""

import sys

from pipeline.ingest.workers import worker_main

if sys.argv[1:2] == ["--worker"] and sys.argv[2:3] == ["--memory-mb"]:
    worker_main(int(sys.argv[3]))
else:
    sys.exit("usage: python -m pipeline.ingest --worker --memory-mb N   (started by `gongwen ingest`)")
