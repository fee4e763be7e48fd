"""What `hub connector run` prints: one line per batch pushed, refused or received.

Lines go to a rich console on stderr; operators grep them, so a line never wraps (the runner's
console is built with `soft_wrap=True`) and any text from files or the hub is escaped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from exchange.connector import outbox
from exchange.connector.inbox import Delivery, Received
from exchange.connector.spool import SpooledBatch
from exchange.connector.watch import SENDING, Settled

MAX_PROBLEMS_SHOWN = 5


class RunLog:
    def __init__(self, console: Console) -> None:
        self.console = console

    def note(self, message: str) -> None:
        self.console.print(escape(message))

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]{escape(message)}[/yellow]")

    def error(self, message: str) -> None:
        self.console.print(f"[red]{escape(message)}[/red]")

    def outcome(self, outcome: outbox.Outcome) -> None:
        b = outcome.batch
        what = escape(f"{b.resource} {b.batch_id} rows={b.rows} from {_source_name(b)}")
        if isinstance(outcome, outbox.Accepted) and outcome.receipt.get("replayed"):
            self.console.print(
                f"[green]pushed[/green] {what}: {outbox.replay_note(outcome.receipt)}"
            )
        elif isinstance(outcome, outbox.Accepted):
            load = outcome.receipt.get("load") or {}
            counts = " ".join(f"{k}={load.get(k, 0)}" for k in ("inserted", "updated", "deleted"))
            self.console.print(f"[green]pushed[/green] {what} {counts}")
        elif isinstance(outcome, outbox.Refused):
            body = outcome.body
            reason = f"{outcome.status} {body.get('error', '')}: {body.get('detail', '')}"
            self.console.print(f"[red]refused[/red] {what}: {escape(reason)}")
            for p in body.get("problems", [])[:MAX_PROBLEMS_SHOWN]:
                self.console.print(f"  {escape(_problem(p))}")
        else:
            self.console.print(f"[yellow]waiting[/yellow] {what} stays in the outbox")

    def file_rejected(self, settled: Settled) -> None:
        where = f"[red]rejected[/red] {escape(str(settled.file))}"
        if settled.batch_id is None and settled.reasons is not None:
            # Refused by the local reader: no "refused" line came from the hub, so say why here.
            self.console.print(f"{where}: {escape(str(settled.reasons.get('detail')))}")
        else:
            self.console.print(f"{where} (reasons in {escape(settled.file.name)}.error.json)")

    def received(self, received: Received) -> None:
        d = received.delivery
        ack = "acked" if received.acked else "not acked yet: it will come again"
        self.console.print(
            f"[green]received[/green] {d.resource} {d.batch_id} rows={d.rows} -> "
            f"{escape(received.where)} ({ack})"
        )

    def delivery_failed(self, delivery: Delivery, message: str) -> None:
        self.console.print(
            f"[red]delivery {delivery.delivery_id}[/red] {delivery.resource} "
            f"{delivery.batch_id}: {escape(message)} (left in the inbox)"
        )

    def hub_waiting(self, reason: str, delay_s: float) -> None:
        self.warn(
            f"the hub cannot take batches now ({reason}); outbox kept, next try in {delay_s:.0f}s"
        )


def _source_name(batch: SpooledBatch) -> str:
    """The file's own name for a dropped file, else the description the spooler gave."""
    if batch.source and SENDING in Path(batch.source).parts:
        return Path(batch.source).name
    return str(batch.source)


def _problem(p: dict[str, Any]) -> str:
    return f"{p.get('rule')} {where(p)}: {p.get('message')}"


def where(p: dict[str, Any]) -> str:
    """Row (numbered as the sender's file, by the hub too: `X-Batch-First-Row`), field and key
    of a finding."""
    shown = {"row": p.get("row"), "field": p.get("field"), "key": p.get("key")}
    return ", ".join(f"{k} {v}" for k, v in shown.items() if v is not None)
