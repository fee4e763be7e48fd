"""Dispute refusals (one JSON body, as every error of the hub)."""

from __future__ import annotations

import uuid

from exchange.core.errors import Conflict, NotFound, Unprocessable


class DisputeNotFound(NotFound):
    def __init__(self, dispute_id: uuid.UUID) -> None:
        super().__init__(f"dispute {dispute_id} does not exist")


class DisputeClosed(Conflict):
    def __init__(self, dispute_id: uuid.UUID, status: str) -> None:
        super().__init__(f"dispute {dispute_id} is already {status}")


class NoSuchRecord(NotFound):
    def __init__(self, resource: str) -> None:
        super().__init__(f"{resource}: no current record has this key")


class FieldNotGranted(Unprocessable):
    def __init__(self, field: str) -> None:
        super().__init__(f"field: {field!r} is not among the fields your grant shows")
