"""The audit sealer: one seal per interval at most, in its own process under `hub serve`;
after each pass it sends the new seal heads to the parent node to be countersigned.

Sealing hashes every new entry. In an API worker that work holds the interpreter lock the
request handlers need (a fifth of a busy worker's samples), so `hub serve` runs the sealer as
one child process per node (`hub audit seal --every S --parent PID`) and its API
workers run none. The thread form stays for apps built in-process (`create_app` with
`sharing.seal_interval_s` > 0: tests, embedding).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

import httpx

from exchange.core.db import session_scope
from exchange.core.runtime import Runtime
from exchange.platforms.sharing.audit import chain as audit_chain
from exchange.platforms.sharing.audit import client as anchoring
from exchange.platforms.sharing.vertical import federation

log = logging.getLogger("hub.sharing.sealer")

# What API workers started by `hub serve` read instead of the node's sealing period.
NO_SEALER_ENV = {"HUB_SHARING__SEAL_INTERVAL_S": "0"}


def seal_once(rt: Runtime) -> int:
    """Seal what is unsealed now; returns how many entries the new seal covers."""
    with session_scope(rt.sessions) as session:
        seal = audit_chain.seal(session, rt.node_keys)
        return seal.entries if seal else 0


def _seal_logged(rt: Runtime) -> None:
    try:
        seal_once(rt)
    except Exception:
        log.exception("audit sealing failed")


def _anchor_logged(rt: Runtime, client: httpx.Client | None) -> None:
    if client is None:
        return
    try:
        anchoring.anchor_once(rt, client)
    except anchoring.ParentUnavailable as exc:
        # Not fatal: the heads stay unanchored and go with the next pass.
        log.warning("audit anchoring failed", extra={"error": str(exc)})
    except Exception:
        log.exception("audit anchoring failed")


def seal_until(rt: Runtime, interval_s: float, stopped: Callable[[float], bool]) -> None:
    """Seal (and anchor) every `interval_s` until `stopped(timeout)` says so, then seal and
    anchor what is left."""
    client = anchoring.new_client() if rt.settings.parent else None
    federating = federation.Pulls(rt)
    try:
        while True:
            _seal_logged(rt)
            _anchor_logged(rt, client)
            federating.maybe()  # the federated catalogue rides on the same background pass
            if stopped(interval_s):
                break
        _seal_logged(rt)  # what was appended since the last pass
        _anchor_logged(rt, client)
    finally:
        if client is not None:
            client.close()
        federating.close()


class SealingWorker(threading.Thread):
    """The sealer as a thread of the process that serves the API."""

    def __init__(self, rt: Runtime, interval_s: float) -> None:
        super().__init__(name="hub-audit-sealer", daemon=True)
        self.rt = rt
        self.interval_s = interval_s
        self.stopping = threading.Event()

    def run(self) -> None:
        seal_until(self.rt, self.interval_s, self.stopping.wait)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)


def run_foreground(rt: Runtime, interval_s: float, parent: int | None = None) -> None:
    """The sealer process: until SIGTERM or SIGINT, or until `parent` (the server) is gone.

    Watching the parent covers a server killed with SIGKILL, which cannot stop its children.
    """
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())

    def stopped(timeout: float) -> bool:
        return stopping.wait(timeout) or (parent is not None and os.getppid() != parent)

    seal_until(rt, interval_s, stopped)


def start_process(interval_s: float) -> subprocess.Popen[bytes]:
    """Start this node's sealer process (same settings: it inherits the environment)."""
    hub = [sys.executable, "-m", "exchange.cli"]
    return subprocess.Popen(
        [*hub, "audit", "seal", "--every", str(interval_s), "--parent", str(os.getpid())]
    )


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
