"""The CLI's requests: signed with SigV4 for a deployed API, plain for the local stack."""

from __future__ import annotations

import pytest

from blockhours_dev.staff_client import StaffClient, StaffError, is_loopback


def test_loopback_is_recognised() -> None:
    assert is_loopback("http://127.0.0.1:8000") and is_loopback("http://localhost:8000")
    assert not is_loopback("https://abc123.execute-api.eu-west-1.amazonaws.com")


def test_the_local_stack_gets_no_signature() -> None:
    prepared = StaffClient("http://127.0.0.1:8000").prepare("GET", "/api/customers")
    assert "Authorization" not in prepared.headers


def test_a_deployed_api_gets_a_sigv4_signature_for_its_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    client = StaffClient("https://abc123.execute-api.eu-west-1.amazonaws.com")
    prepared = client.prepare("POST", "/api/sessions", {"email": "ana@example.com", "minutes": 30})
    auth = prepared.headers["Authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in auth
    assert "x-amz-date" in {k.lower() for k in prepared.headers}
    assert prepared.body == b'{"email": "ana@example.com", "minutes": 30}'


def test_without_credentials_the_cli_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(StaffError, match="needs AWS credentials"):
        StaffClient("https://abc123.execute-api.eu-west-1.amazonaws.com").prepare("GET", "/api/customers")
