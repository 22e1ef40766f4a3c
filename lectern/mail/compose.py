"""What a message says: Jinja2 templates with a plain-text and an HTML part, the subject per
kind, and the signed unsubscribe token every message links to. Pure: no database, no I/O."""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from lectern.models.mail import MailChoice, MailKind
from lectern.platform.schemas import MAX_ID

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"
_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    auto_reload=False,  # the templates ship with the code: no stat per message
)

# The kinds a learner chooses how to receive; the others come because the person asked.
CHOOSABLE = (
    MailKind.REQUEST_REVIEWED,
    MailKind.ENROLLED,
    MailKind.ENROLLMENT_EXPIRING,
    MailKind.CERTIFICATE_ISSUED,
)
# What an unsubscribe link of an account message (asked for by the person) stops: all the rest.
ALL_CHOOSABLE = "all"
DEFAULT_CHOICE = MailChoice.IMMEDIATELY
SUBJECTS = {
    MailKind.REQUEST_REVIEWED: "Your request for {course_title} was {status}",
    MailKind.ENROLLED: "You are enrolled in {course_title}",
    MailKind.ENROLLMENT_EXPIRING: "Your access to {course_title} ends soon",
    MailKind.CERTIFICATE_ISSUED: "Your certificate for {course_title}",
    MailKind.DIGEST: "Your Lectern digest: {count} updates",
    MailKind.PASSWORD_RESET: "Reset your Lectern password",
    MailKind.EMAIL_CHANGE: "Confirm your new e-mail address",
    MailKind.EMAIL_CHANGED: "Your Lectern e-mail address was changed",
    MailKind.INTEGRATION_PAUSED: "{integration} paused: {destination}",
}


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


def compose(kind: MailKind, context: dict[str, Any]) -> Composed:
    """The message of `kind`; `context` has what its templates name, and `unsubscribe_url`."""
    return Composed(
        subject=SUBJECTS[kind].format(**context),
        text=_ENVIRONMENT.get_template(f"{kind.value}.txt").render(context),
        html=_ENVIRONMENT.get_template(f"{kind.value}.html").render(context),
    )


def message_id(sender: str) -> str:
    """A new Message-ID in the sender's domain."""
    domain = sender.rpartition("@")[2].rstrip(">").strip() or "lectern.invalid"
    return make_msgid(domain=domain)


def unsubscribe_token(signing_key: str, user_id: int, kind: str) -> str:
    """`user.kind.signature`: whoever holds it may stop that kind of mail to that person."""
    return f"{user_id}.{kind}.{_signature(signing_key, user_id, kind)}"


def _signature(signing_key: str, user_id: int, kind: str) -> str:
    message = f"{user_id}.{kind}".encode()
    digest = hmac.new(signing_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def read_unsubscribe_token(token: str) -> tuple[int, str, str] | None:
    """(user id, kind, signature) of a well-formed token; None otherwise. The signature is
    checked against the person's key by `signature_matches`."""
    user, _, rest = token.partition(".")
    kind, _, signature = rest.partition(".")
    if not (user.isascii() and user.isdigit()) or len(user) > len(str(MAX_ID)):
        return None
    if int(user) > MAX_ID or kind not in (*CHOOSABLE, ALL_CHOOSABLE):
        return None
    return int(user), kind, signature


def signature_matches(signing_key: str, user_id: int, kind: str, signature: str) -> bool:
    return hmac.compare_digest(_signature(signing_key, user_id, kind), signature)


def email_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    unsubscribe_url: str,
) -> EmailMessage:
    """The MIME message: text and HTML alternatives, with RFC 8058 one-click unsubscribe."""
    # RFC 5322's longest line: a List-Unsubscribe folded at 78 would be encoded, no longer a URL.
    message = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
