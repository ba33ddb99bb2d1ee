"""The one way a use case says no: a stable code, a message that tells the person what to do, a status."""

from __future__ import annotations


class ShopError(Exception):
    """A request the shop cannot carry out as asked; `code` is stable, the message tells what to do."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
