"""One document: page pictures with every value's box, the fields and their corrections, the
normalised text with the chosen value's span marked, its tasks, and its place in the chain.

A value is chosen with `?field=<provenance key>` (`doc_number`, `recipients`, `deadlines[0]`):
the server draws that box strongly and marks that span, so the link works without scripts
and a test can check the very markup a clerk sees.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from models import Box, ChainReport, Deadline, Document, Page
from pipeline.store import overrides
from pipeline import store
from pipeline.chain.levels import when_label
from pipeline.chain.render import RELATION_NAMES
from pipeline.store.overrides import DEADLINE_FIELDS, FIELDS, Applied
from pipeline.errors import CorrectionConflict
from pipeline.web.desk import desk_of, posted, reading, shown, snapshot, user_of, writing
from pipeline.web.records import Stored

DOC_ID = re.compile(r"^[0-9a-f]{16}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
FIELD_KEY = re.compile(r"^[a-z_]{1,40}(\[\d{1,4}\])?$")
MAX_NOTE = 500
MAIN_FIELDS = ("doc_number", "title", "issuer_mark", "issuers", "level", "doc_type", "recipients", "issue_date")


def doc_id_of(request: Request) -> str:
    doc_id = request.path_params["doc_id"]
    if not DOC_ID.match(doc_id):
        raise HTTPException(404, "没有这份文件")
    return doc_id


# --- what the view shows ---------------------------------------------------------------------------


# pages that are text without a picture or boxes: printed as text (Word and web pages say
# where each line sat by paragraph, cell or element instead)
TEXT_SOURCES = ("text", "word", "html")

@dataclass(frozen=True)
class BoxView:
    key: str
    box: Box
    selected: bool


@dataclass(frozen=True)
class PageView:
    page: Page
    picture: bool  # a scan picture exists; else the stored lines are drawn (or, for text, printed)
    width: float
    height: float
    boxes: list[BoxView]


@dataclass(frozen=True)
class FieldView:
    path: str
    label: str
    kind: str
    value: Any
    form_text: str
    where: str | None  # the provenance key that shows where it was read
    page: int | None
    applied: Applied | None
    shown: bool  # a main element, or one with a value; the others wait behind a fold


def form_text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def where_of(doc: Document, path: str) -> str | None:
    return path if path in doc.provenance else (f"{path}[0]" if f"{path}[0]" in doc.provenance else None)


def field_views(stored: Stored) -> list[FieldView]:
    doc = stored.document
    out = []
    for path, (label, kind) in FIELDS.items():
        where = where_of(doc, path)
        value = getattr(doc, path)
        page = doc.provenance[where].page if where else None
        applied = stored.corrected.applied.get(path)
        shown = path in MAIN_FIELDS or bool(value) or applied is not None
        out.append(FieldView(path, label, kind, value, form_text(value), where, page, applied, shown))
    return out


def page_views(doc: Document, pages: list[Page], selected: str | None, picture: bool) -> list[PageView]:
    views = []
    for page in pages:
        if page.number not in doc.pages:
            continue
        boxes = [
            BoxView(key, p.box, key == selected)
            for key, p in doc.provenance.items()
            if p.page == page.number and p.box is not None
        ]
        right = max((line.box.x1 for line in page.lines if line.box), default=0)
        bottom = max((line.box.y1 for line in page.lines if line.box), default=0)
        width, height = page.width or right + 40, page.height or bottom + 40
        views.append(PageView(page, picture and page.source not in TEXT_SOURCES, width, height, boxes))
    return views


def text_segments(doc: Document, full_text: str, selected: str | None) -> list[tuple[str, bool]]:
    """The document's normalised text as (text, marked) pieces, the chosen value's span marked."""
    if doc.span is None:
        return []
    start, end = doc.span.start, doc.span.end
    where = doc.provenance.get(selected) if selected else None
    if where is None or not (start <= where.span.start < where.span.end <= end):
        return [(full_text[start:end], False)]
    a, b = where.span.start, where.span.end
    return [(full_text[start:a], False), (full_text[a:b], True), (full_text[b:end], False)]


def neighbours(report: ChainReport, doc_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(upstream, downstream): what this notice forwards, attaches or cites, and what does so to it."""
    nodes = {n.id: n for n in report.nodes}
    up = [{"node": nodes[link.parent], "link": link} for link in report.links if link.child == doc_id]
    down = [{"node": nodes[link.child], "link": link} for link in report.links if link.parent == doc_id]
    return up, down


