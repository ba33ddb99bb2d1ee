"""The site as `blockhours dev` serves it over HTTP: compressed where CloudFront compresses it, so the page's
weight measured locally (benchmarks/storefront.py) is the weight the deployed shop sends."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from blockhours_dev.local import LocalStack

PAGE = "<!doctype html><title>Shop</title>" + "<p>A 1-hour block of remote support.</p>" * 100
STYLES = "body { color: #222; }\n" * 100


@pytest.fixture
def site(stack: LocalStack, tmp_path: Path) -> Iterator[str]:
    """The shared stack serving a small site of our own for one test (the integration stack builds none)."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(PAGE)
    (tmp_path / "assets" / "shop.css").write_text(STYLES)
    (tmp_path / "assets" / "tiny.css").write_text("p { margin: 0; }")  # under CloudFront's 1,000 bytes
    (tmp_path / "assets" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(4000))
    (tmp_path / "404.html").write_text("<!doctype html><title>Not found</title>" + "<p>No such page.</p>" * 80)
    before, stack.site_dir = stack.site_dir, tmp_path
    yield stack.url
    stack.site_dir = before


def get(url: str, accept_encoding: str) -> requests.Response:
    # stream=True: read the bytes as they came over the wire, not as requests decodes them.
    response = requests.get(url, headers={"Accept-Encoding": accept_encoding}, stream=True, timeout=10)
    response.raw.decode_content = False
    return response


def test_a_browser_that_accepts_gzip_gets_the_page_and_its_styles_compressed(site: str) -> None:
    for path, text in (("/", PAGE), ("/assets/shop.css", STYLES)):
        response = get(site + path, "gzip, deflate, br, zstd")  # what Chromium sends over http

        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
        body = response.raw.read()
        assert int(response.headers["Content-Length"]) == len(body) < len(text.encode()) // 4
        assert gzip.decompress(body).decode() == text


def test_the_site_is_sent_plain_to_a_client_that_does_not_accept_gzip(site: str) -> None:
    for accept_encoding in ("identity", "gzip;q=0, br", "*"):
        response = get(site + "/", accept_encoding)

        assert "Content-Encoding" not in response.headers, accept_encoding
        assert response.headers["Vary"] == "Accept-Encoding"  # a cache still keeps the two answers apart
        assert response.raw.read().decode() == PAGE


def test_small_files_and_images_are_sent_as_they_are(site: str) -> None:
    tiny = get(site + "/assets/tiny.css", "gzip")
    logo = get(site + "/assets/logo.png", "gzip")

    assert "Content-Encoding" not in tiny.headers and tiny.raw.read() == b"p { margin: 0; }"
    assert "Content-Encoding" not in logo.headers and "Vary" not in logo.headers
    assert len(logo.raw.read()) == 4008


def test_the_missing_page_is_compressed_too_and_keeps_its_404(site: str) -> None:
    response = get(site + "/no-such-page/", "gzip")

    assert response.status_code == 404
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"No such page." in gzip.decompress(response.raw.read())


def test_the_compressed_page_carries_a_weak_etag_that_revalidates_to_not_modified(site: str) -> None:
    first = get(site + "/", "gzip")
    etag = first.headers["ETag"]

    again = requests.get(site + "/", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}, timeout=10)

    assert etag.startswith('W/"')
    assert again.status_code == 304 and again.content == b""
