"""Configuration from the environment, with the names AWS and Stripe users already know.

Names and addresses (the table, the site, the mail sender) are read once per container. The three secrets (Stripe's
key, Stripe's webhook signing secret, the balance-link key) come from the environment on the local stack and in
tests, and deployed from SSM Parameter Store SecureStrings that `*_PARAMETER` variables name: read through
Powertools, which keeps each value for SECRETS_MAX_AGE_SECONDS, so a value rotated in SSM is used from then on
without a redeploy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Literal, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRETS_MAX_AGE_SECONDS = 300
Secret = Literal["STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "BLOCKHOURS_LINK_SECRET", "BLOCKHOURS_INTEGRATION_SECRETS"]
# Each secret's variable, and the variable naming the SSM parameter that holds it when the first is unset.
SECRET_PARAMETERS: dict[Secret, str] = {
    "STRIPE_API_KEY": "BLOCKHOURS_STRIPE_API_KEY_PARAMETER",
    "STRIPE_WEBHOOK_SECRET": "BLOCKHOURS_STRIPE_WEBHOOK_SECRET_PARAMETER",
    "BLOCKHOURS_LINK_SECRET": "BLOCKHOURS_LINK_SECRET_PARAMETER",
    # One JSON object {source: secret} for the tools that post sessions (POST /api/integrations/<source>/sessions).
    "BLOCKHOURS_INTEGRATION_SECRETS": "BLOCKHOURS_INTEGRATION_SECRETS_PARAMETER",
}


class ConfigError(Exception):
    """A required variable is missing or wrong; the message names it."""


class _Env(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class StoreSettings(_Env):
    table: str = Field(validation_alias="BLOCKHOURS_TABLE", min_length=3)


class SiteBucketSettings(_Env):
    """The bucket the shop's pages are in: the missing-page function reads the site's 404 page from it."""

    bucket: str = Field(validation_alias="BLOCKHOURS_SITE_BUCKET", min_length=3)


class SiteSettings(_Env):
    url: str = Field(validation_alias="BLOCKHOURS_SITE_URL", pattern=r"^https?://[^\s]+$")


class MailSettings(_Env):
    """Where client emails come from: an SES identity verified in the shop's account."""

    sender: str = Field(validation_alias="BLOCKHOURS_MAIL_FROM", pattern=r"^[^@\s]+@[^@\s]+$")


class OwnerSettings(_Env):
    """Where the shop's own alerts go (a failed refund, a payment not credited): the owner, not the public address."""

    email: str = Field(validation_alias="BLOCKHOURS_OWNER_EMAIL", pattern=r"^[^@\s]+@[^@\s]+$")


class QueueSettings(_Env):
    refund_queue_url: str = Field(validation_alias="BLOCKHOURS_REFUND_QUEUE_URL", pattern=r"^https?://\S+$")


class JobSettings(_Env):
    """The function that runs background jobs (reconcile, requeue): `<stack name>-jobs` in AWS."""

    function_name: str = Field(validation_alias="BLOCKHOURS_JOBS_FUNCTION", pattern=r"^[A-Za-z0-9_:.-]{1,140}$")


class StripeSettings(_Env):
    api_key: str = Field(validation_alias="STRIPE_API_KEY", min_length=8, repr=False)
    # Only the webhook reads it (config.stripe(webhook=True)); the other functions may not even see it.
    webhook_secret: str = Field(default="", validation_alias="STRIPE_WEBHOOK_SECRET", pattern=r"^(.{8,})?$", repr=False)
    # A stand-in's base URL (the local stack, tests); unset means Stripe itself.
    api_base: str | None = Field(default=None, validation_alias="BLOCKHOURS_STRIPE_API_BASE")
    max_network_retries: int = Field(default=2, ge=0, le=5, validation_alias="BLOCKHOURS_STRIPE_RETRIES")
    webhook_tolerance_seconds: int = Field(default=300, ge=1, validation_alias="BLOCKHOURS_WEBHOOK_TOLERANCE")


class LinkSettings(_Env):
    """The balance links emailed to clients: signed with the secret, honoured for max_age_days."""

    secret: str = Field(validation_alias="BLOCKHOURS_LINK_SECRET", min_length=32, repr=False)
    max_age_days: int = Field(default=30, ge=1, le=400, validation_alias="BLOCKHOURS_LINK_MAX_AGE_DAYS")

    @property
    def max_age_seconds(self) -> int:
        return self.max_age_days * 86_400


_Settings = TypeVar("_Settings", bound="_Env")


def _build(model: type[_Settings], **overrides: str) -> _Settings:
    try:
        return model(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"environment: {problems}") from exc


@cache
def store() -> StoreSettings:
    return _build(StoreSettings)


@cache
def mail() -> MailSettings:
    return _build(MailSettings)


@cache
def owner() -> OwnerSettings:
    return _build(OwnerSettings)


@cache
def queues() -> QueueSettings:
    return _build(QueueSettings)


@cache
def jobs() -> JobSettings:
    return _build(JobSettings)


@cache
def site_bucket() -> SiteBucketSettings:
    return _build(SiteBucketSettings)


@cache
def site() -> SiteSettings:
    return _build(SiteSettings)


