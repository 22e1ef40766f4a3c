"""The pages' static files, sent compressed and cached.

Pages name each file with a fingerprint of its content (`/static/lectern.js?v=…`), so a
browser keeps it for a year and fetches it again only when it changes; a file asked for
without one is revalidated by its ETag (304 when unchanged). The charting bundle (4.8 MB)
is compressed once per process and served from memory to every browser that takes gzip.
"""

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import metadata, resources
from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

STATIC_DIR = Path(str(resources.files("lectern") / "static"))
PLOTLY_BUNDLE = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
PLOTLY_VERSION = metadata.version("plotly")
FOR_A_YEAR = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@lru_cache(maxsize=256)
def _fingerprint(path: Path, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def asset_url(name: str) -> str:
    """The URL of a file in lectern/static, fingerprinted by its content."""
    path = STATIC_DIR / name
    stat = path.stat()
    return f"/static/{name}?v={_fingerprint(path, stat.st_mtime_ns, stat.st_size)}"


class StaticAssets:
    """lectern/static, gzip-compressed, cached for a year when fingerprinted and revalidated
    by ETag when not."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.files = GZipMiddleware(StaticFiles(directory=str(directory)), compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fingerprinted = b"v=" in scope.get("query_string", b"")

        async def send_cacheable(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                headers = MutableHeaders(scope=message)
                headers["Cache-Control"] = FOR_A_YEAR if fingerprinted else REVALIDATE
                headers["Vary"] = "Accept-Encoding"
                # The compressed bytes differ from the file's: the file's ETag stays, weak.
                etag = headers.get("etag")
                if etag and headers.get("content-encoding") and not etag.startswith("W/"):
                    headers["ETag"] = f"W/{etag}"
            await send(message)

        await self.files(scope, receive, send_cacheable)


@dataclass(frozen=True)
class Bundle:
    etag: str
    gzipped: bytes


@cache
def plotly_bundle() -> Bundle:
    """Read and compress once per process (about half a second: call it off the loop)."""
    raw = PLOTLY_BUNDLE.read_bytes()
    etag = f'"plotly-{PLOTLY_VERSION}-{hashlib.sha256(raw).hexdigest()[:12]}"'
    return Bundle(etag, gzip.compress(raw, compresslevel=9, mtime=0))


def _accepts_gzip(headers: Headers) -> bool:
    return any(
        part.split(";")[0].strip() == "gzip"
        for part in headers.get("accept-encoding", "").lower().split(",")
    )


def _matches(headers: Headers, etag: str) -> bool:
    given = headers.get("if-none-match", "")
    return any(tag.strip().removeprefix("W/") == etag for tag in given.split(","))


PLOTLY_URL = f"/assets/plotly.min.js?v={PLOTLY_VERSION}"


def plotly_response(request: Request, bundle: Bundle) -> Response:
    """The charting bundle: 304 for a browser that has it, gzip for one that takes it."""
    cache_control = FOR_A_YEAR if request.query_params.get("v") else REVALIDATE
    headers = {"ETag": bundle.etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if _matches(request.headers, bundle.etag):
        return Response(status_code=304, headers=headers)
    if _accepts_gzip(request.headers):
        headers["Content-Encoding"] = "gzip"
        return Response(bundle.gzipped, media_type="text/javascript", headers=headers)
    return FileResponse(PLOTLY_BUNDLE, media_type="text/javascript", headers=headers)
