"""tallies: the counts admin pages show, kept by triggers beside the rows they count

`course_tallies` (enrollments by status, summed progress, pending requests per course),
`learner_tallies` (the same per learner), `progress_buckets` and `completion_days` (a course's
progress histogram and completions per day) and `institution_tallies` (students and active
learners, in eight shards per institution). Triggers write them in the transaction that changes
an enrollment, a request or a user, by `INSERT … ON CONFLICT DO UPDATE SET n = n + d`, so
concurrent commands never lose a count; on PostgreSQL the enrollment and request triggers are
deferred to commit, so a course's row is locked only while its transaction commits. The
tables are filled from the rows here. Indexes let the students list page by name, e-mail or
creation, and on PostgreSQL trigram indexes find a part of a name or an e-mail.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 17:40:00.000000
"""

# Trigger and backfill SQL is assembled from this file's constants only, never from input.
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDS = 8
STATUSES = ("active", "completed", "cancelled", "expired")
ENROLLED = "('active', 'completed')"
TRIGGERS = {
    "enrollments": [
        "tally_enrollments_insert",
        "tally_enrollments_update",
        "tally_enrollments_delete",
    ],
    "access_requests": ["tally_requests_insert", "tally_requests_update", "tally_requests_delete"],
    "users": ["tally_users_insert", "tally_users_update", "tally_users_delete"],
    "learner_tallies": ["tally_active_learners_insert", "tally_active_learners_update"],
}


def _add(table: str, key: str, columns: dict[str, str], source: str) -> str:
    """An upsert adding each expression to its column of the row the key columns name."""
    keys = [k.strip() for k in key.split(",")]
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns if c not in keys)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns.values())}"
        f" {source} ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


def _enrollment_delta(row: str, d: str) -> list[str]:
    """Statements adding enrollment `row` to the tallies `d` times (1 or -1), on SQLite."""
    counts = {s: f"CASE WHEN {row}.status = '{s}' THEN {d} ELSE 0 END" for s in STATUSES}
    progress = f"CASE WHEN {row}.status IN {ENROLLED} THEN {d} * {row}.progress ELSE 0 END"
    bucket = f"CAST({row}.progress / 10 AS INTEGER)"
    day = f"date({row}.completed_at)"
    course = f"FROM courses WHERE courses.id = {row}.course_id"
    figures = {**counts, "progress_sum": progress}
    return [
        _add("course_tallies", "course_id", {"course_id": f"{row}.course_id", **figures}, course),
        _add(
            "learner_tallies",
            "user_id",
            {"user_id": f"{row}.user_id", **figures},
            f"FROM users WHERE users.id = {row}.user_id",
        ),
        _add(
            "progress_buckets",
            "course_id, bucket",
            {
                "course_id": f"{row}.course_id",
                "bucket": f"CASE WHEN {row}.progress >= 100 THEN 10"
                f" WHEN {row}.progress < 10 THEN 0 ELSE {bucket} END",
                "enrollments": d,
            },
            f"{course} AND {row}.status IN {ENROLLED}",
        ),
        _add(
            "completion_days",
            "course_id, day",
            {"course_id": f"{row}.course_id", "day": day, "completions": d},
            f"{course} AND {row}.status = 'completed' AND {row}.completed_at IS NOT NULL",
        ),
    ]


def _request_delta(row: str, d: str) -> list[str]:
    """Statements adding request `row` to the pending counts `d` times, if it is pending."""
    pending = f"AND {row}.status = 'pending'"
    return [
        _add(
            "course_tallies",
            "course_id",
            {"course_id": f"{row}.course_id", "pending_requests": d},
            f"FROM courses WHERE courses.id = {row}.course_id {pending}",
        ),
        _add(
            "learner_tallies",
            "user_id",
            {"user_id": f"{row}.user_id", "pending_requests": d},
            f"FROM users WHERE users.id = {row}.user_id {pending}",
        ),
    ]


def _user_delta(row: str, d: str) -> list[str]:
    """Statements adding user `row` to its institution's students and active learners."""
    active = f"EXISTS (SELECT 1 FROM learner_tallies WHERE user_id = {row}.id AND active > 0)"
    return [
        _add(
            "institution_tallies",
            "institution_id, shard",
            {
                "institution_id": f"{row}.institution_id",
                "shard": f"{row}.id % {SHARDS}",
                "students": f"CASE WHEN {row}.role = 'student' THEN {d} ELSE 0 END",
                "active_learners": f"CASE WHEN {active} THEN {d} ELSE 0 END",
            },
            f"FROM institutions WHERE institutions.id = {row}.institution_id",
        )
    ]


