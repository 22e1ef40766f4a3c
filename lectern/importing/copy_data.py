"""COPY data in PostgreSQL's binary format, made from a group's records by psycopg's formatter
(in C: half the interpreter time of asyncpg's encoding of each value, JSON dumped by orjson)
and sent through asyncpg's COPY, in the import's transaction.

One thread makes a group's data, table after table, in chunks that the event loop hands to the
server as they come: the server takes each table while the next is made. The thread runs at
most AHEAD chunks ahead of the server, and stops at its next chunk once the COPY has failed.
"""

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
from psycopg import postgres
from psycopg.copy import Copy, Writer
from psycopg.pq import Conninfo
from psycopg.types.json import set_json_dumps
from psycopg.types.string import BytesBinaryDumper
from sqlalchemy.engine import URL

# Bytes per chunk handed to the server, and the chunks made ahead of it at most.
CHUNK = 1 << 20
AHEAD = 8
# The type oids of jsonb, and of bytea, which psycopg is told a column of made jsonb data has.
JSONB_OID, BYTEA_OID = postgres.types["jsonb"].oid, postgres.types["bytea"].oid
# What binary COPY data of a jsonb value starts with, before its JSON text: the format's version.
JSONB_VERSION = b"\x01"


def jsonb_data(values: Iterable[Any]) -> Iterator[bytes]:
    """JSON values as a jsonb column's binary COPY data, made by orjson and bytes' own methods
    without a Python call per value: psycopg's jsonb dumper makes the same bytes (orjson's text
    after the version byte) through a Python method per value. The COPY is told the column is
    bytea (`BYTEA_OID`), whose data psycopg sends as it is; the server reads it as jsonb."""
    return map(JSONB_VERSION.__add__, map(orjson.dumps, values))


@dataclass
class TableData:
    name: str
    columns: list[str]
    types: list[int]  # the columns' type oids, as binary COPY needs them
    records: Callable[[], Iterable[Sequence[Any]]]


@contextlib.contextmanager
def adaptation_context(url: URL) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg connection to the target, for what psycopg's formatter needs of one (its
    adapters, with JSON dumped by orjson, and bytea data by psycopg's own bytes dumper, in C,
    rather than the DB-API's `Binary` one, in Python, which psycopg takes for the bytea oid);
    nothing is sent through it."""
    with psycopg.connect(libpq_dsn(url)) as connection:
        set_json_dumps(orjson.dumps, connection)
        connection.adapters.register_dumper(bytes, BytesBinaryDumper)
        yield connection


def libpq_dsn(url: URL) -> str:
    """Lectern's (asyncpg) database URL as libpq takes it: the query's libpq parameters kept,
    asyncpg's `ssl` as libpq's `sslmode`, asyncpg's own dropped."""
    known = {option.keyword.decode() for option in Conninfo.get_defaults()}
    query = {key: value for key, value in url.query.items() if key in known}
    if "ssl" in url.query and "sslmode" not in query:
        query["sslmode"] = url.query["ssl"]
    plain = url.set(drivername="postgresql", query=query)
    return plain.render_as_string(hide_password=False)


class _Stopped(Exception):
    """The data is no longer wanted: the COPY it was for failed."""


class _Chunks(Writer):
    """psycopg's output gathered in chunks, each handed on by `put`."""

    def __init__(self, put: Callable[[bytes], None]) -> None:
        self.put, self.buffer = put, bytearray()

    def write(self, data: Any) -> None:
        self.buffer += data
        if len(self.buffer) >= CHUNK:
            self.put(bytes(self.buffer))
            self.buffer.clear()

    def finish(self, exc: BaseException | None = None) -> None:
        if exc is None and self.buffer:
            self.put(bytes(self.buffer))


TableChunks = Callable[[], AsyncIterator[bytes]]


@contextlib.asynccontextmanager
async def made_beside(
    context: psycopg.Connection[Any], tables: list[TableData]
) -> AsyncIterator[TableChunks]:
    """A function that gives, at each call, the next table's data as it is made in a thread;
    on the way out the thread has ended."""
    loop = asyncio.get_running_loop()
    made: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
    room, stopped = threading.Semaphore(AHEAD), threading.Event()

    def put(item: bytes | None) -> None:
        while not room.acquire(timeout=0.1):
            if stopped.is_set():
                raise _Stopped()
        loop.call_soon_threadsafe(made.put_nowait, item)

    def make() -> None:
        try:
            for table in tables:
                with Copy(context.cursor(), binary=True, writer=_Chunks(put)) as copy:
                    copy.set_types(table.types)
                    for record in table.records():
                        copy.write_row(record)
                put(None)
        except _Stopped:
            pass
        except BaseException as error:
            loop.call_soon_threadsafe(made.put_nowait, error)

    async def next_table() -> AsyncIterator[bytes]:
        while True:
            item = await made.get()
            if isinstance(item, BaseException):
                raise item
            room.release()
            if item is None:
                return
            yield item

    maker = ThreadPoolExecutor(1, thread_name_prefix="import-records")
    making = loop.run_in_executor(maker, make)
    try:
        yield next_table
    finally:
        stopped.set()
        await asyncio.wait([making])
        maker.shutdown()
