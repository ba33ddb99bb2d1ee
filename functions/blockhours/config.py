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
import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from functools import cache, lru_cache
from typing import Any, Literal, TypeVar

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


class CatalogError(Exception):
    """catalog.yaml is missing or wrong; the message names the file and the bad field (blockhours.catalog reads it:
    the class is here so that an HTTP function can answer it without loading the catalog's models at start)."""


@dataclass(frozen=True)
class _Variable:
    """Where a setting comes from and what it must look like. A dozen names and patterns: plain dataclasses read them
    (pydantic-settings did, at ~150 ms of every cold start, before a client's first click was answered)."""

    name: str
    min_length: int = 0
    pattern: str = ""
    at_least: int | None = None
    at_most: int | None = None

    def problem(self, value: str | int) -> str:
        """What is wrong with `value`, or "" when nothing is."""
        if isinstance(value, int):
            if self.at_least is not None and value < self.at_least:
                return f"should be at least {self.at_least}"
            if self.at_most is not None and value > self.at_most:
                return f"should be at most {self.at_most}"
            return ""
        if len(value) < self.min_length:
            return f"should have at least {self.min_length} characters"
        if self.pattern and not re.fullmatch(self.pattern, value):
            return f"should match the pattern {self.pattern!r}"
        return ""


def _env(name: str, default: Any = MISSING, *, secret: bool = False, **rules: Any) -> Any:
    """A field read from the variable `name` (a secret's value never shows in a repr)."""
    return field(default=default, repr=not secret, metadata={"variable": _Variable(name, **rules)})


@dataclass(frozen=True)
class StoreSettings:
    table: str = _env("BLOCKHOURS_TABLE", min_length=3)


@dataclass(frozen=True)
class SiteBucketSettings:
    """The bucket the shop's pages are in: the missing-page function reads the site's 404 page from it."""

    bucket: str = _env("BLOCKHOURS_SITE_BUCKET", min_length=3)


@dataclass(frozen=True)
class SiteSettings:
    url: str = _env("BLOCKHOURS_SITE_URL", pattern=r"https?://[^\s]+")


@dataclass(frozen=True)
class MailSettings:
    """Where client emails come from: an SES identity verified in the shop's account."""

    sender: str = _env("BLOCKHOURS_MAIL_FROM", pattern=r"[^@\s]+@[^@\s]+")


@dataclass(frozen=True)
class OwnerSettings:
    """Where the shop's own alerts go (a failed refund, a payment not credited): the owner, not the public address."""

    email: str = _env("BLOCKHOURS_OWNER_EMAIL", pattern=r"[^@\s]+@[^@\s]+")


@dataclass(frozen=True)
class QueueSettings:
    refund_queue_url: str = _env("BLOCKHOURS_REFUND_QUEUE_URL", pattern=r"https?://\S+")


@dataclass(frozen=True)
class JobSettings:
    """The function that runs background jobs (reconcile, requeue): `<stack name>-jobs` in AWS."""

    function_name: str = _env("BLOCKHOURS_JOBS_FUNCTION", pattern=r"[A-Za-z0-9_:.-]{1,140}")


@dataclass(frozen=True)
class StripeSettings:
    api_key: str = _env("STRIPE_API_KEY", secret=True, min_length=8)
    # Only the webhook reads it (config.stripe(webhook=True)); the other functions may not even see it.
    webhook_secret: str = _env("STRIPE_WEBHOOK_SECRET", "", secret=True, pattern=r"(.{8,})?")
    # A stand-in's base URL (the local stack, tests); unset means Stripe itself.
    api_base: str | None = _env("BLOCKHOURS_STRIPE_API_BASE", None)
    max_network_retries: int = _env("BLOCKHOURS_STRIPE_RETRIES", 2, at_least=0, at_most=5)
    webhook_tolerance_seconds: int = _env("BLOCKHOURS_WEBHOOK_TOLERANCE", 300, at_least=1)


@dataclass(frozen=True)
class LinkSettings:
    """The balance links emailed to clients: signed with the secret, honoured for max_age_days."""

    secret: str = _env("BLOCKHOURS_LINK_SECRET", secret=True, min_length=32)
    max_age_days: int = _env("BLOCKHOURS_LINK_MAX_AGE_DAYS", 30, at_least=1, at_most=400)

    @property
    def max_age_seconds(self) -> int:
        return self.max_age_days * 86_400


# Every group of settings, for the tests that hold template.yaml to what the functions read.
ALL_SETTINGS: tuple[type, ...] = (
    StoreSettings,
    SiteBucketSettings,
    SiteSettings,
    MailSettings,
    OwnerSettings,
    QueueSettings,
    JobSettings,
    StripeSettings,
    LinkSettings,
)


def required_variables(model: type) -> set[str]:
    """The variables `model` cannot do without (no default)."""
    return {s.metadata["variable"].name for s in fields(model) if s.default is MISSING}


_Settings = TypeVar("_Settings")


def _build(model: type[_Settings], **overrides: str) -> _Settings:
    """`model` from the environment (and `overrides`, by variable name), or a ConfigError naming every bad variable."""
    values: dict[str, Any] = {}
    problems = []
    for setting in fields(model):  # type: ignore[arg-type]  # every model here is a dataclass
        variable: _Variable = setting.metadata["variable"]
        raw = overrides.get(variable.name, os.environ.get(variable.name))
        if raw is None:
            if setting.default is MISSING:
                problems.append(f"{variable.name}: is required")
            values[setting.name] = setting.default
            continue
        value: str | int = raw
        if setting.type == "int":
            try:
                value = int(raw)
            except ValueError:
                problems.append(f"{variable.name}: should be a whole number, not {raw!r}")
                continue
        if problem := variable.problem(value):
            problems.append(f"{variable.name}: {problem}")
        values[setting.name] = value
    if problems:
        raise ConfigError(f"environment: {'; '.join(problems)}")
    return model(**values)


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
