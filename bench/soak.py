"""The embedded default under load: a SQLite node served by `hub serve` for M minutes.

    python -m bench.soak [--minutes 10] [--readers 6] [--residents 2000]
    python -m bench soak                 (10 minutes; --quick: 30 s)

A fresh city on the embedded default (SQLite file, local payload folder, the audit sealer on
at its default interval) takes, all at once and for the whole run: a 公安局 connector pushing
batches of updated residents (each a write transaction with history), sharing clients of the
民政局 reading by key and by page (each read an audit entry; a few on purpose for keys that do
not exist), and console users signing in, opening their home page and signing out (a session
written and ended each time). Prints the answers by class (2xx, 4xx, 503 DatabaseBusy, other
5xx, none) per kind of call. Any 5xx other than 503, or a call left unanswered for 60 s
("none"), fails the run: a 503 is the node saying "busy, retry" as designed (with
Retry-After); a 500 or a hang is a bug.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.compute as pc

from basebases.synthetic import people
from bench.sharing import CALL_HEADERS, prepare_sharing, serve_env, start_server
from exchange.connector.client import HubClient, HubUnavailable, PushRefused
from exchange.connector.config import load_keys
from exchange.connector.spool import spool
from exchange.core.db import session_scope
from exchange.core.runtime import build_runtime
from exchange.core.settings import Settings
from exchange.platforms.sharing.access import service as credentials
from exchange.platforms.sharing.access.principal import Role
from exchange.testing.postgres import free_port

SECRET = "bench-soak-secret-bench-soak-secret-0123"
PASSWORD = "soak horse battery staple"
CONSOLE_USERS = 4
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Tally:
    """Answers by kind of call and class, shared by the worker threads."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # the first few 5xx, to say what broke
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, status: int, detail: str = "") -> None:
        # 0: no answer within the client's timeout (a hang is as bad as a 500)
        klass = "none" if status == 0 else "503" if status == 503 else f"{status // 100}xx"
        with self.lock:
            self.counts[(kind, klass)] += 1
            if klass in ("5xx", "none") and len(self.errors) < 20:
                at = time.strftime("%H:%M:%S")
                self.errors.append(f"{at} {kind} {status}: {detail[:300]}")
                print("5xx or no answer:", self.errors[-1], flush=True)

    def total(self, klass: str) -> int:
        return sum(n for (_, c), n in self.counts.items() if c == klass)


TOKEN_RENEW_S = 240  # tokens live 300 s by default: a client renews before expiry, as real ones do


def _token(base: str, client_id: str, secret: str) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    r = httpx.post(f"{base}/sharing/v1/token", data=form, timeout=60)
    r.raise_for_status()
    return str(r.json()["access_token"])


def _call(
    tally: Tally, kind: str, send: Callable[..., httpx.Response], *args: Any, **kw: Any
) -> httpx.Response | None:
    try:
        r = send(*args, **kw)
    except httpx.TransportError as exc:
        tally.add(kind, 0, f"{type(exc).__name__}: {exc}")
        return None
    tally.add(kind, r.status_code, r.text)
    return r


def _readers(
    base: str, credential: tuple[str, str], keys: list[str], stop: threading.Event, tally: Tally
) -> None:
    rng = random.Random()
    url = f"{base}/sharing/v1/resources/population"
    renewed = 0.0
    with httpx.Client(headers=CALL_HEADERS, timeout=60) as http:
        while not stop.is_set():
            if time.monotonic() - renewed > TOKEN_RENEW_S:
                token = _token(base, *credential)
                http.headers["Authorization"] = f"Bearer {token}"
                renewed = time.monotonic()
            roll = rng.random()
            key = rng.choice(keys)
            if roll < 0.75:
                _call(tally, "read by key", http.get, f"{url}/records/{key}")
            elif roll < 0.95:
                _call(tally, "read a page", http.get, f"{url}/records?limit=20")
            else:  # a key nobody has: 404, and an audit entry all the same
                _call(tally, "read a missing key", http.get, f"{url}/records/11010519491231002X")


def _console(base: str, username: str, stop: threading.Event, tally: Tally) -> None:
    while not stop.is_set():
        with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as browser:
            form = _call(tally, "console login page", browser.get, "/console/login")
            found = _CSRF.search(form.text) if form is not None else None
            if found is None:
                continue
            data = {"username": username, "password": PASSWORD, "csrf": found.group(1)}
            r = _call(tally, "console sign-in", browser.post, "/console/login", data=data)
            if r is None or r.status_code != 303:
                time.sleep(0.5)
                continue
            home = _call(tally, "console home", browser.get, "/console/")
            found = _CSRF.search(home.text) if home is not None else None
            if found is not None:
                out = {"csrf": found.group(1)}
                _call(tally, "console sign-out", browser.post, "/console/logout", data=out)


