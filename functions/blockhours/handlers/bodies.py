"""What the JSON bodies of the HTTP routes share (pydantic, which Powertools' validation reads): only the functions
whose routes take a body import it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# An email in a body is read by domain.client_email in the service: a bad one is a 400 invalid_email saying why.
EmailField = Annotated[str, Field(json_schema_extra={"format": "email", "maxLength": 254})]
