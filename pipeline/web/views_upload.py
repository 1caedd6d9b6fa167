"""Upload: files dropped on the page (or picked), ingested in the background, progress shown.

POST /upload answers at once with the job's page (303), or its address as JSON for the page's
script; the page polls /uploads/{job}.json. Without scripts the job page refreshes itself.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from pipeline.web.desk import desk_of, posted, render

JOB_ID = re.compile(r"^[0-9a-f]{16}$")
MAX_FILES = 100


def upload_form(request: Request) -> Response:
    return render(request, "upload.html", max_mb=desk_of(request).max_upload_bytes >> 20)


async def upload(request: Request) -> Response:
    form = await posted(request)
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and (f.filename or f.size)]
    if not files:
        raise HTTPException(400, "请选择要上传的文件")
    if len(files) > MAX_FILES:
        raise HTTPException(400, f"一次最多上传 {MAX_FILES} 个文件")
    uploads = desk_of(request).uploads
    job = await run_in_threadpool(uploads.receive, [(f.filename, f.file) for f in files])
    url = f"/uploads/{job.id}"
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"job": job.id, "url": url, "labels": job.labels})
    return RedirectResponse(url, status_code=303)


def _snapshot(request: Request) -> dict[str, object]:
    job_id = request.path_params["job_id"]
    snapshot = desk_of(request).uploads.snapshot(job_id) if JOB_ID.match(job_id) else None
    if snapshot is None:
        raise HTTPException(404, "没有这批上传（服务重启后进度不再保留，结果已在收文登记中）")
    return snapshot


def job_page(request: Request) -> Response:
    return render(request, "job.html", job=_snapshot(request))


def job_json(request: Request) -> Response:
    return JSONResponse(_snapshot(request))


