"""e-mail outbox and preferences; password-reset and e-mail-change links; suspension; profiles

`mail_outbox` holds every message, written in the transaction that causes it and sent after
commit by the mail worker; `mail_preferences` each person's choice per kind of message and the
key their unsubscribe links are signed with. `account_links` holds the single-use, expiring
links of password resets and e-mail changes (their tokens' digests only). `users.suspended_at`
is set while an admin has suspended the account; student profiles gain languages and interests.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
KINDS = (
    "'request_reviewed', 'enrolled', 'enrollment_expiring', 'certificate_issued', 'digest', "
    "'password_reset', 'email_change', 'email_changed'"
)


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("unsubscribe_url", sa.String(length=1000), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_mail_outbox_kind")),
        sa.CheckConstraint(
            "status IN ('pending', 'held', 'digested', 'sent', 'failed')",
            name=op.f("ck_mail_outbox_status"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mail_outbox_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_mail_outbox_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_mail_outbox_message_id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["status", "next_attempt_at"])
    op.create_index(op.f("ix_mail_outbox_user_id"), "mail_outbox", ["user_id"])
    op.create_index(op.f("ix_mail_outbox_institution_id"), "mail_outbox", ["institution_id"])
    op.create_table(
        "mail_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("signing_key", sa.String(length=64), nullable=False),
        sa.Column("choices", JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mail_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mail_preferences")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "account_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("new_email", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('password_reset', 'email_change')", name=op.f("ck_account_links_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_links_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_account_links_user_id"), "account_links", ["user_id"])
    op.add_column("users", sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
    for column in ("languages", "interests"):
        op.add_column(
            "student_profiles",
            sa.Column(column, JSON, nullable=False, server_default=sa.text("'[]'")),
        )
    # Lectern writes both; the default only filled the rows already there.
    with op.batch_alter_table(
        "student_profiles", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        for column in ("languages", "interests"):
            batch.alter_column(column, existing_type=JSON, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table(
        "student_profiles", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.drop_column("interests")
        batch.drop_column("languages")
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("suspended_at")
    op.drop_table("account_links")
    op.drop_table("mail_preferences")
    op.drop_table("mail_outbox")
