"""`blockhours dev --data DIR`: the ledger's journal folded into its file, and the keys kept once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blockhours_dev.local_data import DataInUse, KeptData

KEY = ["pk", "sk"]


def item(pk: str, sk: str, **attributes: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{name: {"S": value} for name, value in attributes.items()}}


def test_each_start_folds_the_journal_into_the_ledger_and_a_write_cut_short_is_dropped(tmp_path: Path) -> None:
    kept = KeptData(tmp_path)
    assert kept.ledger(KEY) == []
    kept.record([(item("a", "1"), item("a", "1", note="first"))])
    kept.record([(item("a", "1"), item("a", "1", note="second")), (item("b", "1"), item("b", "1"))])
    kept.record([(item("b", "1"), None)])
    kept.close()
    with (tmp_path / "ledger.journal").open("a") as journal:
        journal.write('[[{"pk": {"S": "c"}')  # killed mid-write: that write was never answered

    assert KeptData(tmp_path).ledger(KEY) == [item("a", "1", note="second")]
    assert (tmp_path / "ledger.journal").read_text() == ""
    assert json.loads((tmp_path / "ledger.json").read_text()) == [item("a", "1", note="second")]
    assert (tmp_path / "ledger.json").stat().st_mode & 0o077 == 0, "clients' emails: this user's only"


def test_folding_the_same_journal_twice_gives_the_same_ledger(tmp_path: Path) -> None:
    kept = KeptData(tmp_path)
    kept.record([(item("a", "1"), item("a", "1", note="v1"))])
    kept.record([(item("a", "1"), item("a", "1", note="v2"))])
    kept.close()
    journal = (tmp_path / "ledger.journal").read_text()
    once = KeptData(tmp_path).ledger(KEY)
    (tmp_path / "ledger.journal").write_text(journal)  # as if the stack died between the file and the journal
    assert KeptData(tmp_path).ledger(KEY) == once == [item("a", "1", note="v2")]


def test_a_secret_is_made_once_and_kept(tmp_path: Path) -> None:
    first = KeptData(tmp_path).secret("BLOCKHOURS_LINK_SECRET", lambda: "k" * 43)
    again = KeptData(tmp_path).secret("BLOCKHOURS_LINK_SECRET", lambda: "other")
    assert first == again == "k" * 43
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0


def test_a_folder_is_kept_by_one_stack_at_a_time(tmp_path: Path) -> None:
    first = KeptData(tmp_path)
    first.hold()
    with pytest.raises(DataInUse, match="in use by another `blockhours dev`"):
        KeptData(tmp_path).hold()
    first.close()
    after = KeptData(tmp_path)
    after.hold()
    after.close()
