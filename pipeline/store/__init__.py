"""The embedded store: one SQLite file with every ingested file, its documents and pages.

In: FileRecords from ingest (and reparses, names, corrections from the desk). Out: the stored
records, as models and as the dicts the look-up commands print. All SQL of gongwen lives here.

    schema      connect, transaction, the named migrations, sqlite3 errors as StoreError
    writes      save_file, replace_parse, add_name: exactly once, possible duplicates flagged
    queries     find_file, stored_pages, all_documents, list_documents, show, search, …
    overrides   corrections from the desk, a log applied on read
    users       the desk's accounts

The names below are the store's entry points, used everywhere the store is opened.
"""

from pipeline.store.queries import (
    StoredFile,
    all_documents,
    document_ids_of,
    document_records,
    file_names,
    files_to_reparse,
    find_file,
    first_name,
    list_documents,
    list_files,
    page_records,
    possible_duplicates,
    search,
    show,
    stored_pages,
)
from pipeline.store.schema import StoreBusy, StoreFull, connect, transaction
from pipeline.store.writes import STORED, FileRecord, Name, Saved, Verdict, add_name, document_id, replace_parse, save_file

__all__ = [
    "STORED",
    "FileRecord",
    "Name",
    "Saved",
    "StoreBusy",
    "StoreFull",
    "StoredFile",
    "Verdict",
    "add_name",
    "all_documents",
    "connect",
    "document_id",
    "document_ids_of",
    "document_records",
    "file_names",
    "files_to_reparse",
    "find_file",
    "first_name",
    "list_documents",
    "list_files",
    "page_records",
    "possible_duplicates",
    "replace_parse",
    "save_file",
    "search",
    "show",
    "stored_pages",
    "transaction",
]
