"""A plan's rows as the values a table takes: references resolved, defaults filled."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from itertools import repeat
from operator import add, itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from lectern.importing.copy_data import jsonb_data
from lectern.importing.plan import Ref, Row
from lectern.models import Base

# In the order foreign keys need them: each table's references and the tables they name.
REFERENCES: dict[str, dict[str, str]] = {
    "institutions": {},
    "users": {"institution_id": "institutions"},
    "student_profiles": {"user_id": "users"},
    "courses": {"institution_id": "institutions"},
    "chapters": {"course_id": "courses"},
    "lessons": {"chapter_id": "chapters", "course_id": "courses"},
    "qbank_questions": {"course_id": "courses"},
    "enrollments": {"user_id": "users", "course_id": "courses"},
    "lesson_progress": {"enrollment_id": "enrollments", "lesson_id": "lessons"},
    "quiz_attempts": {"enrollment_id": "enrollments", "lesson_id": "lessons"},
    "qbank_tests": {"enrollment_id": "enrollments"},
    "qbank_test_questions": {"test_id": "qbank_tests", "question_id": "qbank_questions"},
    "access_requests": {"user_id": "users", "course_id": "courses", "reviewer_id": "users"},
    "payments": {"institution_id": "institutions", "user_id": "users", "course_id": "courses"},
    "certificates": {"enrollment_id": "enrollments", "user_id": "users", "course_id": "courses"},
}

Ids = dict[str, dict[str, int]]


class Resolver:
    def __init__(self) -> None:
        self.ids: Ids = defaultdict(dict)

    def __call__(self, table: str, ref: Ref | None) -> int | None:
        if ref is None or isinstance(ref, int):
            return ref
        return self.ids[table][ref]


def _with_defaults(table: Table, columns: list[str]) -> dict[str, Any]:
    """The value of each NOT NULL column the plan leaves out, from the model's scalar or
    callable default (COPY and executemany get no ORM defaults)."""
    filled: dict[str, Any] = {}
    for column in table.c:
        if column.name in columns or column.nullable or column.primary_key:
            continue
        default = column.default
        if default is None or not (default.is_scalar or default.is_callable):
            continue
        filled[column.name] = default.arg if default.is_scalar else default.arg(None)  # type: ignore[attr-defined]
    return filled


def resolved(refs: list[Ref] | list[Ref | None], ids: dict[str, int]) -> list[int | None]:
    """A column of plan references as Lectern ids: keys of planned rows through `ids`, ints
    (rows that existed) and None as they are."""
    try:
        return list(map(ids.__getitem__, refs))  # type: ignore[arg-type]
    except KeyError:
        return [ids[ref] if isinstance(ref, str) else ref for ref in refs]


@cache
def _jsonb_not_null(table: str) -> frozenset[str]:
    """The table's columns that are jsonb on PostgreSQL and never NULL (no value is None)."""
    dialect = postgresql.dialect()
    return frozenset(
        column.name
        for column in Base.metadata.tables[table].c
        if not column.nullable and isinstance(column.type.dialect_impl(dialect), JSONB)
    )


def _getter(columns: list[str]) -> Callable[[Row], tuple[Any, ...]]:
    """A row's values of `columns`, as a tuple whatever their number."""
    if len(columns) > 1:
        return itemgetter(*columns)
    if columns:
        column = columns[0]
        return lambda row: (row[column],)
    return lambda row: ()


class TableRows:
    """One table's planned rows as the values to write, with the references resolved."""

    def __init__(self, name: str, rows: list[Row], resolve: Resolver) -> None:
        self.name, self.table = name, Base.metadata.tables[name]
        self.keyed = "key" in rows[0]
        self.own = [c for c in rows[0] if c != "key"]
        self.filled = _with_defaults(self.table, self.own)
        references = REFERENCES[name]
        self.references = [(c, resolve.ids[references[c]]) for c in self.own if c in references]
        jsonb = _jsonb_not_null(name)
        self.jsonb = [c for c in self.own if c in jsonb and c not in references]
        self.as_is = [c for c in self.own if c not in references and c not in jsonb]
        self.copy_columns = [
            *(c for c, _ in self.references),
            *self.jsonb,
            *self.filled,
            *self.as_is,
        ]
        # The COPY columns whose values are made jsonb data (copy_data.jsonb_data).
        self.jsonb_data = {*self.jsonb, *(c for c in self.filled if c in jsonb)}

    def as_dict(self, row: Row) -> dict[str, Any]:
        """The row's values by column, its references resolved and the defaults filled."""
        values = {column: row[column] for column in self.own}
        for column, ids in self.references:
            if isinstance(ref := values[column], str):
                values[column] = ids[ref]
        values.update(self.filled)
        return values

    def copy_records(
        self, rows: list[Row], new_ids: Iterable[int] | None
    ) -> Iterator[tuple[Any, ...]]:
        """The rows' values as COPY takes them, in `copy_columns` order after the new id where
        the rows are keyed: each reference column resolved and each jsonb column made into its
        data (`jsonb_data`), a column at a time, the defaults, then each row's values as
        planned, taken a row at a time rather than moved into columns and back."""
        changed: list[Iterable[Any]] = [] if new_ids is None else [new_ids]
        for column, ids in self.references:
            changed.append(resolved(list(map(itemgetter(column), rows)), ids))
        changed.extend(jsonb_data(map(itemgetter(column), rows)) for column in self.jsonb)
        for column, value in self.filled.items():
            made = next(jsonb_data([value])) if column in self.jsonb_data else value
            changed.append(repeat(made, len(rows)))
        front = zip(*changed, strict=True) if changed else repeat((), len(rows))
        return map(add, front, map(_getter(self.as_is), rows))
