"""xAPI destinations: each institution's learning record stores

`xapi_destinations` holds an LRS's endpoint, Basic credentials, whether it is enabled, the
namespace its statement ids are drawn from and the origin of its activity ids. Each is an
outbound destination of the same id, which holds the cursor over the event log.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "xapi_destinations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=2000), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("secret", sa.String(length=500), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("statement_namespace", sa.String(length=36), nullable=False),
        sa.Column("activity_origin", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["id"],
            ["outbound_destinations.id"],
            name=op.f("fk_xapi_destinations_id_outbound_destinations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_xapi_destinations_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_destinations")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_xapi_destinations_institution_id"), "xapi_destinations", ["institution_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_xapi_destinations_institution_id"), table_name="xapi_destinations")
    op.drop_table("xapi_destinations")
