"""Login throttling, shared across processes when the storage is Redis."""

from limits import parse, storage, strategies

from lectern.config import Settings
from lectern.errors import TooManyRequests


class LoginThrottle:
    def __init__(self, settings: Settings) -> None:
        self._per_account = parse(settings.login_rate_limit)
        self._per_ip = parse(settings.login_rate_limit_per_ip)
        self._limiter = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(settings.rate_limit_storage)
        )

    def check(self, client_ip: str, email: str) -> None:
        """Count one attempt; refuse it when the account or the address tries too often."""
        allowed = self._limiter.hit(self._per_ip, "login-ip", client_ip)
        allowed = (
            self._limiter.hit(self._per_account, "login-account", email.strip().lower()) and allowed
        )
        if not allowed:
            raise TooManyRequests("Too many login attempts; wait a minute and try again.")
