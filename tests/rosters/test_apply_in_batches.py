"""Applying a roster runs the admin commands' batched forms: what each row does is what the single
command does (requests closed, reactivations, invitations, e-mail as chosen), the seats the
file's unenrollments free go to its own later rows before the waitlist, and under concurrency
on PostgreSQL a file and learners enrolling themselves never take more seats than there are."""

import asyncio

import httpx
import pytest

from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.rosters.service import MAX_APPLIED_ROWS
from tests.conftest import LiveServer
from tests.factories import Person, World
from tests.payments.shop import WEBHOOK, Shop, start_checkout
from tests.payments.stripe_events import session_completed, signed
from tests.rows import event_types, last_event_id, row_counts, rows, scalar

IMPORT = "/api/v1/admin/enrollments/import"


async def _post(
    client: httpx.AsyncClient, admin: Person, csv: str, *, apply: bool = False
) -> httpx.Response:
    return await client.post(
        IMPORT,
        params={"dry_run": str(not apply).lower()},
        content=csv.encode(),
        headers={**admin.headers, "Content-Type": "text/csv"},
    )


async def _admin_enroll(
    client: httpx.AsyncClient, admin: Person, user_id: int, course_id: int
) -> int:
    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": user_id, "course_id": course_id},
        headers=admin.headers,
    )
    assert r.status_code in (200, 201), r.text
    enrollment_id: int = r.json()["id"]
    return enrollment_id


async def _statuses(db: Database, course_id: int) -> dict[int, str]:
    found = await rows(
        db, "SELECT user_id, status FROM enrollments WHERE course_id = :c", c=course_id
    )
    return {row["user_id"]: row["status"] for row in found}


async def _waiting(db: Database, course_id: int) -> list[int]:
    found = await rows(
        db, "SELECT user_id FROM waitlist_entries WHERE course_id = :c ORDER BY id", c=course_id
    )
    return [row["user_id"] for row in found]


