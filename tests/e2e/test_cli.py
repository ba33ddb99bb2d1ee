"""Every staff command, run as a technician would, in a subprocess against `blockhours dev`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conftest import DevStack, buy


def cli(dev: DevStack, *args: str, columns: int = 200) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BLOCKHOURS_API": dev.url, "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-m", "blockhours_dev.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.fixture(scope="module")
def client(dev: DevStack) -> str:
    buy(dev.url, "cli@example.com", "block-60")
    return "cli@example.com"


def test_redeem_45_minutes_and_read_the_statement(dev: DevStack, client: str) -> None:
    done = cli(dev, "redeem", client, "40", "--tech", "Sam", "--note", "Outlook profile", "--session-id", "cli-1")
    assert done.returncode == 0, done.stderr
    assert "40 min used, 45 min billed" in done.stdout and "Balance left: 15 min ($32.25)" in done.stdout

    again = cli(dev, "redeem", client, "40", "--tech", "Sam", "--session-id", "cli-1")
    assert again.returncode == 0 and "was already recorded on" in again.stdout, "a retried session id records once"

    statement = cli(dev, "statement", client)
    assert statement.returncode == 0, statement.stderr
    # The client's words, as on the balance page: no ledger kinds, and what went out is negative.
    assert "Bought 1-hour block" in statement.stdout and "Session with Sam" in statement.stdout
    assert "purchase" not in statement.stdout and "redemption" not in statement.stdout
    assert "Outlook profile" in statement.stdout and "\u221245 min" in statement.stdout
    assert "Balance: 15 min ($32.25)" in statement.stdout

    balance = cli(dev, "balance", client)
    assert balance.returncode == 0 and "15 min ($32.25) available" in balance.stdout


def test_customers_and_liability(dev: DevStack, client: str) -> None:
    holders = cli(dev, "customers")
    assert holders.returncode == 0 and client in holders.stdout
    report = cli(dev, "liability")
    assert report.returncode == 0 and "0-30 days" in report.stdout and "total" in report.stdout


def test_settle_a_deposit(dev: DevStack) -> None:
    buy(dev.url, "deposit-cli@example.com", "deposit")
    assert cli(dev, "redeem", "deposit-cli@example.com", "30", "--tech", "Sam").returncode == 0
    settled = cli(dev, "settle", "deposit-cli@example.com", "--tech", "Sam")
    assert settled.returncode == 0 and "deposit settled; 30 min ($64.50) unused" in settled.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("redeem", "cli@example.com", "600", "--tech", "Sam"), "minutes; the session needs 600 (pass --charge"),
        (("redeem", "nobody@example.com", "30", "--tech", "Sam"), "has not bought any time yet"),
        (("balance", "nobody@example.com"), "no customer with email nobody@example.com"),
        (("settle", "cli@example.com"), "has no open deposit"),
        (("balance", "cli@example.com", "--api", "http://127.0.0.1:9"), "cannot reach the Blockhours API"),
        (("balance", "not-an-email"), "'not-an-email' is not an email address: An email address must have an @-sign"),
        (("redeem", "ana@localhost", "30", "--tech", "Sam"), "'ana@localhost' is not an email address"),
    ],
)
def test_every_error_is_one_readable_line(dev: DevStack, client: str, args: tuple[str, ...], says: str) -> None:
    failed = cli(dev, *args)
    assert failed.returncode == 1
    assert says in failed.stderr
    assert "Traceback" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1


def test_the_client_is_found_however_the_address_is_spelt(dev: DevStack) -> None:
    """Bought as typed on the shop page; the technician types it another way: case, full width, punycode."""
    buy(dev.url, "Spelt.CLI@Bücher.example", "block-60")
    typed = "".join(chr(ord(c) + 0xFEE0) for c in "SPELT") + ".cli@xn--bcher-kva.example"
    redeemed = cli(dev, "redeem", typed, "15", "--tech", "Sam")
    assert redeemed.returncode == 0, redeemed.stderr
    balance = cli(dev, "balance", " spelt.cli@BÜCHER.example ")
    assert balance.returncode == 0, balance.stderr
    assert balance.stdout.startswith("spelt.cli@xn--bcher-kva.example: 45 min"), balance.stdout


def test_refund_reconcile_and_sweep(dev: DevStack) -> None:
    buy(dev.url, "refund-cli@example.com", "block-60")
    assert cli(dev, "redeem", "refund-cli@example.com", "45", "--tech", "Sam").returncode == 0
    refunded = cli(dev, "refund", "refund-cli@example.com")
    assert refunded.returncode == 0, refunded.stderr
    assert "refund of 15 min ($32.25) requested" in refunded.stdout
    nothing = cli(dev, "refund", "refund-cli@example.com")
    assert nothing.returncode == 1 and "nothing left to refund" in nothing.stderr

    requeued = cli(dev, "requeue")  # harmless whether or not the worker has taken the refund yet
    assert requeued.returncode == 0, requeued.stderr
    assert "sent to it again" in requeued.stdout or "no refund is waiting" in requeued.stdout, requeued.stdout

    for _ in range(50):  # the worker asks Stripe in the background
        audit = cli(dev, "reconcile")
        if audit.returncode == 0:
            break
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "all agree" in audit.stdout and "reconcile started: job reconcile-" in audit.stderr

    swept = cli(dev, "sweep")
    assert swept.returncode == 0 and "accounts due" in swept.stdout


def test_a_day_of_the_playbook_from_the_command_line(dev: DevStack) -> None:
    """The README's "running the shop" day: a quote, a trusted client, a late payer, each one command."""
    quoted = cli(dev, "quote", "quote-cli@example.com", "90", "--note", "new file server", "--tech", "Sam")
    assert quoted.returncode == 0, quoted.stderr
    assert "1 h 30 min = $193.50" in quoted.stdout and "emailed" in quoted.stdout
    link = quoted.stdout.strip().splitlines()[-1]
    assert link.startswith(f"{dev.url}/checkout/cs_test_"), "the pay link alone on the last line, to paste"
    listed = cli(dev, "quotes")
    assert listed.returncode == 0 and "quote-cli@example.com" in listed.stdout and "open" in listed.stdout

    trusted = cli(dev, "trust", "trusted-cli@example.com", "--limit", "120")
    assert trusted.returncode == 0 and "may now go down to -2 h on account" in trusted.stdout
    assert cli(dev, "redeem", "trusted-cli@example.com", "45", "--tech", "Sam").returncode == 0
    balance = cli(dev, "balance", "trusted-cli@example.com")
    assert "45 min on account ($96.75, limit 2 h, 1 h 15 min of it left)" in balance.stdout
    too_far = cli(dev, "redeem", "trusted-cli@example.com", "90", "--tech", "Sam")
    assert too_far.returncode == 1 and "75 of their 120-minute limit" in too_far.stderr
    ended = cli(dev, "untrust", "trusted-cli@example.com")
    assert ended.returncode == 0 and "prepays again; 45 min on account is billed on" in ended.stdout

    buy(dev.url, "late-cli@example.com", "deposit", card="4000000000000341")  # a card that declines later charges
    assert cli(dev, "redeem", "late-cli@example.com", "75", "--tech", "Sam").returncode == 0
    owed = cli(dev, "debts")
    assert owed.returncode == 0 and "late-cli@example.com" in owed.stdout and "$32.25" in owed.stdout
    day = lambda days: time.strftime("%Y-%m-%d", time.gmtime(time.time() + days * 86_400))  # noqa: E731
    debts = requests.get(f"{dev.url}/api/debts", timeout=10).json()["debts"]
    [late] = [debt for debt in debts if debt["email"] == "late-cli@example.com"]
    run = lambda days: first_run_from(late["opened_at"] + days * 86_400)  # noqa: E731 - as the schedule will run
    later = cli(dev, "sweep", "--at", day(23))
    assert later.returncode == 0, later.stderr
    assert later.stdout.startswith(f"preview of the daily runs up to {day(23)} 10:00 UTC; nothing was written")
    late_debt = f"late-cli@example.com {late['debt_id']}"
    steps = lambda shown: [line for line in shown.splitlines() if line.endswith(late_debt)]  # noqa: E731
    assert steps(later.stdout) == [
        f"  {utc(run(7))}  reminder 1: {late_debt}",
        f"  {utc(run(14))}  reminder 2: {late_debt}",
        f"  {utc(run(21))}  collections: {late_debt}",
    ], later.stdout
    listed = cli(dev, "debts").stdout
    assert "notice sent" in listed and "1 reminder" not in listed and "-1 days" not in listed, "nothing written"
    again = cli(dev, "sweep", "--at", day(23)).stdout
    assert steps(again) == steps(later.stdout), "the first preview did not move the ledger on"
    for past in (day(0), day(-1)):  # today runs now, a past day as on that day: both for real
        ran = cli(dev, "sweep", "--at", past)
        assert ran.returncode == 0 and "accounts due" in ran.stdout and "preview" not in ran.stdout


