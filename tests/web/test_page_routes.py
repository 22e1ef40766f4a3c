"""Page routing without a browser: who is sent where, and the served charting library."""

import httpx

from lectern.models.enums import Role
from tests.factories import PASSWORD, Person, World


async def _log_in(client: httpx.AsyncClient, person: Person) -> None:
    r = await client.post("/api/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    assert r.status_code == 200, r.text


async def test_root_sends_visitors_to_log_in(client: httpx.AsyncClient) -> None:
    r = await client.get("/")
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    r = await client.get("/learn/catalog")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/learn/catalog"


async def test_root_sends_each_role_to_its_home_and_keeps_it_out_of_the_other(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)

    await _log_in(client, student)
    assert (await client.get("/")).headers["location"] == "/learn"
    assert (await client.get("/login")).headers["location"] == "/learn"
    assert (await client.get("/admin/requests")).headers["location"] == "/learn"
    page = await client.get("/learn")
    assert page.status_code == 200
    assert 'data-page="student-dashboard"' in page.text
    assert student.full_name in page.text

    await _log_in(client, admin)
    assert (await client.get("/")).headers["location"] == "/admin"
    assert (await client.get("/learn/progress")).headers["location"] == "/admin"
    page = await client.get("/admin/courses/7/analytics")
    assert page.status_code == 200
    assert 'data-course-id="7"' in page.text


async def test_a_stale_session_cookie_is_treated_as_logged_out(client: httpx.AsyncClient) -> None:
    client.cookies.set("lectern_session", "not-a-session")
    r = await client.get("/admin")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")


async def test_the_charting_library_is_served_from_its_installed_package(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/assets/plotly.min.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert len(r.content) > 1_000_000
    page = await client.get("/login")
    assert "cdn" not in page.text.lower()


async def test_instructors_get_the_course_pages_and_no_redirect_loop(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    instructor = await world.admin(role=Role.INSTRUCTOR)
    course = await world.course(admin)
    await world.make_staff(admin, course, instructor)

    await _log_in(client, instructor)
    assert (await client.get("/")).headers["location"] == "/admin/courses"
    assert (await client.get("/admin")).headers["location"] == "/admin/courses"
    assert (await client.get("/learn")).headers["location"] == "/admin/courses"
    listing = await client.get("/admin/courses")
    assert listing.status_code == 200
    assert 'data-role="instructor"' in listing.text
    # The requests of the courses they are staff of are theirs to review.
    assert 'href="/admin/requests"' in listing.text
    assert (await client.get("/admin/requests")).status_code == 200
    assert (await client.get(f"/admin/courses/{course['id']}/analytics")).status_code == 200
    editor = await client.get(f"/admin/courses/{course['id']}")
    assert editor.status_code == 200
    assert "/analytics" not in editor.text


async def test_pages_allow_only_lecterns_own_scripts(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "object-src 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text


async def test_an_unknown_page_answers_a_page_to_browsers_and_a_problem_to_programs(
    world: World, client: httpx.AsyncClient
) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    r = await client.get("/learn/no-such-page", headers=browser)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Page not found" in r.text
    assert 'href="/login"' in r.text

    student = await world.student((await world.admin()).institution_slug)
    await _log_in(client, student)
    r = await client.get("/nowhere", headers=browser)
    assert r.status_code == 404
    assert 'href="/learn"' in r.text

    for path, headers in (("/api/v1/nowhere", browser), ("/nowhere", {"Accept": "*/*"})):
        r = await client.get(path, headers=headers)
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 404


async def test_a_student_opens_a_courses_details_page_and_staff_are_sent_home(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    await _log_in(client, student)
    page = await client.get(f"/learn/catalog/{course['id']}")
    assert page.status_code == 200
    assert 'data-page="student-course_details"' in page.text
    assert f'data-course-id="{course["id"]}"' in page.text
    await _log_in(client, admin)
    assert (await client.get(f"/learn/catalog/{course['id']}")).headers["location"] == "/admin"
