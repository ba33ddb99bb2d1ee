"""CloudFront's fallback for a page the site bucket lacks: the site's own 404.html, with status 404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from blockhours.handlers import missing_page
from blockhours_dev.local import LocalContext

SITE_404 = '<!doctype html><html><head><link href="/assets/shop.css"></head><body>Not here. <a href="/.">Shop</a>'


def _function_url_event(path: str) -> dict[str, Any]:
    """What CloudFront's origin request reaches the function as: a function-URL (payload 2.0) event."""
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "abc.lambda-url.us-east-1.on.aws"},
        "requestContext": {"http": {"method": "GET", "path": path}},
        "isBase64Encoded": False,
    }


@pytest.fixture
def site_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("BLOCKHOURS_SITE_BUCKET", "shop-site")
    monkeypatch.setattr(missing_page, "_kept", {})
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="shop-site")
        yield "shop-site"


def test_a_missing_page_gets_the_sites_404_page_with_status_404(site_bucket: str) -> None:
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=site_bucket, Key="404.html", Body=SITE_404)

    answer = missing_page.handler(_function_url_event("/no-such-page/index.html"), LocalContext("missing-page"))

    assert answer["statusCode"] == 404
    assert answer["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert answer["body"] == SITE_404
    assert answer["headers"]["Cache-Control"] == "max-age=300"  # CloudFront keeps it: one call per path at most


def test_the_page_is_read_once_and_kept_a_while(site_bucket: str) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=site_bucket, Key="404.html", Body=SITE_404)
    missing_page.handler(_function_url_event("/a/index.html"), LocalContext("missing-page"))
    s3.put_object(Bucket=site_bucket, Key="404.html", Body="republished")

    answer = missing_page.handler(_function_url_event("/b/index.html"), LocalContext("missing-page"))

    assert answer["body"] == SITE_404


def test_before_the_site_is_published_the_answer_is_still_a_404_that_leads_home(site_bucket: str) -> None:
    answer = missing_page.handler(_function_url_event("/<script>/index.html"), LocalContext("missing-page"))

    assert answer["statusCode"] == 404
    assert '<a href="/">Go to the shop</a>' in answer["body"]
    assert "<script>" not in answer["body"] and "&lt;script&gt;" in answer["body"]
