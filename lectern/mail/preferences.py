"""How each person wants each kind of message, and one-click unsubscribing."""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.mail.compose import (
    ALL_CHOOSABLE,
    CHOOSABLE,
    read_unsubscribe_token,
    signature_matches,
)
from lectern.mail.outbox import choice_of, preferences_of
from lectern.models import MailPreferences, OutboxMessage
from lectern.models.base import utcnow
from lectern.models.mail import MailChoice, MailKind
from lectern.platform.actor import Actor
from lectern.platform.errors import Invalid


async def my_choices(session: AsyncSession, actor: Actor) -> dict[str, MailChoice]:
    preferences = await session.get(MailPreferences, actor.id)
    chosen = preferences.choices if preferences else {}
    return {
        kind.value: MailChoice(chosen.get(kind.value, MailChoice.IMMEDIATELY)) for kind in CHOOSABLE
    }


async def choose(
    session: AsyncSession, user_id: int, choices: dict[MailKind, MailChoice]
) -> dict[str, MailChoice]:
    """Set the person's choice for the kinds given; the others stay."""
    preferences = await preferences_of(session, user_id)
    merged = {
        **preferences.choices,
        **{kind.value: choice.value for kind, choice in choices.items()},
    }
    await session.execute(
        update(MailPreferences)
        .where(MailPreferences.user_id == user_id)
        .values(choices=merged, updated_at=utcnow())
    )
    await session.refresh(preferences)
    return {kind.value: choice_of(preferences, kind) for kind in CHOOSABLE}


async def unsubscribe(session: AsyncSession, token: str) -> list[MailKind]:
    """Stop what an unsubscribe link names, without signing in; the kinds it stopped."""
    read = read_unsubscribe_token(token)
    key = None
    if read is not None:
        key = await session.scalar(
            select(MailPreferences.signing_key).where(MailPreferences.user_id == read[0])
        )
    if read is None or key is None or not signature_matches(key, *read):
        raise Invalid("This unsubscribe link is not valid.", slug="bad-unsubscribe-link")
    user_id, which, _ = read
    kinds = list(CHOOSABLE) if which == ALL_CHOOSABLE else [MailKind(which)]
    await choose(session, user_id, dict.fromkeys(kinds, MailChoice.NONE))
    return kinds


async def institution_mail(
    session: AsyncSession, actor: Actor, *, limit: int, offset: int
) -> list[OutboxMessage]:
    """The messages to the admin's institution, newest first."""
    return list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.institution_id == actor.institution_id)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
