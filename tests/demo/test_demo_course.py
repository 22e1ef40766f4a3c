import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import imageio_ffmpeg
import pytest
from sqlalchemy import func, select

from lectern.app import create_app
from lectern.demo import course as demo_course
from lectern.demo.service import load_demo
from lectern.models import Course, QbankQuestion
from lectern.platform.config import Settings, get_settings
from lectern.platform.db import Database


@pytest.fixture
def media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("LECTERN_MEDIA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


async def _first_aid(db: Database) -> tuple[Course, int]:
    async with db.session() as session:
        course = (
            await session.scalars(select(Course).where(Course.title == "First Aid Basics"))
        ).one()
        questions = await session.scalar(
            select(func.count())
            .select_from(QbankQuestion)
            .where(QbankQuestion.course_id == course.id)
        )
    return course, questions or 0


async def test_the_demo_course_has_a_playable_video_a_reading_a_quiz_and_a_qbank(
    db: Database, client: httpx.AsyncClient, settings: Settings, media_dir: Path
) -> None:
    await db.run(load_demo)
    course, questions = await _first_aid(db)
    assert questions >= 20
    r = await client.post(
        "/api/v1/auth/tokens", json={"email": "student@northwind.test", "password": "lectern-demo"}
    )
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    outline = (await client.get(f"/api/v1/courses/{course.id}", headers=headers)).json()
    lessons = [lesson for chapter in outline["chapters"] for lesson in chapter["lessons"]]
    assert {lesson["kind"] for lesson in lessons} == {"video", "reading", "quiz", "qbank"}
    assert outline["enrollment_status"] == "active"
    assert outline["enrollment"]["progress"] > 0
    [video] = [lesson for lesson in lessons if lesson["kind"] == "video"]
    # The session's app may serve another media directory: serve this test's with a fresh one.
    media_app = create_app(settings.model_copy(update={"media_dir": media_dir}))
    async with (
        media_app.router.lifespan_context(media_app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=media_app), base_url="http://t"
        ) as media,
    ):
        r = await media.get(video["video_url"], headers=headers)
        ranged = await media.get(video["video_url"], headers={**headers, "Range": "bytes=0-99"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "video/webm"
    assert r.content[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM container
    probe = await asyncio.to_thread(
        subprocess.run,
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-i",
            str(media_dir / "demo/first-aid-intro.webm"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Video: vp8" in probe.stderr
    assert "Duration: 00:00:06" in probe.stderr
    assert (media_dir / "demo/first-aid-intro.mp4").stat().st_size > 0
    assert ranged.status_code == 206
    assert len(ranged.content) == 100


async def test_the_demo_loads_even_when_the_video_cannot_be_made(
    db: Database, media_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_media_dir: Path) -> bool:
        raise OSError("no ffmpeg here")

    monkeypatch.setattr(demo_course, "make_demo_video", broken)
    await db.run(load_demo)
    _course, questions = await _first_aid(db)
    assert questions >= 20
    assert not (media_dir / "demo").exists()
