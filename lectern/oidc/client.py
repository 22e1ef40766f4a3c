"""Lectern as an OpenID Connect client, with Authlib's httpx client: the authorization request
(code flow, PKCE S256, state and nonce) and the exchange of the code for tokens."""

from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from lectern.models import OidcProvider
from lectern.oidc.discovery import TIMEOUT, ProviderMetadata, transport
from lectern.oidc.errors import ProviderUnreachable, SignInRefused

SCOPE = "openid email profile"


def _client(provider: OidcProvider, metadata: ProviderMetadata) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method=metadata.token_auth_method,
        scope=SCOPE,
        code_challenge_method="S256",
        timeout=TIMEOUT,
        transport=transport(),
        trust_env=False,
    )


async def authorization_url(
    provider: OidcProvider,
    metadata: ProviderMetadata,
    *,
    redirect_uri: str,
    state: str,
    nonce: str,
    code_verifier: str,
) -> str:
    """Where the browser goes to sign in at the provider."""
    async with _client(provider, metadata) as client:
        url, _ = client.create_authorization_url(
            metadata.authorization_endpoint,
            state=state,
            code_verifier=code_verifier,
            nonce=nonce,
            redirect_uri=redirect_uri,
        )
    return str(url)


async def exchange_code(
    provider: OidcProvider,
    metadata: ProviderMetadata,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str,
) -> dict[str, Any]:
    """The provider's tokens for `code`, with the PKCE verifier that proves this sign-in began
    here."""
    async with _client(provider, metadata) as client:
        try:
            token = await client.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
                code_verifier=code_verifier,
            )
        except OAuthError as exc:
            raise SignInRefused(
                f"The identity provider refused the sign-in's code: {exc.error}.",
                slug="oidc-code-refused",
            ) from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnreachable(
                f"The identity provider's token endpoint could not be used: {exc}"
            ) from exc
    if not isinstance(token.get("id_token"), str):
        raise SignInRefused(
            "The identity provider sent no ID token (is 'openid' among the client's scopes?).",
            slug="oidc-no-id-token",
        )
    return dict(token)
