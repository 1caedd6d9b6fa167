"""The desk's application: routes, middleware and templates over one database.

    create_app(db, host=, allowed_hosts=, max_upload_mb=, ingest_options=) -> Starlette

Routes (GET shows, POST changes; every POST carries the session's CSRF token):

    /                                   收文登记: the register, review queue first; ?q= full text, filters, sort
    /documents/{id}                     one document: page pictures and boxes, fields, text, links; ?field=
    /documents/{id}.json                the corrected record, its corrections and review, for programs
    POST /documents/{id}/corrections    correct fields (value:<path> = text), with a note
    POST /documents/{id}/deadlines      add a deadline the parser missed
    POST /documents/{id}/corrections/{n}/revert   withdraw a correction
    POST /documents/{id}/review         mark reviewed (out of the queue), or back into it
    /scans/{sha256}/{page}.jpg          a page picture in its boxes' pixel space
    /upload, POST /upload               drop files; /uploads/{job} and /uploads/{job}.json show progress
    /deadlines                          overdue / this week / later / undated / 办结
    POST /tasks/{id}/{task}             办结 with a note, or open again
    /deadlines.ics                      the iCalendar feed calendar programs subscribe to (?token= off this machine)
    POST /deadlines/caldav              push the tasks to a CalDAV calendar
    /chain, /chain.svg, /audit          forwarding trees, their picture, the audit findings
    /login, POST /login, POST /logout

Everything is rendered by Jinja2 with autoescape on for every template, so no stored value
(OCR text included) reaches the page unescaped; the CSP forbids inline scripts besides.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from pipeline import ingest  # noqa: F401  overrides and users register their tables

from pipeline.store import overrides

from pipeline import store

from pipeline.store import users
from pipeline.chain.levels import LEVEL_NAMES
from pipeline.errors import GongwenError
from pipeline.web import views_account, views_chain, views_document, views_register, views_tasks, views_upload
from pipeline.web.desk import Desk, render
from pipeline.web.scans import Scans
from pipeline.web.security import BodyLimit, Gate, Throttle, allowed_hosts as hosts_for, is_loopback, load_secret
from pipeline.web.sessions import SessionCookies, Sessions
from pipeline.web.snapshot import Snapshots
from pipeline.web.uploads import Uploads

HERE = Path(__file__).resolve().parent
DEFAULT_MAX_UPLOAD_MB = 200
STATUS_NAMES = {
    "done": "已完成",
    "partial": "部分可读",
    "needs_review": "待复核",
    "rejected": "已拒收",
    "duplicate": "重复",
    "deferred": "暂缓",
}


def templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["level_name"] = lambda level: LEVEL_NAMES.get(level or "", "—")
    env.filters["status_name"] = lambda status: STATUS_NAMES.get(status or "", status or "—")
    env.filters["label"] = overrides.label_of
    return Jinja2Templates(env=env)


ROUTES = [
    Route("/", views_register.register),
    Route("/documents/{doc_id:str}.json", views_document.document_json),
    Route("/documents/{doc_id:str}", views_document.document),
    Route("/documents/{doc_id:str}/corrections", views_document.correct, methods=["POST"]),
    Route("/documents/{doc_id:str}/deadlines", views_document.add_deadline, methods=["POST"]),
    Route("/documents/{doc_id:str}/corrections/{override_id:int}/revert", views_document.revert, methods=["POST"]),
    Route("/documents/{doc_id:str}/review", views_document.review, methods=["POST"]),
    Route("/scans/{sha256:str}/{page:int}.jpg", views_document.scan),
    Route("/upload", views_upload.upload_form),
    Route("/upload", views_upload.upload, methods=["POST"]),
    Route("/uploads/{job_id:str}.json", views_upload.job_json),
    Route("/uploads/{job_id:str}", views_upload.job_page),
    Route("/deadlines", views_tasks.deadlines),
    Route("/deadlines.ics", views_tasks.feed),
    Route("/deadlines/caldav", views_tasks.caldav, methods=["POST"]),
    Route("/tasks/{doc_id:str}/{task_id:str}", views_tasks.mark, methods=["POST"]),
    Route("/chain.svg", views_chain.picture),
    Route("/chain", views_chain.chain),
    Route("/audit", views_chain.audit_list),
    Route("/login", views_account.login_form),
    Route("/login", views_account.login, methods=["POST"]),
    Route("/logout", views_account.logout, methods=["POST"]),
    Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
]


async def http_error(request: Request, exc: Exception) -> Response:
    """Errors as a page in Chinese (or plain text for programs), never a traceback."""
    assert isinstance(exc, HTTPException)
    if "text/html" not in request.headers.get("accept", ""):
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
    return render(request, "error.html", status_code=exc.status_code, message=exc.detail, code=exc.status_code)


def create_app(
    db: Path,
    *,
    host: str = "127.0.0.1",
    allowed_hosts: Sequence[str] = (),
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB,
    ingest_options: ingest.Options | None = None,
) -> Starlette:
    """The desk over `db` (created if missing). Bound to a non-loopback `host`, every page needs a
    signed-in user, so at least one must exist (GongwenError with the command that makes one).
    Requests are answered only under the loopback names, `host` and `allowed_hosts`."""
    conn = store.connect(db, create=True)
    try:
        has_users = users.any_users(conn)
    finally:
        conn.close()
    login_required = not is_loopback(host)
    if login_required and not has_users:
        raise GongwenError(
            f"serving {host} (beyond this machine) needs sign-in, and {db} has no users yet",
            hint=f"gongwen user add NAME --db {db}   (or serve on 127.0.0.1)",
        )
    scans = Scans(db)
    desk = Desk(
        db=db,
        secret=load_secret(db.parent / f".{db.name}.web-secret"),
        login_required=login_required,
        max_upload_bytes=max_upload_mb << 20,
        scans=scans,
        uploads=Uploads(db, scans, ingest_options),
        templates=templates(),
        throttle=Throttle(),
        snapshots=Snapshots(db),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        desk.uploads.close()
        desk.snapshots.close()

    app = Starlette(
        routes=ROUTES,
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=hosts_for(host, allowed_hosts), www_redirect=False),
            Middleware(BodyLimit, max_bytes=desk.max_upload_bytes),
            Middleware(SessionCookies, sessions=Sessions()),
            Middleware(Gate, login_required=desk.login_required, secret=desk.secret),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.desk = desk
    return app