def _active_learner_delta(d: str) -> list[str]:
    """The statement counting a learner whose tally changed from or to having an active
    enrollment."""
    return [
        _add(
            "institution_tallies",
            "institution_id, shard",
            {
                "institution_id": "users.institution_id",
                "shard": f"users.id % {SHARDS}",
                "active_learners": d,
            },
            "FROM users WHERE users.id = NEW.user_id",
        )
    ]


ENROLLMENT_CHANGED = " OR ".join(
    f"OLD.{c} IS DISTINCT FROM NEW.{c}"
    for c in ("status", "progress", "completed_at", "course_id", "user_id")
)
REQUEST_CHANGED = " OR ".join(
    f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in ("status", "course_id", "user_id")
)
USER_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in ("institution_id", "role"))
ACTIVE_CHANGED = "(OLD.active > 0) <> (NEW.active > 0)"
BECAME_ACTIVE = "CASE WHEN NEW.active > 0 THEN 1 ELSE -1 END"


def _sqlite_trigger(name: str, when: str, table: str, condition: str, body: list[str]) -> str:
    condition = condition.replace("IS DISTINCT FROM", "IS NOT")
    statements = "".join(f"{statement};\n" for statement in body)
    guard = f" WHEN {condition}" if condition else ""
    return f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW{guard} BEGIN\n{statements}END"


def _sqlite_triggers() -> list[str]:
    def each(table: str, prefix: str, delta: object, on_delete: str = "AFTER") -> list[str]:
        assert callable(delta)
        return [
            _sqlite_trigger(f"{prefix}_insert", "AFTER INSERT", table, "", delta("NEW", "1")),
            _sqlite_trigger(
                f"{prefix}_update",
                "AFTER UPDATE",
                table,
                {"enrollments": ENROLLMENT_CHANGED, "access_requests": REQUEST_CHANGED}.get(
                    table, USER_CHANGED
                ),
                delta("OLD", "-1") + delta("NEW", "1"),
            ),
            _sqlite_trigger(
                f"{prefix}_delete", f"{on_delete} DELETE", table, "", delta("OLD", "-1")
            ),
        ]

    return [
        *each("enrollments", "tally_enrollments", _enrollment_delta),
        *each("access_requests", "tally_requests", _request_delta),
        *each("users", "tally_users", _user_delta, on_delete="BEFORE"),
        _sqlite_trigger(
            "tally_active_learners_insert",
            "AFTER INSERT",
            "learner_tallies",
            "NEW.active > 0",
            _active_learner_delta("1"),
        ),
        _sqlite_trigger(
            "tally_active_learners_update",
            "AFTER UPDATE OF active",
            "learner_tallies",
            ACTIVE_CHANGED,
            _active_learner_delta(BECAME_ACTIVE),
        ),
    ]


def _plpgsql(
    name: str, arguments: str, body: list[str], returns: str = "void", declare: str = ""
) -> str:
    statements = "".join(f"  {statement};\n" for statement in body)
    declarations = f"DECLARE {declare};\n" if declare else ""
    return (
        f"CREATE FUNCTION {name}({arguments}) RETURNS {returns} LANGUAGE plpgsql AS $$\n"
        f"{declarations}BEGIN\n{statements}END $$"
    )


def _postgresql_enrollment_delta() -> list[str]:
    """tally_enrollment's body: what `_enrollment_delta` writes, with one look for the course
    and no statement that would write nothing, since it runs in every approval's commit."""
    counts = {s: f"CASE WHEN e.status = '{s}' THEN d ELSE 0 END" for s in STATUSES}
    figures = {**counts, "progress_sum": "CASE WHEN enrolled THEN d * e.progress ELSE 0 END"}
    bucket = (
        "CASE WHEN e.progress >= 100 THEN 10 WHEN e.progress < 10 THEN 0"
        " ELSE floor(e.progress / 10)::integer END"
    )
    course = _add("course_tallies", "course_id", {"course_id": "e.course_id", **figures}, "")
    histogram = _add(
        "progress_buckets",
        "course_id, bucket",
        {"course_id": "e.course_id", "bucket": bucket, "enrollments": "d"},
        "",
    )
    day = "(e.completed_at AT TIME ZONE 'UTC')::date"
    completions = _add(
        "completion_days",
        "course_id, day",
        {"course_id": "e.course_id", "day": day, "completions": "d"},
        "",
    )
    learner = _add(
        "learner_tallies",
        "user_id",
        {"user_id": "e.user_id", **figures},
        "FROM users WHERE users.id = e.user_id",
    )
    return [
        "PERFORM 1 FROM courses WHERE id = e.course_id",
        f"IF FOUND THEN {course}; IF enrolled THEN {histogram}; END IF;"
        f" IF e.status = 'completed' AND e.completed_at IS NOT NULL THEN {completions}; END IF;"
        " END IF",
        learner,
    ]


