"""A course's image: uploaded by its staff, resized and stored as WebP in the media directory,
and served with the course as `image_url`.

The upload is the image file itself as the request body (PUT), bounded like every body by
LECTERN_MAX_BODY_BYTES (413 beyond). Pillow must recognise it as an image it can read (422
otherwise, including for one whose pixel count could exhaust memory); it is scaled down to fit
within 1200 x 675 and stored under a name made of the course and a digest of the stored bytes,
so that a browser may keep it for a year and a new upload gets a new name.
"""

import hashlib
import io
from pathlib import Path

from fastapi import Depends, Request, status
from fastapi.responses import FileResponse
from PIL import Image, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.courses.catalog import catalog_changed
from lectern.courses.service import course_in_institution, course_payload, require_staff
from lectern.events.service import record_event
from lectern.events.types import CourseUpdated
from lectern.models import Course
from lectern.platform.actor import Actor
from lectern.platform.auth import staff_actor
from lectern.platform.config import Settings
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.errors import Invalid, NotFound
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId

router = api_router(tags=["course images"])
FOLDER = "course-images"
URL_PREFIX = "/course-images/"
LARGEST = (1200, 675)
# More pixels than any camera makes: a larger header is a decompression bomb, not a photo.
MAX_PIXELS = 50_000_000
FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


def image_url(stored: str | None) -> str | None:
    return URL_PREFIX + stored if stored else None


def resized_image(data: bytes) -> bytes:
    """The upload as WebP, scaled down to fit LARGEST; Invalid if it is not a usable image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FORMATS:
                raise Invalid("Upload a JPEG, PNG, WebP or GIF image.", slug="not-an-image")
            if image.width * image.height > MAX_PIXELS:
                raise Invalid("This image has too many pixels; upload a smaller one.")
            image.thumbnail(LARGEST)
            converted = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            out = io.BytesIO()
            converted.save(out, "WEBP", quality=82, method=4)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise Invalid("This file is not an image we can read.", slug="not-an-image") from exc


def _event(course: Course) -> CourseUpdated:
    return CourseUpdated(**course_payload(course))


async def set_course_image(
    session: AsyncSession, actor: Actor, course_id: int, stored: str
) -> Course:
    """Point the course at an image already written to the media directory."""
    require_staff(actor)
    course = await course_in_institution(session, actor, course_id)
    if course.image != stored:
        course.image = stored
        await session.flush()
        record_event(session, _event(course), institution_id=course.institution_id)
        catalog_changed(session, course, was_listed=False)
    return course


async def remove_course_image(session: AsyncSession, actor: Actor, course_id: int) -> None:
    require_staff(actor)
    course = await course_in_institution(session, actor, course_id)
    if course.image is not None:
        course.image = None
        await session.flush()
        record_event(session, _event(course), institution_id=course.institution_id)
        catalog_changed(session, course, was_listed=False)


def store(media_dir: Path, course_id: int, webp: bytes) -> str:
    """Write the image (once: its name is its content) and return its name."""
    name = f"{course_id}-{hashlib.sha256(webp).hexdigest()[:16]}.webp"
    folder = media_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        partial = target.with_suffix(".part")
        partial.write_bytes(webp)
        partial.replace(target)
    return name


@router.put("/api/v1/courses/{course_id}/image", status_code=status.HTTP_204_NO_CONTENT)
async def upload_course_image(
    course_id: PathId,
    request: Request,
    actor: Actor = Depends(staff_actor),
    session: AsyncSession = Depends(read_session),
    db: Database = Depends(get_database),
) -> None:
    """The course's image: the body is the image file (JPEG, PNG, WebP or GIF)."""
    settings: Settings = request.app.state.settings
    await course_in_institution(session, actor, course_id)
    webp = resized_image(await request.body())
    name = store(settings.media_dir, course_id, webp)
    await db.run(lambda s: set_course_image(s, actor, course_id, name))


@router.delete("/api/v1/courses/{course_id}/image", status_code=status.HTTP_204_NO_CONTENT)
async def delete_course_image(
    course_id: PathId, actor: Actor = Depends(staff_actor), db: Database = Depends(get_database)
) -> None:
    await db.run(lambda s: remove_course_image(s, actor, course_id))


@router.get(URL_PREFIX + "{name}", include_in_schema=False)
async def course_image(name: str, request: Request) -> FileResponse:
    """A stored course image; its name changes with its content, so it keeps for a year."""
    settings: Settings = request.app.state.settings
    if "/" in name or "\\" in name or not name.endswith(".webp") or name.startswith("."):
        raise NotFound("No such image.")
    file = settings.media_dir / FOLDER / name
    if not file.is_file():
        raise NotFound("No such image.")
    return FileResponse(
        file,
        media_type="image/webp",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