async def test_seats_a_file_frees_go_to_its_later_rows_first_and_what_is_left_to_the_line(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    ada, dan, bob, fay, cy = [await world.student(admin.institution_slug) for _ in range(5)]
    course = await world.course(admin, access="open", seat_limit=2, waitlist=True)
    for seated in (ada, dan):
        await _admin_enroll(client, admin, seated.id, course["id"])
    for waiting in (bob, fay):
        joined = await client.post(
            f"/api/v1/courses/{course['id']}/enroll", headers=waiting.headers
        )
        assert joined.status_code == 202, joined.text
    csv = (
        "email,course,action\n"
        f"{ada.email},{course['slug']},unenroll\n"
        f"{dan.email},{course['slug']},unenroll\n"
        f"{cy.email},{course['slug']},enroll\n"
    )
    start = await last_event_id(db)

    preview = await _post(client, admin, csv)
    applied = await _post(client, admin, csv, apply=True)

    assert [row["outcome"] for row in preview.json()["rows"]] == ["unenroll", "unenroll", "enroll"]
    assert applied.status_code == 200, applied.text
    assert await _statuses(db, course["id"]) == {
        ada.id: "cancelled",
        dan.id: "cancelled",
        cy.id: "active",
        bob.id: "active",
    }
    assert await _waiting(db, course["id"]) == [fay.id]
    types = await event_types(db, start)
    assert types.count("waitlist.enrolled") == 1
    assert types[-1] == "enrollment.imported"


async def test_a_full_course_still_refuses_a_file_whose_rows_want_more_seats_than_it_frees(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    ada, bob, cy = [await world.student(admin.institution_slug) for _ in range(3)]
    course = await world.course(admin, access="open", seat_limit=1)
    await _admin_enroll(client, admin, ada.id, course["id"])
    csv = (
        "email,course,action\n"
        f"{bob.email},{course['slug']},enroll\n"
        f"{ada.email},{course['slug']},unenroll\n"
        f"{cy.email},{course['slug']},enroll\n"
    )

    refused = await _post(client, admin, csv, apply=True)

    # In file order Bob's row finds the course full: the seat Ada frees comes after it.
    assert refused.status_code == 422, refused.text
    assert [row["line"] for row in refused.json()["rows"]] == [2]
    assert await _statuses(db, course["id"]) == {ada.id: "active"}


async def test_a_roster_closes_pending_requests_reactivates_and_invites_into_default_courses(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    ada, bob = [await world.student(admin.institution_slug) for _ in range(2)]
    approval = await world.course(admin, access="approval")
    welcome = await world.course(admin, access="default", title="Welcome")
    asked = await client.post(
        f"/api/v1/courses/{approval['id']}/access-requests", headers=ada.headers
    )
    assert asked.status_code == 201, asked.text
    bobs = await _admin_enroll(client, admin, bob.id, approval["id"])
    gone = await client.delete(f"/api/v1/admin/enrollments/{bobs}", headers=admin.headers)
    assert gone.status_code == 200, gone.text
    csv = (
        "email,course,action,full_name\n"
        f"{ada.email},{approval['slug']},enroll,\n"
        f"{bob.email},{approval['slug']},enroll,\n"
        f"new.one@example.test,{approval['slug']},enroll,New One\n"
        f"new.two@example.test,{approval['slug']},enroll,New Two\n"
    )
    start = await last_event_id(db)

    applied = await _post(client, admin, csv, apply=True)

    assert applied.status_code == 200, applied.text
    assert [row["outcome"] for row in applied.json()["rows"]] == [
        "enroll", "reactivate", "invite", "invite",
    ]  # fmt: skip
    request = await rows(
        db, "SELECT status, reviewer_id FROM access_requests WHERE user_id = :u", u=ada.id
    )
    assert request == [{"status": "approved", "reviewer_id": admin.id}]
    invited = await rows(
        db,
        "SELECT u.email_key, e.course_id, e.source FROM users u"
        " JOIN enrollments e ON e.user_id = u.id WHERE u.email_key LIKE 'new.%'"
        " ORDER BY u.email_key, e.course_id",
    )
    assert [(r["email_key"], r["course_id"], r["source"]) for r in invited] == [
        ("new.one@example.test", approval["id"], "admin"),
        ("new.one@example.test", welcome["id"], "default"),
        ("new.two@example.test", approval["id"], "admin"),
        ("new.two@example.test", welcome["id"], "default"),
    ]
    profiles = await scalar(
        db,
        "SELECT count(*) FROM student_profiles p JOIN users u ON u.id = p.user_id"
        " WHERE u.email_key LIKE 'new.%'",
    )
    assert profiles == 2
    types = await event_types(db, start)
    assert types.count("request.approved") == 1
    assert types.count("enrollment.reactivated") == 1
    assert types.count("enrollment.created") == 5
    assert types.count("user.registered") == 2
    notes = await rows(
        db,
        "SELECT user_id, title FROM notifications WHERE title LIKE 'You were enrolled%'"
        " AND user_id IN (:a, :b)",
        a=ada.id,
        b=bob.id,
    )
    assert len(notes) == 3  # Bob's first enrollment, then his and Ada's from the file


async def test_a_learner_who_chose_no_enrolled_mail_gets_none_from_a_roster(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    ada, bob, cy = [await world.student(admin.institution_slug) for _ in range(3)]
    course = await world.course(admin, title="Estuaries")
    chose = await client.patch(
        "/api/v1/me/mail-preferences", json={"choices": {"enrolled": "none"}}, headers=ada.headers
    )
    assert chose.status_code == 200, chose.text
    csv = "email,course,action\n" + "".join(
        f"{person.email},{course['id']},enroll\n" for person in (ada, bob, cy)
    )

    applied = await _post(client, admin, csv, apply=True)

    assert applied.status_code == 200, applied.text
    sent = await rows(db, "SELECT to_address, subject FROM mail_outbox ORDER BY to_address")
    assert [(m["to_address"], m["subject"]) for m in sent] == sorted(
        [(p.email, "You are enrolled in Estuaries") for p in (bob, cy)]
    )
    keys = await scalar(
        db,
        "SELECT count(DISTINCT signing_key) FROM mail_preferences WHERE user_id IN (:b, :c)",
        b=bob.id,
        c=cy.id,
    )
    assert keys == 2


async def test_unenrolling_a_paid_enrollment_is_a_row_error_and_changes_nothing(
    world: World, client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await world.admin()
    ada = await world.student(admin.institution_slug)
    course = await world.course(admin, access="paid", price_cents=900, currency="usd")
    await _pay(client, settings, Shop(admin, ada, course))
    assert await _statuses(db, course["id"]) == {ada.id: "active"}

    refused = await _post(
        client, admin, f"email,course,action\n{ada.email},{course['slug']},unenroll\n", apply=True
    )

    assert refused.status_code == 422, refused.text
    assert "refund the payment" in refused.json()["rows"][0]["reason"]
    assert await _statuses(db, course["id"]) == {ada.id: "active"}


async def _pay(client: httpx.AsyncClient, settings: Settings, shop: Shop) -> None:
    payment = await start_checkout(client, shop)
    event = session_completed(payment)
    paid = await client.post(WEBHOOK, **signed(event, settings.test_payment_webhook_secret))
    assert paid.status_code == 200, paid.text


@pytest.mark.postgres_only
async def test_a_file_and_learners_enrolling_themselves_at_once_never_overfill_a_course(
    world: World, db: Database, live_server: LiveServer
) -> None:
    admin = await world.admin()
    listed = [await world.student(admin.institution_slug) for _ in range(6)]
    walk_ins = [await world.student(admin.institution_slug) for _ in range(12)]
    course = await world.course(admin, access="open", seat_limit=10)
    csv = "email,course,action\n" + "".join(
        f"{person.email},{course['slug']},enroll\n" for person in listed
    )
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
    async with httpx.AsyncClient(base_url=live_server.url, limits=limits, timeout=60) as http:
        path = f"/api/v1/courses/{course['id']}/enroll"
        answers = await asyncio.gather(
            _post(http, admin, csv, apply=True),
            *(http.post(path, headers=person.headers) for person in walk_ins),
        )

    assert all(answer.status_code < 500 for answer in answers), [a.text for a in answers]
    roster, walked = answers[0], answers[1:]
    seated = await _statuses(db, course["id"])
    assert len(seated) == 10
    walked_in = sum(answer.status_code == 201 for answer in walked)
    if roster.status_code == 200:
        assert {person.id for person in listed} <= set(seated)
        assert walked_in == 4
    else:
        assert roster.status_code in (409, 422), roster.text
        assert not {person.id for person in listed} & set(seated)
        assert walked_in == 10


async def test_a_file_past_the_applied_rows_limit_is_refused_whole_before_anything_is_read(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin)
    csv = "email,course,action,full_name\n" + "".join(
        f"new{n}@example.test,{course['slug']},enroll,New {n}\n"
        for n in range(MAX_APPLIED_ROWS + 1)
    )
    before = await row_counts(db)

    refused = await _post(client, admin, csv, apply=True)

    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/roster-too-large")
    assert "Split it" in refused.json()["detail"]
    assert await row_counts(db) == before
