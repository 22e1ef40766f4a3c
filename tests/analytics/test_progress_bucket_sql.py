"""The histogram's SQL bucket (kept by the triggers and recounted by the audit) puts each
progress where the pure rule does, on each database."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Float, literal, select

from lectern.analytics.rules import progress_histogram
from lectern.platform.db import Database
from lectern.tallies.expected import progress_bucket

EDGES = [0.0, 0.01, 9.99, 9.999999, 10.0, 10.000001, 49.5, 89.999, 90.0, 99.99, 99.9999999, 100.0]


def _rule_bucket(progress: float) -> int:
    return progress_histogram([progress]).index(1)


async def _sql_bucket(db: Database, progress: float) -> int:
    async with db.session() as session:
        bucket = await session.scalar(select(progress_bucket(literal(progress, Float))))
    assert bucket is not None
    return int(bucket)


async def test_the_sql_bucket_of_each_edge_is_the_rules(db: Database) -> None:
    assert [await _sql_bucket(db, p) for p in EDGES] == [_rule_bucket(p) for p in EDGES]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(progress=st.floats(min_value=0, max_value=100, allow_nan=False))
async def test_the_sql_bucket_of_any_progress_is_the_rules(db: Database, progress: float) -> None:
    assert await _sql_bucket(db, progress) == _rule_bucket(progress)
