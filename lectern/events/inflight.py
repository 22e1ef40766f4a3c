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

from lectern.platform.prepared import Prepared
from lectern.platform.transaction import transaction_of

NOTIFY_CHANNEL = "lectern_events"
# Keys are split over the two int4 halves of a two-key advisory lock, whose first half starts
# here; other advisory locks of the app use the one-bigint form, a separate key space.
LOCK_NAMESPACE = 2_000_000_000

# The last id events_id_seq has drawn (the sequence's name as the migration creates it): the
# writers' keys and the pump's reading of the head must agree on it, so both use this.
_HEAD = "CASE WHEN is_called THEN last_value ELSE last_value - 1 END"
# The storage file changes when the sequence is reset (TRUNCATE ... RESTART IDENTITY, a restore),
# even if its value has climbed back past what was read before.
_LAST_DRAWN = Prepared(
    text(f"SELECT {_HEAD}, pg_relation_filenode('events_id_seq') FROM events_id_seq")  # noqa: S608
)
# The same statement queues the NOTIFY that wakes every process's pump once the transaction
# commits (PostgreSQL delivers it only then); its payload is the id the new events follow. It
# also gives the transaction's id, by which Database.run learns whether a COMMIT whose answer
# was lost took effect.
_ANNOUNCE = text(
    f"""
    SELECT pg_advisory_xact_lock_shared((:ns + (k >> 31))::int, (k & 2147483647)::int),
           pg_notify(:channel, k::text),
           pg_current_xact_id()::text AS xid
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


async def announce(session: AsyncSession) -> None:
    """Before a transaction draws its first event id: mark it as a writer until it ends, and
    have its commit wake the pumps. A savepoint that rolls back releases the mark's lock, so
    each savepoint announces itself."""
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction = transaction_of(session)
    scope = session.sync_session.get_nested_transaction() or transaction
    if transaction.announced_in is scope:
        return
    row = await _PREPARED_ANNOUNCE.one(session)
    transaction.announced_in, transaction.xid = scope, int(row.xid)


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
