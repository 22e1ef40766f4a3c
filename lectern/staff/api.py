"""Admins assign course staff: GET, POST /api/v1/admin/courses/{id}/staff and DELETE …/{user_id}."""

from fastapi import Depends, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import CourseStaff, User
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor, staff_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.openapi import answered_again
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId
from lectern.staff import service
from lectern.staff.schemas import StaffIn, StaffOut

router = api_router(prefix="/api/v1/admin", tags=["course staff"])


def staff_out(staff: CourseStaff, user: User) -> StaffOut:
    return StaffOut(
        course_id=staff.course_id,
        user_id=staff.user_id,
        role=staff.role,
        full_name=user.full_name,
        email=user.email,
        created_at=staff.created_at,
    )


@router.get("/courses/{course_id}/staff", response_model=list[StaffOut])
async def list_staff(
    course_id: PathId,
    actor: Actor = Depends(staff_actor),
    session: AsyncSession = Depends(read_session),
) -> list[StaffOut]:
    return [staff_out(s, u) for s, u in await service.course_staff(session, actor, course_id)]


@router.post(
    "/courses/{course_id}/staff",
    response_model=StaffOut,
    status_code=status.HTTP_201_CREATED,
    responses=answered_again(StaffOut),
)
async def assign_staff(
    course_id: PathId,
    body: StaffIn,
    response: Response,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> StaffOut:
    """Give an instructor of the institution a course role (instructor, ta, observer): 201 when
    new, 200 when it was there (with its role changed if another was sent)."""
    result = await db.run(
        lambda s: service.assign_staff(s, actor, course_id, body.user_id, body.role)
    )
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return staff_out(result.staff, result.user)


@router.delete("/courses/{course_id}/staff/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_staff(
    course_id: PathId,
    user_id: PathId,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> None:
    await db.run(lambda s: service.remove_staff(s, actor, course_id, user_id))
