"""Admins' identity providers (configure, test the connection, recent sign-ins) and the list
of providers the sign-in page offers."""

from typing import Annotated

from fastapi import Depends, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import Institution, OidcProvider
from lectern.oidc import service
from lectern.oidc.discovery import provider_metadata
from lectern.oidc.errors import ProviderUnreachable
from lectern.oidc.schemas import (
    ConnectionOut,
    OfferedProviderOut,
    ProviderIn,
    ProviderOut,
    ProviderPatch,
    SignInOut,
)
from lectern.oidc.sign_in import redirect_uri
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.errors import Invalid
from lectern.platform.public_url import public_url
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId

router = api_router(prefix="/api/v1", tags=["oidc"])
PROVIDERS = "/admin/oidc/providers"


async def _out(request: Request, session: AsyncSession, provider: OidcProvider) -> ProviderOut:
    slug = (await session.get_one(Institution, provider.institution_id)).slug
    return ProviderOut(
        id=provider.id,
        name=provider.name,
        issuer=provider.issuer,
        client_id=provider.client_id,
        email_domain=provider.email_domain,
        enabled=provider.enabled,
        redirect_uri=redirect_uri(request),
        sign_in_url=f"{public_url(request)}/login?institution={slug}",
        created_at=provider.created_at,
        updated_at=provider.updated_at,
    )


@router.get(PROVIDERS, response_model=list[ProviderOut])
async def list_providers(
    request: Request,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
) -> list[ProviderOut]:
    return [
        await _out(request, session, provider)
        for provider in await service.providers_of(session, actor)
    ]


@router.post(PROVIDERS, status_code=status.HTTP_201_CREATED, response_model=ProviderOut)
async def add_provider(
    body: ProviderIn,
    request: Request,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> ProviderOut:
    """Add an identity provider; its people sign in through it once it is enabled."""

    async def command(session: AsyncSession) -> ProviderOut:
        provider = await service.add_provider(session, actor, **body.model_dump())
        return await _out(request, session, provider)

    return await db.run(command)


@router.get(PROVIDERS + "/{provider_id}", response_model=ProviderOut)
async def get_provider(
    provider_id: PathId,
    request: Request,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
) -> ProviderOut:
    return await _out(request, session, await service.provider_of(session, actor, provider_id))


@router.patch(PROVIDERS + "/{provider_id}", response_model=ProviderOut)
async def change_provider(
    provider_id: PathId,
    body: ProviderPatch,
    request: Request,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> ProviderOut:
    """Change the fields given; the client secret is kept unless a new one is given."""
    changes = body.model_dump(exclude_unset=True)
    if nulls := sorted(name for name, value in changes.items() if value is None):
        raise Invalid(f"{', '.join(nulls)} cannot be null; leave a field out to keep it.")

    async def command(session: AsyncSession) -> ProviderOut:
        provider = await service.change_provider(session, actor, provider_id, **changes)
        return await _out(request, session, provider)

    return await db.run(command)


@router.delete(PROVIDERS + "/{provider_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_provider(
    provider_id: PathId, actor: Actor = Depends(admin_actor), db: Database = Depends(get_database)
) -> None:
    await db.run(lambda s: service.remove_provider(s, actor, provider_id))


@router.post(PROVIDERS + "/{provider_id}/test", response_model=ConnectionOut)
async def check_connection(
    provider_id: PathId,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> ConnectionOut:
    """Fetch the provider's discovery document and key set now, and say what was found."""
    async with db.session() as session:
        provider = await service.provider_of(session, actor, provider_id)
    try:
        metadata = await provider_metadata(provider.issuer, fresh=True)
    except ProviderUnreachable as failure:
        return ConnectionOut(ok=False, detail=failure.detail)
    return ConnectionOut(
        ok=True,
        detail=f"Discovery and key set fetched: {metadata.key_count} signing key(s).",
        authorization_endpoint=metadata.authorization_endpoint,
        token_endpoint=metadata.token_endpoint,
        jwks_uri=metadata.jwks_uri,
        signing_keys=metadata.key_count,
    )


@router.get(PROVIDERS + "/{provider_id}/sign-ins", response_model=list[SignInOut])
async def recent_sign_ins(
    provider_id: PathId,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
) -> list[SignInOut]:
    """The latest sign-ins through this provider, newest first, refused ones with their reason."""
    return [
        SignInOut.model_validate(row)
        for row in await service.recent_sign_ins(session, actor, provider_id)
    ]


@router.get("/oidc/providers", response_model=list[OfferedProviderOut])
async def offered_providers(
    institution: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    session: AsyncSession = Depends(read_session),
) -> list[OfferedProviderOut]:
    """The enabled identity providers people may sign in with: one institution's (by slug),
    or every institution's."""
    return [
        OfferedProviderOut(
            id=offered.id,
            name=offered.name,
            institution=offered.institution,
            start_url=f"/oidc/{offered.id}/start",
        )
        for offered in await service.offered_providers(session, institution)
    ]
