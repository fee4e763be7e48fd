"""Frictionless Data Packages: `frictionless validate` checks every download against its
description (Table Schema, byte size, SHA-256)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from exchange.core.settings import Settings

OPEN_WITH_ROWS = {"geo_address", "geo_division", "legal_person", "macro_indicator"}


def localise(doc: dict, client: TestClient, base: str, folder: Path) -> dict:
    """The package with each download fetched into `folder` and its path made local."""
    for res in doc["resources"]:
        path = res["path"].removeprefix(base)
        got = client.get(path)
        assert got.status_code == 200, path
        name = path.strip("/").replace("/", "_")
        (folder / name).write_bytes(got.content)
        res["path"] = name
    (folder / "datapackage.json").write_text(json.dumps(doc, ensure_ascii=False))
    return doc


def frictionless_validate(folder: Path) -> dict:
    cli = Path(sys.executable).with_name("frictionless")
    run = subprocess.run(
        [str(cli), "validate", "datapackage.json", "--json"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(run.stdout)
    return report


@pytest.mark.slow  # runs the frictionless command
def test_every_download_validates_against_its_package(
    client: TestClient, loaded: dict[str, int], settings: Settings, tmp_path: Path
) -> None:
    for code in sorted(OPEN_WITH_ROWS):
        r = client.get(f"/datasets/{code}/datapackage.json")
        assert r.status_code == 200, code
        doc = r.json()
        formats = {res["format"] for res in doc["resources"]}
        assert "csv" in formats and all(
            res["hash"].startswith("sha256:") for res in doc["resources"]
        )
        csv_res = next(res for res in doc["resources"] if res["format"] == "csv")
        assert {f["name"] for f in csv_res["schema"]["fields"]} and "sensitivity" not in json.dumps(
            csv_res["schema"]
        )
        folder = tmp_path / code
        folder.mkdir()
        localise(doc, client, settings.base_url, folder)
        report = frictionless_validate(folder)
        assert report["valid"] is True, json.dumps(report, ensure_ascii=False)[:3000]


@pytest.mark.slow
def test_the_catalogue_package_and_a_tampered_file_fails(
    client: TestClient, loaded: dict[str, int], settings: Settings, tmp_path: Path
) -> None:
    doc = client.get("/datapackage.json").json()
    assert {res["name"] for res in doc["resources"]} == {f"{c}-csv" for c in OPEN_WITH_ROWS}
    localise(doc, client, settings.base_url, tmp_path)
    assert frictionless_validate(tmp_path)["valid"] is True
    victim = tmp_path / doc["resources"][0]["path"]
    victim.write_bytes(victim.read_bytes() + b"\n")
    assert frictionless_validate(tmp_path)["valid"] is False  # bytes and hash are checked


def test_sizes_are_measured_once_per_version(
    client: TestClient, loaded: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from exchange.platforms.open_data.metadata import datapackage

    first = client.get("/datasets/macro_indicator/datapackage.json").json()
    body = client.get("/datasets/macro_indicator/download.csv").content
    with monkeypatch.context() as patched:
        patched.setattr(datapackage.exports, "export", lambda *a: pytest.fail("re-measured"))
        again = client.get("/datasets/macro_indicator/datapackage.json").json()
    assert again == first
    csv_res = next(res for res in first["resources"] if res["format"] == "csv")
    assert csv_res["bytes"] == len(body)
    assert client.get("/datasets/credit_record/datapackage.json").status_code == 403
    assert client.get("/datasets/population/datapackage.json").status_code == 404