def document(request: Request) -> Response:
    doc_id = doc_id_of(request)
    selected = request.query_params.get("field")
    if selected is not None and not FIELD_KEY.match(selected):
        raise HTTPException(400, "未知的字段")
    desk = desk_of(request)
    now = snapshot(request)
    stored = now.archive.documents.get(doc_id)
    if stored is None:
        raise HTTPException(404, "没有这份文件")
    with reading(request) as conn:
        file = desk.snapshots.pages(conn, stored.sha256)
        # Whether the original is on disk is not the store's to say (an upload keeps it after
        # storing it): asked each time, and part of what the page is kept under.
        # Text pages have no picture: no need to look for the original file.
        picture = any(p.source not in TEXT_SOURCES for p in file.pages) and desk.scans.original(conn, stored.sha256) is not None

    def page() -> tuple[str, dict[str, Any]]:
        with reading(request) as conn:
            duplicates = store.possible_duplicates(conn, doc_id)
        doc = stored.document
        done = overrides.done_tasks(stored.log)
        upstream, downstream = neighbours(now.chain(), doc_id)
        machine_deadlines = len(doc.deadlines) - sum(1 for a in stored.corrected.added if not a.orphaned)
        return "document.html", {
            "stored": stored,
            "doc": doc,
            "fields": field_views(stored),
            "deadline_fields": DEADLINE_FIELDS,
            "machine_deadlines": machine_deadlines,
            "form_text": form_text,
            "version_of": overrides.version_of,
            "pages": page_views(doc, file.pages, selected, picture),
            "segments": text_segments(doc, file.text, selected),
            "selected": selected,
            "tasks": [(task, done.get(task.id)) for task in now.tasks_of(doc_id)],
            "upstream": upstream,
            "downstream": downstream,
            "duplicates": [d for d in duplicates if d in now.archive.documents],
            "history": list(reversed(stored.log)),
            "active_ids": {o.id for o in overrides.active(stored.log)},
            "when_label": when_label,
            "relation_names": RELATION_NAMES,
        }

    return shown(request, now, page, also=(picture,))


def document_json(request: Request) -> Response:
    """The record as exported: corrected values in place, the corrections listed beside them."""
    doc_id = doc_id_of(request)
    with reading(request) as conn:
        try:
            corrected = overrides.corrected(conn, doc_id)
        except LookupError:
            raise HTTPException(404, "没有这份文件") from None
    reviewed = overrides.reviewed(corrected.history)
    payload = {
        "id": doc_id,
        "record": corrected.document.model_dump(mode="json"),
        "corrections": [asdict(o) for o in overrides.active(corrected.history)],
        "reviewed": asdict(reviewed) if reviewed else None,
    }
    return JSONResponse(payload, headers={"Content-Disposition": f'inline; filename="{doc_id}.json"'})


def scan(request: Request) -> Response:
    sha256, number = request.path_params["sha256"], request.path_params["page"]
    if not SHA256.match(sha256):
        raise HTTPException(404, "没有这一页")
    desk = desk_of(request)
    with reading(request) as conn:
        page = next((p for p in desk.snapshots.pages(conn, sha256).pages if p.number == number), None)
        picture = desk.scans.picture(conn, sha256, page) if page is not None else None
    if picture is None:
        raise HTTPException(404, "这一页没有扫描图像")
    headers = {"Cache-Control": "private, max-age=86400", "ETag": picture.etag}
    if picture.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(picture.data, media_type="image/jpeg", headers=headers)


# --- changes -------------------------------------------------------------------------------------------


def note_of(form: Any) -> str:
    note = str(form.get("note", "")).strip()
    if len(note) > MAX_NOTE:
        raise HTTPException(400, f"说明不超过 {MAX_NOTE} 个字")
    return note


def back_to(doc_id: str, anchor: str = "fields") -> RedirectResponse:
    return RedirectResponse(f"/documents/{doc_id}#{anchor}", status_code=303)