def _postgresql_request_delta() -> list[str]:
    """tally_request's body: `_request_delta`, written only for a pending request."""
    course, learner = _request_delta("r", "d")
    course = course.replace(" AND r.status = 'pending'", "")
    learner = learner.replace(" AND r.status = 'pending'", "")
    return [f"IF r.status = 'pending' THEN {course}; {learner}; END IF"]


def _postgresql_triggers() -> list[str]:
    def row_change(name: str, counted: str) -> str:
        return _plpgsql(
            name,
            "",
            [
                f"IF TG_OP <> 'INSERT' THEN PERFORM {counted}(OLD, -1); END IF",
                f"IF TG_OP <> 'DELETE' THEN PERFORM {counted}(NEW, 1); END IF",
                "RETURN NULL",
            ],
            returns="trigger",
        )

    def each(table: str, prefix: str, function: str, changed: str, deferred: bool) -> list[str]:
        kind = "CONSTRAINT TRIGGER" if deferred else "TRIGGER"
        defer = " DEFERRABLE INITIALLY DEFERRED" if deferred else ""
        run = f"FOR EACH ROW{{}} EXECUTE FUNCTION {function}()"
        return [
            f"CREATE {kind} {prefix}_insert AFTER INSERT ON {table}{defer} {run.format('')}",
            f"CREATE {kind} {prefix}_update AFTER UPDATE ON {table}{defer}"
            f" {run.format(f' WHEN ({changed})')}",
            f"CREATE {kind} {prefix}_delete AFTER DELETE ON {table}{defer} {run.format('')}",
        ]

    users_changed = _plpgsql(
        "tally_user_change",
        "",
        [
            "IF TG_OP <> 'INSERT' THEN PERFORM tally_user(OLD, -1); END IF",
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF",
            "PERFORM tally_user(NEW, 1)",
            "RETURN NULL",
        ],
        returns="trigger",
    )
    user_triggers = each("users", "tally_users", "tally_user_change", USER_CHANGED, False)
    # Before the delete, while the learner's tally still says whether they were active.
    user_triggers[2] = user_triggers[2].replace("AFTER DELETE", "BEFORE DELETE")
    return [
        _plpgsql(
            "tally_enrollment",
            "e enrollments, d integer",
            _postgresql_enrollment_delta(),
            declare="enrolled boolean := e.status IN ('active', 'completed')",
        ),
        _plpgsql("tally_request", "r access_requests, d integer", _postgresql_request_delta()),
        _plpgsql("tally_user", "u users, d integer", _user_delta("u", "d")),
        row_change("tally_enrollment_change", "tally_enrollment"),
        row_change("tally_request_change", "tally_request"),
        users_changed,
        _plpgsql(
            "tally_active_learner_change",
            "",
            [*_active_learner_delta(BECAME_ACTIVE), "RETURN NULL"],
            returns="trigger",
        ),
        *each(
            "enrollments", "tally_enrollments", "tally_enrollment_change", ENROLLMENT_CHANGED, True
        ),
        *each("access_requests", "tally_requests", "tally_request_change", REQUEST_CHANGED, True),
        *user_triggers,
        "CREATE TRIGGER tally_active_learners_insert AFTER INSERT ON learner_tallies"
        " FOR EACH ROW WHEN (NEW.active > 0) EXECUTE FUNCTION tally_active_learner_change()",
        "CREATE TRIGGER tally_active_learners_update AFTER UPDATE OF active ON learner_tallies"
        f" FOR EACH ROW WHEN ({ACTIVE_CHANGED}) EXECUTE FUNCTION tally_active_learner_change()",
    ]


def _figures() -> list[sa.Column[int]]:
    return [
        *(sa.Column(s, sa.Integer(), nullable=False, server_default="0") for s in STATUSES),
        sa.Column("progress_sum", sa.Float(), nullable=False, server_default="0"),
        sa.Column("pending_requests", sa.Integer(), nullable=False, server_default="0"),
    ]


