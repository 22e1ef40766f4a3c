"""The claims of LTI 1.3 messages, and the pure rules a launch's ID token must pass beyond its
signature and times (which `lectern.lti.keys` checks)."""

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lectern.platform.errors import LecternError
from lectern.platform.storable import all_storable

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CUSTOM = LTI + "custom"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
AGS_SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DEEP_LINKING_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
MESSAGE_TYPES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)
COURSE_PARAMETER = "lectern_course_id"
# Roles (LTI 1.3 vocabularies) of people who teach rather than learn in a context.
TEACHING_ROLES = ("#Instructor", "#Administrator", "#ContentDeveloper", "#Mentor")
_COURSE_PATH = re.compile(r"/lti/courses/(\d{1,9})/?$")


class LaunchRefused(LecternError):
    status = 400
    title = "LTI launch refused"
    slug = "lti-launch-refused"


def refused(detail: str, slug: str = "lti-launch-refused") -> LaunchRefused:
    return LaunchRefused(detail, slug=slug)


@dataclass(frozen=True)
class Launch:
    """What Lectern takes from a verified ID token."""

    message_type: str
    deployment_id: str
    subject: str
    name: str
    email: str | None
    course_id: int | None
    line_item_url: str | None
    return_url: str | None
    deep_link_data: str | None


def _text(claims: dict[str, Any], name: str, limit: int = 255) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise refused(f"The claim {name} is not a string of 1 to {limit} characters.")
    return value


def launch_of(claims: dict[str, Any], deployment_ids: list[str]) -> Launch:
    """The launch the claims describe, or a refusal saying which rule they break."""
    if not all_storable(claims):
        raise refused("The token carries a NUL or a lone surrogate, which no column can hold.")
    if claims.get(VERSION) != "1.3.0":
        raise refused("Only LTI version 1.3.0 launches are accepted.", "lti-version")
    message_type = claims.get(MESSAGE_TYPE)
    if message_type not in MESSAGE_TYPES:
        raise refused(f"Lectern does not take {message_type!r} messages.", "lti-message-type")
    deployment_id = _text(claims, DEPLOYMENT_ID)
    if deployment_id is None or deployment_id not in deployment_ids:
        raise refused("The deployment is not registered for this platform.", "lti-deployment")
    subject = _text(claims, "sub")
    if subject is None:
        raise refused("The launch names no user (sub).", "lti-anonymous")
    launch = Launch(
        message_type=message_type,
        deployment_id=deployment_id,
        subject=subject,
        name=_name(claims),
        email=_email(claims),
        course_id=None,
        line_item_url=None,
        return_url=None,
        deep_link_data=None,
    )
    if message_type == DEEP_LINKING_REQUEST:
        return _deep_linking(claims, launch)
    return _resource_link(claims, launch)


def _resource_link(claims: dict[str, Any], launch: Launch) -> Launch:
    link = claims.get(RESOURCE_LINK)
    if not isinstance(link, dict) or not isinstance(link.get("id"), str):
        raise refused("A resource link launch needs its resource_link id.")
    roles = claims.get(ROLES)
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise refused("The roles claim must be a list of role URIs.")
    if not is_learner(roles):
        raise refused(
            "Lectern signs in learners from a platform; teachers use their Lectern account.",
            "lti-not-a-learner",
        )
    course_id = course_of(claims)
    if course_id is None:
        raise refused("The launch names no Lectern course.", "lti-no-course")
    return Launch(
        **{**launch.__dict__, "course_id": course_id, "line_item_url": _line_item(claims)}
    )


def _deep_linking(claims: dict[str, Any], launch: Launch) -> Launch:
    settings = claims.get(DEEP_LINKING_SETTINGS)
    if not isinstance(settings, dict):
        raise refused("A deep linking request needs its deep_linking_settings.")
    return_url = settings.get("deep_link_return_url")
    if not isinstance(return_url, str) or not is_web_url(return_url):
        raise refused("The deep linking return URL is not an https URL.")
    accepted = settings.get("accept_types", ["ltiResourceLink"])
    if not isinstance(accepted, list) or "ltiResourceLink" not in accepted:
        raise refused("The platform accepts no LTI resource links here.", "lti-accept-types")
    data = settings.get("data")
    if data is not None and (not isinstance(data, str) or len(data) > 4000):
        raise refused("The deep linking data must be a string of at most 4000 characters.")
    return Launch(**{**launch.__dict__, "return_url": return_url, "deep_link_data": data})


def is_learner(roles: list[str]) -> bool:
    """A learner, or someone with no teaching role (a platform may send no role at all)."""
    if any(role.endswith("#Learner") or role.endswith("#Student") for role in roles):
        return True
    return not any(role.endswith(teaching) for role in roles for teaching in TEACHING_ROLES)


def course_of(claims: dict[str, Any]) -> int | None:
    """The course a launch is for: the custom parameter Deep Linking set, else the target link
    (`…/lti/courses/{id}`)."""
    custom = claims.get(CUSTOM)
    if isinstance(custom, dict) and COURSE_PARAMETER in custom:
        value = str(custom[COURSE_PARAMETER])
        return int(value) if value.isdigit() and len(value) <= 9 else None
    target = claims.get(TARGET_LINK_URI)
    if isinstance(target, str) and (match := _COURSE_PATH.search(urlsplit(target).path)):
        return int(match.group(1))
    return None


def _line_item(claims: dict[str, Any]) -> str | None:
    endpoint = claims.get(AGS_ENDPOINT)
    if not isinstance(endpoint, dict):
        return None
    scopes = endpoint.get("scope")
    line_item = endpoint.get("lineitem")
    if not isinstance(scopes, list) or AGS_SCORE_SCOPE not in scopes:
        return None
    if not isinstance(line_item, str) or len(line_item) > 1000 or not is_web_url(line_item):
        return None
    return line_item


def _name(claims: dict[str, Any]) -> str:
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(part for part in parts if isinstance(part, str) and part.strip())
    return (name.strip() or "Learner")[:200]


def _email(claims: dict[str, Any]) -> str | None:
    email = claims.get("email")
    if isinstance(email, str) and 3 <= len(email) <= 320 and "@" in email[1:-1]:
        return email.strip()
    return None


LOOPBACK_HOSTS = ("localhost",)


def is_web_url(url: str) -> bool:
    """An https URL, or http to this machine: keys, tokens and scores never cross a network in
    the clear."""
    parts = urlsplit(url)
    if not parts.netloc or parts.hostname is None:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and _loopback(parts.hostname)


def _loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def scores_url(line_item_url: str) -> str:
    """A line item's scores endpoint: `/scores` after its path, before its query (AGS 2.0)."""
    parts = urlsplit(line_item_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))
