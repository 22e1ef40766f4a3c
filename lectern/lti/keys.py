"""Keys: Lectern's own RS256 key pairs (which sign its Deep Linking answers and AGS token
requests, and whose public halves it publishes), and the platforms' key sets, fetched from their
JWKS URLs, kept in memory and fetched again when a token names a key id not in them."""

import secrets
import time
from datetime import timedelta
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from joserfc.jws import extract_compact
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.lti.claims import refused
from lectern.models import LtiToolKey
from lectern.models.base import utcnow
from lectern.platform.actor import Actor
from lectern.platform.config import get_settings
from lectern.platform.errors import Forbidden, LecternError
from lectern.platform.outbound_http import guarded_client

ALGORITHM = "RS256"
# A retired key stays published this long: what it signed just before may still be checked.
STILL_PUBLISHED = timedelta(days=1)
# Clock difference allowed between a platform and Lectern.
LEEWAY_S = 60
# An unknown key id fetches the set again, at most once a second per URL: a platform that
# rotated its key is heard at once, and a flood of made-up key ids cannot flood the platform.
REFETCH_AFTER_S = 1.0
FETCH_TIMEOUT_S = 10.0
MAX_KEY_SET_BYTES = 256 * 1024


def _new_key() -> LtiToolKey:
    kid = secrets.token_urlsafe(12)
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": ALGORITHM})
    return LtiToolKey(kid=kid, private_jwk=key.as_dict(private=True), created_at=utcnow())


async def signing_key(session: AsyncSession) -> RSAKey:
    """The newest unretired tool key, made the first time one is needed."""
    row = await session.scalar(
        select(LtiToolKey)
        .where(LtiToolKey.retired_at.is_(None))
        .order_by(LtiToolKey.id.desc())
        .limit(1)
    )
    if row is None:
        row = _new_key()
        session.add(row)
        await session.flush()
    return RSAKey.import_key(row.private_jwk)


async def published_keys(session: AsyncSession) -> dict[str, Any]:
    """Lectern's JWKS: the public halves of the keys in use or retired lately."""
    await signing_key(session)
    rows = await session.scalars(
        select(LtiToolKey)
        .where(
            or_(
                LtiToolKey.retired_at.is_(None),
                LtiToolKey.retired_at > utcnow() - STILL_PUBLISHED,
            )
        )
        .order_by(LtiToolKey.id)
    )
    return {"keys": [RSAKey.import_key(row.private_jwk).as_dict(private=False) for row in rows]}


async def rotate_tool_key(session: AsyncSession, actor: Actor) -> str:
    """A new signing key; the old ones are retired (still published for a day). Returns its kid.
    One key serves every institution, so only a platform admin rotates it."""
    if not actor.is_platform_admin:
        raise Forbidden("Only a platform admin rotates Lectern's LTI key.")
    now = utcnow()
    for old in await session.scalars(select(LtiToolKey).where(LtiToolKey.retired_at.is_(None))):
        old.retired_at = now
    row = _new_key()
    session.add(row)
    await session.flush()
    return row.kid


def sign(key: RSAKey, claims: dict[str, Any]) -> str:
    return jwt.encode({"alg": ALGORITHM, "kid": key.kid, "typ": "JWT"}, claims, key)


class KeySetUnavailable(LecternError):
    status = 502
    title = "Platform key set unavailable"
    slug = "lti-key-set-unavailable"


def platform_client(timeout: float) -> httpx.AsyncClient:
    """A client to a platform's URLs: public addresses only (outbound_http), plain http to this
    machine only in development, where a platform may run beside Lectern."""
    settings = get_settings()
    return guarded_client(
        private_networks=settings.outbound_private_networks,
        loopback_http=settings.environment == "development",
        timeout=timeout,
        follow_redirects=False,
    )


async def fetch_key_set(url: str) -> KeySet:
    """A platform's key set, fetched now; its public signing keys only."""
    try:
        async with platform_client(FETCH_TIMEOUT_S) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise KeySetUnavailable(f"The key set at {url} could not be fetched: {error}.") from None
    if response.status_code != 200 or len(response.content) > MAX_KEY_SET_BYTES:
        raise KeySetUnavailable(f"The key set at {url} answered {response.status_code}.")
    try:
        document = response.json()
        keys = [key for key in document["keys"] if key.get("kty") == "RSA"]
        return KeySet.import_key_set({"keys": keys})
    except (ValueError, KeyError, TypeError, AttributeError, JoseError) as error:
        raise KeySetUnavailable(f"The key set at {url} is not a JWK set: {error}.") from None


class PlatformKeySets:
    """The key sets of the platforms this process verified launches of, by JWKS URL."""

    def __init__(self) -> None:
        self._sets: dict[str, tuple[KeySet, float]] = {}

    async def key(self, url: str, kid: str | None) -> RSAKey:
        cached = self._sets.get(url)
        if cached is not None and (key := _find(cached[0], kid)) is not None:
            return key
        if cached is not None and time.monotonic() - cached[1] < REFETCH_AFTER_S:
            raise refused("The token is signed by a key the platform does not publish.")
        key_set = await fetch_key_set(url)
        self._sets[url] = (key_set, time.monotonic())
        key = _find(key_set, kid)
        if key is None:
            raise refused("The token is signed by a key the platform does not publish.")
        return key

    async def verify(self, url: str, token: str) -> dict[str, Any]:
        """The claims of `token` once its signature is checked against the platform's key,
        with `exp` required and `iat` not in the future."""
        try:
            header = extract_compact(token.encode()).protected
        except (JoseError, ValueError):
            raise refused("The id_token is not a signed JWT.") from None
        if header.get("alg") != ALGORITHM:
            raise refused("The id_token must be signed with RS256.")
        key = await self.key(url, header.get("kid"))
        try:
            decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_S, exp={"essential": True}, iat={"essential": True}
            ).validate(decoded.claims)
        except JoseError as error:
            raise refused(
                f"The id_token was refused: {error.description or error.error}."
            ) from None
        claims: dict[str, Any] = decoded.claims
        issued = claims.get("iat")
        if not isinstance(issued, int | float) or issued > time.time() + LEEWAY_S:
            raise refused("The id_token was issued in the future.")
        return claims


def _find(key_set: KeySet, kid: str | None) -> RSAKey | None:
    candidates = [key for key in key_set.keys if kid is None or key.kid == kid]
    if len(candidates) != 1 or not isinstance(candidates[0], RSAKey):
        return None
    return candidates[0]
