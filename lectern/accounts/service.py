"""Commands on people: registration, logins, tokens, deletion."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments.service import enroll_each_in_default_courses, enroll_in_default_courses
from lectern.events.service import record_event
from lectern.events.types import UserDeleted, UserRegistered
from lectern.institutions.service import get_or_create_institution, institution_by_slug
from lectern.models import ApiToken, AuthSession, Institution, StudentProfile, User
from lectern.models.base import utcnow
from lectern.models.enums import Role
from lectern.platform.actor import Actor
from lectern.platform.config import DEFAULT_TOKEN_DAYS
from lectern.platform.db import insert_for, insert_of
from lectern.platform.errors import Conflict, Forbidden, Invalid, NotFound
from lectern.platform.tokens import new_token, token_digest


def email_key(email: str) -> str:
    return email.strip().lower()


async def _insert_user(
    session: AsyncSession,
    *,
    institution: Institution,
    email: str,
    password_hash: str,
    full_name: str,
    role: Role,
    is_platform_admin: bool = False,
) -> User | None:
    """Insert a user and, for a student, their profile; None if the e-mail is taken."""
    insert = insert_for(session)
    user_id = await session.scalar(
        insert(User)
        .values(
            institution_id=institution.id,
            email=email.strip(),
            email_key=email_key(email),
            password_hash=password_hash,
            full_name=full_name.strip(),
            role=role,
            is_platform_admin=is_platform_admin,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["email_key"])
        .returning(User.id)
    )
    if user_id is None:
        return None
    if role == Role.STUDENT:
        session.add(StudentProfile(user_id=user_id))
        await session.flush()
    return await session.get_one(User, user_id)


async def register_student(
    session: AsyncSession, *, institution_slug: str, email: str, password_hash: str, full_name: str
) -> User:
    """A new student and their profile, enrolled at once in the institution's default courses."""
    institution = await institution_by_slug(session, institution_slug)
    if institution is None:
        raise Invalid(f"There is no institution '{institution_slug}'.", slug="unknown-institution")
    user = await _insert_user(
        session,
        institution=institution,
        email=email,
        password_hash=password_hash,
        full_name=full_name,
        role=Role.STUDENT,
    )
    if user is None:
        raise Conflict("An account with this e-mail already exists.", slug="email-taken")
    await _welcome(session, user)
    return user


# Stored for a student invited without a password: no password verifies against it, so they
# set one through a password reset before they sign in.
NO_PASSWORD = "!no-password"  # noqa: S105 (not a password: a hash nothing matches)


async def invite_student(
    session: AsyncSession, *, institution: Institution, email: str, full_name: str
) -> User | None:
    """A student an admin adds without a password, enrolled at once in the institution's
    default courses; None if the e-mail is taken."""
    user = await _insert_user(
        session,
        institution=institution,
        email=email,
        password_hash=NO_PASSWORD,
        full_name=full_name,
        role=Role.STUDENT,
    )
    if user is not None:
        await _welcome(session, user)
    return user


@cache
def _invite_statement(dialect_name: str) -> Any:
    columns = User.__table__.c
    names = ("institution_id", "email", "email_key", "password_hash", "full_name", "role")
    return (
        insert_of(dialect_name)(User.__table__)
        .values({name: bindparam(name) for name in (*names, "is_platform_admin")})
        .values(created_at=bindparam("created_at", type_=columns.created_at.type))
        .on_conflict_do_nothing(index_elements=["email_key"])
        .returning(columns.id, columns.email_key, columns.email, columns.full_name)
    )


async def invite_students(
    session: AsyncSession, *, institution: Institution, people: Sequence[tuple[str, str]]
) -> dict[str, int]:
    """`invite_student` for many (e-mail, full name): the new users' ids by e-mail key, which
    lacks those whose e-mail is taken."""
    if not people:
        return {}
    now = utcnow()
    values = [
        {
            "institution_id": institution.id,
            "email": email.strip(),
            "email_key": email_key(email),
            "password_hash": NO_PASSWORD,
            "full_name": full_name.strip(),
            "role": Role.STUDENT,
            "is_platform_admin": False,
            "created_at": now,
        }
        for email, full_name in people
    ]
    written = await session.execute(_invite_statement(session.get_bind().dialect.name), values)
    invited: dict[str, int] = {}
    for user in sorted(written, key=lambda row: row.id):
        invited[user.email_key] = user.id
        record_event(
            session,
            UserRegistered(user_id=user.id, full_name=user.full_name, email=user.email),
            institution_id=institution.id,
            user_id=user.id,
        )
    if invited:
        await session.execute(
            insert_for(session)(StudentProfile),
            [{"user_id": user_id} for user_id in invited.values()],
        )
        await enroll_each_in_default_courses(session, institution.id, sorted(invited.values()))
    return invited


async def _welcome(session: AsyncSession, user: User) -> None:
    record_event(
        session,
        UserRegistered(user_id=user.id, full_name=user.full_name, email=user.email),
        institution_id=user.institution_id,
        user_id=user.id,
    )
    await enroll_in_default_courses(session, user)


async def create_staff(
    session: AsyncSession,
    *,
    institution_name: str,
    email: str,
    password_hash: str,
    full_name: str,
    role: Role = Role.ADMIN,
    is_platform_admin: bool = False,
) -> tuple[User, bool]:
    """An admin or instructor, creating the institution if needed; returns (user, created)."""
    institution = await get_or_create_institution(session, institution_name)
    user = await _insert_user(
        session,
        institution=institution,
        email=email,
        password_hash=password_hash,
        full_name=full_name,
        role=role,
        is_platform_admin=is_platform_admin,
    )
    if user is not None:
        return user, True
    existing = (await session.scalars(select(User).where(User.email_key == email_key(email)))).one()
    if existing.institution_id != institution.id or existing.role != role:
        raise Conflict("That e-mail belongs to another account.", slug="email-taken")
    return existing, False


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email_key == email_key(email)))


async def start_session(session: AsyncSession, user: User, *, days: int) -> tuple[str, str]:
    """A new browser session; returns the cookie value and its CSRF token."""
    token, csrf = new_token(), new_token()
    now = utcnow()
    session.add(
        AuthSession(
            token_hash=token_digest(token),
            csrf_token=csrf,
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    return token, csrf


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.token_hash == token_digest(token)))


async def issue_api_token(
    session: AsyncSession,
    user: User,
    *,
    expires_at: datetime | None = None,
    name: str | None = None,
) -> str:
    """A new Bearer token, by default for the default number of days; returns its secret."""
    token, now = new_token(), utcnow()
    session.add(
        ApiToken(
            token_hash=token_digest(token),
            user_id=user.id,
            name=name,
            created_at=now,
            expires_at=expires_at or now + timedelta(days=DEFAULT_TOKEN_DAYS),
        )
    )
    return token


async def delete_user(session: AsyncSession, actor: Actor, user_id: int) -> None:
    """Delete a person and, through cascading keys, everything that is only theirs."""
    user = await session.get(User, user_id)
    if user is None or (
        user.institution_id != actor.institution_id and not actor.is_platform_admin
    ):
        raise NotFound("No such user.")
    if not actor.is_admin and actor.id != user_id:
        raise Forbidden("Only an admin can delete another account.")
    await session.execute(delete(User).where(User.id == user_id))
    record_event(session, UserDeleted(user_id=user_id), institution_id=user.institution_id)
