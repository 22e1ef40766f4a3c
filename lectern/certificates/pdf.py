"""A certificate as a one-page PDF, drawn with fpdf2."""

from datetime import datetime
from functools import lru_cache

from fpdf import FPDF

from lectern.certificates.fonts import CertificateFont
from lectern.models import Certificate


def _latin1(text: str) -> str:
    # The core PDF fonts cover Latin-1 only; other characters are replaced, not dropped.
    return text.encode("latin-1", "replace").decode("latin-1")


def _embed(pdf: FPDF, fonts: tuple[CertificateFont, ...]) -> tuple[str, str]:
    """Adds the fonts to the document; returns the family to draw with and its bold style."""
    if not fonts:
        return "Helvetica", "B"
    families = [f"font{n}" for n in range(len(fonts))]
    for family, font in zip(families, fonts, strict=True):
        pdf.add_font(family, "", font.regular)
        if font.bold:
            pdf.add_font(family, "B", font.bold)
    # Not exact: bold text takes a fallback's regular face when the fallback has no bold one.
    pdf.set_fallback_fonts(families[1:], exact_match=False)
    return families[0], "B" if fonts[0].bold else ""


def certificate_pdf(
    certificate: Certificate, verify_url: str, fonts: tuple[CertificateFont, ...]
) -> bytes:
    """Landscape A4 naming the learner, the course, the date and the verification code.

    Drawn with `fonts`, the first for the text and the others for characters it lacks, or with
    the core Helvetica when there are none. Parsing the fonts takes a tenth of a second of CPU or
    more: call it off the event loop.
    """
    return _drawn(
        certificate.code,
        certificate.learner_name,
        certificate.course_title,
        certificate.issued_at,
        verify_url,
        fonts,
    )


# A certificate never changes, and parsing its fonts is most of the cost: downloading it again
# reuses the bytes.
@lru_cache(maxsize=256)
def _drawn(
    code: str,
    learner_name: str,
    course_title: str,
    issued_at: datetime,
    verify_url: str,
    fonts: tuple[CertificateFont, ...],
) -> bytes:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(f"Certificate {code}")
    pdf.set_author("Lectern")
    pdf.set_auto_page_break(auto=False)
    family, bold_style = _embed(pdf, fonts)
    pdf.add_page()
    pdf.set_draw_color(40, 70, 120)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    width = pdf.w - 40

    def line(
        text: str, size: int, bold: bool = False, gap: float = 4, link: str | None = None
    ) -> None:
        pdf.set_font(family, bold_style if bold else "", size)
        pdf.set_x(20)
        pdf.multi_cell(width, size * 0.5, text if fonts else _latin1(text), align="C", link=link)
        pdf.ln(gap)

    pdf.set_y(35)
    line("Certificate of Completion", 30, bold=True, gap=10)
    line("This certifies that", 14)
    line(learner_name, 26, bold=True, gap=6)
    line("has completed the course", 14)
    line(course_title, 20, bold=True, gap=12)
    line(f"Issued on {issued_at:%d %B %Y}", 12)
    pdf.set_y(pdf.h - 45)
    line(f"Verification code: {code}", 11, gap=2)
    line(f"Verify at {verify_url}", 9, link=verify_url)
    return bytes(pdf.output())
