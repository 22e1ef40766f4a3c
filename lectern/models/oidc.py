from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.base import Base, UTCDateTime, one_of, utcnow


class OidcProvider(Base):
    """An institution's OpenID Connect identity provider, through which its people sign in."""

    __tablename__ = "oidc_providers"
    __table_args__ = (UniqueConstraint("institution_id", "issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    # Sent to the provider's token endpoint, so kept as given; never shown again.
    client_secret: Mapped[str] = mapped_column(String(500))
    email_domain: Mapped[str] = mapped_column(String(253))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OidcIdentity(Base):
    """A person as a provider knows them: its subject, linked to one Lectern account."""

    __tablename__ = "oidc_identities"
    __table_args__ = (
        UniqueConstraint("provider_id", "subject"),
        UniqueConstraint("provider_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("oidc_providers.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OidcFlow(Base):
    """A sign-in sent to a provider and not yet back: its state (stored as a digest), the
    browser it belongs to (the digest of a cookie only that browser holds), its nonce and
    PKCE verifier. Used once."""

    __tablename__ = "oidc_flows"

    state_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser_digest: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[int] = mapped_column(ForeignKey("oidc_providers.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_path: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SignInOutcome(StrEnum):
    CREATED = "created"  # a first sign-in, which made the account
    SIGNED_IN = "signed_in"
    REFUSED = "refused"


class OidcSignIn(Base):
    """One attempt that came back from a provider, for its admins: who, and how it ended."""

    __tablename__ = "oidc_sign_ins"
    __table_args__ = (
        one_of("outcome", SignInOutcome, "outcome"),
        Index("ix_oidc_sign_ins_provider_id_id", "provider_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("oidc_providers.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
