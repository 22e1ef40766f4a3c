"""indexes for admin reads at scale: the request queue and the payments lists, newest first

The request queue reads each course's requests of a status backwards along (course_id, status,
id), so a page costs as many short index reads as the institution has courses, whatever the
other institutions' requests; the payments lists read (institution_id, id) and (course_id, id)
backwards. The indexes they extend, on (course_id, status) and (course_id), go.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 20:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_access_requests_course_id_status_id",
        "access_requests",
        ["course_id", "status", "id"],
        unique=False,
    )
    op.drop_index("ix_access_requests_course_id_status", table_name="access_requests")
    op.create_index(
        "ix_payments_institution_id_id", "payments", ["institution_id", "id"], unique=False
    )
    op.create_index("ix_payments_course_id_id", "payments", ["course_id", "id"], unique=False)
    op.drop_index("ix_payments_course_id", table_name="payments")


def downgrade() -> None:
    op.create_index("ix_payments_course_id", "payments", ["course_id"], unique=False)
    op.drop_index("ix_payments_course_id_id", table_name="payments")
    op.drop_index("ix_payments_institution_id_id", table_name="payments")
    op.create_index(
        "ix_access_requests_course_id_status",
        "access_requests",
        ["course_id", "status"],
        unique=False,
    )
    op.drop_index("ix_access_requests_course_id_status_id", table_name="access_requests")
