"""mkdocs hook: the shop's products, written into the pages from catalog.yaml at build time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from blockhours.catalog import Catalog, load
from blockhours.domain.money import format_cents, format_minutes


def _products(catalog: Catalog) -> str:
    currency = catalog.shop.currency
    rows = ["| Product | Time | Price |", "| --- | --- | --- |"]
    for product in catalog.products:
        minutes = catalog.minutes_for(product)
        rows.append(f"| {product.name} | {format_minutes(minutes)} | {format_cents(product.price_cents, currency)} |")
    return "\n".join(rows)


def on_config(config: Any) -> Any:
    catalog = load(Path(config["config_file_path"]).parent / "catalog.yaml")
    config["site_name"] = catalog.shop.name
    config["extra"]["catalog"] = catalog
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    catalog: Catalog = config["extra"]["catalog"]
    return (
        markdown.replace("{{ products }}", _products(catalog))
        .replace("{{ shop_name }}", catalog.shop.name)
        .replace("{{ terms_version }}", catalog.terms.version)
    )
