"""Configuration from the environment, with the names AWS and Stripe users already know."""

from __future__ import annotations

import os
from functools import cache
from typing import TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """A required variable is missing or wrong; the message names it."""


class _Env(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class StoreSettings(_Env):
    table: str = Field(validation_alias="BLOCKHOURS_TABLE", min_length=3)


class SiteSettings(_Env):
    url: str = Field(validation_alias="BLOCKHOURS_SITE_URL", pattern=r"^https?://[^\s]+$")


class MailSettings(_Env):
    """Where client emails come from: an SES identity verified in the shop's account."""

    sender: str = Field(validation_alias="BLOCKHOURS_MAIL_FROM", pattern=r"^[^@\s]+@[^@\s]+$")


class QueueSettings(_Env):
    refund_queue_url: str = Field(validation_alias="BLOCKHOURS_REFUND_QUEUE_URL", pattern=r"^https?://\S+$")


class JobSettings(_Env):
    """The function that runs background jobs (reconcile, requeue): `<stack name>-jobs` in AWS."""

    function_name: str = Field(validation_alias="BLOCKHOURS_JOBS_FUNCTION", pattern=r"^[A-Za-z0-9_:.-]{1,140}$")


class StripeSettings(_Env):
    api_key: str = Field(validation_alias="STRIPE_API_KEY", min_length=8)
    webhook_secret: str = Field(validation_alias="STRIPE_WEBHOOK_SECRET", min_length=8)
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
def queues() -> QueueSettings:
    return _build(QueueSettings)


@cache
def jobs() -> JobSettings:
    return _build(JobSettings)


@cache
def site() -> SiteSettings:
    return _build(SiteSettings)


@cache
def stripe() -> StripeSettings:
    """Keys from the environment, or from the Secrets Manager secret named by BLOCKHOURS_STRIPE_SECRET."""
    secret_name = os.environ.get("BLOCKHOURS_STRIPE_SECRET")
    if secret_name and not os.environ.get("STRIPE_API_KEY"):
        from aws_lambda_powertools.utilities import parameters

        secret = parameters.get_secret(secret_name, transform="json", max_age=300)
        if not isinstance(secret, dict):
            raise ConfigError(f"secret {secret_name} must hold JSON with api_key and webhook_secret")
        return _build(
            StripeSettings,
            STRIPE_API_KEY=str(secret.get("api_key", "")),
            STRIPE_WEBHOOK_SECRET=str(secret.get("webhook_secret", "")),
        )
    return _build(StripeSettings)


@cache
def links() -> LinkSettings:
    """The signing secret from the environment, or from the Secrets Manager secret BLOCKHOURS_LINK_SECRET_NAME."""
    secret_name = os.environ.get("BLOCKHOURS_LINK_SECRET_NAME")
    if secret_name and not os.environ.get("BLOCKHOURS_LINK_SECRET"):
        from aws_lambda_powertools.utilities import parameters

        secret = parameters.get_secret(secret_name, max_age=300)
        return _build(LinkSettings, BLOCKHOURS_LINK_SECRET=secret if isinstance(secret, str) else "")
    return _build(LinkSettings)


def clear() -> None:
    """Forget what was read, so a test or the local stack can change the environment."""
    for cached in (store, site, mail, queues, jobs, stripe, links):
        cached.cache_clear()


__all__ = ["ConfigError", "JobSettings", "LinkSettings", "SiteSettings", "StoreSettings", "StripeSettings", "clear"]
