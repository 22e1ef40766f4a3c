"""Deep Linking: the course a platform's teacher picks, answered with a signed
LtiDeepLinkingResponse that their browser posts back to the platform."""

import time
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.lti.claims import (
    CONTENT_ITEMS,
    COURSE_PARAMETER,
    DEEP_LINKING_DATA,
    DEEP_LINKING_REQUEST,
    DEEP_LINKING_RESPONSE,
    DEPLOYMENT_ID,
    MESSAGE_TYPE,
    VERSION,
)
from lectern.lti.keys import sign, signing_key
from lectern.lti.launch import PICK_LIFETIME
from lectern.models import Course, LtiLaunch, LtiPlatform
from lectern.models.base import utcnow
from lectern.models.enums import CourseStatus
from lectern.platform.errors import NotFound
from lectern.platform.tokens import new_token, token_digest

RESPONSE_LIFETIME_S = 300


@dataclass(frozen=True)
class Pick:
    launch: LtiLaunch
    platform: LtiPlatform


@dataclass(frozen=True)
class Answer:
    return_url: str
    jwt: str


async def pick_of(session: AsyncSession, token: str) -> Pick:
    """The unanswered deep linking launch of a pick token, if still recent."""
    launch = await session.scalar(
        select(LtiLaunch).where(
            LtiLaunch.pick_token_hash == token_digest(token),
            LtiLaunch.message_type == DEEP_LINKING_REQUEST,
            LtiLaunch.answered_at.is_(None),
            LtiLaunch.created_at > utcnow() - PICK_LIFETIME,
        )
    )
    if launch is None:
        raise NotFound("This course pick is unknown, answered or expired; launch again.")
    return Pick(launch, await session.get_one(LtiPlatform, launch.platform_id))


async def pickable_courses(session: AsyncSession, institution_id: int) -> list[Course]:
    rows = await session.scalars(
        select(Course)
        .where(Course.institution_id == institution_id, Course.status == CourseStatus.PUBLISHED)
        .order_by(Course.title, Course.id)
    )
    return list(rows)


async def answer_pick(
    session: AsyncSession, *, token: str, course_id: int, public_url: str
) -> Answer:
    """The signed answer naming the picked course as an LTI resource link with a line item;
    the pick is used up."""
    pick = await pick_of(session, token)
    course = await session.get(Course, course_id)
    if (
        course is None
        or course.institution_id != pick.platform.institution_id
        or course.status != CourseStatus.PUBLISHED
    ):
        raise NotFound("No such course.")
    answered = await session.execute(
        update(LtiLaunch)
        .where(LtiLaunch.id == pick.launch.id, LtiLaunch.answered_at.is_(None))
        .values(answered_at=utcnow(), course_id=course.id)
    )
    if answered.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("This course pick is unknown, answered or expired; launch again.")
    now = int(time.time())
    claims = {
        "iss": pick.platform.client_id,
        "aud": pick.platform.issuer,
        "iat": now,
        "exp": now + RESPONSE_LIFETIME_S,
        "nonce": new_token(),
        MESSAGE_TYPE: DEEP_LINKING_RESPONSE,
        VERSION: "1.3.0",
        DEPLOYMENT_ID: pick.launch.deployment_id,
        CONTENT_ITEMS: [
            {
                "type": "ltiResourceLink",
                "title": course.title,
                "url": f"{public_url}/lti/courses/{course.id}",
                "custom": {COURSE_PARAMETER: str(course.id)},
                "lineItem": {"scoreMaximum": 100, "label": course.title},
            }
        ],
    }
    if pick.launch.deep_link_data is not None:
        claims[DEEP_LINKING_DATA] = pick.launch.deep_link_data
    assert pick.launch.return_url is not None
    return Answer(pick.launch.return_url, sign(await signing_key(session), claims))
