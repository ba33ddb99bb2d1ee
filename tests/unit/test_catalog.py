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
    ("path", "value", "said"),
    [
        (["products", 1, "price_cents"], -5, "product block-60: price_cents: must be greater than 0"),
        (["products", 1, "price_cents"], 12.5, "product block-60: price_cents: must be a valid integer"),
        (["products", 0, "minutes"], None, "product block-30: a block needs minutes"),
        (["products", 0, "sku"], None, "product #1 (no sku): sku: must be a valid string"),
        (["billing", "increment_minutes"], 0, "billing.increment_minutes: must be greater than 0"),
        (["shop", "currency"], "dollars", "shop.currency: must match pattern"),
        (["terms", "version"], "", "terms.version: must have at least 1 character"),
        (["refunds", "warning_days"], 400, "refunds: warning_days must be shorter than stale_after_days"),
        (["products", 3, "minutes"], 60, "product deposit: a deposit's minutes come from the hourly rate"),
        (["shop", "colour"], "blue", "shop.colour: is not a field the catalog knows"),
        (["quotes", "confirm_above_minutes"], 0, "quotes.confirm_above_minutes: must be greater than 0"),
    ],
)
def test_a_mistake_is_one_line_naming_the_product_and_the_field(path: list[object], value: object, said: str) -> None:
    with pytest.raises(CatalogError) as bad:
        parse(with_change(path, value), "catalog.yaml")
    assert str(bad.value).startswith(f"catalog.yaml: {said}"), str(bad.value)
    assert "\n" not in str(bad.value) and "Input should" not in str(bad.value)


def test_a_sku_listed_twice_is_refused() -> None:
    raw = yaml.safe_load(SHIPPED)
    raw["products"][1]["sku"] = raw["products"][0]["sku"]
    with pytest.raises(CatalogError, match="sku listed twice: block-30"):
        parse(yaml.safe_dump(raw))


def test_broken_yaml_and_a_missing_file_say_so(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"^catalog\.yaml: line 1, column 16: not valid YAML \(expected") as bad:
        parse("shop: [unclosed")
    assert "\n" not in str(bad.value)
    with pytest.raises(CatalogError, match=r"^catalog\.yaml: expected the sections shop, terms"):
        parse("")
    with pytest.raises(CatalogError, match="cannot read the catalog"):
        load(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("path", "value", "said"),
    [
        (["integrations", "teamviewer", "client_field"], "owner", "integrations.teamviewer.client_field: must be"),
        (["integrations", "teamviewer", "page_size"], 5, "integrations.teamviewer.page_size: is not a field"),
        (["integrations", "zoho", "page_size"], 500, "integrations.zoho.page_size: must be less than or equal to 100"),
        (["integrations", "zoho", "base_url"], "assist.zoho.eu", "integrations.zoho.base_url: must match pattern"),
        (["integrations", "zoho", "accounts_url"], "accounts.zoho.eu", "integrations.zoho.accounts_url: must match"),
        (["integrations", "screenconnect", "overlap_hours"], 2, "integrations.screenconnect.overlap_hours: is not a"),
        (["integrations", "screenconnect", "client_field"], "Company", "integrations.screenconnect.client_field: must"),
        (
            ["integrations", "splashtop"],
            {"csv": {"technician": "User", "client": "To", "start": "Start", "date_format": "%Y"}},
            "integrations.splashtop.csv: name the column with the end time or the one with the duration",
        ),
        (
            ["integrations", "splashtop"],
            {"csv": {"technician": "User", "client": "To", "start": "S", "end": "E", "date_format": "%Y", "x": 1}},
            "integrations.splashtop.csv.x: is not a field the catalog knows",
        ),
    ],
)
def test_a_source_s_settings_are_checked_by_its_vendor(path: list[object], value: object, said: str) -> None:
    with pytest.raises(CatalogError) as bad:
        parse(with_change(path, value), "catalog.yaml")
    assert str(bad.value).startswith(f"catalog.yaml: {said}"), str(bad.value)
    assert "\n" not in str(bad.value)


def test_the_pulled_sources_and_a_csv_mapping_read_back() -> None:
    csv = {"technician": "User", "client": "To", "start": "Start", "end": "End", "date_format": "%Y-%m-%d %H:%M"}
    catalog = parse(with_change(["integrations", "splashtop"], {"policy": "auto", "csv": csv}))
    teamviewer, zoho, splashtop = (catalog.integration(name) for name in ("teamviewer", "zoho", "splashtop"))
    assert teamviewer is not None and teamviewer.kind == "teamviewer" and teamviewer.overlap_hours == 24
    assert zoho is not None and zoho.kind == "zoho" and zoho.base_url == "https://assist.zoho.com"
    assert zoho.accounts_url == "https://accounts.zoho.com"
    assert splashtop is not None and splashtop.kind == "other" and splashtop.csv is not None
    assert splashtop.csv.timezone == "UTC" and splashtop.policy == "auto"
