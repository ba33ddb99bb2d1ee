"""`blockhours import` in a subprocess against `blockhours dev` with a catalog naming Splashtop's export columns:
the preview writes nothing, a file with bad rows names them by line and imports nothing, --apply records each
session once (the same file again records nothing new), and the statement names the source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, DevStack, buy, started_dev
from vendor_stand_in import TeamViewerStandIn, serving

FIXTURE = ROOT / "tests" / "fixtures" / "sources" / "csv" / "splashtop_sessions.csv"
SPLASHTOP = {
    "policy": "auto",
    "free_under_minutes": 3,
    "csv": {
        "technician": "User",
        "client": "To Computer",
        "machine": "To Computer",
        "start": "Start Time",
        "end": "End Time",
        "date_format": "%m/%d/%Y %I:%M:%S %p",
        "timezone": "America/Chicago",
    },
}


@pytest.fixture(scope="module")
def teamviewer() -> Iterator[TeamViewerStandIn]:
    with serving(TeamViewerStandIn()) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def shop_catalog(tmp_path_factory: pytest.TempPathFactory, teamviewer: TeamViewerStandIn) -> Path:
    raw = yaml.safe_load((ROOT / "catalog.yaml").read_text())
    raw["integrations"]["splashtop"] = SPLASHTOP
    raw["integrations"]["teamviewer"]["base_url"] = teamviewer.url
    del raw["integrations"]["zoho"]
    path = tmp_path_factory.mktemp("catalog") / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return path


@pytest.fixture(scope="module")
def dev_splashtop(tmp_path_factory: pytest.TempPathFactory, shop_catalog: Path) -> Iterator[DevStack]:
    tokens = json.dumps({"teamviewer": "good-token"})
    yield from started_dev(
        tmp_path_factory, {"BLOCKHOURS_CATALOG": str(shop_catalog), "BLOCKHOURS_PULL_TOKENS": tokens}
    )


def cli(dev: DevStack, catalog: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BLOCKHOURS_API": dev.url, "BLOCKHOURS_CATALOG": str(catalog), "COLUMNS": "220"}
    return subprocess.run(
        [sys.executable, "-m", "blockhours_dev.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_preview_then_apply_twice_records_each_session_once(
    dev_splashtop: DevStack, shop_catalog: Path, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    email = f"frontdesk-{tag}@example.com"
    export = tmp_path / "splashtop.csv"
    export.write_text(FIXTURE.read_text().replace("FRONTDESK-01", f"FRONTDESK-{tag}"))
    buy(dev_splashtop.url, email, "block-60")
    mapped = cli(dev_splashtop, shop_catalog, "map", "splashtop", f"FRONTDESK-{tag}", email)
    assert mapped.returncode == 0, mapped.stderr

    preview = cli(dev_splashtop, shop_catalog, "import", str(export), "--source", "splashtop")
    assert preview.returncode == 0, preview.stderr
    assert email in preview.stdout and "not matched: waits in the inbox" in preview.stdout
    assert "nothing written" in preview.stdout and "45 min to bill" in preview.stdout
    again = cli(dev_splashtop, shop_catalog, "import", str(export), "--source", "splashtop")
    assert "already recorded" not in again.stdout, "the preview wrote nothing"
    assert "1 h ($129.00) available" in cli(dev_splashtop, shop_catalog, "balance", email).stdout

    applied = cli(dev_splashtop, shop_catalog, "import", str(export), "--source", "splashtop", "--apply")
    assert applied.returncode == 0, applied.stderr
    assert "1 redeemed" in applied.stdout and "1 free" in applied.stdout
    twice = cli(dev_splashtop, shop_catalog, "import", str(export), "--source", "splashtop", "--apply")
    assert twice.returncode == 0 and f"{len(FIXTURE.read_text().splitlines()) - 1} duplicate" in twice.stdout
    statement = cli(dev_splashtop, shop_catalog, "statement", email)
    assert "(Splashtop)" in statement.stdout and statement.stdout.count("Session with") == 1, statement.stdout


def test_bad_rows_are_named_by_line_and_nothing_is_imported(
    dev_splashtop: DevStack, shop_catalog: Path, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    rows = FIXTURE.read_text()
    for computer in ("FRONTDESK-01", "LAB-PC-3", "RECEPTION-MAC"):  # sessions of their own on the shared stack
        rows = rows.replace(computer, f"{computer}-{tag}")
    lines = rows.splitlines()
    lines[2] = lines[2].replace("11/03/2026 09:00:00 AM", "2026-11-03 9am")
    export = tmp_path / "bad.csv"
    export.write_text("\n".join(lines) + "\n")

    bad = cli(dev_splashtop, shop_catalog, "import", str(export), "--source", "splashtop", "--apply")
    assert bad.returncode == 1 and "bad.csv line 3: 'Start Time' '2026-11-03 9am'" in bad.stdout, bad.stdout
    assert "nothing imported" in bad.stderr
    good = tmp_path / "good.csv"
    good.write_text(rows)
    preview = cli(dev_splashtop, shop_catalog, "import", str(good), "--source", "splashtop")
    assert preview.returncode == 0 and "3 rows, 3 new" in preview.stdout, "the refused file recorded none of its rows"
    unknown = cli(dev_splashtop, shop_catalog, "import", str(export), "--source", "anydesk")
    assert unknown.returncode == 1 and "anydesk has no csv: column mapping" in unknown.stderr


def test_blockhours_pull_runs_the_scheduled_function_on_the_stack(
    dev_splashtop: DevStack, shop_catalog: Path, teamviewer: TeamViewerStandIn
) -> None:
    first = cli(dev_splashtop, shop_catalog, "pull")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "teamviewer: 1 free, 2 inbox" in first.stdout  # Acme Dental is not mapped on this stack: it waits
    assert [q.get("offset_id") is not None for q in teamviewer.asked] == [False, True]
    again = cli(dev_splashtop, shop_catalog, "pull")
    assert again.returncode == 0 and "teamviewer: 3 duplicate" in again.stdout, again.stdout
    assert teamviewer.asked[2]["from_date"] > teamviewer.asked[0]["from_date"], "the second run starts at the cursor"
