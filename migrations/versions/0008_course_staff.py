"""course staff: instructors, teaching assistants and observers per course

`course_staff` gives a person a role in one course. An institution's admins keep every right
in it; a user with the role `instructor` now reaches only the courses they are staff of. No
course recorded its creator, so every instructor becomes an instructor of every course of
their institution: nobody loses access, and admins narrow it from there.

Events carry the course they are about in `course_id` (from their payload: `course_id`, or
`id` for course events), so that a course's staff see its events and no other course's.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COURSE_EVENTS = (
    "course.created",
    "course.updated",
    "course.draft",
    "course.published",
    "course.archived",
    "course.deleted",
)
EVENTS = sa.table(
    "events", sa.column("type", sa.String), sa.column("payload", sa.JSON), sa.column("course_id")
)


def upgrade() -> None:
    op.create_table(
        "course_staff",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('instructor', 'ta', 'observer')", name=op.f("ck_course_staff_role")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_staff_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_course_staff_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "user_id", name=op.f("pk_course_staff")),
    )
    op.create_index(op.f("ix_course_staff_user_id"), "course_staff", ["user_id"], unique=False)
    op.execute(
        "INSERT INTO course_staff (course_id, user_id, role, created_at)"
        " SELECT courses.id, users.id, 'instructor', CURRENT_TIMESTAMP"
        " FROM users JOIN courses ON courses.institution_id = users.institution_id"
        " WHERE users.role = 'instructor'"
    )
    op.add_column("events", sa.Column("course_id", sa.Integer(), nullable=True))
    payload = EVENTS.c.payload
    op.execute(
        EVENTS.update().values(
            course_id=sa.case(
                (EVENTS.c.type.in_(COURSE_EVENTS), payload["id"].as_integer()),
                else_=payload["course_id"].as_integer(),
            )
        )
    )


def downgrade() -> None:
    # On SQLite this rebuilds the table, which must stay AUTOINCREMENT (see 0004).
    with op.batch_alter_table("events", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("course_id")
    op.drop_index(op.f("ix_course_staff_user_id"), table_name="course_staff")
    op.drop_table("course_staff")
