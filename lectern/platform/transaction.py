"""What one transaction accumulates, and the work tied to its end.

Every session of Database's sessionmaker carries one `Transaction` at a time (`transaction_of`):
the events a command recorded, the learner-course locks it holds, PostgreSQL's id of it (to learn
whether a COMMIT whose answer was lost took effect), the driver connection Database.run pinned it
to. Work that must run just before a commit registers once for every transaction
(`before_every_commit`: the event log writes what was recorded); work for after one transaction's
commit registers on it (`Transaction.after_commit`) and is dropped if it rolls back.

Database.run begins and ends its transactions itself and runs those hooks at its edge; a session
committed otherwise (`await session.commit()`) has them run by the session's own events.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_session
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.util import await_only

Writer = Callable[[AsyncSession], Awaitable[object]]
_writers: list[Writer] = []


def before_every_commit(writer: Writer) -> Writer:
    """Have `writer(session)` awaited in every transaction just before it commits, in the order
    registered (a decorator; a package below the platform's users registers at import)."""
    _writers.append(writer)
    return writer


@dataclass(eq=False)
class Transaction:
    """One transaction's state. A command reaches it through `transaction_of(session)`."""

    # Database.run's: it begins this transaction on `driver`, where every Prepared statement of
    # the session runs, and commits it; the session's own events leave it alone.
    driver: asyncpg.Connection | None = None
    xid: int | None = None  # PostgreSQL's pg_current_xact_id(), once a statement asked for it
    events: list[dict[str, Any]] = field(default_factory=list)  # recorded, not yet written
    last_event_id: int | None = None  # the highest event id written in it
    # What announced it as an event writer: this object, or the savepoint then open (one that
    # rolls back releases the announcement's lock, so the next write announces again).
    announced_in: object | None = None
    pair_locks: set[tuple[int, int]] = field(default_factory=set)  # (user_id, course_id)
    at_edge: bool = False  # Database.run commits it and runs its hooks
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback()` once this transaction has committed; never if it rolls back."""
        self._after_commit.append(callback)

    async def before_commit(self, session: AsyncSession) -> None:
        for writer in _writers:
            await writer(session)

    def committed(self) -> None:
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()


class CommandSession(Session):
    """The sessions Database makes: each carries its current Transaction."""

    current: Transaction | None = None


def transaction_of(session: AsyncSession | Session) -> Transaction:
    """The transaction `session` is in, or will begin with its next statement."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if not isinstance(sync, CommandSession):
        raise TypeError("only a session of Database's sessionmaker carries a Transaction")
    if sync.current is None:
        sync.current = Transaction()
    return sync.current


def begin_at_edge(session: AsyncSession, driver: asyncpg.Connection | None) -> Transaction:
    """A fresh Transaction for Database.run's command in `session`, pinned to `driver` if any."""
    sync = session.sync_session
    assert isinstance(sync, CommandSession)
    sync.current = Transaction(driver=driver, at_edge=True)
    return sync.current


@event.listens_for(CommandSession, "before_commit")
def _before_commit(session: Session) -> None:
    # Runs inside SQLAlchemy's greenlet as an AsyncSession commits, so it may await.
    transaction = getattr(session, "current", None)
    proxy = async_session(session)
    if transaction is not None and not transaction.at_edge and proxy is not None:
        await_only(transaction.before_commit(proxy))


@event.listens_for(CommandSession, "after_commit")
def _after_commit(session: Session) -> None:
    transaction = getattr(session, "current", None)
    if transaction is not None and not transaction.at_edge:
        transaction.committed()


@event.listens_for(CommandSession, "after_transaction_end")
def _forget(session: Session, ended: SessionTransaction) -> None:
    transaction = getattr(session, "current", None)
    if ended.parent is None and transaction is not None and not transaction.at_edge:
        session.current = None  # type: ignore[attr-defined]
