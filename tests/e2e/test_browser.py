"""The shop as a client sees it: Debian's Chromium, driven by Playwright, against the local stack.

Every request the browser makes is checked to stay on 127.0.0.1. The shop and balance screenshots
are written to .build/screenshots/, and to docs/ when docs/ lacks them or BLOCKHOURS_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Browser, Page, Playwright, Request, expect, sync_playwright

from blockhours import links, shop_time, wiring
from blockhours.catalog import load
from blockhours.domain.money import format_cents
from blockhours_dev.local import LocalStack, build_site
from blockhours_dev.local_streams import SentMail, sent_mail
from blockhours_dev.standin.payments import paid_intent
from stripe_events import checkout_session, event, opened, signed, stack_store

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
CATALOG = load(ROOT / "catalog.yaml")
TERMS = CATALOG.terms.version
AGREEMENT = f"I agree to the client agreement (version {TERMS})"
DAY = 86_400


def storefront(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """`make site`'s build (build/site, which `make test` makes first) when nothing it is built from is newer;
    else a site of our own, never .build/site, which a `blockhours dev` running meanwhile rebuilds."""
    built = ROOT / "build" / "site" / "index.html"
    code = ROOT / "functions" / "blockhours"
    sources = [ROOT / "mkdocs.yml", ROOT / "catalog.yaml", code / "catalog.py", code / "domain" / "money.py"]
    sources += [path for path in (ROOT / "site").rglob("*") if path.is_file() and "__pycache__" not in path.parts]
    if built.is_file() and built.stat().st_mtime >= max(path.stat().st_mtime for path in sources):
        return built.parent
    return build_site(ROOT, tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    running = LocalStack(port=0, with_site=False).start()
    running.site_dir = storefront(tmp_path_factory)
    yield running
    refused = running.iam_denied()
    running.stop()
    assert refused == [], "calls the functions made that their roles in template.yaml do not allow"


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it, or run `apt-get install -y chromium`")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@dataclass
class Client:
    """One browser tab and every request it made."""

    page: Page
    base: str
    requests: list[Request] = field(default_factory=list)

    def checkouts(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and urlsplit(r.url).path == "/api/checkout"]

    def refunds(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and urlsplit(r.url).path == "/api/refunds"]


def _stays_on_this_machine(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1"


def _client(browser: Browser, stack: LocalStack, **options: object) -> Iterator[Client]:
    context = browser.new_context(locale="en-US", timezone_id="UTC", **options)  # type: ignore[arg-type]
    client = Client(context.new_page(), stack.url)
    context.on("request", lambda request: client.requests.append(request))
    yield client
    context.close()
    leaving = [r.url for r in client.requests if not _stays_on_this_machine(r.url)]
    assert leaving == [], f"the page made requests off this machine: {leaving}"


@pytest.fixture
def client(browser: Browser, stack: LocalStack) -> Iterator[Client]:
    yield from _client(browser, stack, viewport={"width": 1280, "height": 800})


@pytest.fixture
def phone(browser: Browser, stack: LocalStack) -> Iterator[Client]:
    yield from _client(browser, stack, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)


def screenshot(page: Page, name: str) -> None:
    built = ROOT / ".build" / "screenshots" / name
    built.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=built, full_page=True, animations="disabled")
    committed = ROOT / "docs" / name
    if os.environ.get("BLOCKHOURS_UPDATE_SCREENSHOTS") == "1" or not committed.exists():
        committed.parent.mkdir(exist_ok=True)
        shutil.copyfile(built, committed)


def open_order(client: Client, product_name: str, email: str) -> None:
    client.page.goto(f"{client.base}/")
    client.page.get_by_role("button", name=f"Buy {product_name}", exact=True).click()
    dialog = client.page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Your email address").fill(email)


def bought(stack: LocalStack, email: str, sku: str = "block-60", card: str = "4242424242424242") -> None:
    """Paid through the stand-in's checkout; 4000000000000341 pays, then declines every later charge."""
    body: dict[str, str | bool] = {"sku": sku, "email": email, "terms_version": TERMS, "terms_accepted": True}
    url = requests.post(f"{stack.url}/api/checkout", json=body, timeout=10).json()["url"]
    paid = requests.post(url, data={"outcome": "paid", "card": card}, allow_redirects=False, timeout=30)
    assert paid.status_code == 303


