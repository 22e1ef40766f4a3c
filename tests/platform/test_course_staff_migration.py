"""The course-staff migration keeps every instructor's access and files old events by course."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from lectern.platform.migrate import downgrade, upgrade
from tests.platform.test_migrations import _inspect

REVISION = "0008"  # lectern's migration that adds course_staff


def _seed(connection: Connection) -> None:
    for slug in ("a", "b"):
        connection.execute(
            text(
                "INSERT INTO institutions (name, name_key, slug, created_at)"
                " VALUES (:s, :s, :s, CURRENT_TIMESTAMP)"
            ),
            {"s": slug},
        )
    for email, role, institution in (
        ("teacher@a", "instructor", "a"),
        ("boss@a", "admin", "a"),
        ("learner@a", "student", "a"),
        ("teacher@b", "instructor", "b"),
    ):
        connection.execute(
            text(
                "INSERT INTO users (institution_id, email, email_key, password_hash, full_name,"
                " role, is_platform_admin, created_at) SELECT id, :e, :e, '-', :e, :r, false,"
                " CURRENT_TIMESTAMP FROM institutions WHERE slug = :i"
            ),
            {"e": email, "r": role, "i": institution},
        )
    for title, institution in (("one", "a"), ("two", "a"), ("three", "b")):
        connection.execute(
            text(
                "INSERT INTO courses (institution_id, title, slug, description, status, access,"
                " price_cents, currency, qbank_required, qbank_pass_mark, created_at, updated_at)"
                " SELECT id, :t, :t, '', 'draft', 'open', 0, 'usd', false, 0.7,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM institutions WHERE slug = :i"
            ),
            {"t": title, "i": institution},
        )
    for kind, payload in (
        ("course.updated", '{"id": 2, "title": "two"}'),
        ("progress.updated", '{"enrollment_id": 9, "course_id": 3, "progress": 50}'),
        ("user.registered", '{"id": 3}'),
    ):
        connection.execute(
            text(
                "INSERT INTO events (type, institution_id, audience, payload, created_at)"
                " VALUES (:k, 1, 'admins', :p, CURRENT_TIMESTAMP)"
            ),
            {"k": kind, "p": payload},
        )
    connection.commit()


def _after(connection: Connection) -> dict[str, Any]:
    staff = connection.execute(
        text(
            "SELECT users.email, courses.title, course_staff.role FROM course_staff"
            " JOIN users ON users.id = course_staff.user_id"
            " JOIN courses ON courses.id = course_staff.course_id ORDER BY courses.title"
        )
    )
    events = connection.execute(text("SELECT type, course_id FROM events ORDER BY id"))
    return {"staff": [tuple(row) for row in staff], "events": [tuple(row) for row in events]}


def test_instructors_become_instructors_of_their_institutions_courses_and_events_get_a_course(
    empty_database: str,
) -> None:
    upgrade(empty_database, f"{REVISION}-1")
    _inspect(empty_database, _seed)
    upgrade(empty_database, REVISION)

    assert _inspect(empty_database, _after) == {
        "staff": [
            ("teacher@a", "one", "instructor"),
            ("teacher@b", "three", "instructor"),
            ("teacher@a", "two", "instructor"),
        ],
        "events": [("course.updated", 2), ("progress.updated", 3), ("user.registered", None)],
    }
    downgrade(empty_database, f"{REVISION}-1")
    upgrade(empty_database)
