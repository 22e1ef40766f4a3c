"""A paid course keeps no waitlist: its seats are bought, and a waitlist would either enroll a
learner without a payment or hold a seat for a payment that may never come. Paid courses lose
their waitlist (and its entries, which no learner could have joined by buying), and a CHECK
keeps it so.

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-06 20:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAID_WITHOUT_WAITLIST = "NOT (access = 'paid' AND waitlist)"


def upgrade() -> None:
    op.execute(
        "DELETE FROM waitlist_entries"
        " WHERE course_id IN (SELECT id FROM courses WHERE access = 'paid')"
    )
    op.execute("UPDATE courses SET waitlist = false WHERE access = 'paid' AND waitlist")
    with op.batch_alter_table("courses", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.create_check_constraint("paid_without_waitlist", PAID_WITHOUT_WAITLIST)


def downgrade() -> None:
    with op.batch_alter_table("courses", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint(op.f("ck_courses_paid_without_waitlist"), type_="check")
