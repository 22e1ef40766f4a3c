"""Merging duplicate institutions into one: their people, courses, payments and event history
move into it, and their names and slugs lead to it from then on."""

from dataclasses import asdict, dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments.pair import enroll
from lectern.events.service import record_event
from lectern.events.types import InstitutionMerged
from lectern.institutions.rules import free_slug
from lectern.models import Course, Enrollment, Institution, InstitutionMerge, User
from lectern.models.base import Base, utcnow
from lectern.models.enums import CourseAccess, CourseStatus, EnrollmentSource, Role
from lectern.platform.actor import Actor
from lectern.platform.errors import Forbidden, Invalid, NotFound

_TABLES = Base.metadata.tables


@dataclass(frozen=True)
class MergedInstitution:
    id: int
    name: str
    slug: str


@dataclass(frozen=True)
class RenamedCourse:
    id: int
    title: str
    slug: str


@dataclass
class MergeResult:
    institution: Institution
    merged: list[MergedInstitution]
    merged_now: bool = False  # false: every one was merged into it before
    users_moved: int = 0
    courses_moved: int = 0
    renamed_courses: list[RenamedCourse] = field(default_factory=list)
    enrollments_created: int = 0


async def merge_institutions(
    session: AsyncSession, into_id: int, duplicate_ids: list[int], *, actor: Actor | None
) -> MergeResult:
    """Merge the duplicates into `into_id` and delete them. `actor` None is the operator at the
    command line. Merging an institution merged into the same one before changes nothing."""
    if actor is not None and not actor.is_platform_admin:
        raise Forbidden("Only a platform admin merges institutions.")
    duplicates = sorted(set(duplicate_ids))
    if not duplicates:
        raise Invalid("Name at least one institution to merge.", slug="nothing-to-merge")
    if into_id in duplicates:
        raise Invalid("An institution cannot be merged into itself.", slug="merge-into-itself")
    found = await _lock(session, [into_id, *duplicates])
    into = found.get(into_id)
    if into is None:
        raise NotFound("No such institution.")
    present = [found[i] for i in duplicates if i in found]
    earlier = await _merged_before(session, into_id, [i for i in duplicates if i not in found])
    merged = [MergedInstitution(i.id, i.name, i.slug) for i in present] + earlier
    if not present:
        return MergeResult(into, merged)
    result = MergeResult(into, merged, merged_now=True)
    ids = [i.id for i in present]
    missing_defaults = await _missing_default_enrollments(session, into_id, ids)
    result.users_moved = await _move(session, "users", ids, into_id)
    result.renamed_courses = await _rename_clashing_courses(session, into_id, ids)
    result.courses_moved = await _move(session, "courses", ids, into_id)
    await _move(session, "payments", ids, into_id)
    await _move(session, "events", ids, into_id)
    await _move_connections(session, ids, into_id)
    await _keep_names(session, present, into_id, actor)
    await session.execute(delete(Institution).where(Institution.id.in_(ids)))
    for user_id, course in missing_defaults:
        created = await enroll(
            session, user_id=user_id, course=course, source=EnrollmentSource.DEFAULT
        )
        result.enrollments_created += created.changed
    record_event(
        session,
        InstitutionMerged(
            institution_id=into_id,
            merged=[asdict(m) for m in merged],
            users_moved=result.users_moved,
            courses_moved=result.courses_moved,
        ),
        institution_id=into_id,
    )
    return result


async def _lock(session: AsyncSession, ids: list[int]) -> dict[int, Institution]:
    """The institutions with these ids, locked in id order (PostgreSQL) so that two merges, or
    a merge and a registration, take their turns."""
    rows = await session.scalars(
        select(Institution)
        .where(Institution.id.in_(ids))
        .order_by(Institution.id)
        .with_for_update()
    )
    return {institution.id: institution for institution in rows}


async def _merged_before(
    session: AsyncSession, into_id: int, gone: list[int]
) -> list[MergedInstitution]:
    if not gone:
        return []
    rows = (
        await session.scalars(
            select(InstitutionMerge).where(
                InstitutionMerge.merged_id.in_(gone), InstitutionMerge.into_id == into_id
            )
        )
    ).all()
    if len(rows) != len(gone):
        raise NotFound("No such institution.")
    return [MergedInstitution(row.merged_id, row.name, row.slug) for row in rows]


@dataclass(frozen=True)
class _DefaultCourse:
    id: int
    institution_id: int
    title: str