async def write_with(request: Request, action: Any) -> None:
    """Run a write in a thread with the store's connection; a missing document is a 404."""

    def run() -> None:
        with writing(request) as conn:
            action(conn)

    try:
        await run_in_threadpool(run)
    except LookupError as e:
        raise HTTPException(404, f"没有这份文件或这一项：{e}") from None


@dataclass(frozen=True)
class Act:
    """A clerk's POST about one document: which, the checked form, the note, who."""

    doc_id: str
    form: FormData
    note: str
    user: str


async def acting(request: Request) -> Act:
    doc_id = doc_id_of(request)
    form = await posted(request)
    return Act(doc_id, form, note_of(form), user_of(request))


async def correct(request: Request) -> Response:
    """Each `value:<path>` field whose text differs from the value shown becomes a correction.

    The form carries `seen:<path>`, the version of each value as it was shown: when another
    clerk's correction (or a reparse) changed the value since, nothing of this form is stored
    and the answer is 409, naming the value now there and giving back the text this clerk
    wrote, so that nothing is lost silently and both can be compared. Every stored correction
    stays in the document's history.
    """
    act = await acting(request)
    wanted: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for key, text in act.form.multi_items():
        if key.startswith("value:") and isinstance(text, str):
            path = key.removeprefix("value:")
            try:
                wanted[path] = overrides.parse_value(path, text)
            except ValueError as e:
                raise HTTPException(400, f"{overrides.label_of(path)}：{e}") from None
        elif key.startswith("seen:") and isinstance(text, str):
            seen[key.removeprefix("seen:")] = text
    if not wanted:
        raise HTTPException(400, "没有要更正的字段")

    def save(conn: Any) -> None:
        now = overrides.corrected(conn, act.doc_id)
        current = now.document
        changes = {path: value for path, value in wanted.items() if value != overrides.value_at(current, path)}
        for path in changes:  # all checked before any is stored; each again under the write lock
            if path in seen and overrides.version_of(overrides.value_at(current, path)) != seen[path]:
                latest = now.applied.get(path)
                by = latest.override.user if latest is not None else None
                raise CorrectionConflict("changed", path=path, current=overrides.value_at(current, path), by=by)
        for path, value in changes.items():
            overrides.record(conn, act.doc_id, path, value, user=act.user, note=act.note, seen=seen.get(path))

    try:
        await write_with(request, save)
    except CorrectionConflict as e:
        by = f"（{e.by} 所改）" if e.by else ""
        raise HTTPException(
            409,
            f"{overrides.label_of(e.path)}在你打开页面后已被更改{by}，现为“{form_text(e.current)}”；"
            f"你的更正“{form_text(wanted[e.path])}”未保存。请刷新页面核对后再提交。",
        ) from None
    return back_to(act.doc_id)


async def add_deadline(request: Request) -> Response:
    act = await acting(request)
    form = act.form
    try:
        action = overrides.parse_value("deadlines[0].action", str(form.get("action", "")))
        due = overrides.parse_value("deadlines[0].date", str(form.get("date", "")))
        assignees = overrides.parse_value("deadlines[0].assignees", str(form.get("assignees", "")))
        report_to = overrides.parse_value("deadlines[0].report_to", str(form.get("report_to", "")))
    except ValueError as e:
        raise HTTPException(400, f"新增期限：{e}") from None
    if not action:
        raise HTTPException(400, "新增期限：请写明事项")
    deadline = Deadline(text=f"（人工添加）{action}", date=due, action=action, assignees=assignees, report_to=report_to, date_note="人工添加")
    await write_with(request, lambda conn: overrides.add_deadline(conn, act.doc_id, deadline, user=act.user, note=act.note))
    return back_to(act.doc_id, "deadlines")


async def revert(request: Request) -> Response:
    act, target = await acting(request), request.path_params["override_id"]
    await write_with(request, lambda conn: overrides.revert(conn, act.doc_id, target, user=act.user, note=act.note))
    return back_to(act.doc_id, "history")


async def review(request: Request) -> Response:
    act = await acting(request)
    reviewed = act.form.get("reviewed") == "1"
    await write_with(request, lambda conn: overrides.mark_reviewed(conn, act.doc_id, reviewed, user=act.user, note=act.note))
    return back_to(act.doc_id, "top")

