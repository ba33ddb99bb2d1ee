"""The staff side of the HTTP API, as the CLI reaches it: SigV4-signed when deployed, plain on loopback."""

from __future__ import annotations

import json
import os
import re
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from blockhours.domain.client_email import InvalidEmail, client_email

from . import local_address

DEFAULT_API = "http://127.0.0.1:8000"
SHOP_TIME_ZONE_HEADER = "X-Shop-Time-Zone"  # shop_time.HEADER, without importing the server's settings
_EXECUTE_API = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")


class StaffError(Exception):
    """One line a person can act on; the CLI prints it and exits non-zero."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def api_base(url: str) -> str:
    """The API's root as typed, with or without a trailing slash or its `/api` prefix: the routes add `/api/`."""
    base = url.strip().rstrip("/")
    return base.removesuffix("/api").rstrip("/")


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


class StaffClient:
    def __init__(self, api: str | None = None, timeout: float = 30) -> None:
        given = api or os.environ.get("BLOCKHOURS_API")
        running = [] if given else local_address.running()  # `blockhours dev` on whatever port it started
        self.api = api_base(given or (running[0] if running else DEFAULT_API))
        self.guessed = not given and not running  # nothing named an API and no local stack said it runs
        self.ambiguous = (
            f"{len(running)} local stacks are running ({', '.join(running)}): pass --api URL or set BLOCKHOURS_API"
            if len(running) > 1
            else ""
        )
        self.timeout = timeout
        self.session = requests.Session()
        self.shop_time_zone: str | None = None  # as the API's last answer named it (X-Shop-Time-Zone)

    def prepare(self, method: str, path: str, body: dict[str, Any] | None = None) -> requests.PreparedRequest:
        if self.ambiguous:
            raise StaffError(self.ambiguous)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        url = f"{self.api}{path}"
        if not is_loopback(self.api):
            headers = self._signed(method, url, data, headers)
        return requests.Request(method, url, data=data, headers=headers).prepare()

    def _signed(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        """Staff routes are IAM-authorized: sign with the staff member's AWS credentials (SigV4)."""
        import botocore.session
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        session = botocore.session.get_session()
        credentials = session.get_credentials()
        if credentials is None:
            raise StaffError(f"{self.api} needs AWS credentials: run `aws configure` or set AWS_PROFILE")
        host = urlsplit(url).hostname or ""
        found = _EXECUTE_API.search(host)
        region = found.group(1) if found else session.get_config_variable("region") or os.environ.get("AWS_REGION")
        if not region:
            raise StaffError(f"cannot tell the AWS region of {self.api}: set AWS_REGION")
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        return dict(request.headers.items())

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            answer = self.session.send(self.prepare(method, path, body), timeout=self.timeout)
        except requests.ConnectionError as exc:
            if self.guessed:
                raise StaffError(
                    f"no local stack is running (nothing answers at {self.api}): start one with `make dev` or "
                    "`.venv/bin/blockhours dev`, or pass --api URL for a deployed API"
                ) from exc
            hint = " (is `blockhours dev` running? or pass --api URL)" if is_loopback(self.api) else ""
            raise StaffError(f"cannot reach the Blockhours API at {self.api}{hint}") from exc
        except requests.Timeout as exc:
            raise StaffError(f"the Blockhours API at {self.api} did not answer in {self.timeout:.0f} s") from exc
        self.shop_time_zone = answer.headers.get(SHOP_TIME_ZONE_HEADER) or self.shop_time_zone
        try:
            payload = answer.json()
        except ValueError:
            payload = None
        if answer.status_code >= 400:
            if isinstance(payload, dict) and "message" in payload:
                raise StaffError(str(payload["message"]), str(payload.get("error", "")))
            raise StaffError(f"{method} {path} failed with HTTP {answer.status_code}: {answer.text[:200]}")
        return payload

    @staticmethod
    def customer_path(email: str, suffix: str = "") -> str:
        try:
            email = client_email(email)
        except InvalidEmail:
            email = email.strip()  # sent as typed: the API refuses it in words (invalid_email)
        return f"/api/customers/{quote(email, safe='@')}{suffix}"
