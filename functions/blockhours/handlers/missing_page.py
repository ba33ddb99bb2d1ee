"""CloudFront's second origin for the shop's pages: when the site bucket has no such page, the site's own 404 page.

Reached only through its function URL, when the bucket answers 403 or 404 (template.yaml, SiteDistribution's
origin group); the /api/* answers never pass here.
"""

from __future__ import annotations

import os
import time
from html import escape
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import config
from .telemetry import logger, tracer

config.at_cold_start(config.site_bucket)

PAGE_KEY = "404.html"
KEEP_SECONDS = 300  # a republished site shows its new 404 page within five minutes
_kept: dict[str, tuple[float, str]] = {}


def _site_page() -> str | None:
    """404.html from the site bucket (BLOCKHOURS_SITE_BUCKET), kept a while; None if it cannot be read."""
    bucket = os.environ.get("BLOCKHOURS_SITE_BUCKET", "")
    kept = _kept.get(bucket)
    if kept and time.monotonic() - kept[0] < KEEP_SECONDS:
        return kept[1]
    if not bucket:
        return None
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        page: str = boto3.client("s3").get_object(Bucket=bucket, Key=PAGE_KEY)["Body"].read().decode("utf-8")
    except (BotoCoreError, ClientError, UnicodeDecodeError) as exc:
        logger.warning("the site's 404 page could not be read", extra={"bucket": bucket, "problem": str(exc)})
        return None
    _kept[bucket] = (time.monotonic(), page)
    return page


def _plain_page(path: str) -> str:
    """Until the site is published (or if its bucket cannot be read): a page that still says what to do."""
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Page not found</title>'
        f"<h1>Page not found</h1><p>There is no page at {escape(path)}.</p>"
        '<p><a href="/">Go to the shop</a></p></html>'
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # answers carry clients' emails and links: not in X-Ray
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    path = str(event.get("rawPath") or "/")
    page = _site_page()
    if page is None:
        page = _plain_page(path)
    return {
        "statusCode": 404,
        "headers": {"Content-Type": "text/html; charset=utf-8", "Cache-Control": f"max-age={KEEP_SECONDS}"},
        "body": page,
    }
