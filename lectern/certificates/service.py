"""Certificates: issued once per enrollment, in the transaction that completes it."""

import base64
import secrets
from collections.abc import Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import Certificate, Course, Enrollment, User
from lectern.models.base import utcnow
from lectern.platform.db import insert_for
from lectern.platform.errors import NotFound

# 20 random bytes: 160 bits, far beyond guessing, short enough to print on the certificate.
CODE_BYTES = 20


# Bulk loads draw the bytes of this many codes at once: a read of the system's random source per
# code cost them some 5 µs a certificate.
CODES_PER_DRAW = 4096


def new_code() -> str:
    return _code(secrets.token_bytes(CODE_BYTES))


def new_codes() -> Iterator[str]:
    """Codes without end, each like `new_code`'s, for bulk loads."""
    while True:
        drawn = secrets.token_bytes(CODE_BYTES * CODES_PER_DRAW)
        for start in range(0, len(drawn), CODE_BYTES):
            yield _code(drawn[start : start + CODE_BYTES])


def _code(random_bytes: bytes) -> str:
    """The bytes in URL-safe base64 without padding, as `secrets.token_urlsafe` writes them."""
    return base64.urlsafe_b64encode(random_bytes).rstrip(b"=").decode("ascii")


async def issue_certificate(
    session: AsyncSession, enrollment: Enrollment, course: Course
) -> Certificate | None:
    """Issue the enrollment's certificate; None when it already has one (never a second)."""
    learner_name = await session.scalar(select(User.full_name).where(User.id == enrollment.user_id))
    insert = insert_for(session)
    certificate_id = await session.scalar(
        insert(Certificate)
        .values(
            enrollment_id=enrollment.id,
            code=new_code(),
            user_id=enrollment.user_id,
            course_id=course.id,
            learner_name=learner_name or "",
            course_title=course.title,
            issued_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["enrollment_id"])
        .returning(Certificate.id)
    )
    if certificate_id is None:
        return None
    return await session.get_one(Certificate, certificate_id)


def certificate_payload(certificate: Certificate) -> dict[str, object]:
    return {
        "code": certificate.code,
        "user_id": certificate.user_id,
        "course_id": certificate.course_id,
        "learner_name": certificate.learner_name,
        "course_title": certificate.course_title,
        "issued_at": certificate.issued_at.isoformat(),
    }


async def my_certificates(session: AsyncSession, user_id: int) -> Sequence[Certificate]:
    return (
        await session.scalars(
            select(Certificate).where(Certificate.user_id == user_id).order_by(Certificate.id)
        )
    ).all()


async def certificate_by_code(session: AsyncSession, code: str) -> Certificate:
    """The certificate a verification code names; anyone holding the code may verify it."""
    certificate = await session.scalar(select(Certificate).where(Certificate.code == code))
    if certificate is None:
        raise NotFound("No certificate has this code.")
    return certificate
