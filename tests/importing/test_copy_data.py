"""The target's URL as the COPY formatter's psycopg connection takes it."""

from sqlalchemy.engine import make_url

from lectern.importing.copy_data import libpq_dsn


def test_the_libpq_dsn_keeps_libpq_parameters_and_takes_asyncpg_ssl_as_sslmode() -> None:
    url = make_url(
        "postgresql+asyncpg://lectern:secret@db.internal:6432/lectern"
        "?ssl=require&host=/run/postgresql&prepared_statement_cache_size=0"
    )

    dsn = make_url(libpq_dsn(url))

    assert dsn.drivername == "postgresql"
    assert (dsn.username, dsn.password, dsn.port, dsn.database) == (
        "lectern", "secret", 6432, "lectern",
    )  # fmt: skip
    assert dict(dsn.query) == {"host": "/run/postgresql", "sslmode": "require"}


def test_a_libpq_sslmode_given_wins_over_asyncpg_ssl() -> None:
    url = make_url("postgresql+asyncpg://lectern@db/lectern?ssl=require&sslmode=verify-full")

    assert dict(make_url(libpq_dsn(url)).query) == {"sslmode": "verify-full"}
