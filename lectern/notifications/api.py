from datetime import datetime

from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.notifications import service
from lectern.platform.actor import Actor
from lectern.platform.auth import current_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.routes import api_router
from lectern.platform.schemas import Output, PathId

router = api_router(prefix="/api/v1", tags=["notifications"])


class NotificationOut(Output):
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


@router.get("/me/notifications", response_model=list[NotificationOut])
async def my_notifications(
    unread: bool = False,
    limit: int = Query(50, ge=1, le=500),
    actor: Actor = Depends(current_actor),
    session: AsyncSession = Depends(read_session),
) -> list[NotificationOut]:
    rows = await service.list_notifications(session, actor.id, unread_only=unread, limit=limit)
    return [NotificationOut.model_validate(n) for n in rows]


@router.post("/me/notifications/{notification_id}/read", response_model=NotificationOut)
async def mark_read(
    notification_id: PathId,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_database),
) -> NotificationOut:
    notification = await db.run(lambda s: service.mark_read(s, actor.id, notification_id))
    return NotificationOut.model_validate(notification)
