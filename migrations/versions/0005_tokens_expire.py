"""Bearer tokens expire and carry a name

A token from POST /api/v1/auth/tokens worked for ever. Each now has `expires_at`, set at issue
from LECTERN_TOKEN_DAYS; the tokens already issued get thirty days (the setting's default)
from this migration. `name` is what the owner called a token, to tell their tokens apart.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXISTING_TOKENS_DAYS = 30


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("name", sa.String(length=100), nullable=True))
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    expires_at = datetime.now(UTC) + timedelta(days=EXISTING_TOKENS_DAYS)
    if op.get_bind().dialect.name == "sqlite":
        expires_at = expires_at.replace(tzinfo=None)  # as UTCDateTime stores it there
    op.execute(
        sa.text("UPDATE api_tokens SET expires_at = :expires_at").bindparams(
            sa.bindparam("expires_at", expires_at, type_=sa.DateTime(timezone=True))
        )
    )
    # On SQLite this rebuilds the table, which must stay AUTOINCREMENT (see 0004).
    with op.batch_alter_table("api_tokens", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("expires_at")
        batch.drop_column("name")
