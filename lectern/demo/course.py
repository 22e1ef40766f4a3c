"""The demo's real course: a short video made here with ffmpeg, a reading, a quiz, a Q-bank.

The video is generated (never downloaded) by the ffmpeg that the imageio-ffmpeg package ships,
into the media directory that Lectern serves at /media/. If that fails the course is still
created and the failure is logged: the demo must start either way.
"""

import asyncio
import logging
import subprocess
from pathlib import Path

import imageio_ffmpeg
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.courses.schemas import ChapterIn, CourseCreate, LessonIn, QbankQuestionIn, QuestionIn
from lectern.courses.service import create_course
from lectern.models import Course
from lectern.models.enums import CourseAccess, CourseStatus, LessonKind
from lectern.platform.actor import Actor
from lectern.platform.config import get_settings

log = logging.getLogger(__name__)

VIDEO_S = 6.0
VIDEO_NAME = "demo/first-aid-intro"
# VP8/Opus in WebM plays in every current browser; the MP4 (H.264/AAC) is there for old Safari.
FORMATS = {
    "webm": ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "16", "-b:v", "400k",
             "-c:a", "libopus"],
    "mp4": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
            "-movflags", "+faststart"],
}  # fmt: skip


def make_demo_video(media_dir: Path) -> bool:
    """Write the demo video in both formats unless they exist; False if ffmpeg failed."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    for extension, codec in FORMATS.items():
        target = media_dir / f"{VIDEO_NAME}.{extension}"
        if target.exists() and target.stat().st_size > 0:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".part.{extension}")
        sources = [
            f"testsrc2=duration={VIDEO_S:g}:size=480x270:rate=24",
            f"sine=frequency=440:beep_factor=4:duration={VIDEO_S:g}",
        ]
        command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
        for source in sources:
            command += ["-f", "lavfi", "-i", source]
        command += [*codec, "-shortest", str(partial)]
        subprocess.run(command, check=True, capture_output=True, timeout=60)  # noqa: S603
        partial.replace(target)
    return True


async def demo_video_url() -> str:
    """The demo video's URL, made first if needed; the URL is kept even if making it failed."""
    media_dir = get_settings().media_dir
    try:
        await asyncio.to_thread(make_demo_video, media_dir)
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        log.warning("demo video not generated (%s); the course is created without it", exc)
    return f"/media/{VIDEO_NAME}.webm"


QUIZ = [
    QuestionIn(
        prompt="Someone collapses and is not breathing normally. What comes first?",
        choices=["Give them water", "Call emergency services and start CPR", "Wait and watch"],
        answer=1,
    ),
    QuestionIn(
        prompt="How deep are chest compressions for an adult?",
        choices=["About 1 cm", "5 to 6 cm", "10 cm or more"],
        answer=1,
    ),
    QuestionIn(
        prompt="What is the compression rate per minute?",
        choices=["60 to 80", "100 to 120", "150 to 180"],
        answer=1,
    ),
]

READING = """# Before you help

1. **Check for danger** to yourself, bystanders and the casualty.
2. **Check for a response**: speak loudly, tap the shoulders.
3. **Open the airway** and check breathing for no more than 10 seconds.

> Your own safety comes first: an injured rescuer cannot help anyone.

| Step | Time |
|------|------|
| Danger check | seconds |
| Response | 5 s |
| Breathing | up to 10 s |
"""

