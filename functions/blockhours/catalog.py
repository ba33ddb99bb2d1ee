"""catalog.yaml: what the shop sells and the rules it keeps, validated once at load."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .config import CatalogError as CatalogError
from .domain.debts import DunningSchedule
from .domain.money import deposit_minutes
from .sessions_csv import CsvColumns

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

Cents = Annotated[int, Field(gt=0, strict=True)]
PositiveMinutes = Annotated[int, Field(gt=0, strict=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Shop(_Strict):
    name: str = Field(min_length=1)
    email: str = Field(min_length=3)
    phone: str = ""
    hours: str = ""
    currency: str = Field(pattern=r"^[a-z]{3}$")
    hourly_rate_cents: Cents


class Terms(_Strict):
    version: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")


class Billing(_Strict):
    increment_minutes: PositiveMinutes
    minimum_minutes: PositiveMinutes
    low_balance_minutes: Annotated[int, Field(ge=0, strict=True)] = 0


class RefundPolicy(_Strict):
    stale_after_days: Annotated[int, Field(gt=0, strict=True)]
    warning_days: Annotated[int, Field(ge=0, strict=True)]
    minimum_refund_cents: Annotated[int, Field(ge=0, strict=True)] = 0
    deposits_refund_at_settle: bool = True

    @model_validator(mode="after")
    def _warning_before_refund(self) -> RefundPolicy:
        if self.warning_days >= self.stale_after_days:
            raise ValueError("warning_days must be shorter than stale_after_days")
        return self


class QuotePolicy(_Strict):
    expires_after_hours: Annotated[int, Field(ge=1, le=24, strict=True)] = 24  # Stripe keeps a checkout open 1-24 h
    # A quote above this is emailed only when the technician confirms it: 4800 typed for 480 costs a client's trust.
    confirm_above_minutes: Annotated[int, Field(gt=0, le=100 * 60, strict=True)] = 480


class OnAccount(_Strict):
    """Trusted clients pay afterwards: their usage is billed on this schedule, with these days of grace."""

    bill_every: Literal["weekly", "monthly"] = "monthly"
    grace_days: Annotated[int, Field(gt=0, strict=True)] = 14


class Dunning(_Strict):
    """What is owed: a notice, at most two reminders on these days after it, then collections."""

    reminder_days: list[Annotated[int, Field(gt=0, strict=True)]] = Field(default=[7, 14], max_length=2)
    collections_after_days: Annotated[int, Field(gt=0, strict=True)] = 21

    @model_validator(mode="after")
    def _in_order(self) -> Dunning:
        if self.reminder_days != sorted(set(self.reminder_days)):
            raise ValueError("reminder_days must be increasing, each day once")
        if self.reminder_days and self.collections_after_days <= self.reminder_days[-1]:
            raise ValueError("collections_after_days must come after the last reminder")
        return self


Hours = Annotated[int, Field(ge=1, le=24 * 30, strict=True)]
BaseUrl = Annotated[str, Field(pattern=r"^https?://[^\s/]+(:\d+)?(/[^\s]*)?$")]
PULLED = ("teamviewer", "zoho")  # the sources the scheduled run reads from the vendor's report API
VENDORS = (*PULLED, "screenconnect")  # entries whose name says which vendor's keys they take


class SourcePolicy(_Strict):
    """A remote-support tool's sessions: redeemed as they arrive (auto) or held for a technician's confirmation."""

    policy: Literal["auto", "confirm"] = "confirm"
    # Sessions shorter than this are recorded as free: two-minute fixes are not worth charging for.
    free_under_minutes: Annotated[int, Field(ge=0, le=24 * 60, strict=True)] = 0
    # A pushed tool's connection with no Disconnected after this long goes to the inbox for a technician's minutes.
    stale_after_hours: Annotated[int, Field(ge=1, le=14 * 24, strict=True)] = 12
    csv: CsvColumns | None = None  # how `blockhours import FILE --source NAME` reads the tool's export


class Integration(SourcePolicy):
    kind: Literal["other"] = Field(default="other", exclude=True)


class TeamViewerSettings(SourcePolicy):
    """integrations.teamviewer: pulled from the Web API's connection report every 15 minutes."""

    kind: Literal["teamviewer"] = Field(default="teamviewer", exclude=True)
    base_url: BaseUrl = "https://webapi.teamviewer.com"
    client_field: Literal["groupname", "devicename"] = "groupname"
    # The report lists a connection once it has ended, filed under its start: re-read this far back each run.
    overlap_hours: Hours = 24
    first_run_days: Annotated[int, Field(ge=1, le=366, strict=True)] = 7


class ZohoAssistSettings(SourcePolicy):
    """integrations.zoho: pulled from Zoho Assist's session reports every 15 minutes."""

    kind: Literal["zoho"] = Field(default="zoho", exclude=True)
    base_url: BaseUrl = "https://assist.zoho.com"  # .eu, .in, .com.au ... by the account's data centre
    accounts_url: BaseUrl = "https://accounts.zoho.com"  # where the refresh token is exchanged: the same data centre
    session_type: Literal["rs", "URS", "DM", "all"] = "all"
    # The customer's side is the "agent" in Zoho Assist; the technician views.
    client_field: Literal["agent_email", "display_name", "viewer_email"] = "agent_email"
    page_size: Annotated[int, Field(ge=1, le=100, strict=True)] = 50
    overlap_hours: Hours = 24
    first_run_days: Annotated[int, Field(ge=1, le=366, strict=True)] = 7


