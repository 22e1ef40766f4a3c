from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.analytics import service
from lectern.analytics.schemas import AnalyticsOut, StudentDetailOut, StudentSummaryOut
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor
from lectern.platform.db import read_session
from lectern.platform.routes import api_router
from lectern.platform.schemas import Offset, PathId

router = api_router(prefix="/api/v1/admin", tags=["admin"])


@router.get("/students", response_model=list[StudentSummaryOut])
async def students(
    limit: int = Query(100, ge=1, le=1000),
    offset: Offset = 0,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
) -> list[StudentSummaryOut]:
    return await service.list_students(session, actor, limit=limit, offset=offset)


@router.get("/students/{user_id}", response_model=StudentDetailOut)
async def student(
    user_id: PathId,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
) -> StudentDetailOut:
    return await service.student_detail(session, actor, user_id)


@router.get("/analytics", response_model=AnalyticsOut)
async def analytics(
    actor: Actor = Depends(admin_actor), session: AsyncSession = Depends(read_session)
) -> AnalyticsOut:
    return await service.institution_analytics(session, actor)
