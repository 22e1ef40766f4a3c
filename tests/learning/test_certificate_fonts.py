"""Certificates print every learner's name: the configured fonts, or system ones found, carry
letters beyond Latin-1, a fallback font carries what the main one lacks, and without any font
the core Helvetica still prints, with '?' for what it cannot."""

import io
import logging
import re
import string
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib.tables._g_l_y_f import Glyph
from pydantic import ValidationError
from pypdf import PdfReader

from lectern.certificates import fonts
from lectern.certificates.fonts import CertificateFont, certificate_fonts
from lectern.certificates.pdf import certificate_pdf
from lectern.models import Certificate
from lectern.platform.config import Settings
from tests.factories import World

POLISH = "Łukasz Wąsik"
CYRILLIC = "Юлия"
CHINESE = "王小明"
MAIN_LETTERS = string.ascii_letters + string.digits + string.punctuation + " Łą" + CYRILLIC


def build_font(path: Path, family: str, style: str, letters: str) -> Path:
    """A TrueType font with a box for each of `letters`, enough for fpdf2 to embed."""
    names = {ord(letter): f"uni{ord(letter):04X}" for letter in sorted(set(letters))}
    order = [".notdef", *names.values()]
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap(names)
    builder.setupGlyf({name: _box(blank=name == "uni0020") for name in order})
    builder.setupHorizontalMetrics({name: (600, 50) for name in order})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable(
        {
            "familyName": family,
            "styleName": style,
            "fullName": f"{family} {style}",
            "psName": f"{family}-{style}",
        }
    )
    builder.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    builder.save(str(path))
    return path


def _box(blank: bool) -> Glyph:
    pen = TTGlyphPen(None)
    if not blank:
        pen.moveTo((50, 0))
        pen.lineTo((50, 700))
        pen.lineTo((550, 700))
        pen.lineTo((550, 0))
        pen.closePath()
    return pen.glyph()


@pytest.fixture(autouse=True)
def _fresh_font_lookup() -> Iterator[None]:
    certificate_fonts.cache_clear()
    yield
    certificate_fonts.cache_clear()


@pytest.fixture
def main_font(tmp_path: Path) -> Path:
    build_font(tmp_path / "Main-Bold.ttf", "Main", "Bold", MAIN_LETTERS)
    return build_font(tmp_path / "Main-Regular.ttf", "Main", "Regular", MAIN_LETTERS)


@pytest.fixture
def cjk_font(tmp_path: Path) -> Path:
    return build_font(tmp_path / "Han.ttf", "Han", "Regular", CHINESE)


def certificate(learner_name: str, course_title: str = "Safe Lifting") -> Certificate:
    return Certificate(
        code="TESTCODE",
        learner_name=learner_name,
        course_title=course_title,
        issued_at=datetime(2025, 3, 14, tzinfo=UTC),
    )


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_font_names(pdf: bytes) -> set[str]:
    [page] = PdfReader(io.BytesIO(pdf)).pages
    # Embedded subsets are named like "MPDFAA+MainBold".
    return {
        str(font["/BaseFont"]).lstrip("/").split("+")[-1]
        for font in page["/Resources"]["/Font"].values()
    }


def configured(*paths: Path) -> tuple[CertificateFont, ...]:
    return certificate_fonts(Settings(certificate_fonts=paths).certificate_fonts)


def test_a_configured_font_prints_names_beyond_latin1_and_bold_from_the_file_beside_it(
    main_font: Path,
) -> None:
    [font] = configured(main_font)
    assert font == CertificateFont(main_font, main_font.with_name("Main-Bold.ttf"))
    pdf = certificate_pdf(
        certificate(POLISH, f"Russian for {CYRILLIC}"), "https://x.test/v", (font,)
    )
    text = pdf_text(pdf)
    assert POLISH in text
    assert f"Russian for {CYRILLIC}" in text
    assert "?" not in text
    assert pdf_font_names(pdf) == {"Main", "MainBold"}


def test_a_fallback_font_prints_the_characters_the_main_one_lacks(
    main_font: Path, cjk_font: Path
) -> None:
    fonts_used = configured(main_font, cjk_font)
    assert fonts_used[1] == CertificateFont(cjk_font, None)
    pdf = certificate_pdf(
        certificate(f"{CHINESE} {POLISH}", CHINESE), "https://x.test/v", fonts_used
    )
    text = pdf_text(pdf)
    assert f"{CHINESE} {POLISH}" in text
    assert "Certificate of Completion" in text
    assert "Han" in pdf_font_names(pdf)


