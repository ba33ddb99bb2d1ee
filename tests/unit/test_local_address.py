"""How the CLI finds the local stack: the file `blockhours dev` writes, and the API's address as people type it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from blockhours_dev import local_address, staff_client
from blockhours_dev.staff_client import StaffClient, StaffError, api_base


@pytest.fixture(autouse=True)
def own_runtime_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delenv("BLOCKHOURS_API", raising=False)


@pytest.fixture
def listening() -> Iterator[str]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def test_the_api_is_understood_with_or_without_its_api_prefix_and_trailing_slash() -> None:
    for typed in (
        "http://127.0.0.1:8000",
        "http://127.0.0.1:8000/",
        "http://127.0.0.1:8000/api",
        " http://127.0.0.1:8000/api/ ",
    ):
        assert api_base(typed) == "http://127.0.0.1:8000", typed
    assert StaffClient("https://shop.example/api/").api == "https://shop.example"


def test_a_running_stack_is_found_and_a_stopped_one_is_not(listening: str) -> None:
    announced = local_address.announce(listening)
    assert local_address.running() == [listening]
    assert StaffClient().api == listening and not StaffClient().guessed
    local_address.withdraw(announced)
    assert not announced.exists() and local_address.running() == []


def test_a_file_left_by_a_killed_stack_is_ignored(listening: str, tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    folder = tmp_path / "blockhours"
    folder.mkdir()
    (folder / "dev-9.json").write_text(json.dumps({"url": listening, "pid": int(gone.stdout)}))
    (folder / "dev-10.json").write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": 1}))  # nothing listens
    assert local_address.running() == []
    assert StaffClient().api == staff_client.DEFAULT_API


def test_two_running_stacks_ask_which_one(listening: str) -> None:
    local_address.announce(listening)
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        local_address.announce(f"http://127.0.0.1:{other.getsockname()[1]}")
        with pytest.raises(StaffError, match=r"^2 local stacks are running \(http://127.0.0.1:\d+, http://"):
            StaffClient().call("GET", "/api/health")
    assert StaffClient("http://127.0.0.1:8000").api == "http://127.0.0.1:8000", "--api settles it"


def test_with_nothing_running_the_cli_says_how_to_start_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff_client, "DEFAULT_API", "http://127.0.0.1:9")  # the discard port: nothing answers
    with pytest.raises(StaffError, match=r"^no local stack is running \(nothing answers at http://127.0.0.1:9\)"):
        StaffClient(timeout=2).call("GET", "/api/health")


def test_a_port_in_use_is_not_free(listening: str) -> None:
    port = int(listening.rsplit(":", 1)[1])
    assert not local_address.port_is_free(port)
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        unused = spare.getsockname()[1]
    assert local_address.port_is_free(unused)
