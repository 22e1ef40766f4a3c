"""GET /api/v1/admin/reports/…: reports as CSV or XLSX, streamed as they are read."""

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models.enums import EnrollmentStatus, PaymentStatus
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor
from lectern.platform.db import Database, get_database
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId, QueryId
from lectern.reports import service
from lectern.reports.cells import csv_stream, xlsx_stream
from lectern.reports.service import Filters, Pages

router = api_router(prefix="/api/v1/admin/reports", tags=["reports"])


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report as a file to download.",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in MEDIA_TYPES.values()
        },
    }
}
FormatQuery = Annotated[Format, Query(alias="format")]
Since = Annotated[datetime | None, Query(description="From this time on (UTC unless it says).")]
Until = Annotated[datetime | None, Query(description="Before this time (UTC unless it says).")]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _download(
    db: Database,
    name: str,
    file_format: Format,
    header: Any,
    pages: Callable[[AsyncSession], Pages],
) -> StreamingResponse:
    async def read() -> Pages:
        async with db.session() as session:
            async for page in pages(session):
                yield page

    body: AsyncIterator[bytes] = (
        csv_stream(header, read())
        if file_format == Format.CSV
        else xlsx_stream(name, header, read())
    )
    filename = f"{name}-{datetime.now(UTC):%Y-%m-%d}.{file_format.value}"
    return StreamingResponse(
        body,
        media_type=MEDIA_TYPES[file_format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/enrollments", response_class=StreamingResponse, responses=_DOWNLOAD)
async def enrollments_report(
    file_format: FormatQuery = Format.CSV,
    course_id: QueryId = None,
    status: EnrollmentStatus | None = None,
    since: Since = None,
    until: Until = None,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> StreamingResponse:
    """Every enrollment of the institution with its progress, filtered like the pages."""
    filters = Filters(course_id, status, _utc(since), _utc(until))
    return _download(
        db,
        "enrollments",
        file_format,
        service.ENROLLMENTS_HEADER,
        lambda s: service.enrollment_pages(s, actor.institution_id, filters),
    )


@router.get("/payments", response_class=StreamingResponse, responses=_DOWNLOAD)
async def payments_report(
    file_format: FormatQuery = Format.CSV,
    course_id: QueryId = None,
    status: PaymentStatus | None = None,
    since: Since = None,
    until: Until = None,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> StreamingResponse:
    """The institution's payments."""
    filters = Filters(course_id, status, _utc(since), _utc(until))
    return _download(
        db,
        "payments",
        file_format,
        service.PAYMENTS_HEADER,
        lambda s: service.payment_pages(s, actor.institution_id, filters),
    )


@router.get("/certificates", response_class=StreamingResponse, responses=_DOWNLOAD)
async def certificates_report(
    file_format: FormatQuery = Format.CSV,
    course_id: QueryId = None,
    since: Since = None,
    until: Until = None,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> StreamingResponse:
    """The certificates issued in the institution's courses."""
    filters = Filters(course_id, None, _utc(since), _utc(until))
    return _download(
        db,
        "certificates",
        file_format,
        service.CERTIFICATES_HEADER,
        lambda s: service.certificate_pages(s, actor.institution_id, filters),
    )


@router.get("/courses/{course_id}/gradebook", response_class=StreamingResponse, responses=_DOWNLOAD)
async def gradebook_report(
    course_id: PathId,
    file_format: FormatQuery = Format.CSV,
    status: EnrollmentStatus | None = None,
    since: Since = None,
    until: Until = None,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> StreamingResponse:
    """A course's gradebook: per learner, each lesson's completion or quiz best score, and
    their Q-bank tests."""
    async with db.session() as session:
        gradebook = await service.gradebook_of(session, actor.institution_id, course_id)
    filters = Filters(None, status, _utc(since), _utc(until))
    return _download(
        db,
        f"gradebook-{course_id}",
        file_format,
        gradebook.header,
        lambda s: service.gradebook_pages(s, gradebook, filters),
    )