def test_a_font_without_a_bold_file_draws_bold_text_regular(tmp_path: Path) -> None:
    plain = build_font(tmp_path / "Plain.ttf", "Plain", "Regular", MAIN_LETTERS)
    pdf = certificate_pdf(certificate(CYRILLIC), "https://x.test/v", configured(plain))
    assert CYRILLIC in pdf_text(pdf)
    assert pdf_font_names(pdf) == {"Plain"}


def test_a_configured_font_that_is_missing_stops_the_settings(
    main_font: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "Gone.ttf"
    monkeypatch.setenv("LECTERN_CERTIFICATE_FONTS", f"{main_font}, {missing}")
    with pytest.raises(
        ValidationError, match=re.escape(f"LECTERN_CERTIFICATE_FONTS: no font file at {missing}")
    ):
        Settings()
    monkeypatch.setenv("LECTERN_CERTIFICATE_FONTS", str(tmp_path / "notes.txt"))
    with pytest.raises(ValidationError, match=r"is not a \.ttf/\.otf/\.ttc/\.otc font"):
        Settings()
    monkeypatch.setenv("LECTERN_CERTIFICATE_FONTS", f"{main_font},")
    assert Settings().certificate_fonts == (main_font,)


def test_without_fonts_helvetica_prints_and_replaces_what_latin1_lacks(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", ())
    with caplog.at_level(logging.WARNING, logger=fonts.__name__):
        assert certificate_fonts(None) == ()
        assert certificate_fonts(None) == ()
    assert [r.getMessage().count("LECTERN_CERTIFICATE_FONTS") for r in caplog.records] == [1]
    pdf = certificate_pdf(
        certificate(f"{POLISH} Müller"), "https://x.test/v", certificate_fonts(None)
    )
    assert "?ukasz W?sik Müller" in pdf_text(pdf)
    assert pdf_font_names(pdf) == {"Helvetica", "Helvetica-Bold"}


def test_an_empty_setting_chooses_helvetica_without_a_warning(
    main_font: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", ((str(main_font),),))
    monkeypatch.setenv("LECTERN_CERTIFICATE_FONTS", "")
    with caplog.at_level(logging.WARNING, logger=fonts.__name__):
        assert certificate_fonts(Settings().certificate_fonts) == ()
    assert caplog.records == []


def test_unset_the_first_system_font_found_is_main_and_the_others_fall_back(
    main_font: Path, cjk_font: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = str(tmp_path / "fedora" / "Main-Regular.ttf")
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", ((elsewhere, str(main_font)), (str(cjk_font),)))
    assert certificate_fonts(None) == (
        CertificateFont(main_font, main_font.with_name("Main-Bold.ttf")),
        CertificateFont(cjk_font, None),
    )
    certificate_fonts.cache_clear()
    # A fallback alone, without Latin letters, is no main font.
    monkeypatch.setattr(fonts, "SYSTEM_FONTS", ((elsewhere,), (str(cjk_font),)))
    assert certificate_fonts(None) == ()


async def test_the_download_prints_the_learners_name_in_the_configured_fonts(
    world: World,
    client: httpx.AsyncClient,
    app: FastAPI,
    main_font: Path,
    cjk_font: Path,
    request: pytest.FixtureRequest,
) -> None:
    # Not monkeypatch.setattr: its undo deletes what an object keeps outside its __dict__,
    # as Starlette's State does, instead of putting it back.
    settings: Settings = app.state.settings
    app.state.settings = settings.model_copy(update={"certificate_fonts": (main_font, cjk_font)})
    request.addfinalizer(lambda: setattr(app.state, "settings", settings))
    admin = await world.admin()
    learner = await world.student(admin.institution_slug, name=f"{POLISH} {CHINESE}")
    course = await world.course(
        admin,
        title=f"{CYRILLIC} 101",
        access="open",
        chapters=[
            {"title": "One", "lessons": [{"title": "Read", "kind": "reading", "body": "Hi"}]}
        ],
    )
    r = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=learner.headers)
    assert r.status_code == 201, r.text
    [lesson] = course["chapters"][0]["lessons"]
    r = await client.post(
        "/api/v1/activity",
        json={"events": [{"type": "lesson.completed", "lesson_id": lesson["id"]}]},
        headers=learner.headers,
    )
    assert r.status_code == 200, r.text
    [issued] = (await client.get("/api/v1/me/certificates", headers=learner.headers)).json()
    r = await client.get(f"/api/v1/certificates/{issued['code']}.pdf")
    assert r.status_code == 200
    text = pdf_text(r.content)
    assert f"{POLISH} {CHINESE}" in text
    assert f"{CYRILLIC} 101" in text
    assert issued["code"] in text
