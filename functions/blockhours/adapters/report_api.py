"""GET a vendor's JSON report over urllib3 (it ships with botocore, so Lambda needs nothing new): retries on 429 and
5xx with back-off, and errors a person can act on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import urllib3

from ..ports import ReportUnavailable

RETRIED_STATUSES = (429, 500, 502, 503, 504)


class ReportApiError(ReportUnavailable):
    """The vendor did not give the report; the message says what to do."""


class ReportAuthError(ReportApiError):
    """The vendor refused the credentials (401/403): a person must renew or re-grant them."""


class ReportApi:
    def __init__(
        self,
        vendor: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        retries: int = 4,
        backoff_seconds: float = 1.0,
        timeout_seconds: float = 20.0,
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        retry = urllib3.Retry(
            total=retries,
            status_forcelist=RETRIED_STATUSES,
            allowed_methods=frozenset({"GET"}),
            backoff_factor=backoff_seconds,
            backoff_max=60,
            raise_on_status=False,  # the last answer comes back so the error can quote it
            respect_retry_after_header=True,
            retry_after_max=120,
        )
        self._pool = urllib3.PoolManager(retries=retry, timeout=urllib3.Timeout(total=timeout_seconds))

    def get(self, path: str, fields: Mapping[str, str | int]) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        query = {name: str(value) for name, value in fields.items()}
        try:
            response = self._pool.request("GET", url, fields=query, headers=self._headers)
        except urllib3.exceptions.HTTPError as error:
            raise ReportApiError(f"{self.vendor} is unreachable at {url}: {error}; the next run retries") from None
        if response.status in (401, 403):
            raise ReportAuthError(
                f"{self.vendor} refused the token ({response.status}): create a new one with report access and store "
                f"it in the integration's secret"
            )
        if response.status != 200:
            raise ReportApiError(
                f"{self.vendor} answered {response.status} for {path} after retries: "
                f"{response.data[:200].decode('utf-8', 'replace')}; the next run retries from the same cursor"
            )
        try:
            body = json.loads(response.data)
        except ValueError:
            raise ReportApiError(f"{self.vendor} answered {path} with something other than JSON") from None
        if not isinstance(body, dict):
            raise ReportApiError(f"{self.vendor} answered {path} with JSON that is not an object")
        return body
