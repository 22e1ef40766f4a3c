from datetime import datetime

from lectern.platform.schemas import Output


class RosterRowOut(Output):
    line: int
    email: str
    course: str
    course_id: int | None
    action: str | None
    ends_at: datetime | None
    outcome: str
    reason: str


class RosterReportOut(Output):
    filename: str
    dry_run: bool
    ok: bool
    outcomes: dict[str, int]
    rows: list[RosterRowOut]
