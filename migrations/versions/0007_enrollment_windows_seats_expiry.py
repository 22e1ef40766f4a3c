"""enrollment windows, seat limits with a waitlist, enrollments that end

Courses get an enrollment window (`enrollment_opens_at`, `enrollment_closes_at`), an access
duration (`access_days`), a `seat_limit` and a `waitlist` flag; enrollments get `ends_at`,
`expiry_notified_at` and the status `expired`; `waitlist_entries` holds the learners waiting for
a seat.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "'active', 'completed', 'cancelled'"
WINDOW = (
    "enrollment_closes_at IS NULL OR enrollment_opens_at IS NULL"
    " OR enrollment_opens_at < enrollment_closes_at"
)


def upgrade() -> None:
    # On SQLite these rebuild the tables, which must stay AUTOINCREMENT (see 0004).
    with op.batch_alter_table("courses", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("enrollment_opens_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("enrollment_closes_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("access_days", sa.Integer()))
        batch.add_column(sa.Column("seat_limit", sa.Integer()))
        batch.add_column(
            sa.Column("waitlist", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_check_constraint("seat_limit_not_negative", "seat_limit >= 0")
        batch.create_check_constraint("access_days_positive", "access_days > 0")
        batch.create_check_constraint("enrollment_window", WINDOW)
    with op.batch_alter_table("enrollments", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("ends_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("expiry_notified_at", sa.DateTime(timezone=True)))
        batch.drop_constraint(op.f("ck_enrollments_status"), type_="check")
        batch.create_check_constraint("status", f"status IN ({STATUSES}, 'expired')")
        batch.create_index("ix_enrollments_status_ends_at", ["status", "ends_at"])
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('self', 'request', 'admin', 'payment', 'default', 'import')",
            name=op.f("ck_waitlist_entries_source"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_waitlist_entries_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_waitlist_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
        sa.UniqueConstraint(
            "course_id", "user_id", name=op.f("uq_waitlist_entries_course_id_user_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_waitlist_entries_user_id", "waitlist_entries", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_waitlist_entries_user_id", table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
    op.execute("UPDATE enrollments SET status = 'cancelled' WHERE status = 'expired'")
    with op.batch_alter_table("enrollments", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_index("ix_enrollments_status_ends_at")
        batch.drop_constraint(op.f("ck_enrollments_status"), type_="check")
        batch.create_check_constraint("status", f"status IN ({STATUSES})")
        batch.drop_column("expiry_notified_at")
        batch.drop_column("ends_at")
    with op.batch_alter_table("courses", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint(op.f("ck_courses_enrollment_window"), type_="check")
        batch.drop_constraint(op.f("ck_courses_access_days_positive"), type_="check")
        batch.drop_constraint(op.f("ck_courses_seat_limit_not_negative"), type_="check")
        batch.drop_column("waitlist")
        batch.drop_column("seat_limit")
        batch.drop_column("access_days")
        batch.drop_column("enrollment_closes_at")
        batch.drop_column("enrollment_opens_at")
