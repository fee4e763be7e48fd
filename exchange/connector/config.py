"""A connector's own folder: its identity, private key, durable outbox and watermarks."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from exchange.core.signing import KeyFile

CONFIG_FILE = "connector.json"
KEY_FILE = "connector.key"


@dataclass
class ConnectorConfig:
    hub_url: str
    connector_id: str
    department: str
    node_code: str
    name: str

    @classmethod
    def load(cls, folder: Path) -> ConnectorConfig:
        path = folder / CONFIG_FILE
        if not path.exists():
            raise FileNotFoundError(
                f"{path} not found: run `hub connector register` first (or pass --dir)"
            )
        return cls(**json.loads(path.read_text("utf-8")))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_FILE).write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False))


def load_keys(folder: Path) -> KeyFile:
    """The connector's key, followed through rotations (`hub connector rotate-key`)."""
    keys = KeyFile(folder / KEY_FILE)
    keys.current()  # fail now, not at the first call, if the key is missing or unreadable
    return keys


def outbox_dir(folder: Path) -> Path:
    path = folder / "outbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sent_dir(folder: Path) -> Path:
    path = folder / "sent"
    path.mkdir(parents=True, exist_ok=True)
    return path


def rejected_dir(folder: Path) -> Path:
    path = folder / "rejected"
    path.mkdir(parents=True, exist_ok=True)
    return path
