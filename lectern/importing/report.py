"""The import's report: every legacy row read, and what became of it."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TableCount:
    read: int = 0
    imported: int = 0
    merged: int = 0
    skipped: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "imported": self.imported,
            "merged": self.merged,
            "skipped": self.skipped,
            "reasons": dict(sorted(self.reasons.items())),
        }


@dataclass
class Tally:
    """Report entries counted by loops that make hundreds of thousands: a Counter increment
    each instead of a call, handed to the report by `Report.add`. Keys: (table, outcome,
    reason) for `rows`, (kind or what, institution) for `decisions` and `created`."""

    rows: Counter[tuple[str, str, str | None]] = field(default_factory=Counter)
    decisions: Counter[tuple[str, object]] = field(default_factory=Counter)
    created: Counter[tuple[str, object]] = field(default_factory=Counter)


@dataclass
class Report:
    """What the import read and decided. `tables` accounts for every legacy row:
    read = imported + merged + skipped, per table."""

    tables: dict[str, TableCount] = field(default_factory=dict)
    decisions: Counter[str] = field(default_factory=Counter)
    # The decisions by the Lectern institution they concern (its plan reference until written).
    by_institution: dict[object, Counter[str]] = field(default_factory=dict)
    created: Counter[str] = field(default_factory=Counter)
    created_by_institution: dict[object, Counter[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def table(self, name: str) -> TableCount:
        if (count := self.tables.get(name)) is None:
            count = self.tables[name] = TableCount()
        return count

    def row(self, table: str, outcome: str, reason: str | None = None, n: int = 1) -> None:
        """Account for `n` legacy rows: imported, merged or skipped (with why)."""
        count = self.tables.get(table) or self.table(table)  # once per legacy row: no call
        count.read += n
        if outcome == "imported":
            count.imported += n
        elif outcome == "merged":
            count.merged += n
        else:
            count.skipped += n
        if reason:
            count.reasons[reason] += n

    def decide(self, kind: str, institution: object, n: int = 1) -> None:
        if n <= 0:
            return
        self.decisions[kind] += n
        if (counts := self.by_institution.get(institution)) is None:
            counts = self.by_institution[institution] = Counter()
        counts[kind] += n

    def create(self, what: str, institution: object, n: int = 1) -> None:
        self.created[what] += n
        if (counts := self.created_by_institution.get(institution)) is None:
            counts = self.created_by_institution[institution] = Counter()
        counts[what] += n

    def add(self, tally: Tally) -> None:
        """What a tally counted, as the same calls of `row`, `decide` and `create` one by one
        would have left it (each count first seen in the same order)."""
        for (table, outcome, reason), n in tally.rows.items():
            self.row(table, outcome, reason, n)
        for (kind, institution), n in tally.decisions.items():
            self.decide(kind, institution, n)
        for (what, institution), n in tally.created.items():
            self.create(what, institution, n)
        tally.rows.clear()
        tally.decisions.clear()
        tally.created.clear()

    def sums_hold(self) -> bool:
        return all(t.read == t.imported + t.merged + t.skipped for t in self.tables.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "tables": {name: t.as_json() for name, t in sorted(self.tables.items())},
            "decisions": dict(sorted(self.decisions.items())),
            "lectern": dict(sorted(self.created.items())),
            "notes": list(self.notes),
        }
