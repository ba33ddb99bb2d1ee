"""ConnectWise ScreenConnect pushes every session event its trigger matches, as the whole event in JSON (`{*:json}`):
read one into a ConnectionEvent for the pairing, or say which field is missing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..catalog import ScreenConnectSettings
from ..domain.connection_pairing import ConnectionEvent

SOURCE = "screenconnect"
__all__ = ["SOURCE", "ScreenConnectPayloadError", "ScreenConnectSettings", "read_event"]


class ScreenConnectPayloadError(ValueError):
    """The posted body is not a ScreenConnect session event we can use; the message names the field."""


class _Session(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    SessionID: str = Field(min_length=1)
    Name: str | None = None
    GuestMachineName: str | None = None


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    EventType: str = Field(min_length=1)
    Time: datetime
    Host: str | None = None
    Data: str | None = None


class _Connection(BaseModel):
    model_config = ConfigDict(extra="allow")

    ProcessType: str = Field(min_length=1)
    ParticipantName: str | None = None
    ConnectionID: str | None = None  # read when present; the trigger docs we found do not list it


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow")

    Session: _Session
    Event: _Event
    Connection: _Connection


def read_event(body: dict[str, Any], settings: ScreenConnectSettings) -> ConnectionEvent | None:
    """The host's Connected/Disconnected as a ConnectionEvent; None for anything else (guests, chat, commands)."""
    try:
        payload = _Payload.model_validate(body)
    except ValidationError as error:
        raise ScreenConnectPayloadError(_explain(error)) from None
    kind = {"Connected": "connected", "Disconnected": "disconnected"}.get(payload.Event.EventType)
    if kind is None or payload.Connection.ProcessType != "Host":
        return None
    technician = payload.Connection.ParticipantName or payload.Event.Host or ""
    if not technician:
        raise ScreenConnectPayloadError("Connection.ParticipantName is missing: the host's name says who worked")
    session = payload.Session
    client_ref = str(getattr(session, settings.client_field, None) or "")
    return ConnectionEvent(
        source=SOURCE,
        session_id=session.SessionID,
        connection=payload.Connection.ConnectionID or technician,
        kind="connected" if kind == "connected" else "disconnected",
        at=int(_utc(payload.Event.Time).timestamp()),
        technician=technician,
        client_ref=client_ref,
        machine=session.GuestMachineName or "",
        notes=session.Name or "",
        payload=body,
    )


def _utc(moment: datetime) -> datetime:
    # The docs do not say which zone a bare time is in; ScreenConnect servers keep UTC, so a bare time is read as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _explain(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["type"] == "missing":
        return f"{where} is missing: post the whole event with the trigger body {{*:json}}"
    return f"{where}: {first['msg']}"
