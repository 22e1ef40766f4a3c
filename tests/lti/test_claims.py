"""The pure rules of LTI claims and scores."""

import pytest

from lectern.lti import claims as c
from lectern.lti.claims import (
    LaunchRefused,
    course_of,
    is_learner,
    is_web_url,
    launch_of,
    scores_url,
)
from lectern.lti.scores import latest_scores, score_fields

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def _claims(**extra: object) -> dict[str, object]:
    return {
        "sub": "u1",
        c.VERSION: "1.3.0",
        c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST,
        c.DEPLOYMENT_ID: "d1",
        c.RESOURCE_LINK: {"id": "r1"},
        c.ROLES: [LEARNER],
        c.CUSTOM: {c.COURSE_PARAMETER: "12"},
        **extra,
    }


def test_learners_and_people_without_a_teaching_role_are_learners() -> None:
    assert is_learner([LEARNER])
    assert is_learner([LEARNER, INSTRUCTOR])
    assert is_learner([])
    assert not is_learner([INSTRUCTOR])


def test_the_course_comes_from_the_custom_parameter_else_the_target_link() -> None:
    assert course_of({c.CUSTOM: {c.COURSE_PARAMETER: "12"}}) == 12
    assert course_of({c.TARGET_LINK_URI: "https://l.test/lti/courses/7?x=1"}) == 7
    assert course_of({c.CUSTOM: {c.COURSE_PARAMETER: "1 OR 1"}}) is None
    assert course_of({c.CUSTOM: {c.COURSE_PARAMETER: "9" * 12}}) is None
    assert course_of({c.TARGET_LINK_URI: "https://l.test/elsewhere"}) is None


def test_a_line_item_is_kept_only_with_the_score_scope() -> None:
    endpoint = {"scope": [c.AGS_SCORE_SCOPE], "lineitem": "https://p.test/li/1"}
    without_scope = {"scope": [], "lineitem": "https://p.test/li/1"}

    assert launch_of(_claims(**{c.AGS_ENDPOINT: endpoint}), ["d1"]).line_item_url == (
        "https://p.test/li/1"
    )
    assert launch_of(_claims(**{c.AGS_ENDPOINT: without_scope}), ["d1"]).line_item_url is None


@pytest.mark.parametrize(
    ("change", "slug"),
    [
        ({c.VERSION: "1.1"}, "lti-version"),
        ({c.MESSAGE_TYPE: "LtiSubmissionReviewRequest"}, "lti-message-type"),
        ({c.DEPLOYMENT_ID: "d2"}, "lti-deployment"),
        ({"sub": ""}, "lti-launch-refused"),
        ({c.ROLES: [INSTRUCTOR]}, "lti-not-a-learner"),
        ({c.CUSTOM: {}}, "lti-no-course"),
        ({c.RESOURCE_LINK: None}, "lti-launch-refused"),
    ],
)
def test_claims_that_break_a_rule_are_refused(change: dict[str, object], slug: str) -> None:
    with pytest.raises(LaunchRefused) as refused:
        launch_of(_claims(**change), ["d1"])

    assert refused.value.slug == slug


def test_platform_urls_are_https_or_to_this_machine() -> None:
    assert is_web_url("https://moodle.example.edu/mod/lti/certs.php")
    assert is_web_url("http://127.0.0.1:8080/jwks")
    assert is_web_url("http://localhost/jwks")
    assert not is_web_url("http://moodle.example.edu/jwks")
    assert not is_web_url("http://127.0.0.1.example.com/jwks")
    assert not is_web_url("javascript:alert(1)")
    assert not is_web_url("https:///no-host")


def test_the_scores_endpoint_follows_the_line_items_path_before_its_query() -> None:
    assert scores_url("https://p.test/li/1?course=2") == "https://p.test/li/1/scores?course=2"
    assert scores_url("https://p.test/li/1/") == "https://p.test/li/1/scores"


def test_a_score_is_final_only_on_completion() -> None:
    assert score_fields(42.5, False) == {
        "score_given": 42.5,
        "score_maximum": 100.0,
        "activity_progress": "InProgress",
        "grading_progress": "Pending",
    }
    assert score_fields(100, True)["grading_progress"] == "FullyGraded"
    assert score_fields(140, True)["score_given"] == 100.0


def test_only_progress_that_moved_or_completed_makes_a_score() -> None:
    def progress(previous: float, now: float, status: str = "active") -> dict[str, object]:
        payload = {"course_id": 3, "progress": now, "previous": previous, "status": status}
        return {"type": "progress.updated", "user_id": 5, "payload": payload}

    assert latest_scores([progress(10, 10)]) == {}
    assert latest_scores([progress(10, 20)]) == {(5, 3): score_fields(20, False)}
    assert latest_scores([progress(100, 100, "completed")]) == {(5, 3): score_fields(100, True)}
