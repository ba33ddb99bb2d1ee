"""How far the scheduled run has read a pulled source's report, moved as a value for one conditional commit: a
run moves the cursor only from where it read it, so two runs overlapping never move it back."""

from __future__ import annotations

from dataclasses import dataclass

from .changes import NEW, Change, Expect, Put, cursor_ref

CURSOR = "cursor"  # refused: another run moved the cursor since this one read it


@dataclass(frozen=True)
class PullCursor:
    source: str
    since_ms: int  # the next run asks the report from here (epoch milliseconds)
    moved_at: int  # when a run last saved it (epoch seconds)


def cursor_moved(cursor: PullCursor, read: PullCursor | None) -> Change:
    """Saved after every session of the run was received; only over the cursor the run started from."""
    expect = (NEW,) if read is None else (Expect("since_ms", "=", read.since_ms),)
    return Change.of(Put(cursor_ref(cursor.source), cursor, expect=expect, role=CURSOR))
