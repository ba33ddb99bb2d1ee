"""The CLI's tables: shown as a table only while every id and email in them fits whole on a line."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from blockhours_dev import cli_app

EMAIL = "a-long-address-for-a-narrow-terminal@example.com"
ROWS = [[EMAIL, "the lot's payments and refunds disagree with Stripe", "run reconcile again"]]
COLUMNS = ("customer", "what disagrees", "what to do")


def shown(width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    console = Console(file=io.StringIO(), width=width)
    monkeypatch.setattr(cli_app, "out", console)
    cli_app.print_rows(COLUMNS, ROWS, whole={"customer"}, title="discrepancies")
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue() + capsys.readouterr().out


def test_a_wide_terminal_gets_the_table(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    table = shown(200, monkeypatch, capsys)
    assert "┃ customer" in table and EMAIL in table


def test_a_narrow_one_gets_each_row_as_lines_with_every_value_whole(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = shown(60, monkeypatch, capsys).splitlines()
    assert lines == [
        "discrepancies",
        f"customer:       {EMAIL}",
        "what disagrees: the lot's payments and refunds disagree with Stripe",
        "what to do:     run reconcile again",
    ]
