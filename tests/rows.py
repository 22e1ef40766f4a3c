"""What the database holds, read straight from the tables, to compare with what the API says."""

from typing import Any

from sqlalchemy import func, select, text

from lectern.models import Base
from lectern.platform.db import Database


async def row_counts(db: Database) -> dict[str, int]:
    """The number of rows in every table."""
    async with db.session() as session:
        return {
            table.name: await session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


async def rows(db: Database, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with db.session() as session:
        result = await session.execute(text(sql), params)
        return [dict(row._mapping) for row in result]


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.session() as session:
        return await session.scalar(text(sql), params)


async def tally_rows(db: Database) -> list[list[dict[str, object]]]:
    """Every tally row; a row of zeros counts as no row."""
    counted = "active + completed + cancelled + expired + pending_requests <> 0"
    return [
        await rows(db, sql)
        for sql in (
            f"SELECT * FROM course_tallies WHERE {counted} ORDER BY course_id",  # noqa: S608
            f"SELECT * FROM learner_tallies WHERE {counted} ORDER BY user_id",  # noqa: S608
            "SELECT * FROM progress_buckets WHERE enrollments <> 0 ORDER BY course_id, bucket",
            "SELECT * FROM completion_days WHERE completions <> 0 ORDER BY course_id, day",
            "SELECT * FROM institution_tallies WHERE students + active_learners <> 0"
            " ORDER BY institution_id, shard",
        )
    ]


async def event_types(db: Database, since_id: int = 0) -> list[str]:
    return [
        r["type"]
        for r in await rows(db, "SELECT type FROM events WHERE id > :i ORDER BY id", i=since_id)
    ]


async def last_event_id(db: Database) -> int:
    return int(await scalar(db, "SELECT coalesce(max(id), 0) FROM events"))


async def insert_learning_facts(db: Database, enrollment_id: int, lesson_id: int) -> None:
    """A lesson_progress row and a quiz attempt, written directly as the learning API would."""
    params = {"e": enrollment_id, "l": lesson_id}
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO lesson_progress (enrollment_id, lesson_id, watched, watched_s,"
                " updated_at) VALUES (:e, :l, '[]', 0, CURRENT_TIMESTAMP)"
            ),
            params,
        )
        await connection.execute(
            text(
                "INSERT INTO quiz_attempts (enrollment_id, lesson_id, answers, score, passed,"
                " created_at) VALUES (:e, :l, '[0]', 1.0, true, CURRENT_TIMESTAMP)"
            ),
            params,
        )


async def empty_tables(db: Database) -> None:
    """Delete every row, as between tests."""
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with db.engine.begin() as connection:
        if db.is_postgres:
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608
