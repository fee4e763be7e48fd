"""The audit sealer running in the background of `hub serve` (one seal per interval at most)."""

from __future__ import annotations

import logging
import threading

from exchange.core.db import session_scope
from exchange.core.runtime import Runtime
from exchange.platforms.sharing import audit_chain

log = logging.getLogger("hub.sharing.sealer")


def seal_once(rt: Runtime) -> int:
    """Seal what is unsealed now; returns how many entries the new seal covers."""
    with session_scope(rt.sessions) as session:
        seal = audit_chain.seal(session, rt.node_keys)
        return seal.entries if seal else 0


class SealingWorker(threading.Thread):
    def __init__(self, rt: Runtime, interval_s: float) -> None:
        super().__init__(name="hub-audit-sealer", daemon=True)
        self.rt = rt
        self.interval_s = interval_s
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                seal_once(self.rt)
            except Exception:
                log.exception("audit sealing failed")
            self.stopping.wait(self.interval_s)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
        try:
            seal_once(self.rt)  # what was appended since the last pass
        except Exception:
            log.exception("final audit seal failed")
