"""One Alembic chain for both databases: up, down to nothing, up again; and the models agree."""

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from lectern.db import make_engine
from lectern.migrate import downgrade, upgrade
from lectern.models import Base


def _inspect(url: str, look: Any) -> Any:
    async def run() -> Any:
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    upgrade(empty_database)
    assert _inspect(empty_database, _tables) == set(Base.metadata.tables)
    downgrade(empty_database, "base")
    assert _inspect(empty_database, _tables) == set()
    upgrade(empty_database)
    assert _inspect(empty_database, _tables) == set(Base.metadata.tables)


def test_rebuilding_users_keeps_every_row_that_refers_to_them(empty_database: str) -> None:
    upgrade(empty_database, "0001")

    def seed(connection: Connection) -> int:
        connection.execute(
            text(
                "INSERT INTO institutions (name, name_key, slug, created_at)"
                " VALUES ('A', 'a', 'a', CURRENT_TIMESTAMP)"
            )
        )
        for email in ("x@a.test", "y@a.test"):
            connection.execute(
                text(
                    "INSERT INTO users (institution_id, email, email_key, password_hash,"
                    " full_name, role, is_platform_admin, created_at) SELECT id, :e, :e, '-',"
                    " :e, 'student', false, CURRENT_TIMESTAMP FROM institutions"
                ),
                {"e": email},
            )
        connection.execute(
            text(
                "INSERT INTO student_profiles (user_id, bio, created_at)"
                " SELECT id, '', CURRENT_TIMESTAMP FROM users"
            )
        )
        connection.commit()
        return int(connection.execute(text("SELECT max(id) FROM users")).scalar_one())

    newest = _inspect(empty_database, seed)
    upgrade(empty_database)

    def profiles(connection: Connection) -> int:
        return int(connection.execute(text("SELECT count(*) FROM student_profiles")).scalar_one())

    def replace_newest(connection: Connection) -> int:
        connection.execute(text("DELETE FROM users WHERE id = :i"), {"i": newest})
        new_id = connection.execute(
            text(
                "INSERT INTO users (institution_id, email, email_key, password_hash, full_name,"
                " role, is_platform_admin, created_at) SELECT id, 'z', 'z', '-', 'z', 'student',"
                " false, CURRENT_TIMESTAMP FROM institutions RETURNING id"
            )
        ).scalar_one()
        connection.commit()
        return int(new_id)

    assert _inspect(empty_database, profiles) == 2
    assert _inspect(empty_database, replace_newest) > newest
    assert _inspect(empty_database, profiles) == 1  # the deleted user's went with them
    downgrade(empty_database, "0001")
    assert _inspect(empty_database, profiles) == 1


def test_models_and_migrations_agree(empty_database: str) -> None:
    upgrade(empty_database)
    assert _inspect(empty_database, _differences) == []


def test_course_status_check_constraint_holds_in_the_database(empty_database: str) -> None:
    """Canonical status is enforced by the schema, not only by the edge."""
    upgrade(empty_database)

    def insert_bad_status(connection: Connection) -> str:
        connection.execute(
            text(
                "INSERT INTO institutions (name, name_key, slug, created_at)"
                " VALUES ('A', 'a', 'a', CURRENT_TIMESTAMP)"
            )
        )
        try:
            connection.execute(
                text(
                    "INSERT INTO courses (institution_id, title, slug, description, status,"
                    " access, price_cents, currency, qbank_required, qbank_pass_mark,"
                    " created_at, updated_at) VALUES (1, 'T', 't', '', 'Published', 'open', 0,"
                    " 'usd', false, 0.7, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        except Exception as exc:
            return type(exc).__name__
        return "accepted"

    assert _inspect(empty_database, insert_bad_status) == "IntegrityError"
