"""The errors gongwen raises, and the exit codes the CLI maps them to.

Only whole-run failures are exceptions; a problem inside one document or one
page is recorded as `models.Issue` data and the run goes on.

    GongwenError                 exit 1   anything else gongwen knows about
    ├── InputError               exit 3   a file is missing, unreadable, empty or of an unknown kind
    │   ├── EncryptedPdf         exit 6   a PDF needs a password
    │   └── InputTooLarge        exit 3   over a page, pixel or size cap (decompression bombs)
    ├── MissingDependency        exit 4   tesseract, a tesseract language or a Python package is absent
    ├── EngineError              exit 5   an OCR engine crashed, hung past its timeout or answered garbage
    ├── StoreError               exit 7   the database cannot be opened or written
    ├── CalendarError            exit 8   a calendar file failed its check, or a CalDAV server refused or is unreachable
    ├── FindingsError            exit 9   `gongwen audit` ran and found a finding of error severity
    └── ClusterError             exit 10  the Dask scheduler cannot be reached, or went away mid-batch
                                          (`ingest --cluster`; a rerun finishes the batch)

Exit code 2 is a usage error (typer's own), 130 an interrupt.
Every message names the file it is about and, where one exists, the fix.
"""

from enum import IntEnum


class ExitCode(IntEnum):
    ok = 0
    error = 1
    usage = 2
    input_file = 3
    missing_dependency = 4
    engine = 5
    encrypted_pdf = 6
    store = 7
    calendar = 8
    findings = 9
    cluster = 10
    interrupted = 130


class GongwenError(Exception):
    exit_code: ExitCode = ExitCode.error

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(GongwenError):
    exit_code = ExitCode.input_file


class EncryptedPdf(InputError):
    exit_code = ExitCode.encrypted_pdf


class InputTooLarge(InputError):
    exit_code = ExitCode.input_file


class MissingDependency(GongwenError):
    exit_code = ExitCode.missing_dependency


class EngineError(GongwenError):
    exit_code = ExitCode.engine


class StoreError(GongwenError):
    exit_code = ExitCode.store


class CorrectionConflict(StoreError):
    """A correction based on a value that another correction (or a reparse) has changed since."""

    def __init__(self, message: str, *, path: str, current: object, by: str | None) -> None:
        super().__init__(message)
        self.path, self.current, self.by = path, current, by


class CalendarError(GongwenError):
    exit_code = ExitCode.calendar


class FindingsError(GongwenError):
    """`gongwen audit` found a finding of error severity: the run worked, the archive did not pass."""

    exit_code = ExitCode.findings


class ClusterError(GongwenError):
    exit_code = ExitCode.cluster
