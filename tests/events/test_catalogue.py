"""The event catalogue: every type once, recorded by class, its payloads as they always were."""

import ast
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from lectern.certificates.service import certificate_payload
from lectern.courses.service import course_payload
from lectern.enrollments.pair import enrollment_payload, request_payload
from lectern.events import types
from lectern.events.types import (
    CATALOGUE,
    CertificateIssued,
    CoursePublished,
    DomainEvent,
    EnrollmentCreated,
    NotificationCreated,
    PaymentCompleted,
    PaymentPartiallyRefunded,
    RequestApproved,
    RequestCreated,
)
from lectern.models.enums import Audience
from lectern.notifications.service import notification_payload
from lectern.payments.service import payment_payload

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*ROOT.glob("lectern/**/*.py"), *ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/*.py")]
WHEN = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def _event_types(base: type[DomainEvent]) -> list[type[DomainEvent]]:
    found = []
    for cls in base.__subclasses__():
        if "type" in vars(cls):
            found.append(cls)
        found += _event_types(cls)
    return found


def test_every_event_type_has_a_name_of_its_own_and_an_audience() -> None:
    defined = _event_types(DomainEvent)
    names = [cls.type for cls in defined]
    assert len(names) == len(set(names)) == len(CATALOGUE)
    assert all(CATALOGUE[cls.type] is cls for cls in defined)
    assert all(re.fullmatch(r"[a-z]+\.[a-z_]+", name) for name in names)
    assert all(isinstance(cls.audience, Audience) for cls in defined)
    assert all(cls.__module__ == types.__name__ for cls in defined)


def _record_event_calls() -> list[tuple[Path, ast.Call]]:
    calls = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record_event":
                calls.append((path, node))
    return calls


def test_every_record_event_call_records_an_instance_of_the_catalogue() -> None:
    calls = _record_event_calls()
    assert len(calls) > 30
    for path, call in calls:
        event = call.args[1]
        where = f"{path.relative_to(ROOT)}:{call.lineno}"
        assert not isinstance(event, ast.Constant | ast.JoinedStr | ast.BinOp), where
        assert {kw.arg for kw in call.keywords} <= {"institution_id", "user_id"}, where


def test_no_event_name_is_built_from_pieces() -> None:
    prefixes = {name.split(".")[0] + "." for name in CATALOGUE}
    for path in ROOT.glob("lectern/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.JoinedStr) and isinstance(node.values[0], ast.Constant):
                start = str(node.values[0].value)
                assert start not in prefixes, f"{path.relative_to(ROOT)}:{node.lineno}"


def _same_json(event: DomainEvent, expected: dict[str, object]) -> None:
    assert json.dumps(event.payload()) == json.dumps(expected)


def test_payloads_keep_the_fields_and_the_timestamps_the_helpers_wrote() -> None:
    request = SimpleNamespace(
        id=1,
        user_id=2,
        course_id=3,
        status="approved",
        note="ok",
        created_at=WHEN,
        reviewed_at=None,
    )
    _same_json(RequestApproved(**request_payload(request)), request_payload(request))
    created = {**request_payload(request), "course_title": "C", "learner_name": "L"}
    _same_json(RequestCreated(**created), created)

    enrollment = SimpleNamespace(
        id=4,
        user_id=2,
        course_id=3,
        status="active",
        source="self",
        progress=12.5,
        completed_at=WHEN,
        ends_at=WHEN,
    )
    started = {**enrollment_payload(enrollment), "course_title": "C"}
    _same_json(EnrollmentCreated(**started), started)

    notification = SimpleNamespace(
        id=5, kind="k", title="T — ü", body="", link="/x", created_at=WHEN, read_at=None
    )
    _same_json(
        NotificationCreated(**notification_payload(notification)),
        notification_payload(notification),
    )

    course = SimpleNamespace(
        id=3, title="C", status="published", access="paid", price_cents=900, currency="EUR"
    )
    _same_json(CoursePublished(**course_payload(course)), course_payload(course))  # type: ignore[arg-type]

    certificate = SimpleNamespace(
        code="abc", user_id=2, course_id=3, learner_name="L", course_title="C", issued_at=WHEN
    )
    issued = certificate_payload(certificate)  # type: ignore[arg-type]
    _same_json(CertificateIssued(**issued), issued)

    payment = SimpleNamespace(
        id=6,
        user_id=None,
        course_id=3,
        provider="stripe",
        amount_cents=900,
        currency="EUR",
        status="completed",
        flag_reason=None,
    )
    paid = {**payment_payload(payment), "course_title": "C"}  # type: ignore[arg-type]
    _same_json(PaymentCompleted(**paid), paid)
    partial = {**paid, "amount_refunded": 300}
    _same_json(PaymentPartiallyRefunded(**partial), partial)


def test_an_event_for_both_that_names_no_learner_is_for_the_admins() -> None:
    assert PaymentCompleted.audience_for(7) == Audience.BOTH
    assert PaymentCompleted.audience_for(None) == Audience.ADMINS
    assert NotificationCreated.audience_for(7) == Audience.LEARNER
    assert PaymentPartiallyRefunded.audience_for(7) == Audience.ADMINS
