"""legacy-id links kept as lists, a few rows per legacy table of an import

`legacy_ids` held one row per legacy row an import took in, under a key on (legacy table,
legacy id): an import of a large school wrote a million rows and built that key, though the
links are only ever read all at once, by the next import. `legacy_links` holds them as two
lists per row, the nth legacy id and the Lectern id it became, up to 100,000 per row, which
PostgreSQL compresses with lz4 where it has it (its default, pglz, took three times as long to
write them). Existing links move over as one row per import and legacy table.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LZ4 = """
    DO $$ BEGIN
        EXECUTE 'ALTER TABLE legacy_links ALTER COLUMN legacy_ids SET COMPRESSION lz4,'
                ' ALTER COLUMN lectern_ids SET COMPRESSION lz4';
    EXCEPTION WHEN feature_not_supported THEN NULL;
    END $$
"""
MOVE_POSTGRESQL = """
    INSERT INTO legacy_links (import_id, legacy_table, legacy_ids, lectern_ids)
    SELECT import_id, legacy_table, json_agg(legacy_id ORDER BY legacy_id),
           json_agg(lectern_id ORDER BY legacy_id)
    FROM legacy_ids GROUP BY import_id, legacy_table
"""
MOVE_SQLITE = """
    INSERT INTO legacy_links (import_id, legacy_table, legacy_ids, lectern_ids)
    SELECT import_id, legacy_table, json_group_array(legacy_id), json_group_array(lectern_id)
    FROM (SELECT * FROM legacy_ids ORDER BY legacy_id) GROUP BY import_id, legacy_table
"""
BACK_POSTGRESQL = """
    INSERT INTO legacy_ids (legacy_table, legacy_id, lectern_id, import_id)
    SELECT l.legacy_table, i.legacy_id, (l.lectern_ids -> (i.n::int - 1))::text::int, l.import_id
    FROM legacy_links l, json_array_elements_text(l.legacy_ids) WITH ORDINALITY AS i(legacy_id, n)
"""
BACK_SQLITE = """
    INSERT INTO legacy_ids (legacy_table, legacy_id, lectern_id, import_id)
    SELECT l.legacy_table, i.value, json_extract(l.lectern_ids, '$[' || i.key || ']'), l.import_id
    FROM legacy_links l, json_each(l.legacy_ids) AS i
"""


def upgrade() -> None:
    op.create_table(
        "legacy_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("legacy_table", sa.String(length=40), nullable=False),
        sa.Column("legacy_ids", sa.JSON(), nullable=False),
        sa.Column("lectern_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["legacy_imports.id"],
            name=op.f("fk_legacy_links_import_id_legacy_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legacy_links")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_legacy_links_import_id"), "legacy_links", ["import_id"])
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(LZ4)
    op.execute(MOVE_POSTGRESQL if postgres else MOVE_SQLITE)
    op.drop_index(op.f("ix_legacy_ids_import_id"), table_name="legacy_ids")
    op.drop_table("legacy_ids")


def downgrade() -> None:
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
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(BACK_POSTGRESQL if postgres else BACK_SQLITE)
    op.drop_index(op.f("ix_legacy_links_import_id"), table_name="legacy_links")
    op.drop_table("legacy_links")
