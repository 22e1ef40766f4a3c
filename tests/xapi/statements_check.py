"""Checking statements with Ralph's xAPI models, and what the tests expect of them."""

from typing import Any
from uuid import UUID

from ralph.exceptions import UnknownEventException
from ralph.models.selector import ModelSelector
from ralph.models.validator import Validator
from ralph.models.xapi.base.statements import BaseXapiStatement
from sqlalchemy import select

from lectern.models import Event, XapiDestination
from lectern.platform.db import Database
from lectern.xapi.statements import statements_for

_VALIDATOR = Validator(ModelSelector(module="ralph.models.xapi"))


def validated(statement: dict[str, Any]) -> BaseXapiStatement:
    """The statement as Ralph's most specific model reads it (a Video Profile statement as its
    video model, any other as a base xAPI statement); raises when it is not valid."""
    try:
        model: BaseXapiStatement = _VALIDATOR.get_first_valid_model(statement)
    except UnknownEventException:
        return BaseXapiStatement(**statement)
    return model


def verb(statement: dict[str, Any]) -> str:
    return str(statement["verb"]["id"]).rsplit("/", 1)[-1]


async def expected_statements(db: Database, destination: dict[str, Any]) -> list[dict[str, Any]]:
    """What the destination's institution's events since its creation make, in event order."""
    async with db.session() as session:
        lrs = await session.get_one(XapiDestination, destination["id"])
        events = (
            await session.scalars(
                select(Event)
                .where(
                    Event.institution_id == lrs.institution_id,
                    Event.id > destination["delivered_through"],
                )
                .order_by(Event.id)
            )
        ).all()
        return [
            statement
            for event in events
            for statement in statements_for(
                namespace=UUID(lrs.statement_namespace),
                origin=lrs.activity_origin,
                event_id=event.id,
                event_type=event.type,
                user_id=event.user_id,
                payload=event.payload,
                created_at=event.created_at,
            )
        ]
