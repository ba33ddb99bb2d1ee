import pytest

from blockhours.domain.lots import InsufficientBalance, Lot
from blockhours.domain.sessions import BillingRules, NoCardOnFile, minutes_that_fit, overage_cents, plan_session

RULES = BillingRules(increment_minutes=15, minimum_minutes=15, hourly_rate_cents=12900)


def lot(lot_id: str, amount: int, minutes: int, created: int, kind: str = "block") -> Lot:
    return Lot(lot_id, amount, minutes, f"pi_{lot_id}", "v1", created, kind=kind)  # type: ignore[arg-type]


def test_a_session_draws_fifo_after_rounding_up() -> None:
    plan = plan_session([lot("b", 12900, 60, 2), lot("a", 6900, 30, 1)], 31, RULES, charge_overage=False)
    assert plan.billed_minutes == 45
    assert [(d.lot_id, d.minutes, d.amount_cents) for d in plan.draws] == [("a", 30, 6900), ("b", 15, 3225)]
    assert (plan.balance_minutes_after, plan.balance_cents_after) == (45, 9675)
    assert plan.overage_minutes == 0


def test_a_block_refuses_overage_unless_asked() -> None:
    with pytest.raises(InsufficientBalance) as short:
        plan_session([lot("a", 6900, 30, 1)], 40, RULES, charge_overage=False)
    assert (short.value.available_minutes, short.value.needed_minutes) == (30, 45)
    plan = plan_session([lot("a", 6900, 30, 1)], 40, RULES, charge_overage=True)
    assert (plan.covered_minutes, plan.overage_minutes, plan.overage_cents) == (30, 15, 3225)


def test_a_deposit_always_charges_overage_even_when_spent() -> None:
    spent = plan_session([lot("d", 12900, 60, 1, "deposit")], 60, RULES, False).lots_after
    plan = plan_session(spent, 20, RULES, charge_overage=False)
    assert (plan.covered_minutes, plan.overage_minutes, plan.overage_cents) == (0, 30, 6450)
    assert plan.draws == ()


def test_a_settled_deposit_is_not_spent() -> None:
    closed = Lot("d", 12900, 60, "pi", "v1", 1, kind="deposit", closed_at=5)
    with pytest.raises(InsufficientBalance):
        plan_session([closed, lot("a", 6900, 30, 2)], 45, RULES, charge_overage=False)


@pytest.mark.parametrize(("minutes", "cents"), [(15, 3225), (1, 215), (7, 1505), (60, 12900)])
def test_overage_is_priced_at_the_hourly_rate_to_the_nearest_cent(minutes: int, cents: int) -> None:
    assert overage_cents(minutes, 12900) == cents


def test_a_trusted_client_uses_the_balance_then_the_limit_then_the_card_for_the_rest_only() -> None:
    """255 of a 300-minute limit left, 30 minutes of balance, a 300-minute session with --charge-overage."""
    plan = plan_session([lot("a", 6450, 30, 1)], 300, RULES, charge_overage=True, credit_minutes=255)
    assert (plan.covered_minutes, plan.on_account_minutes, plan.overage_minutes) == (30, 255, 15)
    assert (plan.covered_cents, plan.on_account_cents, plan.overage_cents) == (6450, 54825, 3225)
    with pytest.raises(InsufficientBalance):  # the rest goes to the card only when the technician asks
        plan_session([lot("a", 6450, 30, 1)], 300, RULES, charge_overage=False, credit_minutes=255)


def test_beyond_a_deposit_the_limit_is_used_before_its_card() -> None:
    plan = plan_session([lot("d", 12900, 60, 1, "deposit")], 120, RULES, charge_overage=False, credit_minutes=30)
    assert (plan.covered_minutes, plan.on_account_minutes, plan.overage_minutes) == (60, 30, 30)


def test_no_card_on_file_refuses_what_only_a_card_could_pay_and_says_what_fits() -> None:
    """A trusted client who never paid by card: the limit takes what fits; the rest has no card to go to."""
    assert plan_session([], 255, RULES, charge_overage=True, credit_minutes=255).on_account_minutes == 255
    with pytest.raises(NoCardOnFile) as none:
        plan_session([], 300, RULES, charge_overage=True, credit_minutes=255)
    assert (none.value.fits_minutes, none.value.needed_minutes) == (255, 300)
    with pytest.raises(NoCardOnFile) as odd:  # a limit of 100 fits 90 billed minutes, in 15-minute steps
        plan_session([], 120, RULES, charge_overage=True, credit_minutes=100)
    assert odd.value.fits_minutes == 90
    with pytest.raises(NoCardOnFile) as nothing:
        plan_session([], 30, RULES, charge_overage=True, credit_minutes=0)
    assert nothing.value.fits_minutes == 0


@pytest.mark.parametrize(("room", "fits"), [(0, 0), (10, 0), (15, 15), (29, 15), (255, 255), (-30, 0)])
def test_what_fits_is_whole_increments_never_below_the_minimum(room: int, fits: int) -> None:
    assert minutes_that_fit(room, RULES) == fits
    assert minutes_that_fit(room, BillingRules(15, 30, 12900)) == (fits if fits >= 30 else 0)
