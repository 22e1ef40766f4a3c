"""The legacy-id links: which Lectern row each legacy row an import took in became, so that the
next import takes in only what is new. Written and read as lists, table by table."""

from collections.abc import Iterable, Iterator

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.importing.plan import LINKED, Plan
from lectern.importing.rows import Ids, resolved
from lectern.models import LegacyLinks
from lectern.models.imports import LINKS_PER_ROW

# The columns of a COPY of `link_records`.
COPIED_COLUMNS = ["import_id", "legacy_table", "legacy_ids", "lectern_ids"]


def _link_lists(
    plan: Plan, ids: Ids, tables: Iterable[str]
) -> Iterator[tuple[str, list[str], list[int | None]]]:
    """Per legacy table of `tables`, its legacy ids and the Lectern ids they became, with each
    planned row's reference resolved to its new id; up to LINKS_PER_ROW of each at a time."""
    for legacy_table in tables:
        links = plan.links.get(legacy_table)
        if links is None or not links.legacy_ids:
            continue
        lectern_ids = resolved(links.refs, ids[LINKED[legacy_table]])
        for start in range(0, len(lectern_ids), LINKS_PER_ROW):
            end = start + LINKS_PER_ROW
            yield legacy_table, links.legacy_ids[start:end], lectern_ids[start:end]


async def write_links(
    session: AsyncSession, plan: Plan, ids: Ids, import_id: int, tables: Iterable[str]
) -> None:
    """The plan's links of the legacy `tables`, inserted."""
    values = [
        {"import_id": import_id, "legacy_table": table, "legacy_ids": legacy, "lectern_ids": ours}
        for table, legacy, ours in _link_lists(plan, ids, tables)
    ]
    if values:
        await session.execute(insert(LegacyLinks), values)


def link_records(
    plan: Plan, ids: Ids, import_id: int, tables: Iterable[str]
) -> list[tuple[int, str, list[str], list[int | None]]]:
    """The plan's links of the legacy `tables` as COPY takes them, in COPIED_COLUMNS."""
    return [
        (import_id, table, legacy, ours) for table, legacy, ours in _link_lists(plan, ids, tables)
    ]


async def known_links(session: AsyncSession) -> dict[str, dict[str, int]]:
    """Per legacy table, the legacy rows earlier imports took in, by legacy id: their Lectern
    ids."""
    known: dict[str, dict[str, int]] = {}
    rows = await session.execute(
        select(LegacyLinks.legacy_table, LegacyLinks.legacy_ids, LegacyLinks.lectern_ids)
    )
    for legacy_table, legacy_ids, lectern_ids in rows:
        known.setdefault(legacy_table, {}).update(zip(legacy_ids, lectern_ids, strict=True))
    return known
