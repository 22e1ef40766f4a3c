"""Legacy sources read once per module: the sample at several seeds from PostgreSQL."""

import pytest

from lectern.importing.plan import Legacy
from lectern.importing.source import read_legacy
from tests.importing.legacy_databases import legacy_postgres, sample_sql

SEEDS = (3, 11)
STUDENTS = 40


@pytest.fixture(scope="session")
def samples() -> dict[int, Legacy]:
    """The legacy sample at each seed, as read from a PostgreSQL legacy database."""
    read: dict[int, Legacy] = {}
    for seed in SEEDS:
        with legacy_postgres(sample_sql(STUDENTS, seed)) as url:
            read[seed] = read_legacy(url)
    return read
