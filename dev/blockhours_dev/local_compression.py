"""CloudFront's compression, locally: `blockhours dev` sends the site's pages as the distribution does.

template.yaml's site behaviour has `Compress: true`; CloudFront then compresses a response when the viewer
accepts gzip or br, its type is on CloudFront's list, its status is 200, 403 or 404, its Content-Length is
1,000 to 10,000,000 bytes and the origin did not encode it already (the conditions of "Serve compressed
files" in CloudFront's developer guide). Browsers offer br over HTTPS only, so on http://127.0.0.1 they
ask for gzip, which is what this answers; in AWS over HTTPS the same page goes out as brotli, a little smaller.
"""

from __future__ import annotations

import gzip

from werkzeug.wrappers import Request, Response

# CloudFront's list of the types it compresses, less the fonts and streaming manifests the shop never serves.
COMPRESSED_TYPES = frozenset(
    {
        "application/javascript",
        "application/json",
        "application/x-javascript",
        "application/xhtml+xml",
        "application/xml",
        "image/svg+xml",
        "text/css",
        "text/csv",
        "text/html",
        "text/javascript",
        "text/plain",
        "text/xml",
    }
)
COMPRESSED_STATUSES = frozenset({200, 403, 404})
SMALLEST_BYTES, LARGEST_BYTES = 1_000, 10_000_000


def accepts_gzip(request: Request) -> bool:
    """The viewer named gzip with a quality above 0 (CloudFront does not read `*` as gzip)."""
    return any(value.lower() == "gzip" and quality > 0 for value, quality in request.accept_encodings)


def as_cloudfront_sends(request: Request, response: Response) -> Response:
    """`response` gzip-compressed where CloudFront would compress it for this request; otherwise unchanged."""
    if response.mimetype not in COMPRESSED_TYPES:
        return response
    response.vary.add("Accept-Encoding")  # a cache must keep the compressed and the plain answer apart
    size = response.content_length
    if (
        response.status_code not in COMPRESSED_STATUSES
        or "Content-Encoding" in response.headers
        or size is None
        or not SMALLEST_BYTES <= size <= LARGEST_BYTES
        or not accepts_gzip(request)
    ):
        return response
    response.direct_passthrough = False  # a file sent from disk: read it here to compress it
    response.set_data(gzip.compress(response.get_data(), compresslevel=6))
    response.content_encoding = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:  # as CloudFront does: the compressed body is the same resource, not the same bytes
        response.set_etag(etag, weak=True)
    return response
