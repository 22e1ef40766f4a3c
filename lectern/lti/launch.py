"""OIDC login initiation and launches: the commands, and the checks of the ID token.

A launch is checked in this order, each refusal a 4xx that changes nothing but the launch log:
the state posted equals the state cookie set at login (the same browser); the login is known,
recent and unused; the token's signature verifies against the platform's key set; `iss`,
`aud`/`azp`, `exp`/`iat` and the login's `nonce` match; the deployment is registered; the
message is a 1.3.0 resource link or deep linking request. Only then does one transaction use
the login up (a replayed token finds it used), find or create the learner by platform and
subject, enroll them (source `lti`) and start their session.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.accounts.service import invite_student, start_session
from lectern.enrollments.pair import WhenFull, enroll
from lectern.lti.claims import DEEP_LINKING_REQUEST, Launch, launch_of, refused
from lectern.lti.keys import PlatformKeySets
from lectern.models import (
    Course,
    Institution,
    LtiAccount,
    LtiGradeLink,
    LtiLaunch,
    LtiLogin,
    LtiPlatform,
    User,
)
from lectern.models.base import utcnow
from lectern.models.enums import CourseStatus, EnrollmentSource, Role
from lectern.models.lti import LaunchOutcome
from lectern.platform.db import Database, insert_for
from lectern.platform.errors import Conflict, Forbidden, Invalid, LecternError, NotFound
from lectern.platform.tokens import new_token, token_digest

LOGIN_LIFETIME = timedelta(minutes=10)
LOGINS_KEPT = timedelta(days=1)
PICK_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class LoginStarted:
    state: str
    redirect_url: str


@dataclass(frozen=True)
class SignedIn:
    """A resource link launch done: the learner's new session and where they go."""

    session_token: str
    csrf_token: str
    course_id: int


@dataclass(frozen=True)
class PickStarted:
    """A deep linking launch done: the one-time token of its course pick."""

    pick_token: str
    institution_id: int


async def _platform_for_login(
    session: AsyncSession, issuer: str, client_id: str | None
) -> LtiPlatform:
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if client_id is not None:
        query = query.where(LtiPlatform.client_id == client_id)
    platforms = list(await session.scalars(query.limit(2)))
    if not platforms:
        raise NotFound("No LTI platform with this issuer and client id is registered.")
    if len(platforms) > 1:
        raise Invalid("Several platforms have this issuer: send client_id.", slug="lti-client-id")
    return platforms[0]


async def start_login(
    session: AsyncSession,
    *,
    issuer: str,
    login_hint: str,
    target_link_uri: str,
    lti_message_hint: str | None,
    client_id: str | None,
    launch_url: str,
) -> LoginStarted:
    """A login: a state for the browser's cookie and a nonce, and the platform's auth URL to
    send the browser to."""
    platform = await _platform_for_login(session, issuer, client_id)
    # Logins past their lifetime serve no launch; the table keeps about a day of them.
    await session.execute(
        delete(LtiLogin).where(
            LtiLogin.platform_id == platform.id, LtiLogin.created_at < utcnow() - LOGINS_KEPT
        )
    )
    state, nonce = new_token(), new_token()
    session.add(
        LtiLogin(
            state_hash=token_digest(state),
            nonce=nonce,
            platform_id=platform.id,
            created_at=utcnow(),
        )
    )
    parameters = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": launch_url,
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if lti_message_hint is not None:
        parameters["lti_message_hint"] = lti_message_hint
    separator = "&" if "?" in platform.auth_login_url else "?"
    return LoginStarted(state, f"{platform.auth_login_url}{separator}{urlencode(parameters)}")


@dataclass(frozen=True)
class Verified:
    platform_id: int
    institution_id: int
    login_id: int
    launch: Launch


async def verify_launch(
    database: Database,
    key_sets: PlatformKeySets,
    *,
    state: str,
    state_cookie: str | None,
    id_token: str,
) -> Verified:
    """Every check of a launch that needs no write; refusals that can name their platform are
    logged."""
    if state_cookie is None or not secrets.compare_digest(state, state_cookie):
        raise refused(
            "This browser did not start this launch (the state cookie differs).", "lti-state"
        )
    async with database.session() as session:
        login = await session.scalar(
            select(LtiLogin).where(LtiLogin.state_hash == token_digest(state))
        )
        platform = None if login is None else await session.get(LtiPlatform, login.platform_id)
    if login is None or platform is None or login.created_at < utcnow() - LOGIN_LIFETIME:
        raise refused("The launch's login is unknown or expired; launch again.", "lti-state")
    try:
        if login.used_at is not None:
            raise refused("This launch was used already.", "lti-replayed")
        claims = await key_sets.verify(platform.jwks_url, id_token)
        _check_audience(claims, platform)
        if claims.get("nonce") != login.nonce:
            raise refused("The token's nonce is not this login's.", "lti-nonce")
        launch = launch_of(claims, list(platform.deployment_ids))
    except LecternError as refusal:
        await log_refusal(database, platform.id, refusal)
        raise
    return Verified(platform.id, platform.institution_id, login.id, launch)


