"""Sessions kept on the server: the cookie holds a random id, never the session itself.

    Sessions(idle_seconds)           the live sessions of this server process
    SessionCookies(app, sessions)    `request.session` for every view; the cookie set when it changes

A signed cookie that carries the session (Starlette's SessionMiddleware) cannot be taken
back: a copy stolen before sign-out still opens the desk until it expires. Here the cookie
is a 256-bit random id; sign-out forgets the session, so every copy of the cookie is dead at
once. The id changes whenever the signed-in user does (sign-in, sign-out), so an id planted
before sign-in is worth nothing after it (session fixation). A session unused for
`idle_seconds` is forgotten. The cookie is HttpOnly (no script reads it), SameSite=Lax (sent
on links from other sites, never on their POSTs; the CSRF token covers every form besides),
and Secure when the request came over TLS. Sessions live in this process's memory: a restart
signs everybody out, which is the safe direction.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "gongwen_session"
IDLE_SECONDS = 30 * 60
# Every visit that shows a form starts a session (it holds the CSRF token); past this many the
# least recently used go first, so a flood of cookieless requests cannot fill the memory.
MAX_SESSIONS = 10_000


class Sessions:
    def __init__(self, idle_seconds: float = IDLE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._live: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sid: str | None) -> dict[str, Any] | None:
        """A copy of the session `sid` names, if it is live; using it keeps it alive."""
        if not sid:
            return None
        with self._lock:
            found = self._live.get(sid)
            if found is None:
                return None
            if self.clock() - found[0] > self.idle_seconds:
                del self._live[sid]
                return None
            self._live[sid] = (self.clock(), found[1])
            self._live.move_to_end(sid)
            return dict(found[1])

    def put(self, sid: str | None, data: dict[str, Any]) -> str:
        """Keep `data` under `sid`, or under a new id when `sid` is None; the id."""
        sid = sid or secrets.token_urlsafe(32)
        with self._lock:
            self._live[sid] = (self.clock(), dict(data))
            self._live.move_to_end(sid)
            while len(self._live) > MAX_SESSIONS:
                self._live.popitem(last=False)
        return sid

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._live.pop(sid or "", None)

    def __len__(self) -> int:
        return len(self._live)


class SessionCookies:
    """ASGI middleware: the session named by the cookie in `scope["session"]`, saved after the view."""

    def __init__(self, app: ASGIApp, sessions: Sessions) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sid = _cookie(scope)
        found = self.sessions.get(sid)
        if found is None:
            sid = None
        data: dict[str, Any] = found if found is not None else {}
        before = dict(data)
        scope["session"] = data

        async def saving(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = self.save(sid, before, data, scope.get("scheme") == "https")
                if cookie:
                    MutableHeaders(scope=message).append("Set-Cookie", cookie)
            await send(message)

        await self.app(scope, receive, saving)

    def save(self, sid: str | None, before: dict[str, Any], after: dict[str, Any], secure: bool) -> str | None:
        """Keep the session as the view left it; the Set-Cookie value when the id changes."""
        if before.get("user") != after.get("user") and sid is not None:
            self.sessions.drop(sid)  # another user (or none): a new id, the old one forgotten
            sid_changed, sid = True, None
        else:
            sid_changed = False
        if not after:
            if sid is not None:
                self.sessions.drop(sid)
            return _set_cookie("", secure, expire=True) if sid is not None or sid_changed else None
        if sid is not None and after == before:
            return None
        new = self.sessions.put(sid, after)
        return _set_cookie(new, secure) if new != sid else None


def _cookie(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is no session, not an error page
                return None
            if COOKIE in jar:
                return jar[COOKIE].value
    return None


def _set_cookie(value: str, secure: bool, *, expire: bool = False) -> str:
    parts = [f"{COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    if expire:
        parts.append("Max-Age=0")
    return "; ".join(parts)
