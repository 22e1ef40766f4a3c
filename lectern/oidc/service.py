"""Commands on identity providers and on the sign-ins that come back from them."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.accounts.schemas import EmailAddress
from lectern.accounts.service import NO_PASSWORD, register_student
from lectern.models import Institution, OidcFlow, OidcIdentity, OidcProvider, OidcSignIn, User
from lectern.models.base import utcnow
from lectern.models.oidc import SignInOutcome
from lectern.oidc.errors import AccountExists, AccountSuspended, DomainNotAllowed, SignInRefused
from lectern.platform.actor import Actor
from lectern.platform.db import insert_for
from lectern.platform.errors import Conflict, Forbidden, LecternError, NotFound

# How long a sign-in may stay at the provider before its state is forgotten.
FLOW_MINUTES = 10
RECENT_SIGN_INS = 50
_EMAIL = TypeAdapter(EmailAddress)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only an admin can do this.")


async def providers_of(session: AsyncSession, actor: Actor) -> list[OidcProvider]:
    _require_admin(actor)
    return list(
        await session.scalars(
            select(OidcProvider)
            .where(OidcProvider.institution_id == actor.institution_id)
            .order_by(OidcProvider.id)
        )
    )


async def provider_of(session: AsyncSession, actor: Actor, provider_id: int) -> OidcProvider:
    """The actor's institution's provider; another institution's is not found."""
    _require_admin(actor)
    provider = await session.get(OidcProvider, provider_id)
    if provider is None or provider.institution_id != actor.institution_id:
        raise NotFound("No such identity provider.")
    return provider


async def add_provider(session: AsyncSession, actor: Actor, **fields: Any) -> OidcProvider:
    """A new identity provider for the actor's institution."""
    _require_admin(actor)
    now = utcnow()
    provider_id = await session.scalar(
        insert_for(session)(OidcProvider)
        .values(institution_id=actor.institution_id, created_at=now, updated_at=now, **fields)
        .on_conflict_do_nothing(index_elements=["institution_id", "issuer", "client_id"])
        .returning(OidcProvider.id)
    )
    if provider_id is None:
        raise Conflict(
            "This institution already has a provider with that issuer and client id.",
            slug="oidc-provider-exists",
        )
    return await session.get_one(OidcProvider, provider_id)


async def change_provider(
    session: AsyncSession, actor: Actor, provider_id: int, **changes: Any
) -> OidcProvider:
    """Change a provider's settings; only those given."""
    provider = await provider_of(session, actor, provider_id)
    if not changes:
        return provider
    clash = await session.scalar(
        select(OidcProvider.id).where(
            OidcProvider.institution_id == provider.institution_id,
            OidcProvider.issuer == changes.get("issuer", provider.issuer),
            OidcProvider.client_id == changes.get("client_id", provider.client_id),
            OidcProvider.id != provider.id,
        )
    )
    if clash is not None:
        raise Conflict(
            "This institution already has a provider with that issuer and client id.",
            slug="oidc-provider-exists",
        )
    await session.execute(
        update(OidcProvider)
        .where(OidcProvider.id == provider.id)
        .values(updated_at=utcnow(), **changes)
    )
    await session.refresh(provider)
    return provider


async def remove_provider(session: AsyncSession, actor: Actor, provider_id: int) -> None:
    """Remove a provider; the accounts made through it stay, and sign in with a password after
    a reset."""
    provider = await provider_of(session, actor, provider_id)
    await session.execute(delete(OidcProvider).where(OidcProvider.id == provider.id))


async def recent_sign_ins(
    session: AsyncSession, actor: Actor, provider_id: int
) -> list[OidcSignIn]:
    provider = await provider_of(session, actor, provider_id)
    return list(
        await session.scalars(
            select(OidcSignIn)
            .where(OidcSignIn.provider_id == provider.id)
            .order_by(OidcSignIn.id.desc())
            .limit(RECENT_SIGN_INS)
        )
    )


@dataclass(frozen=True)
class OfferedProvider:
    id: int
    name: str
    institution: str


async def offered_providers(
    session: AsyncSession, institution_slug: str | None
) -> list[OfferedProvider]:
    """The enabled providers the sign-in page offers: one institution's, or every one's."""
    query = (
        select(OidcProvider.id, OidcProvider.name, Institution.name)
        .join(Institution, Institution.id == OidcProvider.institution_id)
        .where(OidcProvider.enabled.is_(True))
        .order_by(Institution.name, OidcProvider.name, OidcProvider.id)
        .limit(100)
    )
    if institution_slug is not None:
        query = query.where(Institution.slug == institution_slug.strip().lower())
    return [OfferedProvider(*row) for row in await session.execute(query)]


async def enabled_provider(session: AsyncSession, provider_id: int) -> OidcProvider:
    provider = await session.get(OidcProvider, provider_id)
    if provider is None or not provider.enabled:
        raise NotFound("No such identity provider.")
    return provider


@dataclass(frozen=True)
class StartedFlow:
    state: str
    nonce: str
    code_verifier: str


async def begin_flow(
    session: AsyncSession, provider_id: int, *, browser_secret: str, next_path: str
) -> StartedFlow:
    """A sign-in about to be sent to the provider, bound to the browser holding
    `browser_secret`; flows older than FLOW_MINUTES are forgotten on the way."""
    await enabled_provider(session, provider_id)
    now = utcnow()
    await session.execute(
        delete(OidcFlow).where(OidcFlow.created_at < now - timedelta(minutes=FLOW_MINUTES))
    )
    flow = StartedFlow(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
    )
    session.add(
        OidcFlow(
            state_digest=digest(flow.state),
            browser_digest=digest(browser_secret),
            provider_id=provider_id,
            nonce=flow.nonce,
            code_verifier=flow.code_verifier,
            next_path=next_path,
            created_at=now,
        )
    )
    return flow


