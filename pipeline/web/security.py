"""What keeps the desk safe to run: hosts, size caps, sign-in, CSRF tokens, strict browser headers.

    allowed_hosts(host, extra)    the Host names answered: loopback names, the bound address, --allowed-host
    BodyLimit(app, max_bytes)     413 for a request body over the cap, counted as it arrives
    Gate(app, login_required, secret)   sign-in required when the server or the client is not this machine
    Throttle()                    failed sign-ins counted per user and per address; 429 past the limit
    csrf_token(request) / check_csrf(request, form)   one token per session, on every form
    is_loopback(host)             127.0.0.0/8, ::1, localhost
    load_secret(path)             the key behind the feed token, kept beside the database

Hosts. A page on another site can rebind its own name to 127.0.0.1 (DNS rebinding) and then
read the desk as if it were that site; what gives it away is the Host header, which names
the other site. Only the names the desk is served under are answered (Starlette's
TrustedHostMiddleware), anything else gets 400.

Sign-in. Bound to a loopback address the desk serves this machine only and asks nobody to
sign in (the clerk's own computer, `make serve`). Bound to anything else it requires a
signed-in user for every page, and a client that does not come from this machine must sign
in whatever the binding: a reverse proxy on the same host still forwards from 127.0.0.1, so
the binding decides, and the client check only adds to it. Users are made with
`gongwen user add` (pipeline.store.users).

Sign-in attempts are throttled: after MAX_FAILURES_PER_USER failed attempts on one name, or
MAX_FAILURES_PER_ADDRESS from one address, within FAILURE_WINDOW seconds, further attempts are
refused (429, Retry-After) without checking the password, until the oldest failure leaves the
window. Passwords are scrypt hashes (pipeline.store.users).

CSRF. Sessions are kept on the server (pipeline.web.sessions); every form carries the
session's token and every POST is refused (403) without it, which also covers a browser that
ignores SameSite. Headers: a Content-Security-Policy allowing only this origin's scripts,
styles and images (no inline script can run, even if escaping failed somewhere), nosniff,
no framing, no referrer to other sites.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
OPEN_PATHS = ("/login", "/static/")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = 15 * 60  # seconds


def allowed_hosts(host: str, extra: Iterable[str] = ()) -> list[str]:
    """The Host names to answer: the loopback names always (the desk is reachable there), the
    bound address when it is one (not 0.0.0.0 or ::), and the names given with --allowed-host."""
    names = list(LOOPBACK_NAMES)
    try:
        address = ipaddress.ip_address(host.strip("[]"))
        if not address.is_unspecified:
            names.append(f"[{address}]" if address.version == 6 else str(address))
    except ValueError:
        names.append(host.lower())
    for name in extra:
        name = name.strip().lower().rstrip(".")
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"  # an IPv6 address, as a Host header writes it
        if name:
            names.append(name)
    return list(dict.fromkeys(names))


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_secret(path: Path) -> bytes:
    """32 random bytes, made once and kept (mode 0600): sessions and the .ics address outlive a restart."""
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    except FileNotFoundError:
        pass
    data = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return data


def feed_token(secret: bytes) -> str:
    """The token in the .ics address: calendar programs poll without cookies."""
    return hmac.new(secret, b"gongwen ics feed", "sha256").hexdigest()[:32]


class BodyTooLarge(Exception):
    """The body went past the cap while arriving (no Content-Length, or a false one)."""


class BodyLimit:
    """Refuse a body over `max_bytes`: at once from Content-Length, else when the bytes exceed it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self.too_large(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except* BodyTooLarge:  # raised under the session and sign-in middleware, maybe in a task group
            if not started:
                await self.too_large(scope, receive, send)

    def message(self) -> str:
        return f"上传内容超过上限 {self.max_bytes >> 20} MiB：请分批上传"

    async def too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(self.message(), status_code=413, headers={"Connection": "close"})
        await response(scope, receive, send)


class Gate:
    """Sign-in where it is required, and the browser headers on every answer.

    A plain ASGI middleware: Starlette's BaseHTTPMiddleware runs the view in a task of its own
    and passes its answer through a memory stream, which costs every request more than the
    rest of the middleware together."""

    def __init__(self, app: ASGIApp, login_required: bool, secret: bytes) -> None:
        self.app = app
        self.login_required = login_required
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def headed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)  # a view may set a stricter one
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
            await send(message)

        request = Request(scope)
        if self.must_sign_in(request) and current_user(request) is None and not self.open(request):
            if request.method == "GET":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response: Response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            else:
                response = PlainTextResponse("请先登录", status_code=401)
            await response(scope, receive, headed)
            return
        await self.app(scope, receive, headed)

    def must_sign_in(self, request: Request) -> bool:
        return self.login_required or not is_loopback(request.client.host if request.client else None)

    def open(self, request: Request) -> bool:
        """The sign-in page, static files, and the .ics feed with its token."""
        path = request.url.path
        if path.startswith(OPEN_PATHS):
            return True
        token = request.query_params.get("token", "")
        return path == "/deadlines.ics" and hmac.compare_digest(token, feed_token(self.secret))


class Throttle:
    """Failed sign-ins in the last FAILURE_WINDOW seconds, per user name and per client address."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        now = self.clock()
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > FAILURE_WINDOW:
            times.popleft()
        return times

    def wait(self, user: str, address: str) -> int:
        """Seconds until an attempt for `user` from `address` is allowed again; 0 if it is now."""
        with self._lock:
            waits = [
                FAILURE_WINDOW - (self.clock() - times[0])
                for key, limit in ((("user", user), MAX_FAILURES_PER_USER), (("address", address), MAX_FAILURES_PER_ADDRESS))
                if len(times := self._recent(key)) >= limit
            ]
        return max(1, int(max(waits)) + 1) if waits else 0

    def failed(self, user: str, address: str) -> None:
        with self._lock:
            for key in (("user", user), ("address", address)):
                self._recent(key).append(self.clock())

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(("user", user), None)


def current_user(request: Request) -> str | None:
    user = request.session.get("user")
    return user if isinstance(user, str) else None


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, form: FormData | dict[str, Any]) -> None:
    """403 unless the form carries this session's token."""
    sent = form.get("csrf")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "表单已失效或来源不明（缺少 CSRF 令牌）：请刷新页面后重试")
