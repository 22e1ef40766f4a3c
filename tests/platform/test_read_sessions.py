"""A request's reads: each statement stands alone on PostgreSQL, and rows become output models by
their column names."""

from datetime import datetime

import pytest
from sqlalchemy import literal, select, text

from lectern.platform.db import Database
from lectern.platform.schemas import Output, outputs


class Pair(Output):
    name: str
    seen_at: datetime | None


async def test_rows_become_outputs_by_their_column_names(db: Database) -> None:
    async with db.statement_session() as session:
        rows = (
            await session.execute(
                select(literal(None).label("seen_at"), literal("Ada").label("name"))
            )
        ).all()

    assert outputs(Pair, rows) == [Pair(name="Ada", seen_at=None)]
    assert outputs(Pair, []) == []


@pytest.mark.postgres_only
async def test_a_statement_session_reads_outside_a_transaction_and_a_session_inside_one(
    db: Database,
) -> None:
    later = text("SELECT now() FROM pg_sleep(0.01)")
    async with db.statement_session() as session:
        alone = [await session.scalar(later), await session.scalar(later)]
    async with db.session() as session:
        together = [await session.scalar(later), await session.scalar(later)]

    assert alone[0] < alone[1]  # each statement its own transaction
    assert together[0] == together[1]  # one transaction, begun once