@dataclass(frozen=True)
class ReturnedFlow:
    provider_id: int
    nonce: str
    code_verifier: str
    next_path: str


async def take_flow(
    session: AsyncSession, *, state: str, browser_secret: str | None
) -> ReturnedFlow:
    """The flow `state` names, used up: it must be unexpired and started by this browser."""
    row = await session.scalar(
        delete(OidcFlow).where(OidcFlow.state_digest == digest(state)).returning(OidcFlow)
    )
    fresh = row is not None and row.created_at >= utcnow() - timedelta(minutes=FLOW_MINUTES)
    if (
        row is None
        or not fresh
        or browser_secret is None
        or not secrets.compare_digest(row.browser_digest, digest(browser_secret))
    ):
        raise SignInRefused(
            "This sign-in's state is unknown, expired, used, or was started in another browser;"
            " start again.",
            slug="oidc-state-mismatch",
        )
    return ReturnedFlow(row.provider_id, row.nonce, row.code_verifier, row.next_path)


@dataclass(frozen=True)
class Person:
    """Who the provider says signed in, from the ID token's claims."""

    subject: str
    email: str | None
    email_verified: bool | None
    full_name: str

    @classmethod
    def of(cls, claims: dict[str, Any]) -> "Person":
        email = claims.get("email")
        verified = claims.get("email_verified")
        if isinstance(verified, str):
            verified = verified.lower() == "true"
        name = claims.get("name") or " ".join(
            str(claims[part]) for part in ("given_name", "family_name") if claims.get(part)
        )
        return cls(
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) else None,
            email_verified=verified if isinstance(verified, bool) else None,
            full_name=str(name or "").strip()[:200],
        )


async def sign_in_person(
    session: AsyncSession, provider_id: int, person: Person
) -> tuple[User, bool]:
    """The account `person` signs into through the provider: the one linked to their subject,
    or, at their first sign-in, a new student made as registration makes one. An existing
    account with their e-mail is never taken over. Returns (user, created)."""
    provider = await session.get(OidcProvider, provider_id)
    if provider is None or not provider.enabled:
        raise SignInRefused("This identity provider is no longer enabled.", slug="oidc-disabled")
    now = utcnow()
    linked = await session.scalar(
        select(User)
        .join(OidcIdentity, OidcIdentity.user_id == User.id)
        .where(OidcIdentity.provider_id == provider.id, OidcIdentity.subject == person.subject)
    )
    if linked is not None:
        if linked.suspended_at is not None:
            raise AccountSuspended("This account is suspended; ask your institution's admin.")
        await session.execute(
            update(OidcIdentity)
            .where(OidcIdentity.provider_id == provider.id, OidcIdentity.subject == person.subject)
            .values(last_sign_in_at=now)
        )
        _log(session, provider.id, person, SignInOutcome.SIGNED_IN, user_id=linked.id)
        return linked, False
    email = _allowed_email(provider, person)
    institution = await session.get_one(Institution, provider.institution_id)
    try:
        user = await register_student(
            session,
            institution_slug=institution.slug,
            email=email,
            password_hash=NO_PASSWORD,
            full_name=person.full_name or email.split("@", 1)[0],
        )
    except Conflict as exc:
        raise _account_exists() from exc
    session.add(
        OidcIdentity(
            provider_id=provider.id,
            subject=person.subject,
            user_id=user.id,
            created_at=now,
            last_sign_in_at=now,
        )
    )
    _log(session, provider.id, person, SignInOutcome.CREATED, user_id=user.id)
    return user, True


def _account_exists() -> AccountExists:
    return AccountExists(
        "An account with this e-mail address already exists and is not linked to this identity"
        " provider. Sign in with its password instead; it is never taken over by e-mail alone.",
    )


def _allowed_email(provider: OidcProvider, person: Person) -> str:
    if person.email is None:
        raise SignInRefused(
            "The identity provider did not give an e-mail address (ask for the 'email' scope).",
            slug="oidc-no-email",
        )
    try:
        email = _EMAIL.validate_python(person.email)
    except ValidationError as exc:
        raise SignInRefused(
            "The identity provider gave an e-mail address that is not valid.", slug="oidc-no-email"
        ) from exc
    if email.rsplit("@", 1)[1].lower() != provider.email_domain:
        raise DomainNotAllowed(
            f"Only addresses at {provider.email_domain} may sign in through this provider."
        )
    if person.email_verified is False:
        raise DomainNotAllowed(
            "The identity provider has not verified this e-mail address.",
            slug="oidc-email-unverified",
        )
    return email


def _log(
    session: AsyncSession,
    provider_id: int,
    person: Person | None,
    outcome: SignInOutcome,
    *,
    user_id: int | None = None,
    refusal: LecternError | None = None,
) -> None:
    session.add(
        OidcSignIn(
            provider_id=provider_id,
            user_id=user_id,
            subject=person.subject if person else None,
            email=person.email[:320] if person and person.email else None,
            outcome=outcome,
            reason=refusal.slug if refusal else None,
            detail=refusal.detail[:300] if refusal else None,
            created_at=utcnow(),
        )
    )


async def record_refusal(
    session: AsyncSession, provider_id: int, person: Person | None, refusal: LecternError
) -> None:
    """Note a refused sign-in for the provider's admins (in a transaction of its own: the
    refused one wrote nothing)."""
    if await session.get(OidcProvider, provider_id) is not None:
        _log(session, provider_id, person, SignInOutcome.REFUSED, refusal=refusal)
