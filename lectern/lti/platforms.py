"""Admins' commands and reads on their institution's platforms, launches and score sends."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.lti.keys import KeySetUnavailable, fetch_key_set
from lectern.lti.schemas import ConnectionOut, PlatformChange, PlatformIn, ScoreOut
from lectern.models import LtiGradeLink, LtiLaunch, LtiPlatform, LtiScore
from lectern.models.base import utcnow
from lectern.platform.actor import Actor
from lectern.platform.db import insert_for
from lectern.platform.errors import Conflict, Forbidden, Invalid, NotFound


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only an admin manages LTI platforms.")


async def platform_of(session: AsyncSession, actor: Actor, platform_id: int) -> LtiPlatform:
    """One of the admin's institution's platforms; another institution's is unknown."""
    _require_admin(actor)
    platform = await session.get(LtiPlatform, platform_id)
    if platform is None or platform.institution_id != actor.institution_id:
        raise NotFound("No such LTI platform.")
    return platform


async def list_platforms(session: AsyncSession, actor: Actor) -> list[LtiPlatform]:
    _require_admin(actor)
    rows = await session.scalars(
        select(LtiPlatform)
        .where(LtiPlatform.institution_id == actor.institution_id)
        .order_by(LtiPlatform.id)
    )
    return list(rows)


def _taken() -> Conflict:
    return Conflict(
        "A platform with this issuer and client id is registered already.", slug="lti-taken"
    )


async def register_platform(session: AsyncSession, actor: Actor, body: PlatformIn) -> LtiPlatform:
    """Add a platform to the admin's institution; its issuer and client id are Lectern-wide
    unique (a launch names only them)."""
    _require_admin(actor)
    now = utcnow()
    platform_id = await session.scalar(
        insert_for(session)(LtiPlatform)
        .values(
            institution_id=actor.institution_id,
            **_fields(body),
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["issuer", "client_id"])
        .returning(LtiPlatform.id)
    )
    if platform_id is None:
        raise _taken()
    return await session.get_one(LtiPlatform, platform_id)


async def edit_platform(
    session: AsyncSession, actor: Actor, platform_id: int, body: PlatformChange
) -> LtiPlatform:
    """Change the fields given; a null is refused except for the auth token URL."""
    platform = await platform_of(session, actor, platform_id)
    fields = body.model_dump(exclude_unset=True)
    cleared = [name for name, value in fields.items() if value is None and name != "auth_token_url"]
    if cleared:
        raise Invalid(f"{', '.join(cleared)} cannot be null.", slug="lti-required")
    if "deployment_ids" in fields:
        fields["deployment_ids"] = list(dict.fromkeys(fields["deployment_ids"]))
    issuer = fields.get("issuer", platform.issuer)
    client_id = fields.get("client_id", platform.client_id)
    if (issuer, client_id) != (platform.issuer, platform.client_id):
        clash = await session.scalar(
            select(LtiPlatform.id).where(
                LtiPlatform.issuer == issuer,
                LtiPlatform.client_id == client_id,
                LtiPlatform.id != platform.id,
            )
        )
        if clash is not None:
            raise _taken()
    for name, value in fields.items():
        setattr(platform, name, value)
    platform.updated_at = utcnow()
    await session.flush()
    return platform


async def delete_platform(session: AsyncSession, actor: Actor, platform_id: int) -> None:
    """Remove a platform with its logins, launches and pending scores; its learners stay."""
    await session.delete(await platform_of(session, actor, platform_id))


def _fields(body: PlatformIn) -> dict[str, Any]:
    fields = body.model_dump()
    fields["deployment_ids"] = list(dict.fromkeys(fields["deployment_ids"]))
    return fields


async def check_connection(jwks_url: str) -> ConnectionOut:
    """Fetch the platform's key set now, as a launch would."""
    try:
        key_set = await fetch_key_set(jwks_url)
    except KeySetUnavailable as unavailable:
        return ConnectionOut(reachable=False, keys=0, detail=unavailable.detail)
    count = len(key_set.keys)
    return ConnectionOut(reachable=True, keys=count, detail=f"{count} RSA key(s) published.")


async def recent_launches(
    session: AsyncSession, actor: Actor, platform_id: int, *, limit: int
) -> list[LtiLaunch]:
    platform = await platform_of(session, actor, platform_id)
    rows = await session.scalars(
        select(LtiLaunch)
        .where(LtiLaunch.platform_id == platform.id)
        .order_by(LtiLaunch.id.desc())
        .limit(limit)
    )
    return list(rows)


async def recent_scores(
    session: AsyncSession, actor: Actor, platform_id: int, *, limit: int
) -> list[ScoreOut]:
    platform = await platform_of(session, actor, platform_id)
    rows = await session.execute(
        select(LtiScore, LtiGradeLink)
        .join(LtiGradeLink, LtiGradeLink.id == LtiScore.grade_link_id)
        .where(LtiGradeLink.platform_id == platform.id)
        .order_by(LtiScore.id.desc())
        .limit(limit)
    )
    return [
        ScoreOut.model_validate(
            {
                **{c.key: getattr(score, c.key) for c in LtiScore.__table__.columns},
                "platform_id": link.platform_id,
                "user_id": link.user_id,
                "course_id": link.course_id,
            }
        )
        for score, link in rows.all()
    ]
