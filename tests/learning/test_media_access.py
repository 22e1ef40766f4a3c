"""A lesson's media file is served only to whom may see the lesson; everyone else, and every
path that tries to leave the media directory, gets the same 404 problem."""

from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from lectern.courses.media import media_path
from lectern.platform.config import Settings
from tests.factories import Person, World

VIDEO = bytes(range(256)) * 40
VIDEO_URL = "/media/course/intro.webm"


@pytest.fixture
def media_dir(app: FastAPI, tmp_path: Path) -> Iterator[Path]:
    """The app serves this test's media directory, holding a video, an unused file and, beside
    it, a secret."""
    media = tmp_path / "media"
    (media / "course").mkdir(parents=True)
    (media / "course" / "intro.webm").write_bytes(VIDEO)
    (media / "unused.webm").write_bytes(b"nobody links to me")
    (tmp_path / "secret.txt").write_text("outside the media directory")
    # Set and put back by hand: pytest's monkeypatch deletes a Starlette State's attribute on undo.
    settings: Settings = app.state.settings
    app.state.settings = settings.model_copy(update={"media_dir": media})
    yield media
    app.state.settings = settings


async def video_course(world: World, admin: Person, **fields: Any) -> dict[str, Any]:
    lesson = {"title": "Intro", "kind": "video", "duration_s": 6, "video_url": VIDEO_URL}
    chapters = [{"title": "One", "lessons": [lesson]}]
    return await world.course(admin, chapters=chapters, **fields)


def assert_not_found(r: httpx.Response) -> None:
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "No such file."


async def test_an_enrolled_learner_gets_the_file_and_can_seek(
    media_dir: Path, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    course = await video_course(world, admin, access="open")
    await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=learner.headers)
    r = await client.get(VIDEO_URL, headers=learner.headers)
    assert r.status_code == 200, r.text
    assert r.content == VIDEO
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["cache-control"] == "private, no-cache"
    r = await client.get(VIDEO_URL, headers={**learner.headers, "Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes 100-199/{len(VIDEO)}"
    assert r.content == VIDEO[100:200]


async def test_the_staff_get_the_file_without_enrolling(
    media_dir: Path, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    await video_course(world, admin, access="paid", price_cents=100)
    r = await client.get(VIDEO_URL, headers=admin.headers)
    assert r.status_code == 200
    assert r.content == VIDEO


async def test_nobody_who_may_not_take_the_course_gets_the_file(
    media_dir: Path, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    await video_course(world, admin, access="paid", price_cents=100)
    other_admin = await world.admin("Southwind College")
    stranger = await world.student(other_admin.institution_slug)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, learner.headers):
        assert_not_found(await client.get(VIDEO_URL, headers=headers))
    for person in (stranger, other_admin):
        assert_not_found(await client.get(VIDEO_URL, headers=person.headers))


async def test_an_unenrolled_learner_loses_the_file(
    media_dir: Path, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    course = await video_course(world, admin, access="approval")
    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": learner.id, "course_id": course["id"]},
        headers=admin.headers,
    )
    assert (await client.get(VIDEO_URL, headers=learner.headers)).status_code == 200
    await client.delete(f"/api/v1/admin/enrollments/{r.json()['id']}", headers=admin.headers)
    assert_not_found(await client.get(VIDEO_URL, headers=learner.headers))


async def test_a_file_no_lesson_points_at_is_served_to_nobody(
    media_dir: Path, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    await video_course(world, admin, access="open")
    for path in ("/media/unused.webm", "/media/course/missing.webm", "/media/course"):
        assert_not_found(await client.get(path, headers=admin.headers))


@pytest.mark.parametrize(
    "path",
    [
        "/media/%2e%2e/secret.txt",
        "/media/course/%2e%2e/%2e%2e/secret.txt",
        "/media/..%2fsecret.txt",
        "/media/course%2Fintro.webm",
        "/media/course%5cintro.webm",
        "/media//etc/passwd",
        "/media/",
    ],
)
async def test_a_path_that_leaves_or_bends_the_media_directory_is_refused(
    path: str, media_dir: Path, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    lessons = [
        {"title": f"Tries {n}", "kind": "video", "duration_s": 6, "video_url": url}
        for n, url in enumerate(["/media/../secret.txt", "/media//etc/passwd", VIDEO_URL])
    ]
    await world.course(admin, access="open", chapters=[{"title": "C", "lessons": lessons}])
    r = await client.get(httpx.URL(path), headers=admin.headers)
    assert_not_found(r)
    assert "outside" not in r.text


async def test_a_video_on_another_site_is_left_as_it_is(
    media_dir: Path, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    url = "https://videos.example.test/intro.webm"
    lesson = {"title": "Elsewhere", "kind": "video", "duration_s": 6, "video_url": url}
    course = await world.course(
        admin, access="open", chapters=[{"title": "One", "lessons": [lesson]}]
    )
    await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=learner.headers)
    r = await client.get(f"/api/v1/courses/{course['id']}", headers=learner.headers)
    assert r.json()["chapters"][0]["lessons"][0]["video_url"] == url


@pytest.mark.parametrize("path", ["/media/course/intro.webm%00", "/media/%00"])
async def test_a_path_with_a_nul_is_refused(
    path: str, media_dir: Path, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    await video_course(world, admin, access="open")
    r = await client.get(httpx.URL(path), headers=admin.headers)
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "raw_path"),
    [
        ("../secret.txt", b"/media/../secret.txt"),
        ("course/../../secret.txt", b"/media/course/../../secret.txt"),
        ("course/./intro.webm", b"/media/course/./intro.webm"),
        ("course//intro.webm", b"/media/course//intro.webm"),
        ("/etc/passwd", b"/media//etc/passwd"),
        ("course/intro.webm\x00", b"/media/course/intro.webm%00"),
        ("course\\intro.webm", b"/media/course\\intro.webm"),
        ("course/intro.webm", b"/media/course%2Fintro.webm"),
        ("course/intro.webm", b"/media/course%2fintro.webm"),
        ("", b"/media/"),
    ],
)
def test_only_a_plain_relative_path_names_a_media_file(path: str, raw_path: bytes) -> None:
    assert media_path(path, raw_path) is None


def test_a_plain_relative_path_names_its_file() -> None:
    assert media_path("course/intro.webm", b"/media/course/intro.webm") == PurePosixPath(
        "course", "intro.webm"
    )


async def test_a_link_out_of_the_media_directory_is_not_followed(
    media_dir: Path, world: World, client: httpx.AsyncClient
) -> None:
    (media_dir / "course" / "leak.webm").symlink_to(media_dir.parent / "secret.txt")
    admin = await world.admin()
    lesson = {
        "title": "Leak",
        "kind": "video",
        "duration_s": 6,
        "video_url": "/media/course/leak.webm",
    }
    await world.course(admin, access="open", chapters=[{"title": "C", "lessons": [lesson]}])
    assert_not_found(await client.get("/media/course/leak.webm", headers=admin.headers))
