"""The shop's time zone: what clients and technicians read is dated as the shop keeps its days."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from blockhours import emails, shop_time, statement, wiring
from blockhours.catalog import load
from blockhours.config import ConfigError
from blockhours.domain.debts import bill_id, next_bill_at
from blockhours.domain.ledger import SessionRecord
from blockhours_dev import staff_client

CHICAGO = ZoneInfo("America/Chicago")
# 03:00 UTC on 15 January 2027 is 21:00 on the 14th in Chicago (UTC-6 in winter).
LATE_EVENING_IN_CHICAGO = int(datetime(2027, 1, 15, 3, 0, tzinfo=UTC).timestamp())


@pytest.fixture
def in_chicago(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOCKHOURS_TIME_ZONE", "America/Chicago")
    wiring.reset()


def test_the_zone_comes_from_the_environment_and_is_utc_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLOCKHOURS_TIME_ZONE", raising=False)
    assert shop_time.zone().key == "UTC"

    monkeypatch.setenv("BLOCKHOURS_TIME_ZONE", "America/Chicago")
    wiring.reset()
    assert shop_time.zone() == CHICAGO


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "../etc/passwd", "America/"])
def test_a_zone_that_is_no_zone_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("BLOCKHOURS_TIME_ZONE", name)
    wiring.reset()

    with pytest.raises(ConfigError, match=r"BLOCKHOURS_TIME_ZONE: .* is not an IANA time zone .*America/Chicago"):
        shop_time.zone()


def test_dates_are_written_in_the_shops_zone_across_a_utc_midnight() -> None:
    assert shop_time.day(LATE_EVENING_IN_CHICAGO, CHICAGO) == "14 Jan 2027"
    assert shop_time.day(LATE_EVENING_IN_CHICAGO, UTC) == "15 Jan 2027"
    assert shop_time.moment(LATE_EVENING_IN_CHICAGO, CHICAGO) == "2027-01-14 21:00 CST"


def test_one_way_to_write_a_day_for_clients_in_emails_statements_and_bill_titles() -> None:
    """As shop.js writes the pages' date cells (tests/e2e/test_browser.py): day, short month, year; no leading 0."""
    first_of_february = int(datetime(2027, 2, 1, 12, tzinfo=UTC).timestamp())
    assert shop_time.day(first_of_february, UTC) == "1 Feb 2027"
    assert statement.bill_title("bill-2027-02-08", "weekly") == "Bill for the week of 1 Feb 2027"
    assert statement.bill_title("bill-2027-02-05", "monthly") == "Bill to 5 Feb 2027"
    assert statement.bill_title("bill-2027-02-01", "monthly") == "Bill for January 2027"


@pytest.mark.usefixtures("in_chicago")
def test_a_receipt_and_a_session_statement_carry_the_shops_date() -> None:
    catalog = load()
    receipt = emails.purchase_receipt(
        catalog, "ana@example.com", "1-hour block", 60, 12900, LATE_EVENING_IN_CHICAGO, "https://shop.example/b"
    )
    record = SessionRecord(
        session_id="s1",
        email="ana@example.com",
        technician="Sam",
        note="printer",
        requested_minutes=30,
        billed_minutes=30,
        covered_minutes=30,
        covered_cents=6450,
        overage_minutes=0,
        overage_cents=0,
        draws=(),
        balance_minutes_after=30,
        balance_cents_after=6450,
        at=LATE_EVENING_IN_CHICAGO,
    )
    statement = emails.session_statement(catalog, record, "https://shop.example")

    assert "14 Jan 2027" in receipt.text and "15 Jan 2027" not in receipt.text
    assert statement.subject.endswith("on 14 Jan 2027")
    assert "your remote session on 14 Jan 2027" in statement.text


def test_a_billing_day_begins_at_the_shops_midnight() -> None:
    """A monthly bill covers to the 1st as the shop's calendar has it, in Chicago as in Berlin."""
    berlin = ZoneInfo("Europe/Berlin")
    mid_january = int(datetime(2027, 1, 15, 12, tzinfo=UTC).timestamp())

    monthly_chicago = next_bill_at(mid_january, "monthly", CHICAGO)
    monthly_berlin = next_bill_at(mid_january, "monthly", berlin)
    weekly_chicago = next_bill_at(LATE_EVENING_IN_CHICAGO, "weekly", CHICAGO)  # Thursday the 14th there

    assert datetime.fromtimestamp(monthly_chicago, CHICAGO) == datetime(2027, 2, 1, tzinfo=CHICAGO)
    assert datetime.fromtimestamp(monthly_berlin, berlin) == datetime(2027, 2, 1, tzinfo=berlin)
    assert datetime.fromtimestamp(monthly_berlin, UTC) == datetime(2027, 1, 31, 23, tzinfo=UTC)
    assert datetime.fromtimestamp(weekly_chicago, CHICAGO) == datetime(2027, 1, 18, tzinfo=CHICAGO)  # Monday
    assert bill_id(monthly_berlin, berlin) == "bill-2027-02-01"  # the day the shop bills, not Greenwich's
    assert emails.format_day(monthly_chicago) == "1 Feb 2027"  # UTC here: the same day, six hours on
    # the default keeps what a UTC shop always had
    assert next_bill_at(mid_january, "monthly") == int(datetime(2027, 2, 1, tzinfo=UTC).timestamp())


def test_a_billing_day_across_a_change_to_summer_time_is_still_midnight() -> None:
    before_change = int(datetime(2027, 3, 10, 12, tzinfo=UTC).timestamp())  # Chicago moves on 14 March

    monday = next_bill_at(before_change, "weekly", CHICAGO)

    assert datetime.fromtimestamp(monday, CHICAGO).isoformat() == "2027-03-15T00:00:00-05:00"


def test_the_cli_reads_the_header_the_api_sends() -> None:
    assert staff_client.SHOP_TIME_ZONE_HEADER == shop_time.HEADER