def secret(variable: Secret) -> str:
    """The secret from its variable, or from the SSM parameter its *_PARAMETER variable names (kept for the max age)."""
    if value := os.environ.get(variable):
        return value
    name = _parameter_name(variable)
    from aws_lambda_powertools.utilities import parameters

    try:
        return parameters.get_parameter(name, decrypt=True, max_age=SECRETS_MAX_AGE_SECONDS)
    except parameters.exceptions.GetParameterError as exc:
        raise ConfigError(f"{variable}: the SSM parameter {name} cannot be read: {exc}") from exc


def _parameter_name(variable: Secret) -> str:
    if name := os.environ.get(SECRET_PARAMETERS[variable]):
        return name
    raise ConfigError(f"environment: {variable} is not set, nor {SECRET_PARAMETERS[variable]} (its SSM parameter)")


def stripe(*, webhook: bool = False) -> StripeSettings:
    """Stripe's key, and for the webhook its signing secret: the settings are made again only when a value changes."""
    signing = secret("STRIPE_WEBHOOK_SECRET") if webhook else None
    return _stripe_settings(secret("STRIPE_API_KEY"), signing)


@lru_cache(maxsize=4)
def _stripe_settings(api_key: str, webhook_secret: str | None) -> StripeSettings:
    overrides = {"STRIPE_API_KEY": api_key} | ({"STRIPE_WEBHOOK_SECRET": webhook_secret} if webhook_secret else {})
    return _build(StripeSettings, **overrides)


def links() -> LinkSettings:
    """The balance-link key (from the environment or SSM) and how long a link is honoured."""
    return _link_settings(secret("BLOCKHOURS_LINK_SECRET"))


@lru_cache(maxsize=4)
def _link_settings(key: str) -> LinkSettings:
    return _build(LinkSettings, BLOCKHOURS_LINK_SECRET=key)


def integration_secret(source: str) -> str | None:
    """The secret a tool sends for `source` (None: the shop gave it none, so nothing is accepted from it)."""
    accepted = integration_secrets(source)
    return accepted[0] if accepted else None


def integration_secrets(source: str) -> list[str]:
    """The secrets accepted for `source`, current first: a JSON value may be a list [current, previous] while a
    tool's set-up is being moved to a new secret (rotation); a short secret could be guessed, so none is taken."""
    try:
        secrets = json.loads(secret("BLOCKHOURS_INTEGRATION_SECRETS"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"BLOCKHOURS_INTEGRATION_SECRETS: not a JSON object of source: secret ({exc.msg})") from exc
    found = secrets.get(source) if isinstance(secrets, dict) else None
    values = found if isinstance(found, list) else [found]
    return [value for value in values if isinstance(value, str) and len(value) >= 32]


def pull_token(source: str) -> str:
    """A pulled source's API token: BLOCKHOURS_PULL_TOKENS ({source: token}, the local stack and tests; Zoho's is an
    object {client_id, client_secret, refresh_token}, given back as its JSON like the SSM value), else the SSM
    SecureString BLOCKHOURS_SECRETS_PATH/<source>-token, kept for the max age like the other secrets."""
    if local := os.environ.get("BLOCKHOURS_PULL_TOKENS"):
        try:
            tokens = json.loads(local)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"BLOCKHOURS_PULL_TOKENS: not a JSON object of source: token ({exc.msg})") from exc
        found = tokens.get(source) if isinstance(tokens, dict) else None
        if isinstance(found, dict):
            return json.dumps(found)
        if not isinstance(found, str) or not found:
            raise ConfigError(f"BLOCKHOURS_PULL_TOKENS has no token for {source}")
        return found
    path = os.environ.get("BLOCKHOURS_SECRETS_PATH")
    if not path:
        raise ConfigError(f"neither BLOCKHOURS_PULL_TOKENS nor BLOCKHOURS_SECRETS_PATH names {source}'s token")
    from aws_lambda_powertools.utilities import parameters

    name = f"{path}/{source}-token"
    try:
        return parameters.get_parameter(name, decrypt=True, max_age=SECRETS_MAX_AGE_SECONDS)
    except parameters.exceptions.GetParameterError as exc:
        raise ConfigError(f"{source}'s token: the SSM parameter {name} cannot be read: {exc}") from exc


def at_cold_start(*settings: Callable[[], object], secrets: tuple[Secret, ...] = ()) -> None:
    """In Lambda, read a handler's settings as it loads: a missing or wrong one fails the start, naming the variable.

    Only where Lambda runs the module (AWS_LAMBDA_FUNCTION_NAME is set): tools and tests import handlers without
    an environment. Secrets are checked for a source (a value or a parameter name); SSM is read at first use.
    """
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return
    for read in settings:
        read()
    for variable in secrets:
        if not os.environ.get(variable):
            _parameter_name(variable)


def clear() -> None:
    """Forget what was read, so a test or the local stack can change the environment (or an SSM parameter)."""
    for cached in (store, site, site_bucket, mail, owner, queues, jobs):
        cached.cache_clear()
    _stripe_settings.cache_clear()
    _link_settings.cache_clear()
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated


__all__ = [
    "ConfigError",
    "JobSettings",
    "LinkSettings",
    "OwnerSettings",
    "SiteSettings",
    "StoreSettings",
    "StripeSettings",
    "at_cold_start",
    "clear",
    "secret",
]