TOPICS = {
    "CPR": [
        ("Compressions to breaths ratio for an adult?", ["15:2", "30:2", "5:1"], 1),
        (
            "Where do your hands go for compressions?",
            ["Lower half of the sternum", "Stomach", "Neck"],
            0,
        ),
        (
            "When do you stop CPR?",
            ["After 2 minutes", "When help takes over or the person recovers", "When tired once"],
            1,
        ),
        (
            "What does an AED do?",
            ["Measures blood pressure", "Analyses rhythm and may shock", "Gives oxygen"],
            1,
        ),
        ("Compression depth for a child?", ["About one third of chest depth", "1 cm", "10 cm"], 0),
        (
            "Should you remove a casualty's clothing for AED pads?",
            ["Yes, bare chest", "No, never", "Only shoes"],
            0,
        ),
        (
            "First thing on finding a collapsed person?",
            ["Check for danger", "Start compressions", "Give water"],
            0,
        ),
    ],
    "Bleeding": [
        (
            "First action for heavy bleeding?",
            ["Direct pressure on the wound", "Wash it", "Apply ice"],
            0,
        ),
        (
            "When is a tourniquet used?",
            ["Life-threatening limb bleeding", "Any cut", "Nosebleeds"],
            0,
        ),
        (
            "Blood soaks through a dressing. Next?",
            ["Remove it", "Add another on top and press", "Stop pressing"],
            1,
        ),
        ("A nosebleed: head position?", ["Tilted back", "Tilted forward", "Flat on the back"], 1),
        (
            "Signs of shock include",
            ["Pale, cold, clammy skin", "Flushed warm skin", "Slow strong pulse"],
            0,
        ),
        (
            "Raising a bleeding limb helps because",
            ["It reduces blood flow to it", "It cools it", "It straightens it"],
            0,
        ),
        (
            "An embedded object in a wound should be",
            ["Pulled out", "Left in and padded around", "Twisted"],
            1,
        ),
    ],
    "Burns": [
        ("How long to cool a burn under running water?", ["20 minutes", "1 minute", "2 hours"], 0),
        ("What should not go on a burn?", ["Cool water", "Butter or ointment", "Cling film"], 1),
        (
            "Clothing stuck to a burn should be",
            ["Pulled off", "Left in place", "Cut through the burn"],
            1,
        ),
        (
            "A chemical burn is first",
            ["Brushed off dry, then rinsed", "Covered at once", "Left alone"],
            0,
        ),
        (
            "Which burn needs emergency care?",
            ["Larger than the casualty's hand", "A tiny red mark", "Sunburn on a nose"],
            0,
        ),
        (
            "Cling film on a burn is used to",
            ["Keep it clean loosely", "Squeeze it tight", "Heat it"],
            0,
        ),
        ("Ice on a burn is", ["Recommended", "Harmful", "Required"], 1),
    ],
}


def _qbank() -> list[QbankQuestionIn]:
    return [
        QbankQuestionIn(prompt=prompt, choices=choices, answer=answer, topic=topic)
        for topic, questions in TOPICS.items()
        for prompt, choices, answer in questions
    ]


async def create_demo_course(session: AsyncSession, staff: Actor) -> Course:
    """First Aid Basics: an open course with a real video, a reading, a quiz and a Q-bank."""
    return await create_course(
        session,
        staff,
        CourseCreate(
            title="First Aid Basics",
            status=CourseStatus.PUBLISHED,
            access=CourseAccess.OPEN,
            description="Watch, read, check yourself, and practise with the question bank.",
            qbank_required=True,
            qbank_pass_mark=0.6,
            chapters=[
                ChapterIn(
                    title="Getting started",
                    lessons=[
                        LessonIn(
                            title="What first aid is for (video)",
                            kind=LessonKind.VIDEO,
                            duration_s=VIDEO_S,
                            video_url=await demo_video_url(),
                        ),
                        LessonIn(title="Before you help", kind=LessonKind.READING, body=READING),
                    ],
                ),
                ChapterIn(
                    title="Check yourself",
                    lessons=[
                        LessonIn(
                            title="CPR quiz", kind=LessonKind.QUIZ, questions=QUIZ, pass_mark=0.66
                        ),
                        LessonIn(
                            title="Practice with the question bank",
                            kind=LessonKind.QBANK,
                            required=False,
                            pass_mark=0.6,
                        ),
                    ],
                ),
            ],
            qbank=_qbank(),
        ),
    )
