"""Legacy databases for the tests: PostgreSQL and MariaDB on this machine, filled from the
legacy schema and the sample generator kept beside the repository (../shared/legacy/)."""

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pymysql

LEGACY = Path(__file__).resolve().parents[2] / ".." / "shared" / "legacy"
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def sample_sql(students: int, seed: int) -> str:
    return subprocess.run(  # noqa: S603 (the generator beside the repository)
        [sys.executable, str(LEGACY / "make_sample.py"), "--students", str(students),
         "--seed", str(seed)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


@contextmanager
def legacy_postgres(*sql: str) -> Iterator[str]:
    """A fresh PostgreSQL database with the legacy schema and `sql` loaded; its URL."""
    name = f"legacy_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"{POSTGRES}/{name}", autocommit=True) as connection:
            connection.execute((LEGACY / "schema.sql").read_text())
            for statement in sql:
                connection.execute(statement)  # type: ignore[arg-type]
        yield f"{POSTGRES}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _mysql_schema() -> list[str]:
    """The legacy schema in MariaDB's words, as its README says such deployments have it."""
    schema = (LEGACY / "schema.sql").read_text()
    schema = re.sub(r"--[^\n]*", "", schema)
    for pg, mysql in (("UUID", "CHAR(36)"), ("JSONB", "TEXT"), ("TIMESTAMPTZ", "DATETIME(6)")):
        schema = re.sub(rf"\b{pg}\b", mysql, schema)
    return [s for s in schema.split(";") if s.strip()]


def _mysql_dml(sql: str) -> str:
    return re.sub(r"'(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d(?:\.\d+)?)\+00:00'", r"'\1 \2'", sql)


@contextmanager
def legacy_mariadb(sql: str) -> Iterator[str]:
    name = f"legacy_test_{uuid.uuid4().hex[:10]}"
    admin = pymysql.connect(**MARIADB, autocommit=True)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        connection = pymysql.connect(**MARIADB, database=name, autocommit=True)
        with connection.cursor() as cursor:
            for statement in _mysql_schema():
                cursor.execute(statement)
            for statement in _mysql_dml(sql).split(";\n"):
                if statement.strip():
                    cursor.execute(statement)
        connection.close()
        yield f"mysql://root@127.0.0.1:3306/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()
