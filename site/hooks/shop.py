"""mkdocs hook: the shop's products, prices, policies and contact, written into the pages from catalog.yaml.

A page names what it needs as `{{ name }}`; an unknown name fails the build, so no page ships a placeholder.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.utils import get_relative_url

from blockhours.catalog import Catalog, Product, load
from blockhours.domain.money import format_cents, format_minutes

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def hourly_cents(price_cents: int, minutes: int) -> int:
    """The effective hourly rate of `minutes` bought for `price_cents`, to the nearest cent (half up)."""
    return (price_cents * 60 * 2 + minutes) // (2 * minutes)


def baseline_hourly_cents(catalog: Catalog) -> int:
    """What an hour costs bought one hour at a time: the 1-hour block, else the shop's hourly rate."""
    hour = next((p for p in catalog.products if p.kind == "block" and p.minutes == 60), None)
    return hour.price_cents if hour else catalog.shop.hourly_rate_cents


def saving_cents(catalog: Catalog, product: Product) -> int:
    """How much a block longer than an hour saves against buying the same time one hour at a time."""
    minutes = catalog.minutes_for(product)
    if product.kind != "block" or minutes <= 60:
        return 0
    return max(baseline_hourly_cents(catalog) * minutes // 60 - product.price_cents, 0)


def deposit_sentence(catalog: Catalog, product: Product) -> str:
    money = format_cents(product.price_cents, catalog.shop.currency)
    rate = format_cents(catalog.shop.hourly_rate_cents, catalog.shop.currency)
    minutes = format_minutes(catalog.minutes_for(product))
    closing = (
        "When the job is closed, whatever is left goes straight back to your card"
        if catalog.refunds.deposits_refund_at_settle
        else "Whatever is left goes back to your card when you ask, or on its own after "
        f"{catalog.refunds.stale_after_days} days without a session"
    )
    return (
        f"We hold {money} for you — {minutes} of work at {rate} an hour. Each session is taken from it. "
        f"{closing}; if the work runs past the deposit, the extra time is charged to the same card."
    )


def _card(catalog: Catalog, product: Product) -> str:
    currency = catalog.shop.currency
    minutes = catalog.minutes_for(product)
    price = format_cents(product.price_cents, currency)
    sku = html.escape(product.sku)
    name = html.escape(product.name)
    facts: list[str] = []
    if product.kind == "deposit":
        label = "Pay the deposit"
        summary = f"deposit, covers {format_minutes(minutes)}"
        facts.append(html.escape(deposit_sentence(catalog, product)))
    else:
        label = f"Buy {name}"
        summary = f"for {format_minutes(minutes)}"
        facts.append(f"{format_cents(hourly_cents(product.price_cents, minutes), currency)} an hour")
        if saved := saving_cents(catalog, product):
            full = baseline_hourly_cents(catalog) * minutes // 60
            percent = (saved * 100 + full // 2) // full
            facts.append(
                f'<strong class="bh-saving">You save {format_cents(saved, currency)} ({percent}%)</strong> '
                "against buying hour by hour"
            )
    # A deposit is explained by the sentence built from the policy, which says more than its description.
    shown = product.description if product.kind == "block" else ""
    description = f'<p class="bh-product__description">{html.escape(shown)}</p>' if shown else ""
    return "\n".join(
        [
            f'<article class="card bh-product" id="product-{sku}" aria-labelledby="product-{sku}-name">',
            f'<h2 class="bh-product__name" id="product-{sku}-name">{name}</h2>',
            f'<p class="bh-product__price"><span class="bh-price" data-bh-price>{price}</span> '
            f'<span class="bh-product__summary">{html.escape(summary)}</span></p>',
            description,
            '<ul class="bh-product__facts">',
            *(f"<li>{fact}</li>" for fact in facts),
            "</ul>",
            f'<button type="button" class="md-button md-button--primary bh-buy" data-sku="{sku}">{label}</button>',
            "</article>",
        ]
    )


def products_html(catalog: Catalog) -> str:
    cards = "\n".join(_card(catalog, product) for product in catalog.products)
    return f'<div class="grid bh-products">\n{cards}\n</div>'


def contact_html(catalog: Catalog) -> str:
    shop = catalog.shop
    email = html.escape(shop.email)
    lines = [f'<a href="mailto:{email}">{email}</a>']
    if shop.phone:
        phone = html.escape(shop.phone)
        lines.append(f'<a href="tel:{re.sub(r"[^0-9+]", "", shop.phone)}">{phone}</a>')
    if shop.hours:
        lines.append(html.escape(shop.hours))
    return " · ".join(lines)


def storefront_settings(catalog: Catalog) -> dict[str, Any]:
    """What shop.js needs: the terms version sent with every checkout, and the products' names and prices."""
    return {
        "termsVersion": catalog.terms.version,
        "currency": catalog.shop.currency,
        "shopName": catalog.shop.name,
        "shopEmail": catalog.shop.email,
        "products": {
            p.sku: {"name": p.name, "kind": p.kind, "price": format_cents(p.price_cents, catalog.shop.currency)}
            for p in catalog.products
        },
    }


def values(catalog: Catalog, page_url: str) -> dict[str, str]:
    currency = catalog.shop.currency
    billing, refunds = catalog.billing, catalog.refunds
    return {
        "shop_name": html.escape(catalog.shop.name),
        "shop_email": html.escape(catalog.shop.email),
        "shop_contact": contact_html(catalog),
        "products": products_html(catalog),
        "terms_version": html.escape(catalog.terms.version),
        "terms_url": get_relative_url("terms/", page_url),
        "hourly_rate": format_cents(catalog.shop.hourly_rate_cents, currency),
        "increment_minutes": str(billing.increment_minutes),
        "minimum_minutes": str(billing.minimum_minutes),
        "stale_after_days": str(refunds.stale_after_days),
        "warning_days": str(refunds.warning_days),
        "minimum_refund": format_cents(refunds.minimum_refund_cents, currency),
        "deposit_refund": (
            "is settled when the job is closed: whatever is left is refunded at once"
            if refunds.deposits_refund_at_settle
            else "is refunded like any other balance: when you ask, or after "
            f"{refunds.stale_after_days} days without a session"
        ),
        "currency": currency.upper(),
        "quote_hours": str(catalog.quotes.expires_after_hours),
        "bill_every": {"monthly": "monthly, on the 1st", "weekly": "weekly, on Mondays"}[catalog.on_account.bill_every],
        "grace_days": str(catalog.on_account.grace_days),
        "reminders": reminders_sentence(catalog.dunning.reminder_days),
        "collections_after_days": str(catalog.dunning.collections_after_days),
    }


def reminders_sentence(days: list[int]) -> str:
    """The dunning schedule's reminders, as the agreement states them: none, one, or two with their days."""
    if not days:
        return "We send no reminders after the notice."
    count = "one reminder" if len(days) == 1 else f"at most {len(days)} reminders"
    when = " and ".join(str(day) for day in days)
    return f"If it is still unpaid, we send {count}, {when} days after the notice."


def on_config(config: Any) -> Any:
    catalog = load(Path(config["config_file_path"]).parent / "catalog.yaml")
    shop = catalog.shop
    config["site_name"] = shop.name
    config["copyright"] = f"{html.escape(shop.name)} · {contact_html(catalog)}"
    config["extra"]["catalog"] = catalog
    config["extra"]["storefront"] = storefront_settings(catalog)
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    known = values(config["extra"]["catalog"], page.url)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in known:
            raise PluginError(f"{page.file.src_uri}: unknown placeholder {{{{ {name} }}}}; known: {', '.join(known)}")
        return known[name]

    return PLACEHOLDER.sub(fill, markdown)
