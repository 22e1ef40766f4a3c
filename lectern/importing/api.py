"""The admin's view of legacy imports: their institution's part of each report."""

from datetime import datetime

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import LegacyImport
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor
from lectern.platform.db import read_session
from lectern.platform.routes import api_router
from lectern.platform.schemas import Output

router = api_router(prefix="/api/v1/admin/imports", tags=["admin"])


class ImportPartOut(Output):
    id: int
    source: str
    created_at: datetime
    decisions: dict[str, int]
    created: dict[str, int]
    notes: list[str]


@router.get("", response_model=list[ImportPartOut])
async def my_imports(
    actor: Actor = Depends(admin_actor), session: AsyncSession = Depends(read_session)
) -> list[ImportPartOut]:
    """Each legacy import that took rows into the admin's institution, newest first, with the
    decisions it made there."""
    parts = []
    for record in await session.scalars(select(LegacyImport).order_by(LegacyImport.id.desc())):
        for part in record.report.get("institutions", []):
            if part.get("id") == actor.institution_id:
                parts.append(
                    ImportPartOut(
                        id=record.id,
                        source=record.source,
                        created_at=record.created_at,
                        decisions=part["decisions"],
                        created=part["created"],
                        notes=record.report.get("notes", []),
                    )
                )
    return parts
