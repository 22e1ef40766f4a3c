"""GET /api/v1/admin/reports/…: reports as CSV or XLSX, streamed as they are read.

Admins read every report of their institution. Course staff whose role lets them see a course's
learners (instructor, teaching assistant, observer) read the enrollments, certificates and
gradebook of those courses; another course answers 404 as an unknown one does. Payments are the
admins' alone."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models.enums import EnrollmentStatus, PaymentStatus
from lectern.platform.actor import Actor
from lectern.platform.auth import staff_actor
from lectern.platform.db import Database, get_database
from lectern.platform.errors import Forbidden
from lectern.platform.routes import api_router
from lectern.platform.schemas import MAX_ID, PathId
from lectern.reports import service
from lectern.reports.cells import csv_stream, xlsx_stream
from lectern.reports.service import Filters, Pages, Scope
from lectern.staff.rules import CourseAction
from lectern.staff.service import course_for, courses_allowing

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
# Named apart from the gradebook's path parameter `course_id`, which FastAPI would take it for.
CourseFilter = Annotated[int | None, Query(alias="course_id", ge=1, le=MAX_ID)]
Since = Annotated[datetime | None, Query(description="From this time on (UTC unless it says).")]
Until = Annotated[datetime | None, Query(description="Before this time (UTC unless it says).")]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What every report reads from its request: who asks, the format, and the filters the
    pages share (a report's own status filter is added by its route)."""

    actor: Actor
    db: Database
    file_format: Format
    filters: Filters

    @property
    def scope(self) -> Scope:
        return courses_allowing(self.actor, CourseAction.SEE_LEARNERS)

    def download(
        self,
        name: str,
        header: Any,
        pages: Callable[[AsyncSession, Filters], Pages],
        status: str | None = None,
    ) -> StreamingResponse:
        filters = replace(self.filters, status=status)

        async def read() -> Pages:
            async with self.db.session() as session:
                async for page in pages(session, filters):
                    yield page

        body: AsyncIterator[bytes] = (
            csv_stream(header, read())
            if self.file_format == Format.CSV
            else xlsx_stream(name, header, read())
        )
        filename = f"{name}-{datetime.now(UTC):%Y-%m-%d}.{self.file_format.value}"
        return StreamingResponse(
            body,
            media_type=MEDIA_TYPES[self.file_format],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


async def report_request(
    file_format: FormatQuery = Format.CSV,
    course: CourseFilter = None,
    since: Since = None,
    until: Until = None,
    actor: Actor = Depends(staff_actor),
    db: Database = Depends(get_database),
) -> ReportRequest:
    if course is not None:
        async with db.session() as session:
            await course_for(session, actor, course, CourseAction.SEE_LEARNERS)
    return ReportRequest(actor, db, file_format, Filters(course, None, _utc(since), _utc(until)))


@router.get("/enrollments", response_class=StreamingResponse, responses=_DOWNLOAD)
async def enrollments_report(
    status: EnrollmentStatus | None = None,
    report: ReportRequest = Depends(report_request),
) -> StreamingResponse:
    """Every enrollment of the courses the reader sees the learners of, with its progress,
    filtered like the pages."""
    scope = report.scope
    return report.download(
        "enrollments",
        service.ENROLLMENTS_HEADER,
        lambda s, filters: service.enrollment_pages(s, scope, filters),
        status,
    )


@router.get("/payments", response_class=StreamingResponse, responses=_DOWNLOAD)
async def payments_report(
    status: PaymentStatus | None = None, report: ReportRequest = Depends(report_request)
) -> StreamingResponse:
    """The institution's payments, for its admins."""
    if not report.actor.is_admin:
        raise Forbidden("Only an admin can do this.")
    institution_id = report.actor.institution_id
    return report.download(
        "payments",
        service.PAYMENTS_HEADER,
        lambda s, filters: service.payment_pages(s, institution_id, filters),
        status,
    )


@router.get("/certificates", response_class=StreamingResponse, responses=_DOWNLOAD)
async def certificates_report(
    report: ReportRequest = Depends(report_request),
) -> StreamingResponse:
    """The certificates issued in the courses the reader sees the learners of."""
    scope = report.scope
    return report.download(
        "certificates",
        service.CERTIFICATES_HEADER,
        lambda s, filters: service.certificate_pages(s, scope, filters),
    )


@router.get(
    "/courses/{course_id}/gradebook",
    response_class=StreamingResponse,
    responses=_DOWNLOAD,
)
async def gradebook_report(
    course_id: PathId,
    status: EnrollmentStatus | None = None,
    report: ReportRequest = Depends(report_request),
) -> StreamingResponse:
    """A course's gradebook: per learner, each lesson's completion or quiz best score, and
    their Q-bank tests."""
    async with report.db.session() as session:
        await course_for(session, report.actor, course_id, CourseAction.SEE_LEARNERS)
        gradebook = await service.gradebook_of(session, course_id)
    return report.download(
        f"gradebook-{course_id}",
        gradebook.header,
        lambda s, filters: service.gradebook_pages(s, gradebook, filters),
        status,
    )
