"""A person's own name and student profile (bio, languages, interests)."""

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import StudentProfile, User
from lectern.platform.actor import Actor
from lectern.platform.errors import Forbidden


async def rename(session: AsyncSession, actor: Actor, full_name: str) -> User:
    await session.execute(update(User).where(User.id == actor.id).values(full_name=full_name))
    return await session.get_one(User, actor.id, populate_existing=True)


async def profile_of(session: AsyncSession, actor: Actor) -> StudentProfile:
    profile = await session.get(StudentProfile, actor.id)
    if profile is None:
        raise Forbidden("Only students have a profile.", slug="no-profile")
    return profile


async def update_profile(
    session: AsyncSession,
    actor: Actor,
    *,
    bio: str | None = None,
    languages: list[str] | None = None,
    interests: list[str] | None = None,
) -> StudentProfile:
    """Change what is given; a language or interest listed twice is kept once."""
    profile = await profile_of(session, actor)
    if bio is not None:
        profile.bio = bio
    if languages is not None:
        profile.languages = list(dict.fromkeys(languages))
    if interests is not None:
        profile.interests = list(dict.fromkeys(interests))
    await session.flush()
    return profile
