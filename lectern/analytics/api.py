from urllib.parse import urlencode

from fastapi import Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.analytics import service
from lectern.analytics import students as student_reads
from lectern.analytics.schemas import AnalyticsOut, StudentDetailOut, StudentSummaryOut
from lectern.platform.actor import Actor
from lectern.platform.auth import staff_actor
from lectern.platform.db import read_session
from lectern.platform.routes import api_router
from lectern.platform.schemas import Offset, PathId

router = api_router(prefix="/api/v1/admin", tags=["admin"])


@router.get("/students", response_model=list[StudentSummaryOut])
async def students(
    response: Response,
    limit: int = Query(student_reads.MAX_PAGE, ge=1, le=student_reads.MAX_PAGE),
    offset: Offset = 0,
    cursor: str | None = Query(
        None, max_length=2000, description="The next page's cursor, from the Link header."
    ),
    q: str | None = Query(
        None, max_length=200, description="A part of the name or e-mail, in any case."
    ),
    sort: student_reads.StudentOrder = student_reads.StudentOrder.NAME,
    actor: Actor = Depends(staff_actor),
    session: AsyncSession = Depends(read_session),
) -> list[StudentSummaryOut]:
    """A page of students in `sort` order; when there are more, the `Link` header names the
    next page (`rel="next"`), which goes on from this page's last row."""
    page, next_cursor = await student_reads.list_students(
        session, actor, limit=limit, offset=offset, cursor=cursor, q=q, order=sort
    )
    if next_cursor is not None:
        following = {"limit": limit, "cursor": next_cursor, "sort": sort.value}
        if q:
            following["q"] = q
        response.headers["Link"] = f'</api/v1/admin/students?{urlencode(following)}>; rel="next"'
    return page


@router.get("/students/{user_id}", response_model=StudentDetailOut)
async def student(
    user_id: PathId,
    actor: Actor = Depends(staff_actor),
    session: AsyncSession = Depends(read_session),
) -> StudentDetailOut:
    return await student_reads.student_detail(session, actor, user_id)


@router.get("/analytics", response_model=AnalyticsOut)
async def analytics(
    actor: Actor = Depends(staff_actor), session: AsyncSession = Depends(read_session)
) -> AnalyticsOut:
    return await service.institution_analytics(session, actor)
