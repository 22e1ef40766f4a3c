"""events may be for all of an institution's learners

A new audience, `learners`, reaches every learner of the event's institution: their open
catalogs hear that a published course changed (catalog.changed, which names only the course).
The audience CHECK takes the new value.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 18:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _audiences(values: str) -> None:
    # On SQLite this rebuilds the table, which must stay AUTOINCREMENT (see 0004).
    with op.batch_alter_table("events", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint(op.f("ck_events_audience"), type_="check")
        batch.create_check_constraint("audience", f"audience IN ({values})")


def upgrade() -> None:
    _audiences("'learner', 'admins', 'both', 'learners'")


def downgrade() -> None:
    op.execute("DELETE FROM events WHERE audience = 'learners'")
    _audiences("'learner', 'admins', 'both'")
