"""The report's tally: counts handed over at once leave the report as the calls one by one."""

from lectern.importing.report import Report, Tally

ROWS = [
    ("payments", "imported", None),
    ("enrollments", "skipped", "user_missing"),
    ("payments", "merged", "same_provider_session"),
    ("enrollments", "imported", None),
    ("enrollments", "skipped", "course_missing"),
    ("enrollments", "skipped", "user_missing"),
]
DECISIONS = [("b_decision", "school-2"), ("a_decision", 7), ("b_decision", 7), ("b_decision", 7)]
CREATED = [("users", 7), ("enrollments", "school-2"), ("users", "school-2"), ("users", 7)]


def test_a_tally_added_to_the_report_leaves_it_as_the_same_calls_one_by_one() -> None:
    one_by_one, tallied, tally = Report(), Report(), Tally()
    for table, outcome, reason in ROWS:
        one_by_one.row(table, outcome, reason)
        tally.rows[table, outcome, reason] += 1
    for kind, institution in DECISIONS:
        one_by_one.decide(kind, institution)
        tally.decisions[kind, institution] += 1
    for what, institution in CREATED:
        one_by_one.create(what, institution)
        tally.created[what, institution] += 1

    tallied.add(tally)

    assert tallied == one_by_one
    # The same order too: first seen first.
    assert list(tallied.tables) == list(one_by_one.tables) == ["payments", "enrollments"]
    assert list(tallied.tables["enrollments"].reasons) == ["user_missing", "course_missing"]
    assert list(tallied.decisions) == list(one_by_one.decisions)
    assert list(tallied.by_institution) == list(one_by_one.by_institution)
    assert list(tallied.by_institution[7]) == ["a_decision", "b_decision"]
    assert list(tallied.created_by_institution) == list(one_by_one.created_by_institution)
    assert tallied.sums_hold()
    assert tally == Tally()  # emptied