def first_run_from(at: int) -> int:
    """The schedule's first daily run at or after `at`: 10:00 in the shop's zone (UTC on the dev stack)."""
    run = at - at % 86_400 + 10 * 3600
    return run if run >= at else run + 86_400


def utc(at: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


def test_release_says_plainly_when_there_is_no_hold(dev: DevStack, client: str) -> None:
    """`blockhours release` lifts a lost dispute's hold (tests/integration/test_disputes_and_order.py); on an
    account with none, it says so in one line and exits 1."""
    done = cli(dev, "release", client, "--tech", "Kim")
    assert done.returncode == 1
    assert "not on hold for a lost dispute" in done.stdout + done.stderr
    assert len((done.stdout + done.stderr).strip().splitlines()) == 1


def test_waive_names_what_it_cannot_find(dev: DevStack, client: str) -> None:
    done = cli(dev, "waive", client, "dispute-dp_none")
    assert done.returncode == 1 and "no debt dispute-dp_none from a lost dispute" in done.stdout + done.stderr


def test_minutes_as_a_technician_types_them(dev: DevStack) -> None:
    buy(dev.url, "typed-cli@example.com", "bundle-300")
    assert cli(dev, "redeem", "typed-cli@example.com", "1h30", "--tech", "Sam").returncode == 0
    balance = cli(dev, "balance", "typed-cli@example.com")
    assert balance.stdout.startswith("typed-cli@example.com: 3 h 30 min ("), balance.stdout

    trusted = cli(dev, "trust", "typed-trust-cli@example.com", "--limit", "5h")
    assert trusted.returncode == 0, trusted.stderr
    assert "may now go down to -5 h on account" in trusted.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ("redeem", "cli@example.com", "1h7x", "--tech", "Sam"),
            "error: Invalid value for 'MINUTES': '1h7x' is not a duration: write minutes",
        ),
        (("trust", "cli@example.com", "--limit", "5 hours-ish"), "error: Invalid value for '--limit': '5 hours-ish'"),
        (
            ("redeem", "cli@example.com", "0m", "--tech", "Sam"),
            "error: Invalid value for 'MINUTES': '0m' is no time at all",
        ),
        (("redeem", "cli@example.com", "30"), "error: Missing option '--tech'. (see '"),
        (("sweep", "--at", "2027-13-01"), "error: Invalid value for '--at'"),
        (("refnud", "cli@example.com"), "error: No such command 'refnud'. Did you mean 'refund'? (see '"),
    ],
)
def test_a_usage_error_is_one_line_and_a_non_zero_exit(dev: DevStack, args: tuple[str, ...], says: str) -> None:
    refused = cli(dev, *args)
    assert refused.returncode == 2
    assert refused.stderr.startswith(says), refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "─" not in refused.stderr, "no framed box, no usage block"
    assert refused.stdout == ""


