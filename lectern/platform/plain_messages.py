"""What a validation error says to a person: one plain sentence per pydantic error type.

The problem's `errors` keep `loc` and `type` for programs; `msg` is what a form shows next to
the field. Types not listed keep pydantic's own message.
"""

from collections.abc import Callable, Mapping
from typing import Any

Context = Mapping[str, Any]


def _at_least(ctx: Context) -> str:
    n = ctx.get("min_length", 1)
    return "Fill this in." if n == 1 else f"Use at least {n} characters."


def _items_at_least(ctx: Context) -> str:
    n = ctx.get("min_length", 1)
    return "Add at least one." if n == 1 else f"Add at least {n}."


def _choose_from(ctx: Context) -> str:
    expected = str(ctx.get("expected", "")).replace("'", "")
    return f"Choose one of {expected}." if expected else "Choose one of the options."


BY_TYPE: dict[str, Callable[[Context], str]] = {
    "missing": lambda _: "Fill this in.",
    "string_too_short": _at_least,
    "string_too_long": lambda ctx: f"Use at most {ctx.get('max_length')} characters.",
    "string_type": lambda _: "Enter text here.",
    "string_pattern_mismatch": lambda _: "This is not in the expected form.",
    "too_short": _items_at_least,
    "too_long": lambda ctx: f"Use at most {ctx.get('max_length')} of these.",
    "int_type": lambda _: "Enter a whole number.",
    "int_parsing": lambda _: "Enter a whole number.",
    "int_from_float": lambda _: "Enter a whole number.",
    "float_type": lambda _: "Enter a number.",
    "float_parsing": lambda _: "Enter a number.",
    "finite_number": lambda _: "Enter a number.",
    "bool_type": lambda _: "Choose yes or no.",
    "bool_parsing": lambda _: "Choose yes or no.",
    "greater_than": lambda ctx: f"Enter a number above {ctx.get('gt')}.",
    "greater_than_equal": lambda ctx: f"Enter a number of at least {ctx.get('ge')}.",
    "less_than": lambda ctx: f"Enter a number below {ctx.get('lt')}.",
    "less_than_equal": lambda ctx: f"Enter a number of at most {ctx.get('le')}.",
    "enum": _choose_from,
    "literal_error": _choose_from,
    "list_type": lambda _: "Give a list here.",
    "dict_type": lambda _: "Give an object here.",
    "model_type": lambda _: "Give an object here.",
    "model_attributes_type": lambda _: "Give an object here.",
    "extra_forbidden": lambda _: "This field is not expected here.",
    "datetime_parsing": lambda _: "Enter a date and time, like 2026-09-01T09:00:00Z.",
    "datetime_type": lambda _: "Enter a date and time, like 2026-09-01T09:00:00Z.",
    "timezone_aware": lambda _: "Give the time with its time zone, like 2026-09-01T09:00:00Z.",
    "url_parsing": lambda _: "Enter a web address, like https://school.org/page.",
}

# What a validator's own ValueError says, and how a person should read it; first match wins.
VALUE_ERRORS: tuple[tuple[str, str], ...] = (
    ("must have an @-sign", "Enter an e-mail address with an @, like name@school.org."),
    ("not a valid e-mail address", "Enter an e-mail address like name@school.org."),
    ("answer must be the index of one of the choices", "Mark one of the choices as the answer."),
    ("a video lesson needs duration_s > 0", "Give the video's length in seconds."),
    ("a quiz lesson needs questions", "Add at least one question to the quiz."),
    ("a paid course needs price_cents > 0", "Give a paid course a price above zero."),
)


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return "This value is not accepted."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _value_error(msg: str, ctx: Context) -> str:
    reason = str(ctx.get("error") or msg.removeprefix("Value error, "))
    for fragment, plain in VALUE_ERRORS:
        if fragment in reason:
            return plain
    return _sentence(reason)


def plain_message(error_type: str, msg: str, ctx: Context | None = None) -> str:
    """The sentence a form shows next to a field for one pydantic error."""
    ctx = ctx or {}
    if error_type in ("value_error", "assertion_error"):
        return _value_error(msg, ctx)
    translate = BY_TYPE.get(error_type)
    return translate(ctx) if translate else _sentence(msg)


def field_name(loc: list[str]) -> str:
    """'body.chapters.0.title' → 'chapters.0.title': where the field is, without the part of
    the request it came in."""
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    return ".".join(loc)
