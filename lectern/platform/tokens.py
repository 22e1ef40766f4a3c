"""Opaque credentials (session cookies, Bearer tokens, one-time links): only their digests are
stored, so a stolen table signs nobody in."""

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
