"""Validation problems say in plain words what to fix, field by field, and stay
machine-readable: every error keeps its `loc` and pydantic `type`."""

import httpx

from lectern.platform.plain_messages import field_name, plain_message
from tests.factories import World


def test_each_common_error_type_reads_as_a_plain_sentence() -> None:
    assert plain_message("missing", "Field required") == "Fill this in."
    assert plain_message("string_too_short", "", {"min_length": 1}) == "Fill this in."
    assert plain_message("string_too_short", "", {"min_length": 8}) == (
        "Use at least 8 characters."
    )
    assert plain_message("less_than_equal", "", {"le": 100}) == "Enter a number of at most 100."
    assert plain_message("int_parsing", "Input should be a valid integer") == (
        "Enter a whole number."
    )
    assert plain_message("enum", "", {"expected": "'open' or 'paid'"}) == (
        "Choose one of open or paid."
    )


def test_a_validators_own_reason_becomes_a_sentence_and_known_ones_are_rewritten() -> None:
    assert plain_message(
        "value_error",
        "Value error, not a valid e-mail address: An email address must have an @-sign.",
    ) == ("Enter an e-mail address with an @, like name@school.org.")
    assert plain_message(
        "value_error", "Value error, answer must be the index of one of the choices"
    ) == ("Mark one of the choices as the answer.")
    assert plain_message("value_error", "Value error, seats must be positive") == (
        "Seats must be positive."
    )
    assert plain_message("some_future_type", "as pydantic said it") == "As pydantic said it."


def test_a_field_is_named_without_the_part_of_the_request_it_came_in() -> None:
    assert field_name(["body", "chapters", "0", "title"]) == "chapters.0.title"
    assert field_name(["query", "limit"]) == "limit"
    assert field_name(["body"]) == ""


async def test_registration_with_a_bad_email_answers_plain_words_per_field(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    r = await client.post(
        "/api/v1/auth/register",
        json={
            "institution": admin.institution_slug,
            "email": "nobody-at-school.org",
            "password": "a fine long password",
            "full_name": "",
        },
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    errors = {tuple(e["loc"]): e for e in problem["errors"]}
    assert errors[("body", "email")]["msg"] == (
        "Enter an e-mail address with an @, like name@school.org."
    )
    assert errors[("body", "email")]["type"] == "value_error"
    assert errors[("body", "full_name")] == {
        "loc": ["body", "full_name"],
        "msg": "Fill this in.",
        "type": "string_too_short",
    }
    assert "Value error" not in problem["detail"]
    assert "email: Enter an e-mail address with an @" in problem["detail"]


async def test_a_quiz_whose_answer_is_no_choice_says_what_to_fix(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    course = await world.course(admin)
    r = await client.post(
        f"/api/v1/courses/{course['id']}/chapters", json={"title": "One"}, headers=admin.headers
    )
    r = await client.post(
        f"/api/v1/chapters/{r.json()['id']}/lessons",
        json={
            "title": "Check",
            "kind": "quiz",
            "questions": [{"prompt": "2+2?", "choices": ["3", "4"], "answer": 5}],
        },
        headers=admin.headers,
    )
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error == {
        "loc": ["body", "questions", "0"],
        "msg": "Mark one of the choices as the answer.",
        "type": "value_error",
    }
