"""POST /api/v1/admin/enrollments/import: a roster file, as an upload or a text/csv body."""

import json
from typing import Any

from fastapi import Depends, Query, Request, Response
from starlette.datastructures import UploadFile

from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor
from lectern.platform.db import Database, get_database
from lectern.platform.errors import BadRequest, Invalid
from lectern.platform.routes import api_router
from lectern.rosters.schemas import RosterReportOut
from lectern.rosters.service import RosterReport, import_roster, plan_roster, row_report

IMPORT_PATH = "/api/v1/admin/enrollments/import"
router = api_router(tags=["enrollments"])

_ROSTER_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A CSV file with the columns email, course (id or slug) and action "
        "(enroll or unenroll), and optionally ends_at and full_name (invites an unknown learner). "
        "UTF-8 with or without a BOM, separated by `,` or `;`.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


async def roster_upload(request: Request) -> tuple[bytes, str]:
    """The file's bytes and name, from a multipart upload (field `file`) or the body itself."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return await request.body(), "roster.csv"
    try:
        form = await request.form(max_files=1, max_fields=5)
    except Exception as error:  # the multipart parser's own errors, whatever their class
        raise BadRequest(f"The upload cannot be read: {error}", slug="bad-upload") from error
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise Invalid("Send the roster as the form field `file`.", slug="roster-unreadable")
    return await upload.read(), (upload.filename or "roster.csv")[:200]


def _report_out(report: RosterReport, dry_run: bool) -> Response:
    # Written straight as JSON: validating 100,000 rows against RosterReportOut (the response
    # model the document shows) would take longer than planning them.
    body = {
        "filename": report.filename,
        "dry_run": dry_run,
        "ok": report.ok,
        "outcomes": report.outcomes,
        "rows": [row_report(planned) for planned in report.rows],
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")


# Its body is read by the route itself, so the document's rules cannot see it: said here.
_BODY_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The upload is not a readable multipart form."},
    413: {"description": "The file is larger than LECTERN_MAX_ROSTER_BYTES."},
}


@router.post(
    IMPORT_PATH,
    response_model=RosterReportOut,
    openapi_extra=_ROSTER_BODY,
    responses=_BODY_PROBLEMS,
)
async def import_enrollments(
    request: Request,
    dry_run: bool = Query(True, description="Only report what each row would do (default)."),
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> Response:
    """Enroll and unenroll learners from a roster file. A dry run (the default) reports per
    row what applying would do and why; `dry_run=false` applies the whole file in one
    transaction, or nothing of it when any row is in error (422 `roster-invalid` with the rows)."""
    data, filename = await roster_upload(request)
    if dry_run:
        async with db.session() as session:
            report = await plan_roster(session, actor, data, filename)
    else:
        report = await db.run(lambda s: import_roster(s, actor, data, filename))
    return _report_out(report, dry_run)
