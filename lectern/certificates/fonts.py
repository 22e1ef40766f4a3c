"""The fonts certificates are drawn with: the configured files, else well-known system ones."""

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

# Looked for when LECTERN_CERTIFICATE_FONTS is unset, each font at its Debian/Ubuntu place,
# then its Fedora one. The first is the main font and must be found; the others are fallbacks.
SYSTEM_FONTS: tuple[tuple[str, ...], ...] = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    ),
    # Chinese, Japanese, Korean (and no Latin). Noto CJK is not looked for: it ships as .ttc
    # collections, which the setting still accepts.
    (
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        "/usr/share/fonts/google-droid-sans-fonts/DroidSansFallbackFull.ttf",
    ),
)


@dataclass(frozen=True)
class CertificateFont:
    """A font file, and its bold face when a "-Bold" file lies beside it."""

    regular: Path
    bold: Path | None

    @classmethod
    def at(cls, path: Path) -> "CertificateFont":
        bold = path.with_name(f"{path.stem.removesuffix('-Regular')}-Bold{path.suffix}")
        return cls(path, bold if bold.is_file() else None)


@cache
def certificate_fonts(configured: tuple[Path, ...] | None) -> tuple[CertificateFont, ...]:
    """The configured fonts or, when unset, the system fonts found; none means Helvetica."""
    paths = _system_fonts() if configured is None else configured
    if configured is None and not paths:
        log.warning(
            "No font for certificates found: names outside Latin-1 print as '?'. "
            "Set LECTERN_CERTIFICATE_FONTS to TTF or OTF files, such as DejaVu Sans."
        )
    return tuple(CertificateFont.at(path) for path in paths)


def _system_fonts() -> tuple[Path, ...]:
    found = [
        next((Path(place) for place in places if Path(place).is_file()), None)
        for places in SYSTEM_FONTS
    ]
    if not found or found[0] is None:
        return ()
    return tuple(path for path in found if path is not None)
