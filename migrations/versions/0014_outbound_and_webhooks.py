"""outbound deliveries and webhook subscriptions

`outbound_destinations` holds each outside system an institution's events go to (a webhook
endpoint, a learning record store) with its cursor over the event log and its delivery state;
`outbound_deliveries` one row per attempt. `webhook_subscriptions` holds the endpoints admins
subscribe, with their event types and signing secrets; each is a destination of the same id.
The outbox gains the message that tells admins an integration was paused.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MAIL_KINDS = (
    "'request_reviewed', 'enrolled', 'enrollment_expiring', 'certificate_issued', 'digest', "
    "'password_reset', 'email_change', 'email_changed'"
)
PAUSED_KIND = "'integration_paused'"


def upgrade() -> None:
    op.create_table(
        "outbound_destinations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("delivered_through", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'paused')", name=op.f("ck_outbound_destinations_status")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_outbound_destinations_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_destinations")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_outbound_destinations_due",
        "outbound_destinations",
        ["kind", "status", "next_attempt_at"],
    )
    op.create_index(
        op.f("ix_outbound_destinations_institution_id"),
        "outbound_destinations",
        ["institution_id"],
    )
    op.create_table(
        "outbound_deliveries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("response_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("first_event_id", sa.BigInteger(), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('sent', 'failed')", name=op.f("ck_outbound_deliveries_status")
        ),
        sa.ForeignKeyConstraint(
            ["destination_id"],
            ["outbound_destinations.id"],
            name=op.f("fk_outbound_deliveries_destination_id_outbound_destinations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_deliveries")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_outbound_deliveries_destination_id_id",
        "outbound_deliveries",
        ["destination_id", "id"],
    )
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("event_types", JSON, nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("previous_secret", sa.String(length=100), nullable=True),
        sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["id"],
            ["outbound_destinations.id"],
            name=op.f("fk_webhook_subscriptions_id_outbound_destinations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_webhook_subscriptions_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_webhook_subscriptions_institution_id"),
        "webhook_subscriptions",
        ["institution_id"],
    )
    _mail_kinds(f"{MAIL_KINDS}, {PAUSED_KIND}")


def downgrade() -> None:
    op.execute(f"DELETE FROM mail_outbox WHERE kind = {PAUSED_KIND}")  # noqa: S608 - constants
    _mail_kinds(MAIL_KINDS)
    op.drop_table("webhook_subscriptions")
    op.drop_table("outbound_deliveries")
    op.drop_table("outbound_destinations")


def _mail_kinds(kinds: str) -> None:
    """The outbox's kinds: SQLite changes a CHECK only by rebuilding the table."""
    with op.batch_alter_table(
        "mail_outbox", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.drop_constraint(op.f("ck_mail_outbox_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_mail_outbox_kind"), f"kind IN ({kinds})")
