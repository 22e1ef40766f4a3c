"""Reading a roster file: bytes to rows, each with what is wrong with it. Nothing here touches
a database; the planner looks up what the rows name."""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from lectern.platform.errors import Invalid

# More rows than this is refused whole: a term's enrollments for a large institution fit.
MAX_ROWS = 100_000
REQUIRED_COLUMNS = ("email", "course", "action")
OPTIONAL_COLUMNS = ("ends_at", "full_name")
MAX_FIELD = 320


class Action(StrEnum):
    ENROLL = "enroll"
    UNENROLL = "unenroll"


ACTIONS = frozenset(action.value for action in Action)


@dataclass(slots=True)
class RosterRow:
    """One data line of the file, as written, with the problems found in it."""

    line: int
    email: str
    course: str
    action: Action | None
    ends_at: datetime | None = None
    full_name: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def email_key(self) -> str:
        return self.email.lower()


class RosterRefused(Invalid):
    """The file as a whole cannot be read: nothing in it is looked at further."""

    slug = "roster-unreadable"


def roster_text(data: bytes) -> str:
    """The file's text: UTF-8, with or without a byte-order mark."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterRefused(
            f"The file is not UTF-8 text (byte {error.start + 1} cannot be read); "
            "save it as CSV UTF-8."
        ) from error


def separator(text: str) -> str:
    """`;` or `,`, whichever the header line is written with (spreadsheets in many locales
    write `;`)."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def parse_roster(data: bytes) -> list[RosterRow]:
    """Every data row of a roster file, each carrying its own errors (bad e-mail, action or
    date; duplicates are found once courses are known). A file that cannot be read at all
    (encoding, header, too many rows) is refused."""
    text = roster_text(data)
    if "\x00" in text:
        raise RosterRefused("The file holds NUL characters; it is not a CSV text file.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator(text), strict=True)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if missing:
            raise RosterRefused(
                f"The header line lacks the column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}; it needs {', '.join(REQUIRED_COLUMNS)} "
                f"and may have {', '.join(OPTIONAL_COLUMNS)}.",
                columns=header,
            )
        position = {
            name: header.index(name)
            for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
            if name in header
        }
        rows: list[RosterRow] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise RosterRefused(f"The file has more than {MAX_ROWS} rows; split it.")
            rows.append(_row(reader.line_num, cells, position, len(header)))
    except csv.Error as error:
        raise RosterRefused(f"Line {reader.line_num} is not valid CSV: {error}.") from error
    if not rows:
        raise RosterRefused("The file has a header but no rows.")
    return rows


def _row(line: int, cells: list[str], position: dict[str, int], width: int) -> RosterRow:
    def cell(name: str) -> str:
        index = position.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    errors = []
    if len(cells) != width:
        errors.append(f"has {len(cells)} fields where the header has {width}")
    if max(map(len, cells), default=0) > MAX_FIELD:
        errors.append(f"has a field longer than {MAX_FIELD} characters")
    email, email_error = email_address(cell("email"))
    if email_error:
        errors.append(email_error)
    course = cell("course")
    if not course:
        errors.append("names no course")
    written_action = cell("action").lower()
    action = Action(written_action) if written_action in ACTIONS else None
    if action is None:
        errors.append(f"action {cell('action')!r} is neither enroll nor unenroll")
    ends_at, date_error = end_date(cell("ends_at"))
    if date_error:
        errors.append(date_error)
    full_name = cell("full_name")
    return RosterRow(line, email, course, action, ends_at, full_name, errors)


# A plain ASCII local part: valid in any address whose domain is valid.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*")


@lru_cache(maxsize=4096)
def _domain(domain: str) -> str | None:
    """The domain as e-mail_validator normalizes it, None if it is not valid."""
    try:
        return validate_email(
            f"a@{domain}", check_deliverability=False, test_environment=True
        ).domain
    except EmailNotValidError:
        return None


def email_address(written: str) -> tuple[str, str | None]:
    """The address as Lectern stores it, or what is wrong with it."""
    if not written:
        return "", "names no e-mail address"
    local, _, domain = written.rpartition("@")
    # A roster repeats a few domains: validating each once keeps 100,000 rows in a second.
    if len(local) <= 64 and len(written) <= 254 and _PLAIN_LOCAL.fullmatch(local):
        normalized = _domain(domain)
        if normalized is not None:
            return f"{local}@{normalized}", None
    try:
        # test_environment: '.test' addresses (RFC 2606) are how demos and staging name people.
        valid = validate_email(written, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        return written, f"e-mail {written!r} is not valid: {error}"
    return valid.normalized, None


def end_date(written: str) -> tuple[datetime | None, str | None]:
    """An ISO 8601 date or time (UTC unless it says otherwise), or what is wrong with it."""
    if not written:
        return None, None
    try:
        moment = datetime.fromisoformat(written)
    except ValueError:
        return (
            None,
            f"ends_at {written!r} is not an ISO 8601 date (2027-01-31 or 2027-01-31T18:00Z)",
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC), None
