from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.db import insert_for
from lectern.errors import Invalid
from lectern.institutions.rules import normalize_name, slugify
from lectern.models import Institution
from lectern.models.base import utcnow


async def get_or_create_institution(session: AsyncSession, name: str) -> Institution:
    """The institution with this normalized name, created if there is none."""
    key = normalize_name(name)
    if not key:
        raise Invalid("An institution needs a name.")
    existing = await session.scalar(select(Institution).where(Institution.name_key == key))
    if existing is not None:
        return existing
    slug = await _free_slug(session, slugify(key))
    insert = insert_for(session)
    await session.execute(
        insert(Institution)
        .values(name=" ".join(name.split()), name_key=key, slug=slug, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["name_key"])
    )
    return (await session.scalars(select(Institution).where(Institution.name_key == key))).one()


async def institution_by_slug(session: AsyncSession, slug: str) -> Institution | None:
    return await session.scalar(select(Institution).where(Institution.slug == slug.strip().lower()))


async def _free_slug(session: AsyncSession, base: str) -> str:
    taken = set(
        (
            await session.scalars(
                select(Institution.slug).where(
                    (Institution.slug == base) | Institution.slug.like(f"{base}-%")
                )
            )
        ).all()
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
