"""Which event ids may still commit (PostgreSQL).

A transaction that appends events first takes a shared, transaction-scoped advisory lock whose
key is the event sequence's last value at that moment: every id it then draws is above its key,
and the lock is released only after its commit (or rollback) is visible to everyone. A reader
that reads the sequence and then the held keys knows that every id up to the smaller of the two
is final. lectern.live.pump gives the whole argument.
"""

from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from lectern.platform.prepared import Prepared, pinned

NOTIFY_CHANNEL = "lectern_events"
# Keys are split over the two int4 halves of a two-key advisory lock, whose first half starts
# here; other advisory locks of the app use the one-bigint form, a separate key space.
LOCK_NAMESPACE = 2_000_000_000
_WRITING = "event_writer_announced"

# The last id events_id_seq has drawn (the sequence's name as the migration creates it): the
# writers' keys and the pump's reading of the head must agree on it, so both use this.
_HEAD = "CASE WHEN is_called THEN last_value ELSE last_value - 1 END"
# The storage file changes when the sequence is reset (TRUNCATE ... RESTART IDENTITY, a restore),
# even if its value has climbed back past what was read before.
_LAST_DRAWN = Prepared(
    text(f"SELECT {_HEAD}, pg_relation_filenode('events_id_seq') FROM events_id_seq")  # noqa: S608
)
# The same statement queues the NOTIFY that wakes every process's pump once the transaction
# commits (PostgreSQL delivers it only then); its payload is the id the new events follow.
_ANNOUNCE = text(
    f"""
    SELECT pg_advisory_xact_lock_shared((:ns + (k >> 31))::int, (k & 2147483647)::int),
           pg_notify(:channel, k::text)
    FROM (SELECT {_HEAD} AS k FROM events_id_seq) AS head
    """  # noqa: S608 - constants only
).bindparams(ns=LOCK_NAMESPACE, channel=NOTIFY_CHANNEL)
_LOWEST_WRITER = Prepared(
    text(
        """
        SELECT min(((classid::bigint - :ns) << 31) | objid::bigint)
        FROM pg_locks
        WHERE locktype = 'advisory' AND objsubid = 2 AND classid::bigint >= :ns
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """
    ).bindparams(ns=LOCK_NAMESPACE)
)


_PREPARED_ANNOUNCE = Prepared(_ANNOUNCE)


def _transaction_of(session: Session) -> object | None:
    # A savepoint that rolls back releases its locks, so each (sub)transaction announces itself.
    # A pinned session (Database.run's) is in its connection's transaction from the start, and
    # stays in it when the ORM begins on that connection.
    return session.get_nested_transaction() or pinned(session) or session.get_transaction()


def _announced(session: Session) -> bool:
    transaction = _transaction_of(session)
    return transaction is not None and session.info.get(_WRITING) is transaction


def _remember_announced(session: Session) -> None:
    session.info[_WRITING] = _transaction_of(session)


def announce_writer(session: Session) -> None:
    """Before a transaction draws its first event id: mark it as a writer until it ends, and
    have its commit wake the pumps."""
    if session.get_bind().dialect.name != "postgresql" or _announced(session):
        return
    session.execute(_ANNOUNCE)
    _remember_announced(session)


async def announce(session: AsyncSession) -> None:
    """`announce_writer`, awaited on the session's connection."""
    if session.get_bind().dialect.name != "postgresql" or _announced(session.sync_session):
        return
    await _PREPARED_ANNOUNCE.run(session)
    _remember_announced(session.sync_session)


class Finality(NamedTuple):
    upto: int  # every event with an id at or below it is final
    held: bool  # writers still hold ids above it
    restarted: bool  # the sequence was reset since the previous look: ids begin again


class LogHead:
    """The pump's view of the event sequence, from one look to the next."""

    def __init__(self) -> None:
        self.last_drawn: int | None = None
        self.sequence_file: int | None = None

    async def final_up_to(self, connection: AsyncConnection) -> Finality:
        """The highest id at or below which every event is final (committed and visible to a
        later statement, or never to exist), whether writers still hold ids above it, and
        whether the sequence was reset since the previous look."""
        if connection.dialect.name != "postgresql":
            # Writers take turns, so whatever is visible is final.
            return Finality(2**63 - 1, held=False, restarted=False)
        last_drawn, sequence_file = await _LAST_DRAWN.one(connection)
        restarted = self.last_drawn is not None and (
            sequence_file != self.sequence_file or last_drawn < self.last_drawn
        )
        self.last_drawn, self.sequence_file = last_drawn, sequence_file
        [lowest_writer] = await _LOWEST_WRITER.one(connection)
        if lowest_writer is None or lowest_writer >= last_drawn:
            return Finality(int(last_drawn), held=False, restarted=restarted)
        return Finality(int(lowest_writer), held=True, restarted=restarted)
