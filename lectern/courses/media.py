"""Lesson media files (videos under settings.media_dir), served only to whom may see a lesson
that shows them.

A file is found through the lessons whose `video_url` names it ("/media/<path>", or the same
on this site's public URL), and served when the caller may see one of those lessons' course
(courses.rules.may_see_content). Anything else answers the same 404 problem, whether the file
exists or not: no caller, a path that tries to leave the directory, a file no lesson points
at, a course the caller may not take.
"""

from pathlib import Path, PurePosixPath

from fastapi import Depends, Request
from fastapi.responses import FileResponse
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.courses.rules import may_see_content
from lectern.models import Course, CourseStaff, Enrollment, Lesson
from lectern.platform.actor import Actor
from lectern.platform.auth import optional_actor
from lectern.platform.config import Settings
from lectern.platform.db import read_session
from lectern.platform.errors import NotFound, Unauthorized
from lectern.platform.routes import api_router

router = api_router(tags=["media"], include_in_schema=False)
PREFIX = "/media/"
# Percent-escapes that decode to a separator or a NUL: a path that needs them is not a file's.
REFUSED_ESCAPES = ("%2f", "%5c", "%00")


def media_path(path: str, raw_path: bytes) -> PurePosixPath | None:
    """The file a request names, relative to the media directory, or None when the path is
    not a plain relative one: '..' or '.' parts, empty parts, an absolute path, a NUL, a
    backslash, or an encoded slash."""
    raw = raw_path.decode("latin-1").casefold()
    if any(escape in raw for escape in REFUSED_ESCAPES):
        return None
    if not path or "\x00" in path or "\\" in path or path.startswith("/"):
        return None
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    return PurePosixPath(*parts)


def file_under(directory: Path, relative: PurePosixPath) -> Path | None:
    """The regular file at `relative` under `directory`, if it stays inside it once symbolic
    links are followed."""
    root = directory.resolve()
    try:
        candidate = (root / relative).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def lesson_urls(settings: Settings, relative: PurePosixPath) -> list[str]:
    """How a lesson's video_url names this file: site-relative, or on the public URL."""
    local = f"{PREFIX}{relative}"
    return [local, settings.public_url.rstrip("/") + local] if settings.public_url else [local]


async def may_see_media(session: AsyncSession, actor: Actor, urls: list[str]) -> bool:
    """Whether a lesson of a course the actor may see points at one of these URLs."""
    rows = await session.execute(
        select(Course.institution_id, Enrollment.status, CourseStaff.role)
        .join(Lesson, Lesson.course_id == Course.id)
        .outerjoin(
            Enrollment,
            and_(Enrollment.course_id == Course.id, Enrollment.user_id == actor.id),
        )
        .outerjoin(
            CourseStaff,
            and_(CourseStaff.course_id == Course.id, CourseStaff.user_id == actor.id),
        )
        .where(Lesson.video_url.in_(urls), Course.institution_id == actor.institution_id)
    )
    return any(may_see_content(actor, *row) for row in rows)


@router.api_route(PREFIX + "{path:path}", methods=["GET", "HEAD"])
async def lesson_media(
    path: str, request: Request, session: AsyncSession = Depends(read_session)
) -> FileResponse:
    """A lesson's media file, with Range requests for seeking; 404 unless the caller may see
    a lesson that shows it."""
    try:
        actor = await optional_actor(request)
    except Unauthorized:
        actor = None
    relative = media_path(path, request.scope.get("raw_path") or b"")
    if actor is None or relative is None:
        raise NotFound("No such file.")
    settings: Settings = request.app.state.settings
    if not await may_see_media(session, actor, lesson_urls(settings, relative)):
        raise NotFound("No such file.")
    file = file_under(settings.media_dir, relative)
    if file is None:
        raise NotFound("No such file.")
    # Private: a shared cache must not hand one learner's video to another.
    return FileResponse(file, headers={"Cache-Control": "private, no-cache"})