def test_help_still_explains_each_command(dev: DevStack) -> None:
    shown = cli(dev, "redeem", "--help")
    assert shown.returncode == 0, shown.stderr
    assert "--tech" in shown.stdout and "1h30" in shown.stdout


def test_link_prints_a_fresh_balance_link_that_opens_the_page(dev: DevStack, client: str) -> None:
    made = cli(dev, "link", " CLI@Example.com ")
    assert made.returncode == 0, made.stderr
    assert made.stdout.count("\n") == 1, "the link alone on stdout"
    url = made.stdout.strip()
    assert url.startswith(f"{dev.url}/balance/?t=")
    assert "balance link for cli@example.com, valid until" in made.stderr
    page = requests.get(f"{dev.url}/api/balance", params={"t": parse_qs(urlsplit(url).query)["t"][0]}, timeout=10)
    assert page.status_code == 200 and page.json()["email"] == "cli@example.com"

    nobody = cli(dev, "link", "nobody@example.com")
    assert nobody.returncode == 1 and nobody.stdout == ""
    assert nobody.stderr.startswith("error: no customer with email nobody@example.com")


def test_a_quote_above_the_shops_bound_needs_yes(dev: DevStack) -> None:
    refused = cli(dev, "quote", "big-quote-cli@example.com", "48h", "--note", "meant 4h", "--tech", "Sam")
    assert refused.returncode == 1 and refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "error: the estimate of 48 h is above the shop's bound for a quote (8 h" in refused.stderr
    assert "nothing was emailed" in refused.stderr and "--yes" in refused.stderr
    assert "big-quote-cli@example.com" not in cli(dev, "quotes").stdout, "nothing sent, nothing kept"

    sent = cli(dev, "quote", "big-quote-cli@example.com", "9h", "--tech", "Sam", "--yes")
    assert sent.returncode == 0, sent.stderr
    assert "9 h = $1,161.00" in sent.stdout and sent.stdout.strip().splitlines()[-1].startswith(f"{dev.url}/checkout/")