def _pusher(
    client: HubClient,
    outbox: Path,
    origin: str,
    residents: pa.Table,
    stop: threading.Event,
    tally: Tally,
) -> None:
    rng = random.Random(3)
    rows = 200
    n = 0
    while not stop.is_set():
        n += 1
        start = rng.randrange(max(len(residents) - rows, 1))
        part = residents.slice(start, rows)
        # every push a new address for 200 residents: 200 updates with history
        address = pc.binary_join_element_wise(part["address"], pa.scalar(f"(第{n}次)"), "")
        part = part.set_column(part.schema.get_field_index("address"), "address", address)
        batch = spool(part.to_batches(), part.schema, outbox, "population")
        try:
            client.push(batch, origin=origin)
            tally.add("connector push", 201)
        except PushRefused as exc:
            tally.add("connector push", exc.status, str(exc.body))
        except HubUnavailable as exc:
            status = int(str(exc).split()[0]) if str(exc)[:3].isdigit() else 0
            tally.add("connector push", status, str(exc))
            time.sleep(exc.retry_after or 1)
        finally:
            Path(batch.path).unlink(missing_ok=True)
            batch.meta_path.unlink(missing_ok=True)


def _hub(*args: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "exchange.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def soak(minutes: float, readers: int, residents: int) -> Tally:
    tally = Tally()
    with (
        tempfile.TemporaryDirectory(prefix="hub-soak-", ignore_cleanup_errors=True) as tmp,
        ExitStack() as stack,
    ):
        home = Path(tmp)
        settings = Settings(env="test", var_dir=home / "var", secret_key=SECRET, relay_interval_s=0)
        rt = build_runtime(settings)
        try:
            keys, client_id, secret = prepare_sharing(rt, residents)
            with session_scope(rt.sessions) as s:
                for i in range(CONSOLE_USERS):
                    credentials.create_user(
                        s, settings.node_code, username=f"soak{i}", password=PASSWORD,
                        role=Role.department, department="MZ",
                    )  # fmt: skip
        finally:
            rt.close()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = serve_env(home / "var", SECRET, HUB_BASE_URL=base)
        server = start_server(stack, ["exchange.cli", "serve", "--port", str(port)], env, port)
        print(f"hub serve pid {server.pid} on {base}", flush=True)
        ga_dir = home / "ga"
        connector = _hub("connector", "register", "--hub", base, "--department", "GA",
                         "--dir", str(ga_dir), env=env, cwd=home)  # fmt: skip
        _hub("connector", "approve", connector, env=env, cwd=home)
        client = HubClient(base, connector, load_keys(ga_dir), timeout_s=120)
        stack.callback(client.close)
        outbox = home / "outbox"
        outbox.mkdir()
        table = people(residents, seed=1)
        stop = threading.Event()
        origin = f"{settings.node_code}/GA/{connector}"
        workers = [
            threading.Thread(target=_pusher, args=(client, outbox, origin, table, stop, tally))
        ]
        workers += [
            threading.Thread(target=_readers, args=(base, (client_id, secret), keys, stop, tally))
            for _ in range(readers)
        ]
        workers += [
            threading.Thread(target=_console, args=(base, f"soak{i}", stop, tally))
            for i in range(CONSOLE_USERS)
        ]
        started = time.monotonic()
        for w in workers:
            w.start()
        while time.monotonic() - started < minutes * 60:
            time.sleep(1)
        stop.set()
        for w in workers:
            w.join(timeout=120)
    return tally


def report(tally: Tally, minutes: float) -> None:
    kinds = sorted({k for k, _ in tally.counts})
    classes = ("2xx", "3xx", "4xx", "503", "5xx", "none")
    print(f"soak of the embedded default (SQLite) for {minutes:g} min")
    print(f"{'call':<22}" + "".join(f"{c:>9}" for c in classes))
    for kind in kinds:
        print(f"{kind:<22}" + "".join(f"{tally.counts[(kind, c)]:>9,}" for c in classes))
    print(f"{'all':<22}" + "".join(f"{tally.total(c):>9,}" for c in classes))
    for line in tally.errors:
        print("5xx or no answer:", line)


def main(argv: list[str] | None = None) -> Tally:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--readers", type=int, default=6)
    ap.add_argument("--residents", type=int, default=2000)
    args = ap.parse_args(argv)
    tally = soak(args.minutes, args.readers, args.residents)
    report(tally, args.minutes)
    failed = tally.total("5xx") + tally.total("none")
    if failed:
        raise SystemExit(f"{failed} calls got a 5xx other than 503 or no answer (see above)")
    return tally


if __name__ == "__main__":
    main()
