from pathlib import Path

import pytest
import yaml

from blockhours.catalog import CatalogError, load, parse

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = (ROOT / "catalog.yaml").read_text()


def with_change(path: list[object], value: object) -> str:
    raw = yaml.safe_load(SHIPPED)
    node = raw
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return yaml.safe_dump(raw)


def test_the_shipped_catalog_sells_what_the_shop_needs() -> None:
    catalog = load(ROOT / "catalog.yaml")
    by_minutes = {catalog.minutes_for(p): p for p in catalog.products if p.kind == "block"}
    assert {30, 60, 300} <= set(by_minutes)
    hour = by_minutes[60].price_cents
    assert by_minutes[300].price_cents < 5 * hour, "the 5-hour bundle is discounted"
    deposit = next(p for p in catalog.products if p.kind == "deposit")
    assert deposit.price_cents == 12900
    assert catalog.minutes_for(deposit) == 12900 * 60 // catalog.shop.hourly_rate_cents
    assert catalog.billing.increment_minutes > 0 and catalog.billing.minimum_minutes > 0
    assert catalog.refunds.stale_after_days > 0 and catalog.terms.version and catalog.shop.currency == "usd"


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (["products", 1, "price_cents"], -5, "products.1.price_cents"),
        (["products", 1, "price_cents"], 12.5, "products.1.price_cents"),
        (["products", 0, "minutes"], None, "products.0"),
        (["billing", "increment_minutes"], 0, "billing.increment_minutes"),
        (["shop", "currency"], "dollars", "shop.currency"),
        (["terms", "version"], "", "terms.version"),
        (["refunds", "warning_days"], 400, "refunds"),
        (["products", 3, "minutes"], 60, "products.3"),
        (["shop", "colour"], "blue", "shop.colour"),
        (["quotes", "confirm_above_minutes"], 0, "quotes.confirm_above_minutes"),
    ],
)
def test_a_bad_field_is_named(path: list[object], value: object, named: str) -> None:
    with pytest.raises(CatalogError) as bad:
        parse(with_change(path, value))
    assert named in str(bad.value)


def test_a_sku_listed_twice_is_refused() -> None:
    raw = yaml.safe_load(SHIPPED)
    raw["products"][1]["sku"] = raw["products"][0]["sku"]
    with pytest.raises(CatalogError, match="sku listed twice: block-30"):
        parse(yaml.safe_dump(raw))


def test_broken_yaml_and_a_missing_file_say_so(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not valid YAML"):
        parse("shop: [unclosed")
    with pytest.raises(CatalogError, match="cannot read the catalog"):
        load(tmp_path / "nope.yaml")
