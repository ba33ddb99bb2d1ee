"""Balance links: they name one customer, expire, and cannot be forged or edited."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blockhours import config
from blockhours.domain.client_email import client_email
from blockhours.links import LinkError, balance_url, make_balance_token, read_balance_token

SECRET = "s" * 32
OTHER_SECRET = "o" * 32
DAY = 86_400


def test_a_token_reads_back_as_the_lower_cased_email() -> None:
    token = make_balance_token("  Ana@Example.COM ", SECRET)

    assert read_balance_token(token, SECRET, 30 * DAY) == "ana@example.com"


@given(st.emails())
def test_any_email_survives_the_round_trip(email: str) -> None:
    assert read_balance_token(make_balance_token(email, SECRET), SECRET, DAY) == client_email(email)


def test_the_token_is_safe_in_a_url_without_escaping() -> None:
    token = make_balance_token("ana+support@example.com", SECRET)

    assert balance_url("https://shop.example.com", token) == f"https://shop.example.com/balance/?t={token}"
    assert balance_url("https://shop.example.com/", token).count("//") == 1


def test_another_secret_cannot_read_or_make_a_token() -> None:
    forged = make_balance_token("ana@example.com", OTHER_SECRET)

    with pytest.raises(LinkError) as refused:
        read_balance_token(forged, SECRET, DAY)
    assert refused.value.code == "invalid_link"
    assert "ask the shop for a new one" in refused.value.message


def test_swapping_the_email_inside_a_token_breaks_its_signature() -> None:
    ana = make_balance_token("ana@example.com", SECRET)
    bob = make_balance_token("bob@example.com", SECRET)
    spliced = bob.split(".", 1)[0] + "." + ana.split(".", 1)[1]

    with pytest.raises(LinkError) as refused:
        read_balance_token(spliced, SECRET, DAY)
    assert refused.value.code == "invalid_link"


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 500, "ana@example.com"])
def test_garbage_is_an_invalid_link(token: str) -> None:
    with pytest.raises(LinkError) as refused:
        read_balance_token(token, SECRET, DAY)
    assert refused.value.code == "invalid_link"


def test_an_old_token_has_expired_and_says_what_to_do() -> None:
    token = make_balance_token("ana@example.com", SECRET, issued_at=int(time.time()) - 31 * DAY)

    with pytest.raises(LinkError) as refused:
        read_balance_token(token, SECRET, 30 * DAY)
    assert refused.value.code == "expired_link"
    assert "ask the shop for a new link" in refused.value.message


def test_a_token_within_its_age_is_honoured() -> None:
    token = make_balance_token("ana@example.com", SECRET, issued_at=int(time.time()) - 29 * DAY)

    assert read_balance_token(token, SECRET, 30 * DAY) == "ana@example.com"


def test_a_short_secret_is_refused_when_signing() -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        make_balance_token("ana@example.com", "short")


def test_a_token_names_a_customer_by_email() -> None:
    with pytest.raises(ValueError, match="by email"):
        make_balance_token("not an email", SECRET)


def test_settings_name_the_missing_or_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLOCKHOURS_LINK_SECRET", raising=False)
    config.clear()
    with pytest.raises(config.ConfigError, match="BLOCKHOURS_LINK_SECRET"):
        config.links()

    monkeypatch.setenv("BLOCKHOURS_LINK_SECRET", "too-short")
    config.clear()
    with pytest.raises(config.ConfigError, match=r"BLOCKHOURS_LINK_SECRET.*at least 32"):
        config.links()


def test_settings_default_to_thirty_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOCKHOURS_LINK_SECRET", SECRET)
    monkeypatch.delenv("BLOCKHOURS_LINK_MAX_AGE_DAYS", raising=False)
    config.clear()

    settings = config.links()

    assert settings.max_age_seconds == 30 * DAY
    assert SECRET not in repr(settings)


def test_the_deployed_key_is_read_from_an_ssm_securestring(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    monkeypatch.delenv("BLOCKHOURS_LINK_SECRET", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        import boto3

        boto3.client("ssm").put_parameter(Name="/blockhours/link-secret", Value=SECRET, Type="SecureString")
        monkeypatch.setenv("BLOCKHOURS_LINK_SECRET_PARAMETER", "/blockhours/link-secret")
        config.clear()
        assert config.links().secret == SECRET
    config.clear()


def test_settings_name_the_variable_and_its_parameter_when_neither_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLOCKHOURS_LINK_SECRET", raising=False)
    monkeypatch.delenv("BLOCKHOURS_LINK_SECRET_PARAMETER", raising=False)
    config.clear()

    named = "BLOCKHOURS_LINK_SECRET is not set, nor BLOCKHOURS_LINK_SECRET_PARAMETER"
    with pytest.raises(config.ConfigError, match=named):
        config.links()
