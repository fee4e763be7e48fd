"""Small durable file operations for the connector's folders.

A connector is killed at arbitrary moments (power cuts on a department's front-end machine), so
every state file is written to a temporary name, flushed to disk and renamed over the old one:
a reader sees the old content or the new, never half of either.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any


def write_json(path: Path, data: Any) -> None:
    """Replace `path` atomically and durably with `data` as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    sync_dir(path.parent)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def sync_dir(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (a no-op where folders cannot be opened)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def move_into(src: Path, folder: Path, tag: str) -> Path:
    """Move `src` into `folder` keeping its name, or `<stem>-<tag><suffix>` if that is taken.

    Departments re-use export names (gdp.csv every month), and an earlier file of the same name
    must not be overwritten: it is the record of what was sent.
    """
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / src.name
    if dest.exists():
        dest = folder / f"{src.stem}-{tag}{src.suffix}"
    os.replace(src, dest)
    return dest


class FolderBusy(Exception):
    """Another process holds this connector folder."""


def lock_folder(folder: Path) -> IO[str] | None:
    """Hold `folder/run.lock` for this process's lifetime (released by the OS when it exits).

    Two runners on one folder would send the same outbox and move the same files. Where file
    locks are not available (not POSIX) the caller runs unguarded: returns None.
    """
    try:
        import fcntl
    except ImportError:
        return None
    fh = (folder / "run.lock").open("a")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise FolderBusy(f"another `hub connector run` is using {folder}") from None
    return fh
