"""A course's image: uploaded as the request body, scaled down and stored as WebP, served with
the course as image_url; too large a body is 413, a file that is not an image 422, and neither
changes anything."""

import io

import httpx
from PIL import Image

from lectern.courses.images import resized_image
from lectern.platform.db import Database
from tests.factories import World
from tests.rows import event_types, last_event_id, row_counts


def _image(size: tuple[int, int], kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, kind)
    return out.getvalue()


def test_an_image_is_scaled_down_to_fit_and_stored_as_webp() -> None:
    stored = Image.open(io.BytesIO(resized_image(_image((4000, 3000), "JPEG"))))
    assert stored.format == "WEBP"
    assert stored.size == (900, 675)
    small = Image.open(io.BytesIO(resized_image(_image((300, 200)))))
    assert small.size == (300, 200)


async def test_staff_upload_a_course_image_and_everyone_gets_its_url(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin, access="open")
    assert course["image_url"] is None
    before = await last_event_id(db)

    r = await client.put(
        f"/api/v1/courses/{course['id']}/image",
        content=_image((2400, 1350)),
        headers={**admin.headers, "Content-Type": "image/png"},
    )
    assert r.status_code == 204, r.text
    assert await event_types(db, before) == ["course.updated", "catalog.changed"]
    shown = (await client.get(f"/api/v1/courses/{course['id']}", headers=student.headers)).json()
    url = shown["image_url"]
    assert url.startswith("/course-images/")
    listed = (await client.get("/api/v1/courses", headers=student.headers)).json()
    assert [c["image_url"] for c in listed if c["id"] == course["id"]] == [url]

    image = await client.get(url)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/webp"
    assert image.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert Image.open(io.BytesIO(image.content)).size == (1200, 675)

    r = await client.delete(f"/api/v1/courses/{course['id']}/image", headers=admin.headers)
    assert r.status_code == 204
    shown = (await client.get(f"/api/v1/courses/{course['id']}", headers=admin.headers)).json()
    assert shown["image_url"] is None


async def test_a_file_that_is_not_an_image_is_422_and_changes_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin)
    before = await row_counts(db)
    for body in (b"%PDF-1.7 not a picture", b"", _image((10, 10))[:40]):
        r = await client.put(
            f"/api/v1/courses/{course['id']}/image",
            content=body,
            headers={**admin.headers, "Content-Type": "image/png"},
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"].endswith("/not-an-image")
    assert await row_counts(db) == before


async def test_an_upload_over_the_body_limit_is_413_and_changes_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin)
    before = await row_counts(db)
    r = await client.put(
        f"/api/v1/courses/{course['id']}/image",
        content=b"\xff\xd8" + b"\0" * (2 * 1024 * 1024),
        headers={**admin.headers, "Content-Type": "image/jpeg"},
    )
    assert r.status_code == 413
    assert await row_counts(db) == before


async def test_students_and_other_institutions_cannot_set_a_course_image(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    stranger = await world.admin("Elsewhere College")
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    url = f"/api/v1/courses/{course['id']}/image"
    body = _image((20, 20))
    assert (await client.put(url, content=body, headers=student.headers)).status_code == 403
    assert (await client.put(url, content=body, headers=stranger.headers)).status_code == 404
    assert (await client.get("/course-images/..%2Fsecret.webp")).status_code == 404
    assert (await client.get("/course-images/1-unknown.webp")).status_code == 404
