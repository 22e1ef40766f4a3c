from typing import Any

from fastapi import Depends, Query, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments import queries, requests, service
from lectern.enrollments.pair import Change, EnrollResult
from lectern.enrollments.requests import RequestResult
from lectern.enrollments.schemas import (
    AccessRequestOut,
    AdminEnrollIn,
    EnrollmentEndIn,
    EnrollmentOut,
    MyEnrollmentOut,
    QueuedRequestOut,
    ReviewIn,
    WaitlistPlaceOut,
)
from lectern.models.enums import RequestStatus
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor, current_actor, staff_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.keyset import next_link
from lectern.platform.openapi import answered_again
from lectern.platform.routes import api_router
from lectern.platform.schemas import Offset, PathId, QueryId

router = api_router(prefix="/api/v1", tags=["enrollments"])


def _enrollment(result: EnrollResult, response: Response) -> EnrollmentOut:
    response.status_code = status.HTTP_201_CREATED if result.changed else status.HTTP_200_OK
    return EnrollmentOut.model_validate(result.enrollment)


def _waitlisted(course_id: int, actor: Actor, position: int) -> JSONResponse:
    place = WaitlistPlaceOut(course_id=course_id, user_id=actor.id, position=position)
    return JSONResponse(place.model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED)


# A full course that keeps a waitlist answers 202 with the learner's place in it.
WAITLISTED: dict[int | str, dict[str, Any]] = {
    202: {"model": WaitlistPlaceOut, "description": "The course is full: waitlisted."}
}


def _request(result: RequestResult, response: Response | None = None) -> AccessRequestOut:
    if response is not None:
        response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    out = AccessRequestOut.model_validate(result.request)
    if result.enrollment is not None:
        out.enrollment = EnrollmentOut.model_validate(result.enrollment)
    return out


@router.post(
    "/courses/{course_id}/enroll",
    response_model=EnrollmentOut,
    status_code=201,
    responses=answered_again(EnrollmentOut) | WAITLISTED,
)
async def self_enroll(
    course_id: PathId,
    response: Response,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_database),
) -> EnrollmentOut | JSONResponse:
    result = await db.run(lambda s: service.self_enroll(s, actor, course_id))
    if result.change == Change.WAITLISTED and result.waitlist_position is not None:
        return _waitlisted(course_id, actor, result.waitlist_position)
    return _enrollment(result, response)


@router.delete("/courses/{course_id}/waitlist", status_code=status.HTTP_204_NO_CONTENT)
async def leave_waitlist(
    course_id: PathId, actor: Actor = Depends(current_actor), db: Database = Depends(get_database)
) -> None:
    await db.run(lambda s: service.leave_waitlist(s, actor, course_id))


@router.get("/me/waitlist", response_model=list[WaitlistPlaceOut])
async def my_waitlist(
    actor: Actor = Depends(current_actor), session: AsyncSession = Depends(read_session)
) -> list[WaitlistPlaceOut]:
    return await queries.my_waitlist(session, actor.id)


@router.post(
    "/courses/{course_id}/access-requests",
    response_model=AccessRequestOut,
    status_code=201,
    responses=answered_again(AccessRequestOut) | WAITLISTED,
)
async def request_access(
    course_id: PathId,
    response: Response,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_database),
) -> AccessRequestOut | JSONResponse:
    result = await db.run(lambda s: requests.request_access(s, actor, course_id))
    if result.waitlist_position is not None:
        return _waitlisted(course_id, actor, result.waitlist_position)
    return _request(result, response)


@router.delete("/access-requests/{request_id}", response_model=AccessRequestOut)
async def cancel_request(
    request_id: PathId, actor: Actor = Depends(current_actor), db: Database = Depends(get_database)
) -> AccessRequestOut:
    return _request(await db.run(lambda s: requests.cancel_request(s, actor, request_id)))


@router.get("/me/enrollments", response_model=list[MyEnrollmentOut])
async def my_enrollments(
    actor: Actor = Depends(current_actor), session: AsyncSession = Depends(read_session)
) -> list[MyEnrollmentOut]:
    return await queries.my_enrollments(session, actor.id)


@router.get("/me/access-requests", response_model=list[QueuedRequestOut])
async def my_requests(
    actor: Actor = Depends(current_actor), session: AsyncSession = Depends(read_session)
) -> list[QueuedRequestOut]:
    return await queries.my_requests(session, actor.id)


@router.get("/admin/access-requests", response_model=list[QueuedRequestOut])
async def request_queue(
    response: Response,
    status_filter: RequestStatus | None = Query(None, alias="status"),
    course_id: QueryId = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: Offset = 0,
    cursor: str | None = Query(
        None, max_length=2000, description="The next page's cursor, from the Link header."
    ),
    actor: Actor = Depends(staff_actor),
    session: AsyncSession = Depends(read_session),
) -> list[QueuedRequestOut]:
    """A page of the request queue, newest first; when there are more, the `Link` header names
    the next page (`rel="next"`), which goes on from this page's last request."""
    page, next_cursor = await queries.request_queue(
        session,
        actor,
        status=status_filter,
        course_id=course_id,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    query = {"status": status_filter, "course_id": course_id, "limit": limit}
    if link := next_link("/api/v1/admin/access-requests", query, next_cursor):
        response.headers["Link"] = link
    return page


@router.post("/admin/access-requests/{request_id}/approve", response_model=AccessRequestOut)
async def approve(
    request_id: PathId,
    body: ReviewIn | None = None,
    actor: Actor = Depends(staff_actor),
    db: Database = Depends(get_database),
) -> AccessRequestOut:
    note = body.note if body else ""
    return _request(await db.run(lambda s: requests.approve_request(s, actor, request_id, note)))


@router.post("/admin/access-requests/{request_id}/reject", response_model=AccessRequestOut)
async def reject(
    request_id: PathId,
    body: ReviewIn | None = None,
    actor: Actor = Depends(staff_actor),
    db: Database = Depends(get_database),
) -> AccessRequestOut:
    note = body.note if body else ""
    return _request(await db.run(lambda s: requests.reject_request(s, actor, request_id, note)))


@router.post(
    "/admin/enrollments",
    response_model=EnrollmentOut,
    status_code=201,
    responses=answered_again(EnrollmentOut),
)
async def admin_enroll(
    body: AdminEnrollIn,
    response: Response,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> EnrollmentOut:
    result = await db.run(
        lambda s: service.admin_enroll(
            s,
            actor,
            body.user_id,
            body.course_id,
            ends_at=body.ends_at,
            override_seat_limit=body.override_seat_limit,
        )
    )
    return _enrollment(result, response)


@router.patch("/admin/enrollments/{enrollment_id}", response_model=EnrollmentOut)
async def change_enrollment_end(
    enrollment_id: PathId,
    body: EnrollmentEndIn,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> EnrollmentOut:
    """Move an active enrollment's end (`ends_at`, null for none): extend it, or end it sooner."""
    enrollment = await db.run(
        lambda s: service.change_enrollment_end(s, actor, enrollment_id, body.ends_at)
    )
    return EnrollmentOut.model_validate(enrollment)


@router.delete("/admin/enrollments/{enrollment_id}", response_model=EnrollmentOut)
async def admin_unenroll(
    enrollment_id: PathId, actor: Actor = Depends(admin_actor), db: Database = Depends(get_database)
) -> EnrollmentOut:
    enrollment = await db.run(lambda s: service.admin_unenroll(s, actor, enrollment_id))
    return EnrollmentOut.model_validate(enrollment)
