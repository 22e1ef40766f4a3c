"""legacy imports and the legacy ids they took in

`lectern import-legacy --apply` records each import with its report in `legacy_imports`, and
every legacy row it took in (imported or merged) in `legacy_ids` with the Lectern row it
became, so that running it again takes in only the rows that are new.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legacy_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column(
            "report", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legacy_imports")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "legacy_ids",
        sa.Column("legacy_table", sa.String(length=40), nullable=False),
        sa.Column("legacy_id", sa.String(length=64), nullable=False),
        sa.Column("lectern_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["legacy_imports.id"],
            name=op.f("fk_legacy_ids_import_id_legacy_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("legacy_table", "legacy_id", name=op.f("pk_legacy_ids")),
    )
    op.create_index(op.f("ix_legacy_ids_import_id"), "legacy_ids", ["import_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_legacy_ids_import_id"), table_name="legacy_ids")
    op.drop_table("legacy_ids")
    op.drop_table("legacy_imports")
