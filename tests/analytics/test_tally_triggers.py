"""The triggers count every kind of change to an enrollment, a request or a user as a recount
from the rows would: written one change per transaction and several in one, on each database."""

import pytest
from sqlalchemy import text

from lectern.platform.db import Database
from lectern.tallies.rebuild import rebuild_tallies
from tests.factories import World
from tests.rows import scalar, tally_rows

ENROLL = (
    "INSERT INTO enrollments (user_id, course_id, status, source, progress, created_at,"
    " updated_at) VALUES (:u, :c, 'active', 'self', :p, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)
ASK = (
    "INSERT INTO access_requests (user_id, course_id, status, note, created_at)"
    " VALUES (:u, :c, 'pending', '', CURRENT_TIMESTAMP)"
)
COMPLETE = (
    "UPDATE enrollments SET status = 'completed', progress = 100,"
    " completed_at = CURRENT_TIMESTAMP WHERE user_id = :u AND course_id = :c"
)

# Each step is one transaction of (statement, parameters by name of student and course).
STEPS: list[list[tuple[str, dict[str, str]]]] = [
    [(ENROLL, {"u": "ann", "c": "first", "p": "0"})],
    [(ENROLL, {"u": "bob", "c": "first", "p": "35"}), (ENROLL, {"u": "ann", "c": "second"})],
    [("UPDATE enrollments SET progress = 38 WHERE user_id = :u", {"u": "bob"})],  # same bucket
    [("UPDATE enrollments SET progress = 72 WHERE user_id = :u", {"u": "bob"})],
    [(COMPLETE, {"u": "ann", "c": "first"})],
    [("UPDATE enrollments SET status = 'cancelled' WHERE user_id = :u", {"u": "bob"})],
    [("UPDATE enrollments SET status = 'active' WHERE user_id = :u", {"u": "bob"})],
    [("UPDATE enrollments SET course_id = :c WHERE user_id = :u", {"u": "bob", "c": "second"})],
    [("UPDATE enrollments SET status = 'expired' WHERE user_id = :u", {"u": "bob"})],
    [(ASK, {"u": "cem", "c": "first"}), (ASK, {"u": "cem", "c": "second"})],
    [
        (
            "UPDATE access_requests SET course_id = :c WHERE course_id = :f AND user_id = :u",
            {"u": "cem", "c": "third", "f": "first"},
        )
    ],
    [
        (
            "UPDATE access_requests SET status = 'approved' WHERE user_id = :u AND course_id = :c",
            {"u": "cem", "c": "second"},
        ),
        (ENROLL, {"u": "cem", "c": "second", "p": "0"}),
    ],
    [("UPDATE access_requests SET user_id = :v WHERE user_id = :u", {"u": "cem", "v": "dee"})],
    [("DELETE FROM access_requests WHERE user_id = :u", {"u": "dee"})],
    [(ENROLL, {"u": "dee", "c": "third", "p": "95"}), (COMPLETE, {"u": "dee", "c": "third"})],
    [
        (
            "DELETE FROM enrollments WHERE user_id = :u AND course_id = :c",
            {"u": "ann", "c": "second"},
        )
    ],
    [
        (ASK, {"u": "ann", "c": "third"}),
        ("DELETE FROM access_requests WHERE course_id = :c", {"c": "third"}),
        ("DELETE FROM enrollments WHERE course_id = :c", {"c": "third"}),
        ("DELETE FROM courses WHERE id = :c", {"c": "third"}),
    ],
    [("DELETE FROM users WHERE id = :u", {"u": "cem"})],
]


@pytest.mark.parametrize("steps", [1, len(STEPS)], ids=["each-alone", "all-in-one"])
async def test_every_kind_of_change_is_counted_as_a_recount_counts_it(
    db: Database, world: World, steps: int
) -> None:
    admin = await world.admin()
    ids = {
        name: (await world.course(admin, access="open"))["id"]
        for name in ("first", "second", "third")
    }
    for name in ("ann", "bob", "cem", "dee"):
        ids[name] = (await world.student(admin.institution_slug, name=name.title())).id
    for start in range(0, len(STEPS), steps):
        async with db.engine.begin() as connection:
            for step in STEPS[start : start + steps]:
                for sql, names in step:
                    values = {"p": 0} | {
                        k: int(v) if v.isdigit() else ids[v] for k, v in names.items()
                    }
                    await connection.execute(text(sql), values)
        counted = await tally_rows(db)
        await db.run(rebuild_tallies)
        assert await tally_rows(db) == counted, STEPS[start : start + steps]
    assert await scalar(db, "SELECT count(*) FROM progress_buckets WHERE enrollments <> 0") > 0
    assert await scalar(db, "SELECT count(*) FROM completion_days WHERE completions <> 0") > 0
