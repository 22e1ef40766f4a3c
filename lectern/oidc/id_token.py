"""Checking an ID token: its signature against the provider's key set, then its claims (issuer,
audience, expiry, nonce) with Authlib's rules for the authorization code flow."""

from typing import Any

from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from lectern.oidc.errors import IdTokenInvalid

# Clocks of the provider and Lectern may differ by this much.
LEEWAY_SECONDS = 60


class UnknownSigningKey(IdTokenInvalid):
    """Signed with a key the key set does not have (yet): a rotation, worth fetching it again."""


def verified_claims(
    id_token: str,
    *,
    jwks: dict[str, Any],
    algorithms: tuple[str, ...],
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: str | None,
) -> dict[str, Any]:
    """The ID token's claims, if it is signed by the provider, for this client, unexpired, and
    carries the nonce this sign-in sent; IdTokenInvalid saying what is wrong otherwise."""
    try:
        token = jwt.decode(
            id_token,
            KeySet.import_key_set(jwks),  # type: ignore[arg-type]
            registry=JWSRegistry(algorithms=list(algorithms), strict_check_header=False),
        )
    except InvalidKeyIdError as exc:
        raise UnknownSigningKey(
            "The ID token is signed with a key the provider does not list."
        ) from exc
    except (JoseError, ValueError) as exc:
        raise IdTokenInvalid(f"The ID token's signature does not verify ({exc}).") from exc
    claims = CodeIDToken(
        token.claims,
        token.header,
        {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
        },
        {"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    try:
        claims.validate(leeway=LEEWAY_SECONDS)
    except JoseError as exc:
        raise IdTokenInvalid(f"The ID token is not acceptable: {exc}.") from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise IdTokenInvalid("The ID token's subject is missing or too long.")
    return dict(claims)
