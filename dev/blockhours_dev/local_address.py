"""Where a running `blockhours dev` listens: one small file per running stack, so the CLI finds it on any port.

The files live in $XDG_RUNTIME_DIR/blockhours (else ~/.cache/blockhours): the user's own, never a shared /tmp, so
no other account can point the CLI at a server of theirs. A file names its stack's URL and process; the stack
removes it when it stops, and a file left by one that was killed is ignored (its process or its port is gone).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit


def folder() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or str(Path.home() / ".cache")
    return Path(base) / "blockhours"


def announce(url: str) -> Path:
    """Say that this process serves the local stack at `url`; returns the file to withdraw at stop."""
    where = folder()
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = where / f"dev-{urlsplit(url).port}.json"
    written = path.with_suffix(".tmp")
    written.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    written.replace(path)  # a reader sees the old file or the new one, never half of one
    return path


def withdraw(path: Path) -> None:
    """Remove the file, unless a newer stack on the same port has written its own since."""
    if _read(path).get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def running() -> list[str]:
    """The URL of every local stack that runs now, most recently started first."""
    try:
        files = sorted(folder().glob("dev-*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
    except OSError:
        return []
    urls = []
    for path in files:
        found = _read(path)
        url, pid = found.get("url"), found.get("pid")
        if isinstance(url, str) and isinstance(pid, int) and _alive(pid) and _answers(url):
            urls.append(url)
    return urls


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is no owner
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _read(path: Path) -> dict[str, object]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    with contextlib.suppress(OSError), socket.create_connection((parts.hostname, parts.port or 80), timeout=0.5):
        return True
    return False
