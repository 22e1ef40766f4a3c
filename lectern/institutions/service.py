from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.institutions.rules import free_slug, normalize_name, slugify
from lectern.models import Institution, InstitutionMerge
from lectern.models.base import utcnow
from lectern.platform.db import insert_for
from lectern.platform.errors import Invalid, NotFound


async def get_or_create_institution(session: AsyncSession, name: str) -> Institution:
    """The institution with this normalized name (or the one an institution of this name was
    merged into), created if there is none."""
    key = normalize_name(name)
    if not key:
        raise Invalid("An institution needs a name.")
    existing = await session.scalar(select(Institution).where(Institution.name_key == key))
    if existing is None:
        existing = await _merged_into(session, InstitutionMerge.name_key == key)
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
    """The institution with this slug, or the one an institution of this slug was merged into.
    On PostgreSQL it is locked against a merge until the transaction ends."""
    slug = slug.strip().lower()
    found = await session.scalar(
        select(Institution).where(Institution.slug == slug).with_for_update(read=True)
    )
    return found or await _merged_into(session, InstitutionMerge.slug == slug)


async def _merged_into(session: AsyncSession, which: ColumnElement[bool]) -> Institution | None:
    return await session.scalar(
        select(Institution)
        .join(InstitutionMerge, InstitutionMerge.into_id == Institution.id)
        .where(which)
        .with_for_update(read=True, of=Institution)
    )


async def _free_slug(session: AsyncSession, base: str) -> str:
    """A slug neither an institution nor a merged one has."""
    taken: set[str] = set()
    for column in (Institution.slug, InstitutionMerge.slug):
        found = await session.scalars(
            select(column).where((column == base) | column.like(f"{base}-%"))
        )
        taken.update(found)
    return free_slug(base, taken)


async def institution_id_of(session: AsyncSession, reference: str) -> int:
    """The id an operator means by an id, a name or a slug; a merged institution's own id."""
    if reference.strip().isdigit():
        return int(reference)
    key, slug = normalize_name(reference), reference.strip().lower()
    # Names before slugs, and live institutions before merged ones.
    for id_column, condition in (
        (Institution.id, Institution.name_key == key),
        (Institution.id, Institution.slug == slug),
        (InstitutionMerge.merged_id, InstitutionMerge.name_key == key),
        (InstitutionMerge.merged_id, InstitutionMerge.slug == slug),
    ):
        found = await session.scalar(select(id_column).where(condition))
        if found is not None:
            return found
    raise NotFound(f"No institution is called or has the slug '{reference}'.")
