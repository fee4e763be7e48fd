"""The payload store: where batch bodies live, on a local folder or an S3-compatible store.

Any fsspec URL works (`file:///srv/hub/payloads`, `s3://bucket/prefix`). Writes are atomic:
a reader never sees half an object (local files are renamed into place; S3 multipart uploads
become visible only when completed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem
from fsspec.spec import AbstractBufferedFile


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    sha256: str


class PartialWrite:
    def __init__(self, fs: Any, path: str, final: str, fh: IO[bytes]) -> None:
        self.fs, self.path, self.final, self.fh = fs, path, final, fh

    def write(self, data: bytes) -> None:
        self.fh.write(data)

    def commit(self) -> None:
        self.fh.close()  # on S3 this completes the multipart upload: the object appears now
        if self.path != self.final:
            self.fs.mv(self.path, self.final)

    def abort(self) -> None:
        if self.path == self.final and isinstance(self.fh, AbstractBufferedFile):
            self.fh.discard()  # S3: abandon the multipart upload
            self.fh.closed = True  # nothing left to flush when the file object is collected
            return
        self.fh.close()
        if self.fs.exists(self.path):
            self.fs.rm(self.path)


class PayloadStore:
    def __init__(self, url: str, **storage_options: Any) -> None:
        self.url = url
        self.fs, self.root = fsspec.core.url_to_fs(url, **storage_options)
        self._local = isinstance(self.fs, LocalFileSystem)
        if self._local:
            self.fs.makedirs(self.root, exist_ok=True)

    def _path(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"invalid payload key {key!r}")
        return f"{self.root.rstrip('/')}/{key}"

    def begin_write(self, key: str) -> PartialWrite:
        """Start writing `key`; nothing is visible until `commit()`, `abort()` leaves nothing."""
        final = self._path(key)
        if not self._local:
            return PartialWrite(self.fs, final, final, self.fs.open(final, "wb"))
        self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
        partial = f"{final}.part-{uuid.uuid4().hex}"
        return PartialWrite(self.fs, partial, final, self.fs.open(partial, "wb"))

    @contextmanager
    def writer(self, key: str) -> Iterator[IO[bytes]]:
        """Open `key` for writing; the object appears only if the block exits cleanly."""
        pw = self.begin_write(key)
        try:
            yield pw.fh
        except BaseException:
            pw.abort()
            raise
        pw.commit()

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> StoredObject:
        digest = hashlib.sha256()
        size = 0
        with self.writer(key) as fh:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                fh.write(chunk)
        return StoredObject(key, size, digest.hexdigest())

    def open(self, key: str) -> IO[bytes]:
        return self.fs.open(self._path(key), "rb")

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._path(key)))

    def delete(self, key: str) -> None:
        path = self._path(key)
        if self.fs.exists(path):
            self.fs.rm(path)

    def size(self, key: str) -> int:
        return int(self.fs.size(self._path(key)))

    def listing(self, prefix: str) -> Iterator[tuple[str, dt.datetime]]:
        """Every object under `prefix` (local leftovers `*.part-*` included) with its time."""
        base = self._path(prefix)
        if not self.fs.exists(base):
            return
        root = self.root.rstrip("/") + "/"
        for path, info in self.fs.find(base, detail=True).items():
            stamp = info.get("mtime") or info.get("LastModified") or info.get("created")
            if isinstance(stamp, (int, float)):
                at = dt.datetime.fromtimestamp(stamp, dt.UTC)
            elif isinstance(stamp, dt.datetime):
                at = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
            else:
                continue  # no time known: never old enough to remove
            yield path.removeprefix(root), at

    def total_size(self) -> int:
        return int(self.fs.du(self.root, total=True)) if self.fs.exists(self.root) else 0

    def check(self) -> None:
        """Prove the store is writable and readable; raises with the store's own error."""
        key = f".probe/{uuid.uuid4().hex}"
        self.put_stream(key, [b"ok"])
        try:
            with self.open(key) as fh:
                if fh.read() != b"ok":
                    raise OSError("payload store returned different bytes than written")
        finally:
            self.delete(key)
