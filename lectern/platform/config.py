import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Font files accepted for certificates; of a collection (.ttc, .otc) fpdf2 takes the first face.
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
DEFAULT_TOKEN_DAYS = 30


class Settings(BaseSettings):
    """Everything Lectern reads from the environment, prefixed `LECTERN_`."""

    model_config = SettingsConfigDict(env_prefix="LECTERN_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{Path.cwd() / 'lectern.db'}"
    database_pool_size: int = 20
    database_echo: bool = False
    # `production` refuses settings that are only safe on a developer's machine.
    environment: Literal["development", "production"] = "development"
    # Public origin of links in certificates and checkouts. Unset: `lectern serve` sets it from
    # its --host and --port; an app served otherwise links to the origin each request came to.
    public_url: str | None = None
    session_days: int = 14
    # How long a Bearer token from POST /api/v1/auth/tokens works.
    token_days: int = Field(default=DEFAULT_TOKEN_DAYS, ge=1)
    cookie_secure: bool = False
    # Argon2id cost; the defaults follow RFC 9106's second recommended option.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    # Wrong passwords per account from one address (then that address waits), and from all.
    login_rate_limit: str = "10/minute"
    login_rate_limit_per_ip: str = "100/minute"
    rate_limit_storage: str = "memory://"
    # Comma-separated addresses (or "*") of proxies whose X-Forwarded-For names the client;
    # empty: no proxy is trusted and the connection's peer is the client.
    forwarded_allow_ips: str = ""
    demo_on_first_start: bool = True
    # Files Lectern makes and serves at /media/, such as the demo course's video.
    media_dir: Path = Path.cwd() / "media"
    # A request body over this many bytes is answered 413 before it is read whole.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    # The same for a roster file sent to POST /api/v1/admin/enrollments/import (100,000 rows).
    max_roster_bytes: int = Field(default=32 * 1024 * 1024, ge=1)
    stream_ping_seconds: float = 15.0
    stream_queue_size: int = 1000
    audit_interval_seconds: float = 3600.0
    # Learners are told this many days before their enrollment ends (0: not told in advance).
    expiry_notice_days: int = Field(default=7, ge=0, le=365)
    # How often the job expires ended enrollments: an expiry is recorded within this of its time.
    expiry_interval_seconds: float = Field(default=30.0, gt=0)
    # `test` serves its own checkout page and signs its own webhooks; `stripe` is the real one.
    payment_provider: Literal["test", "stripe"] = "test"
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    # Random unless set: the test provider signs webhooks only to its own process, and a known
    # secret would let anyone post Lectern a "paid" event for their checkout.
    test_payment_webhook_secret: str = Field(
        default_factory=lambda: f"whsec_{secrets.token_urlsafe(32)}"
    )
    # Outgoing e-mail. No host (the embedded default): messages are kept in the outbox, and
    # admins read them on the Mail page instead.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_from: str = "Lectern <lectern@localhost>"
    # Password-reset e-mails one address may be sent, so that nobody floods an inbox with them.
    password_reset_rate_limit: str = "5/hour"  # noqa: S105 - a rate, not a password
    # How often the mail worker looks for due messages when no commit woke it.
    mail_poll_seconds: float = Field(default=5.0, gt=0)
    # Outbound delivery of the event log (webhooks, xAPI): a failed attempt is tried again after
    # the first retry, doubling up to the longest wait, with jitter; after this many failures in
    # a row the destination is paused and its institution's admins are told.
    outbound_first_retry_seconds: float = Field(default=10.0, gt=0)
    outbound_longest_wait_seconds: float = Field(default=3600.0, gt=0)
    outbound_pause_after_failures: int = Field(default=15, ge=1)
    outbound_timeout_seconds: float = Field(default=10.0, gt=0)
    # How often a delivery worker looks for due destinations when no commit woke it.
    outbound_poll_seconds: float = Field(default=5.0, gt=0)
    # Webhooks, LRS endpoints, LTI platforms and OpenID providers are reached only at public
    # addresses; this also allows private, link-local and loopback ones (services on the
    # internal network of an on-premises deployment).
    outbound_private_networks: bool = False
    # Webhook URLs must be https; this also allows http://127.0.0.1 (a receiver on this machine).
    # Whether this process runs the webhooks delivery worker.
    webhooks_allow_loopback_http: bool = False
    webhooks_worker: bool = True
    # Learning record store endpoints must be https; this also allows http://127.0.0.1 (an LRS on
    # this machine). Whether this process runs the xAPI delivery worker.
    xapi_allow_loopback_http: bool = False
    xapi_worker: bool = True
    # Comma-separated font files for certificates: the first draws the text, the others supply
    # the characters it lacks; a "-Bold" file beside one is its bold face.
    # Unset: well-known system fonts; empty: the PDF core Helvetica, Latin-1 only.
    certificate_fonts: Annotated[tuple[Path, ...] | None, NoDecode] = None

    @field_validator("certificate_fonts", mode="before")
    @classmethod
    def _split_font_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("certificate_fonts")
    @classmethod
    def _fonts_exist(cls, fonts: tuple[Path, ...] | None) -> tuple[Path, ...] | None:
        for font in fonts or ():
            if font.suffix.lower() not in FONT_SUFFIXES:
                raise ValueError(
                    f"LECTERN_CERTIFICATE_FONTS: {font} is not a {'/'.join(FONT_SUFFIXES)} font"
                )
            if not font.is_file():
                raise ValueError(f"LECTERN_CERTIFICATE_FONTS: no font file at {font}")
        return None if fonts is None else tuple(font.absolute() for font in fonts)

    @field_validator("public_url")
    @classmethod
    def _public_url_is_an_origin(cls, url: str | None) -> str | None:
        if not url:
            return None
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"LECTERN_PUBLIC_URL must start with http:// or https://, not {url!r}")
        return url.rstrip("/")

    @model_validator(mode="after")
    def _production_is_safe(self) -> "Settings":
        if self.environment != "production":
            return self
        if self.payment_provider == "test":
            raise ValueError(
                "LECTERN_ENVIRONMENT=production refuses LECTERN_PAYMENT_PROVIDER=test, with which "
                "anyone with an account can pay without money; set it to stripe"
            )
        if self.public_url is None:
            raise ValueError(
                "LECTERN_ENVIRONMENT=production needs LECTERN_PUBLIC_URL, the address learners "
                "and certificate readers reach Lectern at"
            )
        if self.public_url.startswith("https://") and not self.cookie_secure:
            raise ValueError(
                "LECTERN_ENVIRONMENT=production with an https LECTERN_PUBLIC_URL needs "
                "LECTERN_COOKIE_SECURE=true, or sign-in cookies also travel unencrypted"
            )
        return self

    @model_validator(mode="after")
    def _stripe_needs_its_keys(self) -> "Settings":
        if self.payment_provider == "stripe" and not (
            self.stripe_secret_key and self.stripe_webhook_secret
        ):
            raise ValueError(
                "LECTERN_PAYMENT_PROVIDER=stripe needs LECTERN_STRIPE_SECRET_KEY "
                "and LECTERN_STRIPE_WEBHOOK_SECRET"
            )
        return self

    @property
    def async_database_url(self) -> str:
        """The URL with an asyncio driver, whatever form was configured."""
        return to_async_url(self.database_url)

    @property
    def is_postgres(self) -> bool:
        return self.async_database_url.startswith("postgresql")


def to_async_url(url: str) -> str:
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
