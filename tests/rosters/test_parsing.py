"""Reading roster files as spreadsheets write them: BOM, `;`, quotes, CRLF; refusing what
cannot be read at all."""

from datetime import UTC, datetime

import pytest

from lectern.rosters.parsing import Action, RosterRefused, parse_roster, separator
from lectern.rosters.rules import Outcome, duplicates, over_seat_limit


def test_a_bom_semicolons_quotes_and_crlf_are_read_as_a_spreadsheet_wrote_them() -> None:
    data = (
        "\ufeffEmail;Course;Action;Full_Name;ends_at\r\n"
        'ada@example.test;intro;enroll;"Lovelace; Ada ""Countess""";2027-01-31\r\n'
        "bob@example.test;12;UNENROLL;;\r\n"
    ).encode()

    first, second = parse_roster(data)

    assert (first.line, first.email, first.course, first.action) == (
        2,
        "ada@example.test",
        "intro",
        Action.ENROLL,
    )
    assert first.full_name == 'Lovelace; Ada "Countess"'
    assert first.ends_at == datetime(2027, 1, 31, tzinfo=UTC)
    assert (second.line, second.action, second.errors) == (3, Action.UNENROLL, [])


def test_the_separator_is_the_one_the_header_uses() -> None:
    assert separator("email;course;action\n") == ";"
    assert separator("email,course,action\n") == ","


def test_a_file_that_is_not_utf8_is_refused_saying_so() -> None:
    with pytest.raises(RosterRefused, match="not UTF-8"):
        parse_roster("email,course,action\nzoë@example.test,intro,enroll\n".encode("latin-1"))


def test_a_missing_column_is_refused_naming_it() -> None:
    with pytest.raises(RosterRefused, match="lacks the column action"):
        parse_roster(b"email,course\nada@example.test,intro\n")


def test_a_header_without_rows_and_too_many_rows_are_refused() -> None:
    with pytest.raises(RosterRefused, match="no rows"):
        parse_roster(b"email,course,action\r\n\r\n")
    many = b"email,course,action\n" + b"a@example.test,c,enroll\n" * 100_001
    with pytest.raises(RosterRefused, match="more than 100000 rows"):
        parse_roster(many)


def test_each_bad_row_carries_what_is_wrong_with_it() -> None:
    data = (
        b"email,course,action,ends_at\n"
        b"not-an-address,intro,enroll,\n"
        b"ada@example.test,,join,31/01/2027\n"
        b"bob@example.test,intro,enroll\n"
    )

    bad_email, bad_rest, short = parse_roster(data)

    assert bad_email.errors == [bad_email.errors[0]]
    assert "not valid" in bad_email.errors[0]
    assert len(bad_rest.errors) == 3
    assert "names no course" in bad_rest.errors[0]
    assert "neither enroll nor unenroll" in bad_rest.errors[1]
    assert "not an ISO 8601 date" in bad_rest.errors[2]
    assert short.errors == ["has 3 fields where the header has 4"]


def test_a_repeated_email_and_course_points_at_the_first_row() -> None:
    assert duplicates([("a", 1), ("b", 1), None, ("a", 1), ("a", 2)]) == {3: 0}


def test_rows_past_a_seat_limit_are_found_in_file_order_counting_freed_seats() -> None:
    rows = [
        (1, Outcome.ENROLL),
        (1, Outcome.INVITE),
        (1, Outcome.UNENROLL),
        (1, Outcome.REACTIVATE),
        (1, Outcome.ENROLL),
        (2, Outcome.ENROLL),
        (None, Outcome.ERROR),
    ]

    assert over_seat_limit(rows, limits={1: 2}, taken={1: 1}) == {1, 4}
