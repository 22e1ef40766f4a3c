"""The admin endpoints every kind of destination has alike: replay from an event, and resume.
An integration adds them to its router with its own path, path parameter, commands (which check
the admin's institution) and output model; the paths and operation ids stay its own."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.outbound.schemas import ReplayIn
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor
from lectern.platform.db import Database, get_database

Found = TypeVar("Found")


@dataclass(frozen=True)
class DestinationActions(Generic[Found]):
    """What the shared endpoints need of an integration.

    - `one`: the path of one destination, e.g. "/{subscription_id}".
    - `destination_id`: a dependency that reads that path parameter (it names it in the API).
    - `replay(session, actor, id, from_event_id)`, `resume(session, actor, id)`: the commands.
    - `out(found)`: the answer, of the type `response_model`.
    - `replayed`, `resumed`: what the endpoints say they do, for the API's documentation.
    """

    one: str
    destination_id: Callable[..., int]
    replay: Callable[[AsyncSession, Actor, int, int], Awaitable[Found]]
    resume: Callable[[AsyncSession, Actor, int], Awaitable[Found]]
    out: Callable[[Found], BaseModel]
    response_model: type[BaseModel]
    replayed: str
    resumed: str


def add_destination_actions(router: APIRouter, actions: DestinationActions[Any]) -> None:
    """POST {one}/replay and POST {one}/resume, named `replay` and `resume`."""
    DestinationId = Annotated[int, Depends(actions.destination_id)]  # noqa: N806 - a type

    async def replay(
        destination_id: DestinationId,
        body: ReplayIn,
        actor: Actor = Depends(admin_actor),
        db: Database = Depends(get_database),
    ) -> BaseModel:
        async def command(session: AsyncSession) -> BaseModel:
            found = await actions.replay(session, actor, destination_id, body.from_event_id)
            return actions.out(found)

        return await db.run(command)

    async def resume(
        destination_id: DestinationId,
        actor: Actor = Depends(admin_actor),
        db: Database = Depends(get_database),
    ) -> BaseModel:
        async def command(session: AsyncSession) -> BaseModel:
            return actions.out(await actions.resume(session, actor, destination_id))

        return await db.run(command)

    for endpoint, description in ((replay, actions.replayed), (resume, actions.resumed)):
        router.add_api_route(
            f"{actions.one}/{endpoint.__name__}",
            endpoint,
            methods=["POST"],
            response_model=actions.response_model,
            description=description,
        )
