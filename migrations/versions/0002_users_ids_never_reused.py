"""users' ids are never handed out again on SQLite

SQLite gives a new row the highest id plus one, so the id of the newest user, once deleted,
went to the next one, who then matched what the event log keeps about the deleted user.
AUTOINCREMENT makes SQLite remember the highest id ever used. PostgreSQL's sequences never
go back; there this migration does nothing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild_users(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # The table is copied into a new one declared with (or without) AUTOINCREMENT; migrations/
    # env.py turns foreign keys off meanwhile, so the rows that refer to users stay.
    with op.batch_alter_table(
        "users", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _rebuild_users(autoincrement=True)


def downgrade() -> None:
    _rebuild_users(autoincrement=False)
