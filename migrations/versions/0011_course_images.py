"""Courses may have an image

`courses.image` names the course's image in the media directory (lectern.courses.images),
stored as WebP under a name made of the course and a digest of its bytes; null: none.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 17:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("courses") as batch:
        batch.add_column(sa.Column("image", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("courses") as batch:
        batch.drop_column("image")
