"""What every view shares: the desk's settings and services, and the request helpers.

    Desk                         the database, the secret, the sign-in rule and throttle, scans, uploads,
                                 templates, the snapshots of the archive
    desk_of(request)             the Desk of the app serving the request
    reading(request)             this thread's read-only connection (query_only; a bug in a view cannot write)
    snapshot(request)            the archive as the store holds it now (pipeline.web.snapshot)
    writing(request)             the store's own connection (migrated, WAL, busy timeout) for one write
    user_of(request)             who acts: the signed-in user, or the local account on this machine
    posted(request)              the form, its CSRF token checked
    render(request, name, **context)   a template with the token, the user and the feed address
    shown(request, now, make)    a page that depends only on the store, the address, the day and the
                                 user: rendered once for them, whatever the session

Reading connections are kept, one per thread of the server's pool, in autocommit: no statement
outlives its request, so none pins an old snapshot of the WAL database. A write opens the
store's own connection (migrations checked, WAL, busy timeout) and closes it after.
"""

from __future__ import annotations

import getpass
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

from pipeline import store
from pipeline.web.scans import Scans
from pipeline.web.records import today_in_china
from pipeline.web.security import Throttle, check_csrf, csrf_token, current_user, feed_token
from pipeline.web.snapshot import Snapshot, Snapshots
from pipeline.web.uploads import Uploads

MAX_FORM_FIELDS = 50
# Stands for the session's CSRF token in a page rendered once for every session (`shown`): random
# for each process and never sent, so no stored text can hold it by chance or by design.
TOKEN_SLOT = secrets.token_urlsafe(32)


@dataclass
class Desk:
    db: Path
    secret: bytes
    login_required: bool
    max_upload_bytes: int
    scans: Scans
    uploads: Uploads
    templates: Jinja2Templates
    throttle: Throttle
    snapshots: Snapshots


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


@contextmanager
def reading(request: Request) -> Iterator[sqlite3.Connection]:
    """A connection that cannot write: opened read-only and with query_only on, kept for this thread."""
    conn = desk_of(request).snapshots.connection()
    try:
        yield conn
    finally:
        if conn.in_transaction:  # a view that began one and failed: the next request starts clean
            conn.execute("ROLLBACK")


def snapshot(request: Request) -> Snapshot:
    return desk_of(request).snapshots.current()


@contextmanager
def writing(request: Request) -> Iterator[sqlite3.Connection]:
    conn = store.connect(desk_of(request).db, create=False)
    try:
        yield conn
    finally:
        conn.close()


def local_user() -> str:
    """Who acts when nobody signs in (the desk serves this machine only): the account running it."""
    try:
        return f"本机 {getpass.getuser()}"
    except (KeyError, OSError):
        return "本机"


def user_of(request: Request) -> str:
    return current_user(request) or local_user()


async def posted(request: Request) -> FormData:
    """The submitted form, refused (403) without this session's CSRF token."""
    form = await request.form(max_files=100, max_fields=MAX_FORM_FIELDS)
    check_csrf(request, form)
    return form


def _context(request: Request, csrf: str, context: dict[str, Any]) -> dict[str, Any]:
    desk = desk_of(request)
    return {
        **context,
        "request": request,
        "csrf": csrf,
        "user": current_user(request),
        "acting_as": user_of(request),
        "signed_in": current_user(request) is not None,
        "feed_url": f"{request.base_url}deadlines.ics?token={feed_token(desk.secret)}",
        "login_required": desk.login_required,
    }


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    desk = desk_of(request)
    return desk.templates.TemplateResponse(request, name, _context(request, csrf_token(request), context), status_code=status_code)


def shown(request: Request, now: Snapshot, make: Callable[[], tuple[str, dict[str, Any]]], also: tuple[object, ...] = ()) -> Response:
    """A read-only page (`make` gives its template and context) rendered once for this state of
    the store, this address (path, query, host: the page names it) and day, and this user, and
    kept with the snapshot: the register, a document, the deadlines and the chain are asked for
    again and again while the store stands still. Only the session's CSRF token differs from one
    session to the next; it goes in on the way out. Everything else a page shows must come from
    those, or be named in `also` (what the page depends on beside the store)."""
    token = csrf_token(request)  # first, as for any page: it may start the session

    def page() -> str:
        name, context = make()
        return desk_of(request).templates.get_template(name).render(_context(request, TOKEN_SLOT, context))

    text = now.page((str(request.url), current_user(request), today_in_china(), *also), page)
    return HTMLResponse(text.replace(TOKEN_SLOT, token))
