"""The shop page's figures, computed at build time from catalog.yaml by site/hooks/shop.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from mkdocs.exceptions import PluginError

from blockhours.catalog import Catalog, load

ROOT = Path(__file__).resolve().parents[2]


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shop_hook", ROOT / "site" / "hooks" / "shop.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shop = _hook()


@pytest.fixture
def catalog() -> Catalog:
    return load(ROOT / "catalog.yaml")


def test_effective_hourly_rate_rounds_half_up_to_the_cent() -> None:
    assert shop.hourly_cents(6900, 30) == 13800
    assert shop.hourly_cents(57900, 300) == 11580
    assert shop.hourly_cents(1000, 7) == 8571  # 8571.43 → 8571
    assert shop.hourly_cents(1, 120) == 1  # 0.5 → 1


def test_the_bundle_saves_against_the_one_hour_block_and_short_blocks_save_nothing(catalog: Catalog) -> None:
    by_sku = {p.sku: p for p in catalog.products}

    assert shop.saving_cents(catalog, by_sku["bundle-300"]) == 5 * 12900 - 57900
    assert shop.saving_cents(catalog, by_sku["block-60"]) == 0
    assert shop.saving_cents(catalog, by_sku["block-30"]) == 0
    assert shop.saving_cents(catalog, by_sku["deposit"]) == 0


def test_every_product_gets_a_card_with_its_price_and_a_buy_button(catalog: Catalog) -> None:
    page = shop.products_html(catalog)

    assert page.count('class="card bh-product"') == len(catalog.products)
    for product in catalog.products:
        assert f'data-sku="{product.sku}"' in page
        assert product.name in page
    assert "$579.00" in page and "$115.80 an hour" in page and "You save $66.00 (10%)" in page


def test_the_deposit_is_explained_in_plain_words(catalog: Catalog) -> None:
    deposit = next(p for p in catalog.products if p.kind == "deposit")

    sentence = shop.deposit_sentence(catalog, deposit)

    assert "We hold $129.00" in sentence
    assert "goes straight back to your card" in sentence
    assert "charged to the same card" in sentence


def test_a_page_with_an_unknown_placeholder_fails_the_build(catalog: Catalog) -> None:
    config = {"extra": {"catalog": catalog}}
    page = SimpleNamespace(url="", file=SimpleNamespace(src_uri="index.md"))

    filled = shop.on_page_markdown("version {{ terms_version }}", page, config, None)
    assert filled == f"version {catalog.terms.version}"
    with pytest.raises(PluginError, match=r"index.md: unknown placeholder \{\{ price_typo \}\}"):
        shop.on_page_markdown("{{ price_typo }}", page, config, None)


def test_the_settings_for_the_script_carry_the_terms_version_and_names(catalog: Catalog) -> None:
    settings = shop.storefront_settings(catalog)

    assert settings["termsVersion"] == catalog.terms.version
    assert settings["products"]["block-60"] == {"name": "1-hour block", "kind": "block", "price": "$129.00"}


def _terms(catalog: Catalog) -> str:
    config = {"extra": {"catalog": catalog}}
    page = SimpleNamespace(url="terms/", file=SimpleNamespace(src_uri="terms.md"))
    return str(shop.on_page_markdown((ROOT / "site" / "terms.md").read_text(), page, config, None))


def test_the_agreement_states_the_playbook_with_the_catalogs_own_figures(catalog: Catalog) -> None:
    """What the shop may do when a client owes it is in the agreement the client ticks, in the shop's figures."""
    terms = _terms(catalog)

    for section in ("Quotes", "Paying on account", "If you owe us money", "Disputes with your bank", "Refunds"):
        assert f". {section}" in terms
    assert "open for **24 hours**" in terms
    assert "billed **monthly, on the 1st**" in terms and "not paid within 14 days" in terms
    assert "at most 2 reminders, 7 and 14 days after the notice" in terms
    assert "unpaid 21 days after the notice" in terms and "**no new sessions**" in terms
    assert "first pays what you owe from your" in terms  # set-off before any refund to the card


def test_the_agreement_follows_a_changed_schedule(catalog: Catalog) -> None:
    changed = catalog.model_copy(
        update={
            "on_account": catalog.on_account.model_copy(update={"bill_every": "weekly", "grace_days": 5}),
            "dunning": catalog.dunning.model_copy(update={"reminder_days": [3], "collections_after_days": 10}),
            "quotes": catalog.quotes.model_copy(update={"expires_after_hours": 6}),
        }
    )
    terms = _terms(changed)

    assert "billed **weekly, on Mondays**" in terms and "not paid within 5 days" in terms
    assert "we send one reminder, 3 days after the notice" in terms and "unpaid 10 days after" in terms
    assert "open for **6 hours**" in terms
    no_reminders = changed.model_copy(update={"dunning": changed.dunning.model_copy(update={"reminder_days": []})})
    assert "We send no reminders after the notice." in _terms(no_reminders)
