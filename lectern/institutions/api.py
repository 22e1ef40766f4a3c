"""The platform admin's view of institutions, and merging duplicates."""

from fastapi import Depends
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.institutions.merge import merge_institutions
from lectern.institutions.schemas import InstitutionSummaryOut, MergeIn, MergeOut
from lectern.models import Course, Institution, InstitutionMerge, User
from lectern.platform.actor import Actor
from lectern.platform.auth import platform_admin_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId

router = api_router(prefix="/api/v1/platform", tags=["institutions"])


@router.get("/institutions", response_model=list[InstitutionSummaryOut])
async def list_institutions(
    _actor: Actor = Depends(platform_admin_actor), session: AsyncSession = Depends(read_session)
) -> list[InstitutionSummaryOut]:
    """Every institution with its numbers of users and courses, and the names merged into it;
    the consistency audit names those that share a normalized name."""
    users = select(func.count()).where(User.institution_id == Institution.id).scalar_subquery()
    courses = select(func.count()).where(Course.institution_id == Institution.id).scalar_subquery()
    rows = (
        await session.execute(
            select(Institution, users.label("users"), courses.label("courses")).order_by(
                Institution.name_key
            )
        )
    ).all()
    merged: dict[int, list[str]] = {}
    for into_id, name in await session.execute(
        select(InstitutionMerge.into_id, InstitutionMerge.name).order_by(InstitutionMerge.id)
    ):
        merged.setdefault(into_id, []).append(name)
    return [
        InstitutionSummaryOut(
            id=institution.id,
            name=institution.name,
            slug=institution.slug,
            created_at=institution.created_at,
            users=user_count,
            courses=course_count,
            merged_names=merged.get(institution.id, []),
        )
        for institution, user_count, course_count in rows
    ]


@router.post("/institutions/{institution_id}/merge", response_model=MergeOut)
async def merge(
    institution_id: PathId,
    body: MergeIn,
    actor: Actor = Depends(platform_admin_actor),
    db: Database = Depends(get_database),
) -> MergeOut:
    """Merge duplicate institutions into this one: their users, courses, payments and events
    move here, clashing course slugs get a suffix, students join the default courses of the
    others, and the duplicates' names and slugs lead here. Repeating it changes nothing."""
    result = await db.run(
        lambda s: merge_institutions(s, institution_id, body.duplicate_ids, actor=actor)
    )
    return MergeOut.model_validate(result)
