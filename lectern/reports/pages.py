"""Reading a report's rows a page at a time, by keyset: memory holds one page, however many
rows the report has."""

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

PAGE_SIZE = 1000
# A SELECT of any columns.
Query = Select[*tuple[Any, ...]]


async def keyset_pages(
    session: AsyncSession,
    query: Query,
    key: ColumnElement[Any] | InstrumentedAttribute[Any],
    size: int = PAGE_SIZE,
) -> AsyncIterator[list[Any]]:
    """The query's rows in order of `key` (unique, and selected as the first column), `size`
    at a time; each page is read after the one before has been used."""
    last = None
    while True:
        page_query = query.order_by(key).limit(size)
        if last is not None:
            page_query = page_query.where(key > last)
        page = list((await session.execute(page_query)).all())
        if not page:
            return
        yield page
        if len(page) < size:
            return
        last = page[-1][0]
