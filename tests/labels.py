"""Compare a parsed record with a hand-made label (fixtures/**/*.expected.json).

Only the fields a label states are compared. Values compare exactly, except the
quoted requirement text of a deadline, which compares without whitespace (OCR
spaces are part of what was printed on a scan, not of what it says), and the
free-text `date_note`.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from typing import Any

FREE_TEXT = {"date_note", "about"}
WHITESPACE_INSENSITIVE = {"text"}
# Quotes of the page, compared on scans without widths and spaces: OCR cannot tell `［` from `[`
# or `（` from `(` (one shape at two widths), nor a narrow gap from none.
WIDTH_INSENSITIVE_ON_SCANS = {"doc_number_printed", "text", "notes"}
# Fields the parser leaves None on a scan when the pixels cannot decide them (bracket shapes).
ABSTAINS_ON_SCANS = {"doc_number_conforming"}


def _squash(value: Any) -> Any:
    return re.sub(r"\s+", "", value) if isinstance(value, str) else value


# Lists whose order carries no meaning: each labelled item is paired with the parsed one
# that quotes the most similar text, so a parser may list deadlines in reading order.
UNORDERED = {"deadlines"}


def _pair_by_text(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> list[dict[str, Any]]:
    remaining = list(got)
    paired = []
    for w in want:
        best = max(remaining, key=lambda g: SequenceMatcher(None, _squash(g.get("text") or ""), _squash(w.get("text") or "")).ratio())
        remaining.remove(best)
        paired.append(best)
    return paired


def _compare_items(path: str, got: list[Any], want: list[Any], out: list[str], scan: bool = False) -> None:
    if len(got) != len(want):
        out.append(f"{path}: {len(got)} items, label has {len(want)}: got {got!r}")
        return
    if path.rsplit(".", 1)[-1] in UNORDERED:
        got = _pair_by_text(got, want)
    for i, (g, w) in enumerate(zip(got, want)):
        if isinstance(w, dict):
            _compare_fields(f"{path}[{i}]", g, w, out, scan)
        elif g != w:
            out.append(f"{path}[{i}]: got {g!r}, label {w!r}")


def _compare_fields(path: str, got: dict[str, Any], want: dict[str, Any], out: list[str], scan: bool = False) -> None:
    for key, w in want.items():
        if key in FREE_TEXT:
            continue
        g = got.get(key)
        where = f"{path}.{key}" if path else key
        if isinstance(w, list) and w and isinstance(w[0], dict):
            _compare_items(where, g or [], w, out, scan)
        elif key in WHITESPACE_INSENSITIVE:
            if _squash(g) != _squash(w):
                out.append(f"{where}: got {g!r}, label {w!r}")
        elif isinstance(w, dict):
            _compare_fields(where, g or {}, w, out, scan)
        elif g is None and key in ABSTAINS_ON_SCANS and scan:
            continue  # the parser said it cannot tell from a scan: not a wrong answer
        elif g != w and not (w == [] and g is None):
            out.append(f"{where}: got {g!r}, label {w!r}")


# OCR's bracket look-alikes (shared/ocr-notes.md): on a scan a 文号's brackets compare as one kind.
_BRACKET_CLASS = str.maketrans({c: "〔" for c in "[［【(（"} | {c: "〕" for c in "]］】)）"})


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).translate(_BRACKET_CLASS)
    if isinstance(value, list):
        return [_fold(v) for v in value]
    return value


def _fold_quotes(doc: Any) -> Any:
    """The quote-like fields of a record, at any depth, folded for a scan comparison."""
    if isinstance(doc, dict):
        return {k: _fold(v) if k in WIDTH_INSENSITIVE_ON_SCANS else _fold_quotes(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_fold_quotes(v) for v in doc]
    return doc


def mismatches(got_docs: list[dict[str, Any]], want_docs: list[dict[str, Any]], *, scan: bool = False) -> list[str]:
    """Every labelled field the parse got wrong, as readable lines (empty when all agree).

    `scan`: the record was read by OCR: quotes of the page compare without widths, spaces and
    bracket shapes, and a field the parser leaves open on a scan is not counted wrong.
    """
    if scan:
        got_docs, want_docs = _fold_quotes(got_docs), _fold_quotes(want_docs)
    out: list[str] = []
    if len(got_docs) != len(want_docs):
        out.append(f"{len(got_docs)} documents, label has {len(want_docs)}")
    for n, (g, w) in enumerate(zip(got_docs, want_docs)):
        _compare_fields(f"documents[{n}]", g, w, out, scan)
    return out


def field_accuracy(
    got_docs: list[dict[str, Any]], want_docs: list[dict[str, Any]], *, scan: bool = False
) -> dict[str, tuple[int, int]]:
    """Per top-level field: (right, labelled) over the documents, for the accuracy report."""
    if scan:
        got_docs, want_docs = _fold_quotes(got_docs), _fold_quotes(want_docs)
    scores: dict[str, tuple[int, int]] = {}
    for g, w in zip(got_docs, want_docs):
        for key, value in w.items():
            if key in FREE_TEXT:
                continue
            wrong: list[str] = []
            _compare_fields("", g, {key: value}, wrong, scan)
            right, total = scores.get(key, (0, 0))
            scores[key] = (right + (not wrong), total + 1)
    for key, value in ((k, v) for w in want_docs[len(got_docs):] for k, v in w.items() if k not in FREE_TEXT):
        right, total = scores.get(key, (0, 0))
        scores[key] = (right, total + 1)
    return scores
