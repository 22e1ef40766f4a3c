"""no id is handed out again on SQLite

SQLite gives a new row the highest id plus one, so deleting the newest course, lesson,
request, enrollment, payment or attempt gave its id to the next one, which then matched what
the event log, old links and notifications say about the row that was deleted. 0002 and 0003
made users and institutions AUTOINCREMENT; this does the same for every other table with an
id (the models declare it once, in `lectern.models.base`). PostgreSQL's sequences never go
back; there this migration does nothing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "api_tokens",
    "auth_sessions",
    "courses",
    "chapters",
    "lessons",
    "access_requests",
    "enrollments",
    "notifications",
    "payments",
    "certificates",
    "qbank_questions",
    "qbank_tests",
    "quiz_attempts",
    "institution_merges",
    "webhook_events",
)


def _rebuild(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # migrations/env.py turns foreign keys off meanwhile, so the rows that refer to these stay.
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
