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

Reading connections are kept, one per thread of the server's pool, in autocommit: no statement
outlives its request, so none pins an old snapshot of the WAL database. A write opens the
store's own connection (migrations checked, WAL, busy timeout) and closes it after.
"""

from __future__ import annotations

import getpass
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from pipeline import store
from pipeline.web.scans import Scans
from pipeline.web.security import Throttle, check_csrf, csrf_token, current_user, feed_token
from pipeline.web.snapshot import Snapshot, Snapshots
from pipeline.web.uploads import Uploads

MAX_FORM_FIELDS = 50


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


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    desk = desk_of(request)
    context.update(
        csrf=csrf_token(request),
        user=current_user(request),
        acting_as=user_of(request),
        signed_in=current_user(request) is not None,
        feed_url=f"{request.base_url}deadlines.ics?token={feed_token(desk.secret)}",
        login_required=desk.login_required,
    )
    return desk.templates.TemplateResponse(request, name, context, status_code=status_code)
