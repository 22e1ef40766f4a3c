"""Login throttling, and of password-reset e-mails; shared across processes when the storage
is Redis.

An address that tries too often is refused, whatever it sends. An account is never locked by
someone else's failures: only failed attempts count against it, and only per address, so the
owner signing in from elsewhere still gets in while a stranger hammers it. Past the limit on
the whole account, a failed attempt is answered 429 rather than 401, telling clients to slow down.
"""

from limits import parse, storage, strategies

from lectern.platform.config import Settings
from lectern.platform.errors import TooManyRequests


def _account(email: str) -> str:
    return email.strip().lower()


class LoginThrottle:
    def __init__(self, settings: Settings) -> None:
        self._failures_per_account = parse(settings.login_rate_limit)
        self._per_ip = parse(settings.login_rate_limit_per_ip)
        self._resets_per_account = parse(settings.password_reset_rate_limit)
        self._limiter = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(settings.rate_limit_storage)
        )

    def admit(self, client_ip: str, email: str) -> None:
        """Count one attempt from the address; refuse it, before any password is checked, when
        the address tries too often or has failed too often on this account."""
        if not self._limiter.hit(self._per_ip, "login-ip", client_ip):
            raise TooManyRequests("Too many login attempts from here; wait a minute.")
        if not self._limiter.test(
            self._failures_per_account, "login-failed-here", client_ip, _account(email)
        ):
            raise TooManyRequests(
                "Too many wrong passwords for this account from here; wait a minute."
            )

    def failed(self, client_ip: str, email: str) -> None:
        """Count a wrong password; raises when the account has had too many from anywhere."""
        account = _account(email)
        self._limiter.hit(self._failures_per_account, "login-failed-here", client_ip, account)
        if not self._limiter.hit(self._failures_per_account, "login-failed-account", account):
            raise TooManyRequests(
                "Too many wrong passwords for this account; wait a minute before trying again."
            )

    def reset_asked(self, client_ip: str, email: str) -> None:
        """Count a request for a password-reset link: the address's attempts, and the e-mails
        the account may be sent (counted alike whether or not it exists, which stays unsaid)."""
        if not self._limiter.hit(self._per_ip, "login-ip", client_ip):
            raise TooManyRequests("Too many attempts from here; wait a minute.")
        if not self._limiter.hit(self._resets_per_account, "reset-asked", _account(email)):
            raise TooManyRequests(
                "Reset links were asked for this address several times lately; use the last one, "
                "or wait before asking again."
            )
