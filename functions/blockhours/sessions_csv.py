"""A tool's session export as CSV (Splashtop, AnyDesk, anything with one row a session): every row as a
RemoteSession, or every bad row by line with its reason — never half a file."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .domain.remote_sessions import RemoteSession

_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})$")


class CsvColumns(BaseModel):
    """Which column holds what, and how times are written (proposed catalog keys under integrations.<name>.csv)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None  # without one, the id is made from technician, client, machine and start
    technician: str
    client: str
    start: str
    end: str | None = None
    duration: str | None = None
    machine: str | None = None
    notes: str | None = None
    date_format: str = Field(min_length=2)  # strptime, e.g. "%m/%d/%Y %I:%M:%S %p"
    timezone: str = "UTC"  # exports write the account's local time without saying which
    duration_unit: Literal["seconds", "minutes", "clock"] = "clock"  # clock: "1:02:03" or "02:03"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like America/Chicago") from None
        return value

    @model_validator(mode="after")
    def _end_or_duration(self) -> CsvColumns:
        if not self.end and not self.duration:
            raise ValueError("name the column with the end time or the one with the duration")
        return self


@dataclass(frozen=True)
class BadRow:
    line: int  # as a spreadsheet shows it: the header is line 1
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class CsvImport:
    sessions: tuple[RemoteSession, ...] = ()
    bad_rows: tuple[BadRow, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.bad_rows


def read_sessions(text: str, columns: CsvColumns, source: str) -> CsvImport:
    """All rows as sessions when every row reads; otherwise only the bad rows (nothing is imported)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = reader.fieldnames or []
    missing = [name for name in _named(columns) if name not in header]
    if missing:
        return CsvImport(bad_rows=(BadRow(1, f"no column {', '.join(map(repr, missing))} in the header"),))
    sessions: list[RemoteSession] = []
    bad: list[BadRow] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any((value or "").strip() for value in row.values()):
            continue
        try:
            session = _session(row, columns, source)
        except ValueError as error:
            bad.append(BadRow(line, str(error)))
            continue
        if session.external_id in seen:
            bad.append(BadRow(line, f"the same session as line {seen[session.external_id]}"))
            continue
        seen[session.external_id] = line
        sessions.append(session)
    if bad:
        return CsvImport(bad_rows=tuple(bad))
    return CsvImport(sessions=tuple(sessions))


def _named(columns: CsvColumns) -> list[str]:
    names = [columns.id, columns.technician, columns.client, columns.start, columns.end, columns.duration]
    names += [columns.machine, columns.notes]
    return [name for name in names if name]


def _session(row: dict[str, str | None], columns: CsvColumns, source: str) -> RemoteSession:
    def cell(name: str | None) -> str:
        return (row.get(name) or "").strip() if name else ""

    technician, client = cell(columns.technician), cell(columns.client)
    if not technician:
        raise ValueError(f"{columns.technician!r} is empty: who did the session?")
    if not client:
        raise ValueError(f"{columns.client!r} is empty: which client was it for?")
    started_at = _moment(cell(columns.start), columns.start, columns)
    if columns.end and cell(columns.end):
        ended_at = _moment(cell(columns.end), columns.end, columns)
        if ended_at < started_at:
            raise ValueError(f"{columns.end!r} {cell(columns.end)} is before {columns.start!r}")
        duration_seconds = ended_at - started_at
    elif columns.duration and cell(columns.duration):
        duration_seconds = _duration(cell(columns.duration), columns)
        ended_at = started_at + duration_seconds
    else:
        raise ValueError(f"no end time or duration in {columns.end or columns.duration!r}")
    machine = cell(columns.machine)
    external_id = cell(columns.id) or _row_id(technician, client, machine, started_at)
    return RemoteSession(
        source=source,
        external_id=external_id,
        technician=technician,
        client_ref=client,
        started_at=started_at,
        duration_seconds=duration_seconds,
        ended_at=ended_at,
        machine=machine,
        notes=cell(columns.notes),
        payload={key: value for key, value in row.items() if key is not None},
    )


def _moment(text: str, column: str, columns: CsvColumns) -> int:
    try:
        local = datetime.strptime(text, columns.date_format)  # the zone comes from the mapping
    except ValueError:
        raise ValueError(f"{column!r} {text!r} does not match the date format {columns.date_format!r}") from None
    return int(local.replace(tzinfo=ZoneInfo(columns.timezone)).timestamp())


def _duration(text: str, columns: CsvColumns) -> int:
    if columns.duration_unit == "clock":
        match = _CLOCK.match(text)
        if not match:
            raise ValueError(f"duration {text!r} is not h:mm:ss or mm:ss")
        hours_text, minutes_text, seconds_text = match.groups()
        minutes, seconds = int(minutes_text), int(seconds_text)
        if seconds >= 60 or (hours_text is not None and minutes >= 60):
            raise ValueError(f"duration {text!r} is not a valid h:mm:ss or mm:ss")
        return int(hours_text or 0) * 3600 + minutes * 60 + seconds
    try:
        amount = float(text)
    except ValueError:
        raise ValueError(f"duration {text!r} is not a number of {columns.duration_unit}") from None
    if amount < 0:
        raise ValueError(f"duration {text!r} is negative")
    return round(amount * (60 if columns.duration_unit == "minutes" else 1))


def _row_id(technician: str, client: str, machine: str, started_at: int) -> str:
    # Exports without a session id: the same row imported twice must give the same id.
    digest = hashlib.sha256(f"{technician}\n{client}\n{machine}\n{started_at}".encode()).hexdigest()
    return f"row-{digest[:24]}"
