"""An alert as the channels send it: one event of one finding's life (opened, changed, resolved)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

Event = Literal["opened", "changed", "resolved", "run_failed"]


@dataclass(frozen=True)
class AlertEvent:
    event: Event
    node: str
    system: str
    kind: str
    subject: str
    severity: str
    message: str
    at: dt.datetime
    detail: dict[str, Any] = field(default_factory=dict)
    alert_id: int | None = None  # None for events with no stored finding (an Airflow failure)

    @property
    def title(self) -> str:
        state = {"opened": "OPEN", "changed": "CHANGED", "resolved": "RESOLVED"}.get(
            self.event, "FAILED"
        )
        return f"[{state}] {self.severity} {self.system}: {self.kind} on {self.subject}"

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "node": self.node,
            "system": self.system,
            "kind": self.kind,
            "subject": self.subject,
            "severity": self.severity,
            "message": self.message,
            "detail": self.detail,
            "at": self.at.isoformat(),
            "alert_id": self.alert_id,
        }

    def to_text(self) -> str:
        return (
            f"{self.title}\n\n{self.message}\n\nnode {self.node}, {self.at:%Y-%m-%d %H:%M:%S} UTC"
            + (f"\nalert {self.alert_id}" if self.alert_id is not None else "")
        )
