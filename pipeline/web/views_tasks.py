"""期限: every task from the corrected records, overdue first; 办结 with a note; the .ics feed and
the CalDAV push.

The feed and the push carry what the page shows: corrected dates, and a task marked 办结 as a
completed to-do (STATUS:COMPLETED with COMPLETED and PERCENT-COMPLETE, RFC 5545 §3.8.1.11,
§3.8.2.1, §3.8.1.8), so a calendar ticks it off instead of reminding the clerk again. The
file is built by pipeline.tasks.ical and checked by its checker like every file gongwen writes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pipeline.store import overrides
from pipeline.errors import CalendarError, GongwenError
from pipeline.tasks.ical import RECURRENCE_NAMES, CalendarOptions, build_calendar, check_calendar, uid_of
from pipeline.store.overrides import Override
from pipeline.web.desk import posted, render, snapshot
from pipeline.web.records import TaskRow, bucket, today_in_china
from pipeline.web.views_document import acting, write_with

BUCKETS = {"overdue": "已逾期", "this_week": "本周到期", "later": "以后到期", "undated": "无明确日期", "done": "已办结"}
TASK_ID = re.compile(r"^[0-9a-f]{20}$")
MAX_URL = 500


def _rows(request: Request) -> list[TaskRow]:
    return snapshot(request).task_rows(today_in_china())


def deadlines(request: Request, message: str | None = None, status_code: int = 200) -> Response:
    today = today_in_china()
    grouped: dict[str, list[TaskRow]] = {key: [] for key in BUCKETS}
    for row in _rows(request):
        grouped[bucket(row, today)].append(row)
    context = {"grouped": grouped, "buckets": BUCKETS, "today": today, "recurrence_names": RECURRENCE_NAMES, "message": message}
    return render(request, "deadlines.html", status_code=status_code, **context)


async def mark(request: Request) -> Response:
    """办结 (done=1) with a note, or open again (done=0)."""
    task_id = request.path_params["task_id"]
    if not TASK_ID.match(task_id):
        raise HTTPException(404, "没有这项任务")
    act = await acting(request)
    done = act.form.get("done") == "1"
    await write_with(request, lambda conn: overrides.mark_task(conn, act.doc_id, task_id, done, user=act.user, note=act.note))
    back = str(act.form.get("next", ""))
    return RedirectResponse(back if back.startswith("/") and not back.startswith("//") else "/deadlines", status_code=303)


def calendar_data(rows: list[TaskRow]) -> bytes:
    """The tasks as checked iCalendar bytes, 办结 tasks as completed to-dos.

    Two scans of one notice give the same tasks (the id is a hash of 文号, action and due), and
    a calendar holds one item per UID: each task goes in once, done if 办结 on either copy.
    """
    tasks = {row.task.id: row.task for row in reversed(rows)}
    done: dict[str, Override] = {uid_of(row.task): row.done for row in rows if row.done is not None}
    cal = build_calendar(tasks.values(), CalendarOptions())
    for component in cal.walk("VTODO"):
        uid = str(component.get("uid"))
        decision = done.get(uid) or done.get(uid.rsplit("-", 1)[0])  # an expanded duty's occurrence: gongwen-<id>-YYYYMMDD
        if decision is None:
            continue
        component["status"] = "COMPLETED"
        component.add("completed", datetime.fromisoformat(decision.at).astimezone(UTC))
        component.add("percent-complete", 100)
    data = cal.to_ical()
    problems = check_calendar(data)
    if problems:
        raise CalendarError("the calendar does not check: " + "; ".join(problems[:5]))
    return data


def feed(request: Request) -> Response:
    data = calendar_data(_rows(request))
    return Response(
        data,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="gongwen-deadlines.ics"', "Cache-Control": "no-cache"},
    )


def checked_url(url: str) -> str:
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.netloc:
        raise HTTPException(400, "日历地址应为 http:// 或 https:// 开头的 CalDAV 日历地址")
    return url


async def caldav(request: Request) -> Response:
    """Push to the CalDAV calendar named in the form; the password is used once, never kept."""
    form = await posted(request)
    url = checked_url(str(form.get("url", "")).strip())
    user = str(form.get("user", "")).strip()[:100] or None
    password = str(form.get("password", "")) or None

    def push() -> Any:
        from pipeline.tasks.caldav import open_calendar, push as send

        return send(calendar_data(_rows(request)), open_calendar(url, user, password))

    try:
        report = await run_in_threadpool(push)
    except GongwenError as e:
        return deadlines(request, message=f"推送失败：{e.message}", status_code=502)
    message = f"已推送到 {url}：新建 {len(report.created)} 项，更新 {len(report.updated)} 项"
    if report.stale:
        message += f"；另有 {len(report.stale)} 项旧任务已不再生成（保留未删）"
    return deadlines(request, message=message)
