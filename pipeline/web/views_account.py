"""Sign-in and sign-out, for a desk that serves beyond this machine (see pipeline.web.security)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pipeline.store import users
from pipeline.web.desk import desk_of, posted, reading, render

MAX_FIELD = 200


def _next(value: object) -> str:
    """Only a path on this site: never `//evil.example` or an absolute URL."""
    text = str(value or "/")
    return text if text.startswith("/") and not text.startswith("//") and "\\" not in text else "/"


def login_form(request: Request) -> Response:
    return render(request, "login.html", next=_next(request.query_params.get("next")), failed=False, wait_minutes=0)


async def login(request: Request) -> Response:
    form = await posted(request)
    name, password = str(form.get("name", ""))[:MAX_FIELD], str(form.get("password", ""))[:MAX_FIELD]
    target = _next(form.get("next"))
    throttle = desk_of(request).throttle
    address = request.client.host if request.client else ""
    wait = throttle.wait(name, address)
    if wait:
        response = render(request, "login.html", status_code=429, next=target, failed=False, wait_minutes=-(-wait // 60))
        response.headers["Retry-After"] = str(wait)
        return response

    def check() -> bool:
        with reading(request) as conn:
            return users.verify(conn, name, password)

    if not await run_in_threadpool(check):
        throttle.failed(name, address)
        return render(request, "login.html", status_code=401, next=target, failed=True, wait_minutes=0)
    throttle.succeeded(name)
    request.session.clear()  # a new session id and CSRF token on sign-in (pipeline.web.sessions): no fixation
    request.session["user"] = name
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    await posted(request)
    request.session.clear()  # the session is forgotten on the server: every copy of the cookie is dead
    return RedirectResponse("/login", status_code=303)
