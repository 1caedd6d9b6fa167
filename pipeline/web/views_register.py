"""收文登记: the register a clerk kept by hand, review queue first."""

from __future__ import annotations

from datetime import date
from typing import Any, get_args
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from models.document import Level
from pipeline.chain.levels import LEVEL_NAMES
from pipeline.web.desk import reading, shown, snapshot
from pipeline.web.records import SORTS, Filters, earliest_open, register_rows, today_in_china

STATUSES = ("done", "partial", "needs_review")
MAX_QUERY = 100
SORT_NAMES = {
    "received": "收文日期",
    "issue_date": "成文日期",
    "doc_number": "文号",
    "issuer": "来文单位",
    "level": "层级",
    "status": "状态",
    "deadline": "最近期限",
}


def iso_day(value: str, name: str) -> str:
    """A YYYY-MM-DD query value, or 400 naming the field."""
    if not value:
        return ""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise HTTPException(400, f"{name} 应为 YYYY-MM-DD 格式的日期") from None


def filters_from(params: QueryParams) -> Filters:
    """The register's query, each value checked; 400 for anything out of range."""
    q, issuer = params.get("q", "").strip(), params.get("issuer", "").strip()
    if len(q) > MAX_QUERY or len(issuer) > MAX_QUERY:
        raise HTTPException(400, f"检索词不超过 {MAX_QUERY} 个字")
    level, status, sort = params.get("level", ""), params.get("status", ""), params.get("sort", "received")
    if level and level not in get_args(Level):
        raise HTTPException(400, "未知的层级")
    if status and status not in STATUSES:
        raise HTTPException(400, "未知的状态")
    if sort not in SORTS:
        raise HTTPException(400, "未知的排序")
    return Filters(
        q=q,
        issuer=issuer,
        level=level,
        status=status,
        date_from=iso_day(params.get("from", ""), "起始日期"),
        date_to=iso_day(params.get("to", ""), "截止日期"),
        sort=sort,
        descending=params.get("order", "desc") != "asc",
    )


def register(request: Request) -> Response:
    filters = filters_from(request.query_params)
    now = snapshot(request)

    def query_with(**changes: str) -> str:
        """This page's query with some values replaced: the sort links keep the filters."""
        return urlencode({**dict(request.query_params), **changes})

    def page() -> tuple[str, dict[str, Any]]:
        today = today_in_china()
        with reading(request) as conn:
            queue, rows = register_rows(now.archive, filters, earliest_open(now.task_rows(today)), conn)
        return "register.html", {
            "queue": queue,
            "rows": rows,
            "filters": filters,
            "levels": LEVEL_NAMES,
            "statuses": STATUSES,
            "sorts": SORT_NAMES,
            "total": len(now.archive.documents),
            "today": today,
            "query_with": query_with,
        }

    return shown(request, now, page)
