"""Static files and the charting bundle go out compressed and cacheable: fingerprinted URLs
are kept for a year, others revalidate by ETag."""

import gzip
import re

import httpx

from lectern.web.assets import PLOTLY_BUNDLE
from tests.factories import PASSWORD, World

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


async def _get_raw(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> tuple[httpx.Response, bytes]:
    """The response and its bytes as sent, not decoded."""
    async with client.stream("GET", url, headers=headers) as response:
        return response, b"".join([chunk async for chunk in response.aiter_raw()])


async def test_pages_name_their_scripts_and_styles_by_content_and_those_keep_a_year(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/login")
    urls = re.findall(r'(?:src|href)="(/static/[^"]+\?v=[0-9a-f]{12})"', page.text)
    assert {url.split("?")[0] for url in urls} >= {
        "/static/lectern.css",
        "/static/lectern.js",
        "/static/auth.js",
    }
    for url in urls:
        r = await client.get(url)
        assert r.status_code == 200
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_a_static_file_goes_out_gzipped_and_answers_304_to_its_etag(
    client: httpx.AsyncClient,
) -> None:
    plain, body = await _get_raw(client, "/static/lectern.js", IDENTITY)
    packed, packed_body = await _get_raw(client, "/static/lectern.js", GZIP)
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert packed.headers["cache-control"] == "no-cache"
    assert gzip.decompress(packed_body) == body
    assert len(packed_body) < len(body) / 2

    for response in (plain, packed):
        again = await client.get(
            "/static/lectern.js", headers={"If-None-Match": response.headers["etag"], **GZIP}
        )
        assert again.status_code == 304
        assert again.content == b""


async def test_the_charting_bundle_is_sent_compressed_to_a_third_and_revalidated(
    client: httpx.AsyncClient,
) -> None:
    size = PLOTLY_BUNDLE.stat().st_size
    packed, packed_body = await _get_raw(client, "/assets/plotly.min.js", GZIP)
    assert packed.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert len(packed_body) < size / 3
    assert len(gzip.decompress(packed_body)) == size

    plain, body = await _get_raw(client, "/assets/plotly.min.js", IDENTITY)
    assert "content-encoding" not in plain.headers
    assert len(body) == size

    again = await client.get(
        "/assets/plotly.min.js", headers={"If-None-Match": packed.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


async def test_the_admin_pages_name_the_charting_bundle_by_version_and_keep_it_a_year(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    r = await client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
    assert r.status_code == 200
    page = await client.get("/admin")
    [url] = re.findall(r'src="(/assets/plotly\.min\.js\?v=[^"]+)"', page.text)
    r = await client.get(url)
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
