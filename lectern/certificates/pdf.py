"""A certificate as a one-page PDF, drawn with fpdf2."""

from fpdf import FPDF

from lectern.models import Certificate


def _latin1(text: str) -> str:
    # The core PDF fonts cover Latin-1 only; other characters are replaced, not dropped.
    return text.encode("latin-1", "replace").decode("latin-1")


def certificate_pdf(certificate: Certificate, verify_url: str) -> bytes:
    """Landscape A4 naming the learner, the course, the date and the verification code."""
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(f"Certificate {certificate.code}")
    pdf.set_author("Lectern")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_draw_color(40, 70, 120)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    width = pdf.w - 40

    def line(text: str, size: int, style: str = "", gap: float = 4) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.set_x(20)
        pdf.multi_cell(width, size * 0.5, _latin1(text), align="C")
        pdf.ln(gap)

    pdf.set_y(35)
    line("Certificate of Completion", 30, "B", 10)
    line("This certifies that", 14)
    line(certificate.learner_name, 26, "B", 6)
    line("has completed the course", 14)
    line(certificate.course_title, 20, "B", 12)
    line(f"Issued on {certificate.issued_at:%d %B %Y}", 12)
    pdf.set_y(pdf.h - 45)
    line(f"Verification code: {certificate.code}", 11, "", 2)
    line(f"Verify at {verify_url}", 9)
    return bytes(pdf.output())
