"""What a password is as typed, and whether a new one is strong enough."""

from collections.abc import Iterable

from zxcvbn import zxcvbn

from lectern.platform.errors import Invalid

MIN_LENGTH = 8
MAX_LENGTH = 1024
# zxcvbn's scale: 0 is in the common-password lists, 1 falls to a throttled online attack;
# 2 holds against one (fewer than 10^8 guesses would not find it).
MIN_SCORE = 2
# zxcvbn refuses longer input and slows quadratically with length; a longer password is judged
# by its beginning.
_JUDGED_LENGTH = 72


def password_as_entered(value: str) -> str:
    """The one rule for every place a password comes in (registration, login, password change,
    create-admin): spaces around it are dropped, as a form or a terminal easily adds them."""
    return value.strip()


def password_weakness(password: str, *, user_inputs: Iterable[str] = ()) -> str | None:
    """Why a new password would be refused, in plain words; None when it is good enough."""
    if len(password) < MIN_LENGTH:
        return f"The password needs at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"The password may have at most {MAX_LENGTH} characters."
    # The person's own e-mail and name, whole and in words, count as guessable.
    inputs = [
        piece
        for value in user_inputs
        for piece in (value.lower(), *value.lower().replace("@", " ").replace(".", " ").split())
    ]
    verdict = zxcvbn(password[:_JUDGED_LENGTH], user_inputs=inputs)
    if verdict["score"] >= MIN_SCORE:
        return None
    warning = verdict["feedback"]["warning"] or "It would be guessed quickly."
    suggestions = " ".join(verdict["feedback"]["suggestions"])
    return f"This password is too easy to guess. {warning} {suggestions}".strip()


def require_strong_password(password: str, *, user_inputs: Iterable[str] = ()) -> None:
    if (weakness := password_weakness(password, user_inputs=user_inputs)) is not None:
        raise Invalid(weakness, slug="weak-password")
