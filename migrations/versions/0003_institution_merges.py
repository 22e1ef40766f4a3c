"""institution merges, and institutions' ids never handed out again on SQLite

Merging moves a duplicate institution's people and courses into another and deletes it;
`institution_merges` keeps its name and slug, which lead to the institution it went into.
Since institutions can now be deleted, SQLite gets AUTOINCREMENT on them, as on users (0002).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild_institutions(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "institutions", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _rebuild_institutions(autoincrement=True)
    op.create_table(
        "institution_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("into_id", sa.Integer(), nullable=False),
        sa.Column("merged_by", sa.Integer(), nullable=True),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["into_id"],
            ["institutions.id"],
            name=op.f("fk_institution_merges_into_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merged_by"],
            ["users.id"],
            name=op.f("fk_institution_merges_merged_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_merges")),
        sa.UniqueConstraint("name_key", name=op.f("uq_institution_merges_name_key")),
        sa.UniqueConstraint("slug", name=op.f("uq_institution_merges_slug")),
    )
    with op.batch_alter_table("institution_merges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_institution_merges_into_id"), ["into_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("institution_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_merges_into_id"))
    op.drop_table("institution_merges")
    _rebuild_institutions(autoincrement=False)