class ScreenConnectSettings(SourcePolicy):
    """integrations.screenconnect: pushed by a session event trigger, one event at a time."""

    kind: Literal["screenconnect"] = Field(default="screenconnect", exclude=True)
    # Which of the session's fields names the client: CustomProperty1 is "Company" out of the box.
    client_field: Literal[
        "Name",
        "CustomProperty1",
        "CustomProperty2",
        "CustomProperty3",
        "CustomProperty4",
        "CustomProperty5",
        "CustomProperty6",
        "CustomProperty7",
        "CustomProperty8",
    ] = "CustomProperty1"


AnyIntegration = Annotated[
    Integration | TeamViewerSettings | ZohoAssistSettings | ScreenConnectSettings, Field(discriminator="kind")
]


SourceName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,30}(:[a-z0-9][a-z0-9_-]{0,30})?$")]


class Product(_Strict):
    sku: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    name: str = Field(min_length=1)
    kind: Literal["block", "deposit"]
    price_cents: Cents
    minutes: PositiveMinutes | None = None
    description: str = ""

    @model_validator(mode="after")
    def _minutes_fit_kind(self) -> Product:
        if self.kind == "block" and self.minutes is None:
            raise ValueError("a block needs minutes")
        if self.kind == "deposit" and self.minutes is not None:
            raise ValueError("a deposit's minutes come from the hourly rate; leave minutes out")
        return self


class Catalog(_Strict):
    shop: Shop
    terms: Terms
    billing: Billing
    refunds: RefundPolicy
    products: list[Product] = Field(min_length=1)
    quotes: QuotePolicy = QuotePolicy()
    on_account: OnAccount = OnAccount()
    dunning: Dunning = Dunning()
    integrations: dict[SourceName, AnyIntegration] = Field(default_factory=dict)

    @field_validator("integrations", mode="before")
    @classmethod
    def _kind_from_name(cls, value: Any) -> Any:
        """An entry's name says which vendor's keys it takes: teamviewer and zoho are pulled, screenconnect pushes,
        the rest take the common keys only."""
        if not isinstance(value, dict):
            return value
        return {
            name: {**entry, "kind": name if name in VENDORS else "other"} if isinstance(entry, dict) else entry
            for name, entry in value.items()
        }

    @model_validator(mode="after")
    def _unique_skus(self) -> Catalog:
        skus = [p.sku for p in self.products]
        duplicates = sorted({s for s in skus if skus.count(s) > 1})
        if duplicates:
            raise ValueError(f"sku listed twice: {', '.join(duplicates)}")
        return self

    def dunning_schedule(self) -> DunningSchedule:
        return DunningSchedule(
            tuple(self.dunning.reminder_days), self.dunning.collections_after_days, self.on_account.grace_days
        )

    def integration(self, source: str) -> SourcePolicy | None:
        """The source's policy; None for a tool the shop has not listed (its sessions are refused)."""
        return self.integrations.get(source)

    def product(self, sku: str) -> Product | None:
        return next((p for p in self.products if p.sku == sku), None)

    def minutes_for(self, product: Product) -> int:
        """The minutes a product buys: its own for a block, its worth at the hourly rate for a deposit."""
        if product.minutes is not None:
            return product.minutes
        return deposit_minutes(product.price_cents, self.shop.hourly_rate_cents)


def default_path() -> Path:
    """BLOCKHOURS_CATALOG, else catalog.yaml in the Lambda task root, else the repository's."""
    if env := os.environ.get("BLOCKHOURS_CATALOG"):
        return Path(env)
    task_root = os.environ.get("LAMBDA_TASK_ROOT")
    if task_root and (Path(task_root) / "catalog.yaml").exists():
        return Path(task_root) / "catalog.yaml"
    return Path(__file__).resolve().parents[2] / "catalog.yaml"


def parse(text: str, source: str = "catalog.yaml") -> Catalog:
    import yaml  # read once, at the first request that needs the catalog: not every cold start's cost

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise CatalogError(f"{source}: {at}not valid YAML ({getattr(exc, 'problem', None) or exc})") from exc
    if not isinstance(raw, dict):
        raise CatalogError(f"{source}: expected the sections shop, terms, billing, refunds and products")
    try:
        return Catalog.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_problem(error, raw) for error in exc.errors())
        raise CatalogError(f"{source}: {problems}") from exc


def _problem(error: ErrorDetails, raw: dict[str, Any]) -> str:
    """One mistake as the shop owner reads the file: `product block-60: price_cents: must be greater than 0`."""
    where = [str(part) for part in error["loc"]]
    if len(error["loc"]) >= 2 and error["loc"][0] == "products" and isinstance(error["loc"][1], int):
        where = [f"product {_sku(raw, error['loc'][1])}", ".".join(where[2:])]
    elif len(where) >= 3 and where[0] == "integrations" and where[2] in ("other", *VENDORS):
        where = [".".join([*where[:2], *where[3:]])]  # the vendor's tag is ours, not a key the owner wrote
    else:
        where = [".".join(where)]
    return ": ".join([*filter(None, where), _in_words(error)])


def _sku(raw: dict[str, Any], index: int) -> str:
    products = raw.get("products")
    product = products[index] if isinstance(products, list) and index < len(products) else None
    sku = product.get("sku") if isinstance(product, dict) else None
    return sku if isinstance(sku, str) and sku else f"#{index + 1} (no sku)"


def _in_words(error: ErrorDetails) -> str:
    if error["type"] == "missing":
        return "is missing"
    if error["type"] == "extra_forbidden":
        return "is not a field the catalog knows (misspelt?)"
    message = error["msg"].removeprefix("Value error, ")  # our own validators' words, as written
    return re.sub(r"^(Input|String|List|Dictionary) should ", "must ", message)


@cache
def load(path: Path | None = None) -> Catalog:
    where = path or default_path()
    try:
        text = where.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read the catalog at {where}: {exc.strerror}") from exc
    return parse(text, str(where))
