"""One Alembic chain for both databases: up, down to nothing, up again; and the models agree."""

import asyncio
from datetime import timedelta
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateTable

from lectern.models import Base
from lectern.models.base import utcnow
from lectern.platform.db import make_engine
from lectern.platform.migrate import downgrade, upgrade


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


def _shape(connection: Connection) -> dict[str, str]:
    """Each table's columns, keys, indexes (with their predicates) and checks, as text."""
    inspector = inspect(connection)
    shape = {}
    for table in _tables(connection):
        columns = [
            (c["name"], str(c["type"]), c["nullable"], c["default"])
            for c in inspector.get_columns(table)
        ]
        # Only the key's columns: SQLite declares AUTOINCREMENT on the column itself, where the
        # key's constraint name has no place (and SQLite never uses it).
        parts: list[Any] = [columns, inspector.get_pk_constraint(table)["constrained_columns"]]
        parts += inspector.get_foreign_keys(table)
        parts += inspector.get_unique_constraints(table)
        parts += inspector.get_check_constraints(table)
        for index in inspector.get_indexes(table):
            options = index.get("dialect_options", {})
            parts.append({**index, "dialect_options": {k: str(v) for k, v in options.items()}})
        shape[table] = repr(sorted(map(repr, parts)))
    return shape


def _autoincrement_tables(connection: Connection) -> set[str]:
    found = connection.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'")
    )
    return set(found.scalars())


def test_every_id_is_autoincrement_on_sqlite_and_the_rebuilds_keep_every_constraint(
    empty_database: str,
) -> None:
    upgrade(empty_database, "0003")
    before = _inspect(empty_database, _shape)
    upgrade(empty_database, "0004")

    assert _inspect(empty_database, _shape) == before
    if empty_database.startswith("sqlite"):
        declared = {
            table.name
            for table in Base.metadata.sorted_tables
            if "AUTOINCREMENT" in str(CreateTable(table).compile(dialect=sqlite.dialect()))
        }
        assert {"courses", "lessons", "enrollments", "access_requests"} <= declared
        upgrade(empty_database)  # tables of later migrations are declared too
        assert _inspect(empty_database, _autoincrement_tables) == declared
        downgrade(empty_database, "0003")
        earlier = {"users", "institutions", "events"}  # 0001 to 0003
        assert _inspect(empty_database, _autoincrement_tables) == earlier
        assert _inspect(empty_database, _shape) == before


def test_the_id_of_a_deleted_newest_course_goes_to_no_other(empty_database: str) -> None:
    upgrade(empty_database)

    def replace_newest_course(connection: Connection) -> tuple[int, int]:
        connection.execute(
            text(
                "INSERT INTO institutions (name, name_key, slug, created_at)"
                " VALUES ('A', 'a', 'a', CURRENT_TIMESTAMP)"
            )
        )
        insert = text(
            "INSERT INTO courses (institution_id, title, slug, description, status, access,"
            " price_cents, currency, qbank_required, qbank_pass_mark, created_at, updated_at)"
            " SELECT id, :s, :s, '', 'draft', 'open', 0, 'usd', false, 0.7, CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP FROM institutions RETURNING id"
        )
        connection.execute(insert, {"s": "first"})
        newest = connection.execute(insert, {"s": "second"}).scalar_one()
        connection.execute(text("DELETE FROM courses WHERE id = :i"), {"i": newest})
        replacement = connection.execute(insert, {"s": "third"}).scalar_one()
        connection.commit()
        return int(newest), int(replacement)

    newest, replacement = _inspect(empty_database, replace_newest_course)
    assert replacement > newest


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


def test_tokens_issued_before_expiry_existed_expire_in_thirty_days(empty_database: str) -> None:
    upgrade(empty_database, "0004")
    tables_at_0004 = _inspect(empty_database, _tables)

    def seed(connection: Connection) -> None:
        connection.execute(
            text(
                "INSERT INTO institutions (name, name_key, slug, created_at)"
                " VALUES ('A', 'a', 'a', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO users (institution_id, email, email_key, password_hash, full_name,"
                " role, is_platform_admin, created_at) SELECT id, 'x', 'x', '-', 'x', 'admin',"
                " false, CURRENT_TIMESTAMP FROM institutions"
            )
        )
        connection.execute(
            text(
                "INSERT INTO api_tokens (token_hash, user_id, created_at)"
                " SELECT 'digest', id, CURRENT_TIMESTAMP FROM users"
            )
        )
        connection.commit()

    def expiry(connection: Connection) -> Any:
        return connection.execute(
            select(Base.metadata.tables["api_tokens"].c.expires_at)
        ).scalar_one()

    _inspect(empty_database, seed)
    upgrade(empty_database)

    days = (_inspect(empty_database, expiry) - utcnow()) / timedelta(days=1)
    assert 29.9 < days <= 30
    if empty_database.startswith("sqlite"):
        assert "api_tokens" in _inspect(empty_database, _autoincrement_tables)
    downgrade(empty_database, "0004")
    assert _inspect(empty_database, _tables) == tables_at_0004


def test_legacy_id_links_move_into_lists_and_back(empty_database: str) -> None:
    upgrade(empty_database, "0021")
    links = {("users", "u-2"): 7, ("users", "u-10"): 3, ("payments", "p-1"): 9}

    def seed(connection: Connection) -> None:
        connection.execute(
            text(
                "INSERT INTO legacy_imports (source, report, created_at)"
                " VALUES ('old', '{}', CURRENT_TIMESTAMP)"
            )
        )
        for (table, legacy_id), lectern_id in links.items():
            connection.execute(
                text(
                    "INSERT INTO legacy_ids (legacy_table, legacy_id, lectern_id, import_id)"
                    " SELECT :t, :l, :i, id FROM legacy_imports"
                ),
                {"t": table, "l": legacy_id, "i": lectern_id},
            )
        connection.commit()

    def as_lists(connection: Connection) -> dict[str, dict[str, int]]:
        moved: dict[str, dict[str, int]] = {}
        table = Base.metadata.tables["legacy_links"]
        for row in connection.execute(select(table)):
            moved[row.legacy_table] = dict(zip(row.legacy_ids, row.lectern_ids, strict=True))
        return moved

    def as_rows(connection: Connection) -> dict[tuple[str, str], int]:
        found = connection.execute(
            text("SELECT legacy_table, legacy_id, lectern_id FROM legacy_ids")
        )
        return {(table, legacy_id): lectern_id for table, legacy_id, lectern_id in found}

    def compression(connection: Connection) -> set[str]:
        found = connection.execute(
            text(
                "SELECT attcompression::text FROM pg_attribute"
                " WHERE attrelid = 'legacy_links'::regclass"
                " AND attname IN ('legacy_ids', 'lectern_ids')"
            )
        )
        return set(found.scalars())

    _inspect(empty_database, seed)
    upgrade(empty_database, "0022")
    assert _inspect(empty_database, as_lists) == {
        "users": {"u-2": 7, "u-10": 3},
        "payments": {"p-1": 9},
    }
    if not empty_database.startswith("sqlite"):
        assert _inspect(empty_database, compression) == {"l"}  # lz4
    downgrade(empty_database, "0021")
    assert _inspect(empty_database, as_rows) == links