async def _missing_default_enrollments(
    session: AsyncSession, into_id: int, merged_ids: list[int]
) -> list[tuple[int, _DefaultCourse]]:
    """The (student, course) pairs the merge leaves out of a default course: a student of one
    of the institutions and a published default course of another, never enrolled in it. (A
    student unenrolled from a default course before stays unenrolled.)"""
    ids = [into_id, *merged_ids]
    pairs = await session.execute(
        select(User.id, Course.id, Course.title)
        .join(Course, Course.institution_id != User.institution_id)
        .where(
            User.institution_id.in_(ids),
            User.role == Role.STUDENT,
            Course.institution_id.in_(ids),
            Course.access == CourseAccess.DEFAULT,
            Course.status == CourseStatus.PUBLISHED,
            ~exists().where(Enrollment.user_id == User.id, Enrollment.course_id == Course.id),
        )
        .order_by(User.id, Course.id)
    )
    return [
        (user_id, _DefaultCourse(course_id, into_id, title)) for user_id, course_id, title in pairs
    ]


async def _move(session: AsyncSession, table_name: str, ids: list[int], into_id: int) -> int:
    """Move the table's rows of the merged institutions into `into_id`; how many moved."""
    table = _TABLES[table_name]
    moved = await session.execute(
        update(table).where(table.c.institution_id.in_(ids)).values(institution_id=into_id)
    )
    return cast(CursorResult[Any], moved).rowcount


# What an institution is joined to and still owes: its sign-in providers, LTI platforms,
# webhook subscriptions and learning record stores (whose cursors follow the events moved with
# them), and the mail not yet sent. Audit runs describe the duplicate alone and go with it.
_CONNECTIONS = (
    "lti_platforms",
    "outbound_destinations",
    "webhook_subscriptions",
    "xapi_destinations",
    "mail_outbox",
)


async def _move_connections(session: AsyncSession, ids: list[int], into_id: int) -> None:
    for table_name in _CONNECTIONS:
        await _move(session, table_name, ids, into_id)
    await _move_sign_in_providers(session, ids, into_id)


async def _move_sign_in_providers(session: AsyncSession, ids: list[int], into_id: int) -> None:
    """A duplicate's provider that the institution has by then (the same issuer and client)
    gives its people's identities to the institution's own and goes; the others move."""
    providers = _TABLES["oidc_providers"]
    identities = _TABLES["oidc_identities"]
    kept = providers.alias("kept")
    for duplicate_id in ids:
        same = (
            select(providers.c.id, kept.c.id.label("kept_id"))
            .join(
                kept,
                (kept.c.issuer == providers.c.issuer) & (kept.c.client_id == providers.c.client_id),
            )
            .where(providers.c.institution_id == duplicate_id, kept.c.institution_id == into_id)
        )
        for provider_id, kept_id in (await session.execute(same)).all():
            taken = select(identities.c.subject).where(identities.c.provider_id == kept_id)
            await session.execute(
                update(identities)
                .where(identities.c.provider_id == provider_id, identities.c.subject.not_in(taken))
                .values(provider_id=kept_id)
            )
            await session.execute(delete(providers).where(providers.c.id == provider_id))
        await _move(session, "oidc_providers", [duplicate_id], into_id)


async def _rename_clashing_courses(
    session: AsyncSession, into_id: int, ids: list[int]
) -> list[RenamedCourse]:
    """Give a moving course whose slug the institution already uses the next free one."""
    taken = set(await session.scalars(select(Course.slug).where(Course.institution_id == into_id)))
    moving = await session.execute(
        select(Course.id, Course.title, Course.slug)
        .where(Course.institution_id.in_(ids))
        .order_by(Course.id)
    )
    renamed = []
    for course_id, title, slug in moving.all():
        new_slug = free_slug(slug, taken)
        taken.add(new_slug)
        if new_slug != slug:
            await session.execute(
                update(_TABLES["courses"]).where(Course.id == course_id).values(slug=new_slug)
            )
            renamed.append(RenamedCourse(course_id, title, new_slug))
    return renamed


async def _keep_names(
    session: AsyncSession, merged: list[Institution], into_id: int, actor: Actor | None
) -> None:
    """Names and slugs of the merged lead to `into_id`, theirs and those merged into them."""
    ids = [institution.id for institution in merged]
    merges = _TABLES["institution_merges"]
    await session.execute(update(merges).where(merges.c.into_id.in_(ids)).values(into_id=into_id))
    now = utcnow()
    session.add_all(
        InstitutionMerge(
            merged_id=institution.id,
            name=institution.name,
            name_key=institution.name_key,
            slug=institution.slug,
            into_id=into_id,
            merged_by=actor.id if actor else None,
            merged_at=now,
        )
        for institution in merged
    )
