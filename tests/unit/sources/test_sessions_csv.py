"""Splashtop and AnyDesk exports read through a column mapping: every row, or every bad row by line — never half."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from blockhours.sessions_csv import CsvColumns, read_sessions

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sources" / "csv"

SPLASHTOP = CsvColumns(
    technician="User",
    client="To Computer",
    machine="To Computer",
    start="Start Time",
    end="End Time",
    date_format="%m/%d/%Y %I:%M:%S %p",
    timezone="America/Chicago",
)
ANYDESK = CsvColumns(
    id="Session ID",
    technician="From",
    client="To",
    machine="To ID",
    start="Start",
    duration="Duration",
    notes="Comment",
    date_format="%Y-%m-%d %H:%M",
)


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_the_splashtop_export_reads_every_row_in_the_accounts_time_zone() -> None:
    result = read_sessions(text("splashtop_sessions.csv"), SPLASHTOP, "csv:splashtop")
    assert result.ok and len(result.sessions) == 3
    first = result.sessions[0]
    assert first.started_at == int(datetime(2026, 11, 3, 14, 5, 10, tzinfo=UTC).timestamp())  # 08:05:10 CST
    assert (first.duration_seconds, first.technician, first.client_ref) == (2550, "ana@shop.example", "FRONTDESK-01")
    assert first.external_id.startswith("row-")


def test_a_row_id_is_the_same_when_the_same_export_is_read_again() -> None:
    once = read_sessions(text("splashtop_sessions.csv"), SPLASHTOP, "csv:splashtop")
    again = read_sessions(text("splashtop_sessions.csv"), SPLASHTOP, "csv:splashtop")
    assert [s.session_id for s in once.sessions] == [s.session_id for s in again.sessions]


def test_the_anydesk_export_reads_durations_and_a_comment_over_two_lines() -> None:
    result = read_sessions(text("anydesk_sessions.csv"), ANYDESK, "csv:anydesk")
    assert result.ok
    assert [s.external_id for s in result.sessions] == ["8e3f2a71", "8e3f2a72", "8e3f2a73"]
    assert [s.duration_seconds for s in result.sessions] == [2550, 90, 1801]
    assert result.sessions[2].notes == "Mail profile rebuilt,\nsecond monitor set up"


def test_bad_rows_are_all_reported_by_line_and_nothing_is_imported() -> None:
    lines = text("anydesk_sessions.csv").splitlines()
    broken = "\n".join(
        [
            lines[0],
            lines[1],
            '"x1","","1","Acme","2","2026-11-03 14:05","","10:00",""',
            '"x2","ana@shop","1","Acme","2","03/11/2026","","10:00",""',
            '"x3","ana@shop","1","Acme","2","2026-11-03 14:05","","ten",""',
            '"8e3f2a71","ana@shop","1","Acme","2","2026-11-03 18:00","","01:00",""',
        ]
    )
    result = read_sessions(broken, ANYDESK, "csv:anydesk")
    assert result.sessions == ()
    assert [(bad.line, bad.reason.split(" ")[0]) for bad in result.bad_rows] == [
        (3, "'From'"),
        (4, "'Start'"),
        (5, "duration"),
        (6, "the"),
    ]
    assert "does not match the date format '%Y-%m-%d %H:%M'" in str(result.bad_rows[1])
    assert str(result.bad_rows[3]) == "line 6: the same session as line 2"


def test_an_end_before_the_start_is_a_bad_row() -> None:
    header = text("splashtop_sessions.csv").splitlines()[0]
    row = "ana,A,1,PC,2,Remote,11/03/2026 09:00:00 AM,11/03/2026 08:00:00 AM,,"
    result = read_sessions(f"{header}\n{row}\n", SPLASHTOP, "csv:splashtop")
    assert [bad.line for bad in result.bad_rows] == [2] and "is before" in result.bad_rows[0].reason


def test_a_mapping_naming_a_missing_column_says_so_on_the_header_line() -> None:
    wrong = SPLASHTOP.model_copy(update={"technician": "Technician"})
    result = read_sessions(text("splashtop_sessions.csv"), wrong, "csv:splashtop")
    assert [str(bad) for bad in result.bad_rows] == ["line 1: no column 'Technician' in the header"]


def test_a_mapping_needs_an_end_or_a_duration_and_a_real_time_zone() -> None:
    with pytest.raises(ValidationError, match="end time or the one with the duration"):
        CsvColumns(technician="a", client="b", start="c", date_format="%Y")
    with pytest.raises(ValidationError, match="unknown time zone"):
        CsvColumns(technician="a", client="b", start="c", end="d", date_format="%Y", timezone="Mars/Olympus")
