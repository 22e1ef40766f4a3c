"""On PostgreSQL, the tally triggers of an enrollment and a request run fewer statements

0010's trigger functions called a function per row version, the old one with -1 and the new one
with +1, and each call ran an upsert per tally table: an update of an enrollment's progress ran
two calls and eight statements, an approval's closed request a call that wrote nothing. Here
the trigger functions write the tallies themselves. An update that keeps the course and the
learner, as progress and status changes do, adds the difference of its versions in one write
per tally and touches the histogram and the completion days only where they moved; a request's
version that is not pending runs nothing. A tally row is written by a plain UPDATE, since it is
there but for the first change of its key; only when it is not does an upsert create it, while
its parent row is there. The sums written are 0010's, so the tallies need no recount. SQLite
keeps its triggers.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 02:30:00.000000
"""

# Function bodies are assembled from this file's constants only, never from input.
# ruff: noqa: S608

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("active", "completed", "cancelled", "expired")


def _function(name: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\nRETURN NULL;\nEND $$"
    )


def _add(table: str, keys: dict[str, str], figures: dict[str, str], parent: str = "") -> str:
    """Add each figure's expression to the row the keys name: an UPDATE, as the row is there
    but for the first change of its key; else an upsert, only while `parent` (a table whose id
    is the first key) has the row. Afterwards FOUND says whether the row was written."""
    match = " AND ".join(f"{column} = {value}" for column, value in keys.items())
    update = ", ".join(f"{column} = {column} + {value}" for column, value in figures.items())
    columns = {**keys, **figures}
    source = f" FROM {parent} WHERE id = {next(iter(keys.values()))}" if parent else ""
    added = ", ".join(f"{column} = {table}.{column} + excluded.{column}" for column in figures)
    return (
        f"UPDATE {table} SET {update} WHERE {match};\n"
        f"IF NOT FOUND THEN INSERT INTO {table} ({', '.join(columns)})"
        f" SELECT {', '.join(columns.values())}{source}"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {added}; END IF;"
    )


def _enrolled(row: str) -> str:
    return f"{row}.status IN ('active', 'completed')"


def _figures(row: str, d: str) -> dict[str, str]:
    """What enrollment version `row` adds to its course's and its learner's tally, d times."""
    counts = {s: f"CASE WHEN {row}.status = '{s}' THEN {d} ELSE 0 END" for s in STATUSES}
    progress = f"CASE WHEN {_enrolled(row)} THEN {d} * {row}.progress ELSE 0 END"
    return {**counts, "progress_sum": progress}


def _bucket(row: str) -> str:
    """The histogram bucket of an enrolled version, NULL for any other."""
    return (
        f"CASE WHEN NOT {_enrolled(row)} THEN NULL WHEN {row}.progress >= 100 THEN 10"
        f" WHEN {row}.progress < 10 THEN 0 ELSE floor({row}.progress / 10)::integer END"
    )


def _day(row: str) -> str:
    """The completion day of a completed version, NULL for any other."""
    return (
        f"CASE WHEN {row}.status = 'completed'"
        f" THEN ({row}.completed_at AT TIME ZONE 'UTC')::date END"
    )


def _counted(row: str, figures: dict[str, str]) -> str:
    """The course's and the learner's tally, each only while its parent row is there."""
    course = _add("course_tallies", {"course_id": f"{row}.course_id"}, figures, "courses")
    learner = _add("learner_tallies", {"user_id": f"{row}.user_id"}, figures, "users")
    return f"{course}\nIF FOUND THEN\n{{histogram}}\nEND IF;\n{learner}"


def _histogram(row: str, d: str) -> str:
    """A version's bucket and completion day, for a course known to be there."""
    bucket = _add(
        "progress_buckets",
        {"course_id": f"{row}.course_id", "bucket": _bucket(row)},
        {"enrollments": d},
    )
    day = _add(
        "completion_days",
        {"course_id": f"{row}.course_id", "day": _day(row)},
        {"completions": d},
    )
    return (
        f"IF ({_bucket(row)}) IS NOT NULL THEN\n{bucket}\nEND IF;\n"
        f"IF ({_day(row)}) IS NOT NULL THEN\n{day}\nEND IF;"
    )


def _enrollment_change() -> str:
    """A version counted out (-1) or in (+1); an update that keeps the course and the learner,
    as progress and status changes do, by the difference of its versions in one upsert each,
    and buckets and days only where they moved."""
    difference = {
        name: f"({new}) - ({old})"
        for (name, new), old in zip(
            _figures("NEW", "1").items(), _figures("OLD", "1").values(), strict=True
        )
    }
    moved = (
        f"IF ({_bucket('OLD')}) IS DISTINCT FROM ({_bucket('NEW')})"
        f" OR ({_day('OLD')}) IS DISTINCT FROM ({_day('NEW')}) THEN\n"
        f"{_histogram('OLD', '-1')}\n{_histogram('NEW', '1')}\nEND IF;"
    )
    same_keys = "OLD.course_id = NEW.course_id AND OLD.user_id = NEW.user_id"
    return _function(
        "tally_enrollment_change",
        f"IF TG_OP = 'UPDATE' AND {same_keys} THEN\n"
        + _counted("NEW", difference).format(histogram=moved)
        + "\nRETURN NULL;\nEND IF;\n"
        + "IF TG_OP <> 'INSERT' THEN\n"
        + _counted("OLD", _figures("OLD", "-1")).format(histogram=_histogram("OLD", "-1"))
        + "\nEND IF;\nIF TG_OP <> 'DELETE' THEN\n"
        + _counted("NEW", _figures("NEW", "1")).format(histogram=_histogram("NEW", "1"))
        + "\nEND IF;",
    )


def _request_change() -> str:
    """A pending version counted out (-1) or in (+1); nothing for any other."""

    def counted(row: str, d: str) -> str:
        return "\n".join(
            _add(table, {key: f"{row}.{key}"}, {"pending_requests": d}, parent)
            for table, key, parent in (
                ("course_tallies", "course_id", "courses"),
                ("learner_tallies", "user_id", "users"),
            )
        )

    return _function(
        "tally_request_change",
        f"IF TG_OP <> 'INSERT' AND OLD.status = 'pending' THEN\n{counted('OLD', '-1')}\nEND IF;\n"
        f"IF TG_OP <> 'DELETE' AND NEW.status = 'pending' THEN\n{counted('NEW', '1')}\nEND IF;",
    )


def _row_change(name: str, counted: str) -> str:
    """A trigger function of 0010: the row's old version counted out, its new one in."""
    return _function(
        name,
        f"IF TG_OP <> 'INSERT' THEN PERFORM {counted}(OLD, -1); END IF;\n"
        f"IF TG_OP <> 'DELETE' THEN PERFORM {counted}(NEW, 1); END IF;",
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_enrollment_change())
    op.execute(_request_change())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_row_change("tally_enrollment_change", "tally_enrollment"))
    op.execute(_row_change("tally_request_change", "tally_request"))