def test_a_narrow_terminal_cuts_nothing_a_technician_copies(dev: DevStack) -> None:
    """At 80 columns every id, email and pay link is printed whole; a pay link alone on its line, to paste."""
    email = "a-long-address-for-an-eighty-column-terminal@example.com"
    buy(dev.url, email, "block-60")
    buy(dev.url, "narrow-late-cli@example.com", "deposit", card="4000000000000341")  # declines the overage
    assert cli(dev, "redeem", "narrow-late-cli@example.com", "75", "--tech", "Sam").returncode == 0
    [lot] = requests.get(f"{dev.url}/api/customers/{email}", timeout=10).json()["lots"]
    [debt] = [d for d in requests.get(f"{dev.url}/api/debts", timeout=10).json()["debts"] if "narrow" in d["email"]]

    quoted = cli(dev, "quote", email, "30", "--tech", "Sam", columns=80)
    quote_id, pay_url = quoted.stdout.split()[1], quoted.stdout.strip().splitlines()[-1]
    commands = {
        "balance": ("balance", email),
        "customers": ("customers",),
        "quotes": ("quotes",),
        "debts": ("debts",),
        "refund": ("refund", email, "--minutes", "15"),
    }
    narrow = {name: cli(dev, *args, columns=80) for name, args in commands.items()}

    assert all(done.returncode == 0 for done in narrow.values()), {n: d.stderr for n, d in narrow.items()}
    assert lot["lot_id"] in narrow["balance"].stdout
    assert email in narrow["customers"].stdout
    assert quote_id.startswith("q-") and quote_id in narrow["quotes"].stdout and email in narrow["quotes"].stdout
    assert pay_url.startswith(f"{dev.url}/checkout/cs_test_") and pay_url in narrow["quotes"].stdout.splitlines()
    assert debt["debt_id"] in narrow["debts"].stdout and debt["pay_url"] in narrow["debts"].stdout.splitlines()
    assert lot["lot_id"] in narrow["refund"].stdout and lot["payment_intent"] in narrow["refund"].stdout


def test_balance_shows_the_accounts_refund_date_once_not_each_lots(dev: DevStack, client: str) -> None:
    """Any session or purchase moves the refund date of the whole account on; a lot's purchase date does not."""
    account = requests.get(f"{dev.url}/api/customers/{client}", timeout=10).json()["account"]
    due = datetime.fromtimestamp(account["refund_due_at"], UTC).strftime("%Y-%m-%d %H:%M UTC")  # the stack's zone

    shown = cli(dev, "balance", client)

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1] == f"refund due {due} (a session or purchase before then moves it on)"
    assert "refund by" not in shown.stdout and shown.stdout.count(due) == 1
