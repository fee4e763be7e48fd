"""A drop folder: files a department's export job writes to `FOLDER/<resource>/` become batches.

Life of a file:

    FOLDER/<resource>/gdp.csv                  written by the export job
    FOLDER/<resource>/.sending/<id>/gdp.csv    spooled into the outbox as batch <id>
    FOLDER/<resource>/done/gdp.csv             the hub accepted batch <id>
    FOLDER/<resource>/rejected/gdp.csv         refused, by the local reader or the hub's gate,
    FOLDER/<resource>/rejected/gdp.csv.error.json   with the reasons (rule, row, field)

A file is taken only once it is complete: its size and modification time must be the same at
two looks (a pass apart, or `settle_s` apart in a single pass), and dotfiles and `*.part`,
`*.tmp` files are never taken, so an exporter that writes under a temporary name and renames
is always safe. The in-flight folder frees the name for the next export at once, and ties the
file to its batch id, so the outcome recorded in the connector folder (see `outbox`) is applied
to the right file even after a restart.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exchange.connector import outbox
from exchange.connector.config import outbox_dir
from exchange.connector.errors import ReadError
from exchange.connector.files import move_into, write_json
from exchange.connector.reader import first_row_number, read_batches
from exchange.connector.spool import SpooledBatch, spool
from exchange.core.resource_schema import ResourceSchema

SENDING = ".sending"
DONE = "done"
REJECTED = "rejected"
DATA_SUFFIXES = frozenset({".csv", ".parquet", ".pq", ".jsonl", ".ndjson"})
INCOMPLETE_SUFFIXES = frozenset({".part", ".tmp", ".partial", ".crdownload"})


@dataclass(frozen=True)
class Settled:
    """A file whose batch has an outcome: moved to done/ or rejected/."""

    resource: str
    file: Path
    batch_id: str | None  # None: the local reader refused it, nothing was sent
    accepted: bool
    reasons: dict[str, Any] | None


def _is_candidate(path: Path) -> bool:
    return (
        not path.name.startswith(".")
        and path.suffix.lower() in DATA_SUFFIXES
        and path.suffix.lower() not in INCOMPLETE_SUFFIXES
        and path.is_file()
    )


class FolderWatch:
    def __init__(
        self,
        root: Path,
        connector_dir: Path,
        schemas: dict[str, ResourceSchema],
        *,
        warn: Callable[[str], None],
        batch_rows: int = 65_536,
    ) -> None:
        self.root = root
        self.connector_dir = connector_dir
        self.schemas = schemas
        self.batch_rows = batch_rows
        self._warn = warn
        self._looks: dict[Path, tuple[int, int]] = {}
        self._warned: set[str] = set()

    def _resource_dirs(self) -> list[tuple[str, Path]]:
        found: list[tuple[str, Path]] = []
        if not self.root.is_dir():
            self._warn_once(str(self.root), f"{self.root}: the watched folder is missing")
            return found
        for sub in sorted(p for p in self.root.iterdir() if p.is_dir()):
            if sub.name.startswith("."):
                continue
            if sub.name not in self.schemas:
                self._warn_once(sub.name, f"{sub}: not a resource code, ignored")
                continue
            found.append((sub.name, sub))
        return found

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self._warn(message)

    @property
    def watched(self) -> bool:
        """Whether the last look saw any candidate file, complete or not."""
        return bool(self._looks)

    def look(self) -> list[tuple[str, Path]]:
        """Files whose size and mtime are unchanged since the previous look, oldest first."""
        looks: dict[Path, tuple[int, int]] = {}
        ready: list[tuple[int, str, Path]] = []
        for resource, folder in self._resource_dirs():
            for path in folder.iterdir():
                if not _is_candidate(path):
                    continue
                try:
                    st = path.stat()
                except FileNotFoundError:
                    continue  # moved away between listing and looking
                looks[path] = (st.st_size, st.st_mtime_ns)
                if self._looks.get(path) == looks[path]:
                    ready.append((st.st_mtime_ns, resource, path))
        self._looks = looks
        return [(resource, path) for _, resource, path in sorted(ready)]

    def spool_file(self, resource: str, path: Path) -> SpooledBatch | Settled:
        """Spool one complete file into the outbox; a file the reader rejects is set aside."""
        schema = self.schemas[resource]
        try:
            batch = spool(
                read_batches(path, schema, batch_rows=self.batch_rows),
                schema.arrow_schema(),
                outbox_dir(self.connector_dir),
                resource,
                first_row=first_row_number(path),
            )
        except ReadError as exc:
            reasons = {
                "error": "ReadError",
                "detail": str(exc),
                "problems": [
                    {"rule": "read", "row": exc.row, "field": exc.field, "message": exc.problem}
                ],
            }
            moved = _reject(path, path.parent, "local", reasons)
            return Settled(resource, moved, None, accepted=False, reasons=reasons)
        in_flight = path.parent / SENDING / batch.batch_id
        in_flight.mkdir(parents=True, exist_ok=True)
        os.replace(path, in_flight / path.name)
        self._looks.pop(path, None)
        # The outbox names the file it came from: shown in logs and in `hub connector flush`.
        batch.source = str(in_flight / path.name)
        batch.save_meta()
        return batch

    def settle(self) -> list[Settled]:
        """Apply recorded outcomes to in-flight files: done/, rejected/, or back to be re-read."""
        settled: list[Settled] = []
        for resource, folder in self._resource_dirs():
            sending = folder / SENDING
            if not sending.is_dir():
                continue
            for batch_dir in sorted(p for p in sending.iterdir() if p.is_dir()):
                batch_id = batch_dir.name
                fate = outbox.fate(self.connector_dir, batch_id)
                if fate == "pending":
                    continue
                for path in sorted(batch_dir.iterdir()):
                    done = self._settle_one(resource, folder, path, batch_id, fate)
                    if done is not None:
                        settled.append(done)
                batch_dir.rmdir()
        return settled

    def _settle_one(
        self, resource: str, folder: Path, path: Path, batch_id: str, fate: outbox.Fate
    ) -> Settled | None:
        tag = batch_id[:8]
        if fate == "accepted":
            return Settled(resource, move_into(path, folder / DONE, tag), batch_id, True, None)
        if fate == "refused":
            reasons = outbox.refusal(self.connector_dir, batch_id)
            moved = _reject(path, folder, tag, {"batch_id": batch_id, **reasons})
            return Settled(resource, moved, batch_id, False, reasons)
        # The outbox lost the batch (an operator cleared it): read the file again.
        self._warn(f"{path.name}: batch {batch_id} is no longer in the outbox; reading it again")
        move_into(path, folder, tag)
        return None


def _reject(path: Path, folder: Path, tag: str, reasons: dict[str, Any]) -> Path:
    moved = move_into(path, folder / REJECTED, tag)
    write_json(moved.with_name(moved.name + ".error.json"), reasons)
    return moved
