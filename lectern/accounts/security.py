"""Password hashing: Argon2id for Lectern's own hashes, bcrypt for those brought over from the
legacy platform (replaced at the next sign-in)."""

import secrets
from functools import lru_cache

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from lectern.platform.config import get_settings


@lru_cache
def _hasher() -> PasswordHasher:
    settings = get_settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


# Hashes the legacy platform wrote; they verify, and are replaced at the next sign-in.
LEGACY_BCRYPT = ("$2a$", "$2b$", "$2y$")
# bcrypt reads at most this many bytes of a password; the legacy platform cut longer ones here.
BCRYPT_MAX_BYTES = 72


def needs_rehash(password_hash: str) -> bool:
    """Whether a verified password's hash should be replaced by Lectern's own (Argon2id)."""
    return password_hash.startswith(LEGACY_BCRYPT)


def verify_password(password_hash: str, password: str) -> bool:
    if needs_rehash(password_hash):
        try:
            secret = password.encode()[:BCRYPT_MAX_BYTES]
            return bcrypt.checkpw(secret, password_hash.encode())
        except ValueError:
            return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against this when the e-mail is unknown keeps login time independent of it.
@lru_cache
def dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
