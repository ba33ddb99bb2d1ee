"""Sessions from remote-support tools: the generic endpoint a tool (or a shop's script) posts a session to, with
its source's secret, and the staff routes (IAM-authorized) for the inbox and the client mappings."""

from __future__ import annotations

import hmac
import time
from dataclasses import asdict
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field

from .. import config, wiring
from ..domain.remote_sessions import RemoteSession
from ..services import BadSecret, NotFound, session_imports
from ..services import remote_sessions as remote
from .bodies import EmailField
from .http import json_response, require_staff

IMPORT_BATCH = 100  # sessions a request may carry: applied well within the API function's 15 s
Technician = Annotated[str, Field(default="staff", min_length=1, max_length=80)]


class RemoteSessionBody(BaseModel):
    """The common record of one session, as any tool or script sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(min_length=1, max_length=200)
    technician: str = Field(min_length=1, max_length=80)
    client_ref: str = Field(min_length=1, max_length=200)
    started_at: int = Field(ge=0, strict=True)
    duration_seconds: int = Field(ge=0, le=7 * 86_400, strict=True)
    ended_at: int | None = Field(default=None, ge=0, strict=True)
    machine: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=500)
    payload: dict[str, Any] = Field(default_factory=dict)


class ImportBody(BaseModel):
    """A tool's export, read by `blockhours import` with the catalog's column mapping: previewed or applied."""

    model_config = ConfigDict(extra="forbid")

    sessions: list[RemoteSessionBody] = Field(min_length=1, max_length=IMPORT_BATCH)
    apply: bool = False


class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: EmailField
    technician: Technician = "staff"


class ConfirmBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    minutes: int | None = Field(default=None, gt=0, le=24 * 60, strict=True)
    note: str | None = Field(default=None, max_length=500)
    technician: Technician = "staff"


class DismissBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    technician: Technician = "staff"


class MappingBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: str = Field(min_length=1, max_length=64)
    client_ref: str = Field(min_length=1, max_length=200)
    email: EmailField
    technician: Technician = "staff"


def answer_body(answer: remote.InboxAnswer) -> dict[str, Any]:
    """What the tool, the CLI and the technician see: the outcome, the item, and the client's balance and hold."""
    item = asdict(answer.item)
    item.pop("payload")
    return {
        "outcome": answer.outcome,
        "inbox_id": answer.item.inbox_id,
        "session_id": answer.session.session_id if answer.session else None,
        "billed_minutes": answer.session.billed_minutes if answer.session else None,
        "balance_minutes": answer.balance_minutes,
        "on_hold": answer.on_hold,
        "hold_reason": answer.hold_reason,
        "item": item,
    }


def accepted_secret(source: str, sent: str) -> bool:
    """The source's current or previous secret (during a rotation), compared in constant time with each."""
    return any(hmac.compare_digest(sent.encode(), known.encode()) for known in config.integration_secrets(source))


def _previewed(row: session_imports.PreviewRow) -> dict[str, Any]:
    return {
        "session_id": row.session.session_id,
        "external_id": row.session.external_id,
        "client_ref": row.session.client_ref,
        "technician": row.session.technician,
        "started_at": row.session.started_at,
        "email": row.email,
        "used_minutes": row.used_minutes,
        "billable_minutes": row.billable_minutes,
        "recorded_before": row.recorded_before,
    }


def _caller_secret(app: APIGatewayHttpResolver, source: str) -> None:
    """The source's secret must come as `Authorization: Bearer <secret>`; compared in constant time, before
    anything else is said: a caller without it learns nothing, not even which sources the shop has."""
    sent = (app.current_event.headers or {}).get("authorization", "")
    scheme, _, token = sent.partition(" ")
    if scheme.lower() != "bearer" or not accepted_secret(source, token):
        raise BadSecret(
            "bad_secret", f"send {source}'s secret as `Authorization: Bearer <secret>` (the shop's integration secrets)"
        )
    if wiring.catalog().integration(source) is None:
        raise NotFound("unknown_source", f"{source} has a secret but is not an integration in catalog.yaml")


def register(app: APIGatewayHttpResolver) -> None:
    """The routes, on the staff API's resolver (one function: the tool's endpoint needs no function of its own)."""

    @app.post("/api/integrations/<source>/sessions")
    def receive_session(source: str, body: Annotated[RemoteSessionBody, Body()]) -> Response[str]:
        """A tool reports a session: redeemed, held in the inbox, free, or a duplicate of one reported before."""
        _caller_secret(app, source)
        session = RemoteSession(source=source, **body.model_dump())
        answer = remote.receive(wiring.catalog(), wiring.ledger(), wiring.gateway, session, int(time.time()))
        return json_response(200, answer_body(answer))

    @app.post("/api/integrations/<source>/import")
    def import_sessions(source: str, body: Annotated[ImportBody, Body()]) -> Response[str]:
        """Staff bring in a tool's export: a preview that writes nothing, or every session received once."""
        require_staff(app)
        sessions = [RemoteSession(source=source, **row.model_dump()) for row in body.sessions]
        if not body.apply:
            rows = session_imports.preview(wiring.catalog(), wiring.ledger(), source, sessions)
            return json_response(200, {"source": source, "preview": [_previewed(row) for row in rows]})
        answers = session_imports.import_sessions(
            wiring.catalog(), wiring.ledger(), wiring.gateway, source, sessions, int(time.time())
        )
        return json_response(200, {"source": source, "answers": [answer_body(a) for a in answers]})

    @app.get("/api/inbox")
    def inbox() -> Response[str]:
        require_staff(app)
        items = [
            asdict(answer.item)
            | {"payload": None, "balance_minutes": answer.balance_minutes, "on_hold": answer.on_hold}
            for answer in remote.waiting(wiring.ledger())
        ]
        return json_response(200, {"items": items})

    @app.post("/api/inbox/<inbox_id>/assign")
    def assign(inbox_id: str, body: Annotated[AssignBody, Body()]) -> Response[str]:
        require_staff(app)
        answers = remote.assign(
            wiring.catalog(), wiring.ledger(), wiring.gateway, inbox_id, body.email, body.technician, int(time.time())
        )
        return json_response(200, answer_body(answers[0]) | {"also": [answer_body(a) for a in answers[1:]]})

    @app.post("/api/inbox/<inbox_id>/confirm")
    def confirm(inbox_id: str, body: Annotated[ConfirmBody, Body()]) -> Response[str]:
        require_staff(app)
        answer = remote.confirm(
            wiring.catalog(),
            wiring.ledger(),
            wiring.gateway,
            inbox_id,
            body.technician,
            int(time.time()),
            minutes=body.minutes,
            note=body.note,
        )
        return json_response(200, answer_body(answer))

    @app.post("/api/inbox/<inbox_id>/dismiss")
    def dismiss(inbox_id: str, body: Annotated[DismissBody, Body()]) -> Response[str]:
        require_staff(app)
        return json_response(
            200, answer_body(remote.dismiss(wiring.ledger(), inbox_id, body.technician, int(time.time())))
        )

    @app.post("/api/mappings")
    def map_client(body: Annotated[MappingBody, Body()]) -> Response[str]:
        require_staff(app)
        answers = remote.map_client(
            wiring.catalog(),
            wiring.ledger(),
            wiring.gateway,
            body.source,
            body.client_ref,
            body.email,
            body.technician,
            int(time.time()),
        )
        return json_response(
            200, {"source": body.source, "email": body.email, "applied": [answer_body(a) for a in answers]}
        )