def _check_audience(claims: dict[str, Any], platform: LtiPlatform) -> None:
    if claims.get("iss") != platform.issuer:
        raise refused("The token's issuer is not the platform's.", "lti-issuer")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if platform.client_id not in audiences:
        raise refused("The token is not for Lectern's client id.", "lti-audience")
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != platform.client_id:
        raise refused("The token's authorized party is not Lectern.", "lti-audience")


async def log_refusal(database: Database, platform_id: int, refusal: LecternError) -> None:
    await database.run(
        lambda s: _log(
            s,
            platform_id=platform_id,
            outcome=LaunchOutcome.REFUSED,
            reason=f"{refusal.slug}: {refusal.detail}"[:500],
        )
    )


async def _log(session: AsyncSession, **fields: Any) -> LtiLaunch:
    launch = LtiLaunch(created_at=utcnow(), **fields)
    session.add(launch)
    await session.flush()
    return launch


async def _use_login(session: AsyncSession, login_id: int) -> None:
    used = await session.execute(
        update(LtiLogin)
        .where(LtiLogin.id == login_id, LtiLogin.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise refused("This launch was used already.", "lti-replayed")


async def launch_into_course(
    session: AsyncSession, verified: Verified, *, session_days: int
) -> SignedIn:
    """A resource link launch: the learner, enrolled in the course and signed in."""
    launch = verified.launch
    assert launch.course_id is not None
    await _use_login(session, verified.login_id)
    course = await session.get(Course, launch.course_id)
    if course is None or course.institution_id != verified.institution_id:
        raise NotFound("No such course.")
    if course.status != CourseStatus.PUBLISHED:
        raise Conflict("This course is not open to learners.", slug="course-not-published")
    user = await learner_of(session, verified)
    await enroll(
        session,
        user_id=user.id,
        course=course,
        source=EnrollmentSource.LTI,
        when_full=WhenFull.REFUSE,
    )
    if launch.line_item_url is not None:
        await session.execute(
            insert_for(session)(LtiGradeLink)
            .values(
                platform_id=verified.platform_id,
                user_id=user.id,
                course_id=course.id,
                subject=launch.subject,
                line_item_url=launch.line_item_url,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )
    token, csrf = await start_session(session, user, days=session_days)
    await _log(
        session,
        platform_id=verified.platform_id,
        message_type=launch.message_type,
        outcome=LaunchOutcome.ACCEPTED,
        subject=launch.subject,
        user_id=user.id,
        course_id=course.id,
        deployment_id=launch.deployment_id,
    )
    return SignedIn(token, csrf, course.id)


async def learner_of(session: AsyncSession, verified: Verified) -> User:
    """The platform's user as a Lectern student, found by platform and subject only; made on
    their first launch, with a profile and default enrollments as registration makes them."""
    launch = verified.launch
    user_id = await session.scalar(
        select(LtiAccount.user_id).where(
            LtiAccount.platform_id == verified.platform_id,
            LtiAccount.subject == launch.subject,
        )
    )
    if user_id is not None:
        user = await session.get_one(User, user_id)
        if user.suspended_at is not None:
            raise Forbidden(
                "This account is suspended; ask your institution's admin.", slug="suspended"
            )
        if user.role != Role.STUDENT:
            raise Forbidden("Only students launch into courses.")
        return user
    institution = await session.get_one(Institution, verified.institution_id)
    created = None
    if launch.email is not None:
        created = await invite_student(
            session, institution=institution, email=launch.email, full_name=launch.name
        )
    if created is None:
        # No e-mail, or one another account has: a Lectern-only address, never a link by e-mail.
        digest = hashlib.sha256(launch.subject.encode()).hexdigest()[:20]
        address = f"lti-{verified.platform_id}-{digest}@lti.invalid"
        created = await invite_student(
            session, institution=institution, email=address, full_name=launch.name
        )
    if created is None:
        raise Conflict(
            "This platform user's account is being made; launch again.", slug="changed-meanwhile"
        )
    session.add(
        LtiAccount(
            platform_id=verified.platform_id,
            subject=launch.subject,
            user_id=created.id,
            created_at=utcnow(),
        )
    )
    await session.flush()
    return created


async def start_pick(session: AsyncSession, verified: Verified) -> PickStarted:
    """A deep linking launch: kept until a course is picked, by a one-time token."""
    launch = verified.launch
    assert launch.message_type == DEEP_LINKING_REQUEST
    await _use_login(session, verified.login_id)
    token = new_token()
    await _log(
        session,
        platform_id=verified.platform_id,
        message_type=launch.message_type,
        outcome=LaunchOutcome.ACCEPTED,
        subject=launch.subject,
        deployment_id=launch.deployment_id,
        pick_token_hash=token_digest(token),
        return_url=launch.return_url,
        deep_link_data=launch.deep_link_data,
    )
    return PickStarted(token, verified.institution_id)
