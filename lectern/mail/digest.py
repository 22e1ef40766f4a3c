"""Daily digests: the messages a person chose to get once a day, folded into one."""

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.mail.outbox import enqueue, origin
from lectern.models import OutboxMessage
from lectern.models.mail import MailKind, MailStatus
from lectern.platform.config import get_settings

DIGEST_EVERY = timedelta(days=1)


async def fold_digests(session: AsyncSession, now: datetime) -> int:
    """Fold each person's held messages into one digest once the oldest is a day old; how many
    digests were written."""
    due = await session.scalars(
        select(OutboxMessage.user_id)
        .where(OutboxMessage.status == MailStatus.HELD)
        .group_by(OutboxMessage.user_id)
        .having(func.min(OutboxMessage.created_at) <= now - DIGEST_EVERY)
    )
    folded = 0
    for user_id in list(due):
        # Whatever another worker folded meanwhile is not returned here: one digest per message.
        folding = (
            update(OutboxMessage)
            .where(OutboxMessage.user_id == user_id, OutboxMessage.status == MailStatus.HELD)
            .values(status=MailStatus.DIGESTED)
            .returning(OutboxMessage.subject, OutboxMessage.institution_id, OutboxMessage.id)
        )
        held = list((await session.execute(folding)).all())
        if not held:
            continue
        held.sort(key=lambda row: row.id)
        await enqueue(
            session,
            user_id=user_id,
            institution_id=held[-1].institution_id,
            kind=MailKind.DIGEST,
            context={
                "count": len(held),
                "items": [{"subject": row.subject} for row in held],
                "link": f"{origin(get_settings())}/learn",
            },
        )
        folded += 1
    return folded
