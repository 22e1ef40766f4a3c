"""Keyset pages: a list goes on from the sort key of the last row shown, whatever was inserted
meanwhile, at the cost of one index range whatever the page's depth.

The cursor is opaque to clients: the order's name and the last row's key, in URL-safe base64.
"""

import base64
import binascii
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, Subquery, select, true
from sqlalchemy.orm import QueryableAttribute

from lectern.platform.errors import Invalid
from lectern.platform.schemas import MAX_ID
from lectern.platform.storable import all_storable

# The order of lists that show the newest row first, keyed by its id alone.
NEWEST_FIRST = "newest"
# What a key may hold, as JSON gives it back.
KeyPart = str | int | float | None


def encode_cursor(order: str, key: tuple[Any, ...]) -> str:
    parts = [part.isoformat() if isinstance(part, datetime) else part for part in key]
    raw = json.dumps([order, parts], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def next_link(path: str, query: dict[str, Any], cursor: str | None) -> str | None:
    """The `Link` header that names the next page: this page's query with its cursor."""
    if cursor is None:
        return None
    kept = {k: v for k, v in query.items() if v is not None and k != "offset"}
    return f'<{path}?{urlencode(kept | {"cursor": cursor})}>; rel="next"'


def decode_cursor(cursor: str, order: str, kinds: tuple[type, ...]) -> tuple[Any, ...]:
    """The key a cursor carries, each part of the given kind (datetime from ISO 8601); a cursor
    made for another order, or not made here, is invalid input."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, parts = json.loads(raw)
        if made_for != order or len(parts) != len(kinds):
            raise ValueError(cursor)
        return tuple(_part(part, kind) for part, kind in zip(parts, kinds, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise Invalid("This cursor is not one this list gave for this order.") from error


def _part(part: KeyPart, kind: type) -> Any:
    if kind is datetime and isinstance(part, str):
        moment = datetime.fromisoformat(part)
        if moment.tzinfo is None:
            raise ValueError(part)
        return moment
    if kind is int and isinstance(part, int) and not isinstance(part, bool) and abs(part) <= MAX_ID:
        return part
    if kind is str and isinstance(part, str) and all_storable(part):
        return part
    raise ValueError(part)


def rows_of_page(
    rows: Select[Any], row_id: QueryableAttribute[int], page: Subquery, *, lateral: bool
) -> Select[Any]:
    """The `rows` of a page's ids (`page.c.id`), newest first. With `lateral` (PostgreSQL),
    each row is read by its id: joined to the page, the planner took a hash join over every
    row of the table for a page of a hundred ids."""
    if not lateral:
        return rows.join(page, page.c.id == row_id).order_by(row_id.desc())
    # The LIMIT keeps the planner from pulling the subquery up into a join again.
    each = rows.where(row_id == page.c.id).limit(1).lateral("page_row")
    return select(*each.c).select_from(page.join(each, true())).order_by(each.c.id.desc())
