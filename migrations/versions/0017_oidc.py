"""OpenID Connect providers

Each institution's identity providers (`oidc_providers`), the people they know linked to
accounts by the provider's subject (`oidc_identities`), sign-ins sent to a provider and not yet
back (`oidc_flows`), and the attempts that came back, for admins (`oidc_sign_ins`).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oidc_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret", sa.String(length=500), nullable=False),
        sa.Column("email_domain", sa.String(length=253), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_oidc_providers_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_providers")),
        sa.UniqueConstraint(
            "institution_id",
            "issuer",
            "client_id",
            name=op.f("uq_oidc_providers_institution_id_issuer_client_id"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_oidc_providers_institution_id"), "oidc_providers", ["institution_id"])
    op.create_table(
        "oidc_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["oidc_providers.id"],
            name=op.f("fk_oidc_identities_provider_id_oidc_providers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oidc_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_identities")),
        sa.UniqueConstraint(
            "provider_id", "subject", name=op.f("uq_oidc_identities_provider_id_subject")
        ),
        sa.UniqueConstraint(
            "provider_id", "user_id", name=op.f("uq_oidc_identities_provider_id_user_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_oidc_identities_user_id"), "oidc_identities", ["user_id"])
    op.create_table(
        "oidc_flows",
        sa.Column("state_digest", sa.String(length=64), nullable=False),
        sa.Column("browser_digest", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("next_path", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["oidc_providers.id"],
            name=op.f("fk_oidc_flows_provider_id_oidc_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state_digest", name=op.f("pk_oidc_flows")),
    )
    op.create_index(op.f("ix_oidc_flows_created_at"), "oidc_flows", ["created_at"])
    op.create_table(
        "oidc_sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('created', 'signed_in', 'refused')",
            name=op.f("ck_oidc_sign_ins_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["oidc_providers.id"],
            name=op.f("fk_oidc_sign_ins_provider_id_oidc_providers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oidc_sign_ins_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_sign_ins")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_oidc_sign_ins_provider_id_id", "oidc_sign_ins", ["provider_id", "id"], unique=False
    )
    op.create_index(op.f("ix_oidc_sign_ins_user_id"), "oidc_sign_ins", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_oidc_sign_ins_user_id"), table_name="oidc_sign_ins")
    op.drop_index("ix_oidc_sign_ins_provider_id_id", table_name="oidc_sign_ins")
    op.drop_table("oidc_sign_ins")
    op.drop_index(op.f("ix_oidc_flows_created_at"), table_name="oidc_flows")
    op.drop_table("oidc_flows")
    op.drop_index(op.f("ix_oidc_identities_user_id"), table_name="oidc_identities")
    op.drop_table("oidc_identities")
    op.drop_index(op.f("ix_oidc_providers_institution_id"), table_name="oidc_providers")
    op.drop_table("oidc_providers")