def _backfill(dialect: str) -> list[str]:
    counts = ", ".join(f"sum(CASE WHEN status = '{s}' THEN 1 ELSE 0 END) AS {s}" for s in STATUSES)
    progress = f"sum(CASE WHEN status IN {ENROLLED} THEN progress ELSE 0 END) AS progress_sum"
    if dialect == "postgresql":
        bucket = "floor(progress / 10)::integer"
        day = "(completed_at AT TIME ZONE 'UTC')::date"
    else:
        bucket = "CAST(progress / 10 AS INTEGER)"
        day = "date(completed_at)"

    def per(table: str, key: str, parent: str) -> str:
        figures = ", ".join(f"coalesce(e.{s}, 0)" for s in STATUSES)
        return (
            f"INSERT INTO {table} ({key}, {', '.join(STATUSES)}, progress_sum, pending_requests)"
            f" SELECT p.id, {figures}, coalesce(e.progress_sum, 0),"
            f" (SELECT count(*) FROM access_requests r WHERE r.{key} = p.id"
            f" AND r.status = 'pending') FROM {parent} p LEFT JOIN"
            f" (SELECT {key}, {counts}, {progress} FROM enrollments GROUP BY {key}) e"
            f" ON e.{key} = p.id"
        )

    return [
        per("course_tallies", "course_id", "courses"),
        per("learner_tallies", "user_id", "users"),
        "INSERT INTO progress_buckets (course_id, bucket, enrollments)"
        " SELECT course_id, CASE WHEN progress >= 100 THEN 10 WHEN progress < 10 THEN 0"
        f" ELSE {bucket} END AS b, count(*)"
        f" FROM enrollments WHERE status IN {ENROLLED} GROUP BY course_id, b",
        "INSERT INTO completion_days (course_id, day, completions)"
        f" SELECT course_id, {day} AS d, count(*) FROM enrollments"
        " WHERE status = 'completed' AND completed_at IS NOT NULL GROUP BY course_id, d",
        "INSERT INTO institution_tallies (institution_id, shard, students, active_learners)"
        f" SELECT institution_id, id % {SHARDS} AS s,"
        " sum(CASE WHEN role = 'student' THEN 1 ELSE 0 END),"
        " sum(CASE WHEN EXISTS (SELECT 1 FROM learner_tallies l WHERE l.user_id = users.id"
        " AND l.active > 0) THEN 1 ELSE 0 END) FROM users GROUP BY institution_id, s",
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, key, parent in (
        ("course_tallies", "course_id", "courses"),
        ("learner_tallies", "user_id", "users"),
    ):
        op.create_table(
            table,
            sa.Column(key, sa.Integer(), autoincrement=False, nullable=False),
            *_figures(),
            sa.ForeignKeyConstraint(
                [key], [f"{parent}.id"], name=op.f(f"fk_{table}_{key}_{parent}"), ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint(key, name=op.f(f"pk_{table}")),
        )
    for table, column, count in (
        (
            "progress_buckets",
            sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
            "enrollments",
        ),
        ("completion_days", sa.Column("day", sa.Date(), nullable=False), "completions"),
    ):
        op.create_table(
            table,
            sa.Column("course_id", sa.Integer(), autoincrement=False, nullable=False),
            column,
            sa.Column(count, sa.Integer(), nullable=False, server_default="0"),
            sa.ForeignKeyConstraint(
                ["course_id"],
                ["courses.id"],
                name=op.f(f"fk_{table}_course_id_courses"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("course_id", column.name, name=op.f(f"pk_{table}")),
        )
    op.create_table(
        "institution_tallies",
        sa.Column("institution_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("students", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("active_learners", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_institution_tallies_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("institution_id", "shard", name=op.f("pk_institution_tallies")),
    )
    for order in ("full_name", "email_key", "created_at"):
        name = {"full_name": "name", "email_key": "email", "created_at": "created"}[order]
        op.create_index(
            op.f(f"ix_users_students_by_{name}"), "users", ["institution_id", "role", order, "id"]
        )
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in ("full_name", "email_key"):
        op.create_index(
            op.f(f"ix_users_{column}_trigram"),
            "users",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
            sqlite_where=sa.text("0"),
        )
    for statement in _backfill(dialect):
        op.execute(statement)
    for statement in _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, names in TRIGGERS.items():
        for name in names:
            op.execute(f"DROP TRIGGER {name}" + (f" ON {table}" if dialect == "postgresql" else ""))
    if dialect == "postgresql":
        for function in (
            "tally_enrollment_change()",
            "tally_request_change()",
            "tally_user_change()",
            "tally_active_learner_change()",
            "tally_enrollment(enrollments, integer)",
            "tally_request(access_requests, integer)",
            "tally_user(users, integer)",
        ):
            op.execute(f"DROP FUNCTION {function}")
    for column in ("full_name", "email_key"):
        op.drop_index(op.f(f"ix_users_{column}_trigram"), table_name="users")
    for name in ("name", "email", "created"):
        op.drop_index(op.f(f"ix_users_students_by_{name}"), table_name="users")
    for table in (
        "institution_tallies",
        "completion_days",
        "progress_buckets",
        "learner_tallies",
        "course_tallies",
    ):
        op.drop_table(table)
