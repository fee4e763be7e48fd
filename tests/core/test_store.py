import hashlib
import shutil
from pathlib import Path

import pytest

from exchange.core.store import PayloadStore


def test_put_stream_stores_bytes_and_reports_size_and_sha256(tmp_path: Path) -> None:
    store = PayloadStore(tmp_path.as_uri())
    chunks = [b"a" * 1000, b"b" * 24]
    obj = store.put_stream("batches/x.arrow", chunks)
    assert obj.size == 1024
    assert obj.sha256 == hashlib.sha256(b"".join(chunks)).hexdigest()
    with store.open("batches/x.arrow") as fh:
        assert fh.read() == b"".join(chunks)
    assert store.size("batches/x.arrow") == 1024


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    store = PayloadStore(tmp_path.as_uri())

    def broken():  # type: ignore[no-untyped-def]
        yield b"partial"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put_stream("batches/y.arrow", broken())
    assert not store.exists("batches/y.arrow")
    assert list(tmp_path.rglob("*")) == [tmp_path / "batches"]


@pytest.mark.parametrize("key", ["/etc/passwd", "../outside", "a/../../b"])
def test_keys_cannot_escape_the_store(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="invalid payload key"):
        PayloadStore(tmp_path.as_uri()).put_stream(key, [b"x"])


def test_check_passes_on_a_working_store_and_fails_when_its_folder_is_gone(
    tmp_path: Path,
) -> None:
    root = tmp_path / "payloads"
    store = PayloadStore(root.as_uri())
    store.check()
    shutil.rmtree(root)
    root.write_text("a file where the store's folder was")  # fails for root users too
    with pytest.raises(OSError):  # noqa: PT011  the store's own error, as its filesystem raises it
        store.check()
