"""LTI 1.3 platforms

`lti_platforms` holds the platforms (Moodle, Canvas) each institution added Lectern to as a
tool: issuer, client id, deployment ids, key set and auth URLs, unique per (issuer, client id).
`lti_tool_keys` holds Lectern's own RS256 key pairs. `lti_logins` holds each OIDC login's state
(digest) and nonce, used by one launch at most; `lti_accounts` who a platform's subject is;
`lti_launches` every launch, accepted or refused, and what an unanswered deep-linking launch
needs. `lti_grade_links` are the AGS line items of launched learners and `lti_scores` the scores
waiting to be sent to them. Enrollments may have the source `lti`.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SOURCES = "'self', 'request', 'admin', 'payment', 'default', 'import'"


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _foreign(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _enrollment_sources(values: str) -> None:
    """Replace the source CHECK. SQLite rebuilds the table, which drops its indexes and the tally
    triggers (0010): they are read from the schema first and made again as they were."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    kept: list[tuple[str, str, str]] = []
    if sqlite:
        kept = [
            (kind, name, sql)
            for kind, name, sql in op.get_bind().exec_driver_sql(
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'enrollments'"
                " AND type IN ('index', 'trigger') AND sql IS NOT NULL"
            )
        ]
    with op.batch_alter_table("enrollments", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint(op.f("ck_enrollments_source"), type_="check")
        batch.create_check_constraint("source", f"source IN ({values})")
    for kind, name, sql in kept:
        op.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')
        op.execute(sql)


def upgrade() -> None:
    op.create_table(
        "lti_platforms",
        _id(),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("deployment_ids", JSON, nullable=False),
        sa.Column("jwks_url", sa.String(length=1000), nullable=False),
        sa.Column("auth_login_url", sa.String(length=1000), nullable=False),
        sa.Column("auth_token_url", sa.String(length=1000), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _foreign("lti_platforms", "institution_id", "institutions", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_platforms")),
        sa.UniqueConstraint("issuer", "client_id", name=op.f("uq_lti_platforms_issuer_client_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_lti_platforms_institution_id"), "lti_platforms", ["institution_id"])
    op.create_table(
        "lti_tool_keys",
        _id(),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("private_jwk", JSON, nullable=False),
        _at("created_at"),
        _at("retired_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_tool_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_lti_tool_keys_kid")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "lti_logins",
        _id(),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("used_at", nullable=True),
        _foreign("lti_logins", "platform_id", "lti_platforms", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_logins")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_lti_logins_state_hash")),
        sa.UniqueConstraint("nonce", name=op.f("uq_lti_logins_nonce")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_lti_logins_platform_id"), "lti_logins", ["platform_id"])
    op.create_table(
        "lti_accounts",
        _id(),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _at("created_at"),
        _foreign("lti_accounts", "platform_id", "lti_platforms", "CASCADE"),
        _foreign("lti_accounts", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_accounts")),
        sa.UniqueConstraint(
            "platform_id", "subject", name=op.f("uq_lti_accounts_platform_id_subject")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_lti_accounts_user_id"), "lti_accounts", ["user_id"])
    op.create_table(
        "lti_launches",
        _id(),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("message_type", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("deployment_id", sa.String(length=255), nullable=True),
        sa.Column("pick_token_hash", sa.String(length=64), nullable=True),
        sa.Column("return_url", sa.String(length=1000), nullable=True),
        sa.Column("deep_link_data", sa.Text(), nullable=True),
        _at("answered_at", nullable=True),
        _at("created_at"),
        sa.CheckConstraint(
            "outcome IN ('accepted', 'refused')", name=op.f("ck_lti_launches_outcome")
        ),
        _foreign("lti_launches", "platform_id", "lti_platforms", "CASCADE"),
        _foreign("lti_launches", "user_id", "users", "SET NULL"),
        _foreign("lti_launches", "course_id", "courses", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_launches")),
        sa.UniqueConstraint("pick_token_hash", name=op.f("uq_lti_launches_pick_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_lti_launches_platform_id_created_at", "lti_launches", ["platform_id", "created_at"]
    )
    op.create_table(
        "lti_grade_links",
        _id(),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("line_item_url", sa.String(length=1000), nullable=False),
        _at("created_at"),
        _foreign("lti_grade_links", "platform_id", "lti_platforms", "CASCADE"),
        _foreign("lti_grade_links", "user_id", "users", "CASCADE"),
        _foreign("lti_grade_links", "course_id", "courses", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_grade_links")),
        sa.UniqueConstraint(
            "platform_id",
            "user_id",
            "course_id",
            "line_item_url",
            name=op.f("uq_lti_grade_links_platform_id_user_id_course_id_line_item_url"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_lti_grade_links_user_id"), "lti_grade_links", ["user_id"])
    op.create_table(
        "lti_scores",
        _id(),
        sa.Column("grade_link_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("score_given", sa.Float(), nullable=False),
        sa.Column("score_maximum", sa.Float(), nullable=False),
        sa.Column("activity_progress", sa.String(length=16), nullable=False),
        sa.Column("grading_progress", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        _at("created_at"),
        _at("next_attempt_at"),
        _at("sent_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'superseded')",
            name=op.f("ck_lti_scores_status"),
        ),
        _foreign("lti_scores", "grade_link_id", "lti_grade_links", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_scores")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_lti_scores_due", "lti_scores", ["status", "next_attempt_at"])
    op.create_index(op.f("ix_lti_scores_grade_link_id"), "lti_scores", ["grade_link_id"])
    _enrollment_sources(f"{SOURCES}, 'lti'")


def downgrade() -> None:
    op.execute("UPDATE enrollments SET source = 'admin' WHERE source = 'lti'")
    _enrollment_sources(SOURCES)
    for table in (
        "lti_scores",
        "lti_grade_links",
        "lti_launches",
        "lti_accounts",
        "lti_logins",
        "lti_tool_keys",
        "lti_platforms",
    ):
        op.drop_table(table)
