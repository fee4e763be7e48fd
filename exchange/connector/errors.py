"""The one error the connector's reader raises: where in the file, and what is wrong."""

from __future__ import annotations

from pathlib import Path

GBK_HINT = "if it was exported as GBK, read it with encoding 'gbk'"


class ReadError(Exception):
    """A file that cannot be read as the resource; `row` is None for a file-level problem."""

    def __init__(
        self,
        path: Path,
        problem: str,
        *,
        row: int | None = None,
        field: str | None = None,
        value: object = None,
    ) -> None:
        self.path = path
        self.row = row
        self.field = field
        self.value = None if value is None else _shorten(value)
        # Undecodable bytes are shown as \xNN escapes, without repr doubling the backslash.
        shown = f"'{self.value}'" if isinstance(value, bytes) else repr(self.value)
        self.problem = problem if value is None else f"{shown} {problem}"
        where = str(path)
        if row is not None:
            where += f" row {row}"
        if field is not None:
            where += f"{',' if row is not None else ''} field {field}"
        super().__init__(f"{where}: {self.problem}")


def _shorten(value: object) -> str:
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