def balance_link(stack: LocalStack, email: str, **kwargs: int) -> str:
    token = links.make_balance_token(email, os.environ["BLOCKHOURS_LINK_SECRET"], **kwargs)
    return links.balance_url(stack.url, token)


def unique_email() -> str:
    return f"client-{secrets.token_hex(4)}@example.com"


def session_recorded(stack: LocalStack, email: str, minutes: int, charge_overage: bool = False) -> dict[str, Any]:
    """A technician's session, as the staff CLI records it (loopback needs no signature locally)."""
    body: dict[str, str | int | bool] = {
        "email": email,
        "minutes": minutes,
        "technician": "Sam",
        "note": "Outlook profile rebuilt",
        "session_id": f"session-{secrets.token_hex(6)}",
        "charge_overage": charge_overage,
    }
    response = requests.post(f"{stack.url}/api/sessions", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def owing(stack: LocalStack, email: str, *beyond_minutes: int) -> list[str]:
    """The client bought an hour with a card that declines later charges, used it, and then each of
    `beyond_minutes` past it: each is owed, with its own pay link."""
    bought(stack, email, card="4000000000000341")
    session_recorded(stack, email, 60)
    links = []
    for minutes in beyond_minutes:
        owed = session_recorded(stack, email, minutes, charge_overage=True)
        assert owed["overage_status"] == "owed", owed
        links.append(str(owed["pay_url"]))
    return links


def notice_to(email: str, wait_seconds: float = 10) -> SentMail:
    """The first notice of a debt emailed to `email`, once the outbox has sent it."""
    deadline = time.monotonic() + wait_seconds
    while not (found := [m for m in sent_mail() if email in m.to and " due" in m.subject]):
        assert time.monotonic() < deadline, [m.subject for m in sent_mail() if email in m.to]
        time.sleep(0.1)
    return found[0]


def stripe_refunds(stack: LocalStack, payment_intent: str, wait_seconds: float = 0) -> list[dict[str, Any]]:
    """The stand-in's refunds on one payment, waiting up to `wait_seconds` for the worker to make the first."""
    assert stack.standin is not None
    deadline = time.monotonic() + wait_seconds
    while True:
        made = [dict(r) for r in list(stack.standin.refunds.values()) if r["payment_intent"] == payment_intent]
        if made or time.monotonic() >= deadline:
            return made
        time.sleep(0.2)


def test_the_shop_lists_every_catalog_product_with_its_price(client: Client) -> None:
    page = client.page
    page.goto(f"{client.base}/")

    cards = page.locator("article.bh-product")
    expect(cards).to_have_count(len(CATALOG.products))
    for product in CATALOG.products:
        card = page.locator(f"#product-{product.sku}")
        expect(card.get_by_role("heading", name=product.name)).to_be_visible()
        expect(card.locator(".bh-price")).to_have_text(format_cents(product.price_cents, CATALOG.shop.currency))
        expect(card.get_by_role("button")).to_be_enabled()
    expect(page.get_by_text(CATALOG.shop.email).first).to_be_visible()
    screenshot(page, "shop.png")


def test_buy_without_the_agreement_ticked_says_why_and_starts_nothing(client: Client) -> None:
    open_order(client, "1-hour block", unique_email())
    page = client.page
    page.get_by_role("dialog").get_by_role("button", name="Buy for $129.00").click()

    message = page.get_by_role("alert")
    expect(message).to_contain_text(f"tick “{AGREEMENT}”")
    expect(page.get_by_label(AGREEMENT)).to_be_focused()
    page.wait_for_timeout(300)
    assert client.checkouts() == []
    assert urlsplit(page.url).path == "/"


def test_buy_without_an_email_asks_for_one(client: Client) -> None:
    open_order(client, "30-minute block", "")
    page = client.page
    page.get_by_label(AGREEMENT).check()
    page.get_by_role("dialog").get_by_role("button", name="Buy for $69.00").click()

    expect(page.get_by_role("alert")).to_contain_text("enter your email address")
    expect(page.get_by_label("Your email address")).to_be_focused()
    assert client.checkouts() == []


def test_buy_works_after_reading_the_agreement_and_coming_back(client: Client) -> None:
    page = client.page
    page.goto(f"{client.base}/")
    # navigation.instant swaps pages without a reload: the script must bind to the new page each time.
    page.get_by_role("link", name="client agreement", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Client agreement")
    expect(page.get_by_text(f"Version {TERMS}.")).to_be_visible()
    page.get_by_role("link", name="Shop").first.click()
    page.get_by_role("button", name="Buy 1-hour block").click()

    expect(page.get_by_role("dialog").get_by_role("heading", name="Buy 1-hour block")).to_be_visible()


def test_a_double_click_starts_one_checkout(client: Client) -> None:
    open_order(client, "5-hour bundle", unique_email())
    page = client.page
    page.get_by_label(AGREEMENT).check()

    page.get_by_role("dialog").get_by_role("button", name="Buy for $579.00").dblclick()

    page.wait_for_url("**/checkout/cs_*")
    page.wait_for_timeout(300)
    assert len(client.checkouts()) == 1
    sent = client.checkouts()[0].post_data_json
    assert sent is not None
    assert sent["sku"] == "bundle-300" and sent["terms_version"] == TERMS and sent["terms_accepted"] is True
    assert 8 <= len(sent["order_id"]) <= 64


def test_an_error_from_the_api_is_shown_in_words(client: Client) -> None:
    open_order(client, "1-hour block", "ana@example.invalid")
    page = client.page
    page.get_by_label(AGREEMENT).check()
    pay = page.get_by_role("dialog").get_by_role("button", name="Buy for $129.00")
    pay.click()

    expect(page.get_by_role("alert")).to_contain_text("That email address was not accepted: The part after the @-sign")
    expect(pay).to_be_enabled()
    assert len(client.checkouts()) == 1 and urlsplit(page.url).path == "/"


def test_a_failing_gateway_is_shown_in_words_and_the_button_comes_back(client: Client) -> None:
    client.page.route("**/api/checkout", lambda route: route.fulfill(status=502, body="<h1>Bad Gateway</h1>"))
    open_order(client, "1-hour block", unique_email())
    page = client.page
    page.get_by_label(AGREEMENT).check()
    pay = page.get_by_role("dialog").get_by_role("button", name="Buy for $129.00")
    pay.click()

    expect(page.get_by_role("alert")).to_contain_text("could not start (error 502). Nothing was charged")
    expect(pay).to_be_enabled()


def test_buying_the_hour_ends_on_the_success_page_and_the_balance_shows_sixty_minutes(
    client: Client, stack: LocalStack
) -> None:
    page = client.page
    open_order(client, "1-hour block", "Ana@Example.com")
    page.get_by_label(AGREEMENT).check()
    page.get_by_role("dialog").get_by_role("button", name="Buy for $129.00").click()

    page.wait_for_url("**/checkout/cs_*")
    expect(page.get_by_text("1-hour block")).to_be_visible()
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url("**/success/?session_id=cs_*")
    expect(page.get_by_role("heading", level=1)).to_contain_text("your time is on the way")
    # What was bought, for how much, and where the receipt goes; a first purchase may open its balance.
    expect(page.locator('[data-bh="summary"]')).to_have_text("You bought the 1-hour block (1 h) for $129.00.")
    expect(page.locator('[data-bh="email"]')).to_have_text("ana@example.com")
    page.get_by_role("link", name="See your balance").click()

    page.wait_for_url("**/balance/?t=*")
    expect(page.get_by_text("Account ana@example.com")).to_be_visible()
    expect(page.locator('[data-bh="minutes"]')).to_have_text("1 h")
    expect(page.locator('[data-bh="minutes-exact"]')).to_have_text("(60 minutes)")
    expect(page.locator('[data-bh="amount"]')).to_have_text("$129.00")
    expect(page.get_by_role("row").filter(has_text="Bought 1-hour block")).to_have_count(1)
    expect(page.get_by_role("button", name="Refund my unused balance")).to_be_visible()
    screenshot(page, "balance.png")


@pytest.mark.parametrize(
    ("link", "title"),
    [
        ("forged", "This link is not valid"),
        ("expired", "This link has expired"),
        ("cut short", "This link is not valid"),
        ("missing", "Open this page from your email"),
    ],
)
def test_a_bad_balance_link_shows_a_clear_message_and_no_data(
    client: Client, stack: LocalStack, link: str, title: str
) -> None:
    email = unique_email()
    bought(stack, email)
    good = balance_link(stack, email)
    urls = {
        "forged": links.balance_url(stack.url, links.make_balance_token(email, "forger-" + "x" * 40)),
        "expired": balance_link(stack, email, issued_at=int(time.time()) - 31 * DAY),
        "cut short": good[:-6],
        "missing": f"{stack.url}/balance/",
    }
    page = client.page
    page.goto(urls[link])

    problem = page.get_by_role("alert")
    expect(problem).to_contain_text(title)
    expect(problem).to_contain_text(CATALOG.shop.email)
    expect(page.locator('[data-bh="data"]')).to_be_hidden()
    content = page.locator("article").inner_text()
    assert email not in content and "$129.00" not in content and "Bought" not in content


def test_the_shop_reads_without_javascript(browser: Browser, stack: LocalStack) -> None:
    for client in _client(browser, stack, java_script_enabled=False):
        client.page.goto(f"{client.base}/")
        for product in CATALOG.products:
            expect(client.page.locator(f"#product-{product.sku}")).to_contain_text(
                format_cents(product.price_cents, CATALOG.shop.currency)
            )
        # Playwright's text selectors skip <noscript>, so find the message by its class.
        expect(client.page.locator(".bh-noscript")).to_be_visible()
        expect(client.page.locator(".bh-noscript")).to_contain_text("Buying here needs JavaScript")


def test_the_shop_fits_a_phone(phone: Client) -> None:
    page = phone.page
    page.goto(f"{phone.base}/")

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("button", name="Pay the deposit").tap()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Security deposit")).to_be_visible()
    expect(dialog.get_by_label("Your email address")).to_be_in_viewport()
    expect(dialog.get_by_role("button", name="Pay the deposit: $129.00")).to_be_in_viewport()


def test_the_shop_follows_dark_mode_and_has_a_toggle(browser: Browser, stack: LocalStack) -> None:
    for client in _client(browser, stack, color_scheme="dark"):
        page = client.page
        page.goto(f"{client.base}/")
        expect(page.locator("body")).to_have_attribute("data-md-color-scheme", "slate")
        page.locator('label[title="Light mode"]').click()
        expect(page.locator("body")).to_have_attribute("data-md-color-scheme", "default")


def test_a_client_refunds_what_is_left_after_a_session_once_however_often_they_press(
    client: Client, stack: LocalStack
) -> None:
    email = unique_email()
    page = client.page
    open_order(client, "1-hour block", email)
    page.get_by_label(AGREEMENT).check()
    page.get_by_role("dialog").get_by_role("button", name="Buy for $129.00").click()
    page.wait_for_url("**/checkout/cs_*")
    checkout_id = urlsplit(page.url).path.rsplit("/", 1)[-1]
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url("**/success/?session_id=cs_*")
    assert stack.standin is not None
    payment_intent = str(stack.standin.sessions[checkout_id]["payment_intent"])
    session_recorded(stack, email, 45)

    page.goto(balance_link(stack, email))
    expect(page.locator('[data-bh="minutes"]')).to_have_text("15 min")
    refund = page.get_by_role("button", name="Refund my unused balance")
    refund.dblclick()
    question = page.get_by_role("group", name="Refund $32.25 to your card?")
    expect(question).to_be_visible()
    expect(refund).to_have_attribute("aria-expanded", "true")
    question.get_by_role("button", name="Yes, refund").dblclick()

    result = page.locator('[data-bh="refund-message"]')
    expect(result).to_have_text("$32.25 is on its way back to your card; we have emailed you a confirmation.")
    expect(result).to_have_attribute("aria-live", "polite")
    expect(page.locator('[data-bh="amount"]')).to_have_text("$0.00")
    expect(refund).to_be_hidden()
    statement = page.locator('[data-bh="statement"]')
    refunds = statement.get_by_role("row").filter(has_text="Refund you asked for")
    expect(refunds).to_contain_text("\u2212$32.25")
    made = stripe_refunds(stack, payment_intent, wait_seconds=10)
    # The page looks again once the worker has had time to ask Stripe: the same row, now sent.
    expect(refunds).to_contain_text("sent to your card", timeout=10_000)
    expect(refunds).to_have_count(1)
    page.wait_for_timeout(300)

    assert len(client.refunds()) == 1
    assert [(r["amount"], r["status"]) for r in made] == [(3225, "succeeded")]
    assert made[0]["metadata"]["lot_id"] == checkout_id
    assert len(stripe_refunds(stack, payment_intent)) == 1


def test_the_refund_button_is_hidden_when_nothing_is_left(client: Client, stack: LocalStack) -> None:
    email = unique_email()
    bought(stack, email)
    session_recorded(stack, email, 60)
    page = client.page
    page.goto(balance_link(stack, email))

    expect(page.locator('[data-bh="amount"]')).to_have_text("$0.00")
    session = page.get_by_role("row").filter(has_text="Session with Sam")
    expect(session).to_have_count(1)
    expect(session).to_contain_text("Outlook profile rebuilt")
    expect(session).to_contain_text("\u22121 h")
    expect(page.get_by_role("button", name="Refund my unused balance")).to_be_hidden()
    expect(page.get_by_role("link", name="Buy more time in the shop")).to_be_visible()
    expect(page.locator('[data-bh="refund-due-area"]')).to_be_hidden()
    assert client.refunds() == []


def test_a_refused_refund_is_shown_in_words_on_a_phone(client: Client, phone: Client, stack: LocalStack) -> None:
    email = unique_email()
    bought(stack, email)
    link = balance_link(stack, email)
    # The client opened the link on their phone earlier, then refunds from the computer.
    phone.page.goto(link)
    expect(phone.page.locator('[data-bh="amount"]')).to_have_text("$129.00")
    client.page.goto(link)
    client.page.get_by_role("button", name="Refund my unused balance").click()
    client.page.get_by_role("button", name="Yes, refund").click()
    expect(client.page.locator('[data-bh="refund-message"]')).to_contain_text("$129.00 is on its way back")

    page = phone.page
    page.get_by_role("button", name="Refund my unused balance").tap()
    question = page.get_by_role("group", name="Refund $129.00 to your card?")
    yes = question.get_by_role("button", name="Yes, refund")
    expect(yes).to_be_in_viewport()
    expect(question.get_by_role("button", name="Cancel")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    yes.tap()

    result = page.locator('[data-bh="refund-message"]')
    expect(result).to_have_text(
        "There is nothing left to refund: your balance is already used or on its way back to your card."
    )
    expect(result).to_have_class("bh-message bh-message--error")
    expect(page.locator('[data-bh="amount"]')).to_have_text("$0.00")
    expect(page.get_by_role("button", name="Refund my unused balance")).to_be_hidden()
    assert len(phone.refunds()) == 1


def test_a_chicago_shop_shows_its_dates_in_chicago_whatever_the_browsers_zone(
    client: Client, stack: LocalStack, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Paid at 03:00 UTC on 15 January: 21:00 on the 14th in the shop; this browser runs on UTC."""
    assert stack.standin is not None and stack.lambdas is not None
    monkeypatch.setenv("BLOCKHOURS_TIME_ZONE", "America/Chicago")
    wiring.reset()
    stack.lambdas.redeploy()  # a new ShopTimeZone reaches the functions with a deployment: new instances
    request.addfinalizer(stack.lambdas.redeploy)  # the next tests' instances start in the zone they restore
    email = unique_email()
    paid_at = int(datetime(2026, 1, 15, 3, 0, tzinfo=UTC).timestamp())
    session = checkout_session(
        created=paid_at, payment_intent=paid_intent(stack.standin, 12900), metadata={"email": email}
    )
    body, header = signed(
        event("checkout.session.completed", opened(stack_store(stack), session)), stack.standin.webhook_secret
    )
    headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
    assert requests.post(f"{stack.url}/api/stripe/webhook", data=body, headers=headers, timeout=10).ok

    page = client.page
    page.goto(balance_link(stack, email))

    # the same day as the emails and the statement's words write it (shop_time.calendar_day), in the shop's zone
    expect(page.locator('[data-bh="lots"] tr td').first).to_have_text("14 Jan 2026")
    expect(page.locator('[data-bh="statement"] tr td').first).to_have_text("14 Jan 2026, 21:00")
    expect(page.locator('[data-bh="time-zone"]')).to_have_text("Dates and times are the shop\u2019s (America/Chicago).")


def test_a_client_who_owes_sees_how_much_and_a_link_to_pay_it_first(client: Client, stack: LocalStack) -> None:
    email = unique_email()
    [pay_url] = owing(stack, email, 30)

    page = client.page
    page.goto(balance_link(stack, email))

    owed = page.locator('[data-bh="owed-area"]')
    expect(owed.locator(".bh-owed__line")).to_have_text("You owe $64.50 \u2014 Pay now")
    expect(owed.get_by_role("link", name="Pay now")).to_have_attribute("href", pay_url)
    row = owed.get_by_role("row").filter(has_text="Time beyond your balance on")
    expect(row).to_contain_text("$64.50")
    expect(row.get_by_role("link", name="Pay $64.50")).to_have_attribute("href", pay_url)
    # It comes before the prepaid balance, which is empty: the shop page is where to buy more.
    top = page.evaluate("[...document.querySelectorAll('.bh-owed, .bh-balance__total')].map(e => e.className)")
    assert top == ["bh-owed", "bh-balance__total"]
    statement = page.locator('[data-bh="statement"]')
    expect(statement.get_by_role("row").filter(has_text="30 min beyond your balance, to pay")).to_contain_text(
        "\u2212$64.50"
    )
    expect(statement.get_by_role("row").filter(has_text="Payment link sent: $64.50 due")).to_have_count(1)
    # The day to pay by reads as the notice email writes it: one way to write a date for the client, everywhere.
    pay_by = row.locator('[data-label="Pay by"]').inner_text()
    assert f"on {pay_by} we send a reminder" in notice_to(email).body, pay_by
    content = page.locator("article").inner_text()
    for internal in ("dunning", "overage", "on-account", "stripe", "notice: "):
        assert internal not in content.lower(), internal
    screenshot(page, "balance-owed.png")


def test_paying_a_debt_link_ends_on_a_thank_you_page_with_what_is_still_owed(client: Client, stack: LocalStack) -> None:
    email = unique_email()
    first, second = owing(stack, email, 30, 15)

    page = client.page
    page.goto(balance_link(stack, email))
    expect(page.locator(".bh-owed__line")).to_have_text("You owe $96.75 \u2014 Pay now")
    expect(page.get_by_role("link", name="Pay now")).to_have_attribute("href", "#owed-list")  # two: choose one
    page.get_by_role("link", name="Pay $64.50").click()
    page.wait_for_url("**/checkout/cs_*")
    page.get_by_role("button", name="Pay", exact=True).click()

    page.wait_for_url("**/paid/?session_id=cs_*")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your payment")
    expect(page.locator('[data-bh="summary"]')).to_contain_text("We received $64.50 for the time beyond your balance")
    still = page.locator('[data-bh="owed-area"]')
    expect(still.locator(".bh-owed__line")).to_have_text("Still owed: $32.25")
    expect(still.get_by_role("link", name="Pay $32.25")).to_have_attribute("href", second)
    expect(page.get_by_text(email)).to_have_count(0)  # a pay link may be paid by someone else for the client
    assert first != second

    page.get_by_role("link", name="Pay $32.25").click()
    page.wait_for_url("**/checkout/cs_*")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url("**/paid/?session_id=cs_*")
    expect(page.locator('[data-bh="square"]')).to_have_text("Nothing else is owed. Thank you!")
    expect(page.locator('[data-bh="owed-area"]')).to_be_hidden()

    page.goto(balance_link(stack, email))
    expect(page.locator('[data-bh="data"]')).to_be_visible()
    expect(page.locator('[data-bh="owed-area"]')).to_be_hidden()
    expect(page.get_by_role("row").filter(has_text="Paid by card")).to_have_count(2)


def test_a_trusted_client_sees_time_on_account_the_next_bill_and_the_limit_left_and_no_top_up_nag(
    client: Client, stack: LocalStack
) -> None:
    email = unique_email()
    bought(stack, email, "block-30")
    trusted = requests.post(f"{stack.url}/api/customers/{email}/trust", json={"limit_minutes": 300}, timeout=10)
    assert trusted.status_code == 200, trusted.text
    session_recorded(stack, email, 90)  # 30 minutes from the balance, an hour on account

    page = client.page
    page.goto(balance_link(stack, email))

    on_account = page.locator('[data-bh="on-account"]')
    expect(on_account).to_contain_text("Used on account, billed later: 1 h ($129.00); next bill on")
    expect(on_account).to_contain_text("Limit left: 4 h of your 5 h limit.")
    next_bill = datetime.fromtimestamp(int(trusted.json()["next_bill_at"]), UTC)
    expect(page.locator('[data-bh="next-bill"]')).to_have_text(shop_time.calendar_day(next_bill))
    expect(page.locator('[data-bh="minutes"]')).to_have_text("0 min")
    expect(page.locator('[data-bh="top-up"]')).to_be_hidden()
    expect(page.locator('[data-bh="owed-area"]')).to_be_hidden()
    row = page.get_by_role("row").filter(has_text="Session with Sam")
    expect(row).to_contain_text("30 min from your balance; 1 h on your account, billed later")
    expect(page.get_by_role("row").filter(has_text="Pay afterwards agreed: up to 5 h on your account")).to_have_count(1)


def test_the_balance_page_with_a_debt_fits_a_phone_and_its_tables_read_as_cards(
    phone: Client, stack: LocalStack
) -> None:
    email = unique_email()
    owing(stack, email, 30)
    page = phone.page
    page.goto(balance_link(stack, email))
    expect(page.locator('[data-bh="data"]')).to_be_visible()

    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    expect(page.get_by_role("link", name="Pay now")).to_be_in_viewport()
    for table in ("owed", "lots", "statement"):
        cells = page.locator(f'[data-bh="{table}"] td')
        expect(cells.first).to_be_visible()
        for box in cells.evaluate_all("cells => cells.map(c => c.getBoundingClientRect().right)"):
            assert box <= 390, table
    # Each value is labelled with its column, the table's header being off screen on a phone.
    beyond = page.locator('[data-bh="statement"] tr').filter(has_text="beyond your balance, to pay")
    amount = beyond.locator('td[data-label="Amount"]')
    assert amount.evaluate("c => getComputedStyle(c, '::before').content") == '"Amount"'
    expect(amount).to_have_text("\u2212$64.50")
    screenshot(page, "balance-owed-phone.png")


def test_the_balance_page_says_plainly_when_javascript_is_off(browser: Browser, stack: LocalStack) -> None:
    email = unique_email()
    bought(stack, email)
    for client in _client(browser, stack, java_script_enabled=False):
        page = client.page
        page.goto(balance_link(stack, email))
        expect(page.locator(".bh-noscript")).to_be_visible()
        expect(page.locator(".bh-noscript")).to_contain_text("This page needs JavaScript to show your balance")
        expect(page.get_by_text("Loading your balance")).to_be_hidden()
        page.goto(f"{client.base}/paid/?session_id=cs_test_x")
        expect(page.locator(".bh-noscript")).to_contain_text("Your payment went through")


def test_a_success_page_for_an_account_with_earlier_purchases_links_to_no_balance(
    client: Client, stack: LocalStack
) -> None:
    """Anyone may buy time for any email: the page after paying opens a balance only if it holds just this."""
    email = unique_email()
    bought(stack, email)
    page = client.page
    open_order(client, "30-minute block", email)
    page.get_by_label(AGREEMENT).check()
    page.get_by_role("dialog").get_by_role("button", name="Buy for $69.00").click()
    page.wait_for_url("**/checkout/cs_*")
    page.get_by_role("button", name="Pay", exact=True).click()

    page.wait_for_url("**/success/?session_id=cs_*")
    expect(page.locator('[data-bh="summary"]')).to_have_text("You bought the 30-minute block (30 min) for $69.00.")
    expect(page.locator('[data-bh="email"]')).to_have_text(email)
    expect(page.get_by_role("link", name="See your balance")).to_be_hidden()
