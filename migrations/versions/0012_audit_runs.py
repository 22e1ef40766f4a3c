"""audit runs: each consistency audit recorded with its progress and findings

The scheduled audit and the ones admins start are recorded in `audit_runs`, so that the admin
consistency page shows the last run and its time instead of auditing inside the request.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column(
            "findings", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'finished', 'failed')", name=op.f("ck_audit_runs_status")
        ),
        sa.CheckConstraint(
            "progress >= 0 AND progress <= 1", name=op.f("ck_audit_runs_progress_range")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_audit_runs_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_runs")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_audit_runs_institution_id_id", "audit_runs", ["institution_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_audit_runs_institution_id_id", table_name="audit_runs")
    op.drop_table("audit_runs")
