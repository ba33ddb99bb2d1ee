"""Lots and journal entries of the same whole second keep the order they were written in."""

from __future__ import annotations

from blockhours.adapters.dynamo_items import entry_from, entry_values, lot_from, lot_values
from blockhours.domain.ledger import JournalEntry, journal_order
from blockhours.domain.lots import Lot, fifo_order


def lot(lot_id: str, seq: int = 0) -> Lot:
    return Lot(lot_id, 6900, 30, f"pi_{lot_id}", "v1", created_at=1_700_000_000, seq=seq)


def entry(entry_id: str, seq: int = 0) -> JournalEntry:
    return JournalEntry(entry_id, "purchase", 1_700_000_000, "stripe", 30, 6900, seq=seq)


def test_the_store_stamps_when_a_lot_or_entry_is_first_written_and_reads_it_back() -> None:
    first_lot, second_lot = lot_from(lot_values(lot("cs_z"))), lot_from(lot_values(lot("cs_a")))
    first_entry, second_entry = entry_from(entry_values(entry("z"))), entry_from(entry_values(entry("a")))

    assert 0 < first_lot.seq < second_lot.seq and 0 < first_entry.seq < second_entry.seq
    assert lot_values(first_lot)["seq"] == first_lot.seq, "read back and written again, a lot keeps its place"


def test_the_same_second_is_ordered_by_when_written_not_by_id() -> None:
    assert [x.lot_id for x in fifo_order([lot("cs_a", 2), lot("cs_z", 1)])] == ["cs_z", "cs_a"]
    assert [x.entry_id for x in journal_order([entry("a", 2), entry("z", 1)])] == ["z", "a"]
    assert [x.entry_id for x in journal_order([entry("b"), entry("a")])] == ["a", "b"], "older items: by id, as before"
