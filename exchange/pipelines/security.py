"""Security, the public side: personal data in public view, and hidden resources reachable.

Two checks, each a function of the runtime returning a `CheckResult` (the rights side, grants
and the audit log, is `access.py`):
* `pii`: personal data in open datasets (whole tables) and in sampled public responses;
* `exposure`: no 不予共享 or 禁止开放 resource is reachable, neither through the open-data API
  nor, for 不予共享, through a sharing grant that still holds. A class counts as declared when
  either the catalogue entry or the resource's schema file says so: the stricter one wins, so
  a catalogue edited past its schema cannot quietly open a resource.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect

from exchange.core.db import utcnow
from exchange.core.resource_schema import OpenClass, ShareClass
from exchange.core.runtime import Runtime
from exchange.pipelines import pii
from exchange.pipelines import repository as repo
from exchange.pipelines.runs import CheckResult, Gauge, Issue, guard
from exchange.quality import personal_data
from exchange.quality.personal_data import Kind

RESPONSE_SAMPLE_ROWS = 100

PublicClient = Any  # httpx.Client or fastapi.testclient.TestClient: .get(path) -> Response


@contextmanager
def public_client(rt: Runtime, base_url: str | None = None) -> Iterator[PublicClient]:
    """The open-data API as the public sees it: a live node at `base_url`, or this node's app
    in process (no network, no relay worker)."""
    if base_url:
        import httpx

        with httpx.Client(base_url=base_url, timeout=10) as client:
            yield client
        return
    from fastapi.testclient import TestClient

    from exchange.app import create_app

    settings = rt.settings.model_copy(update={"relay_interval_s": 0, "janitor_interval_s": 0})
    with TestClient(create_app(settings, runtime=rt), raise_server_exceptions=False) as client:
        yield client


@dataclass(frozen=True)
class Hidden:
    """A resource nobody may reach: not shared (不予共享), not open (禁止开放), or both."""

    code: str
    not_shared: bool
    not_open: bool
    drift: tuple[str, ...]  # where the catalogue entry is looser than the schema file

    @property
    def why(self) -> str:
        classes = " + ".join(
            c for c, on in (("不予共享", self.not_shared), ("禁止开放", self.not_open)) if on
        )
        return classes + (f" ({'; '.join(self.drift)})" if self.drift else "")


def _open_and_hidden(rt: Runtime) -> tuple[list[str], list[Hidden]]:
    with rt.sessions() as session:
        entries = list(repo.catalogue(session))
    open_codes = [r.code for r in entries if r.open_class == OpenClass.open.value]
    hidden = []
    for r in entries:
        declared = rt.schemas[r.code].catalog if r.code in rt.schemas else None
        schema_none = bool(declared and declared.share_class is ShareClass.none)
        schema_closed = bool(declared and declared.open_class is OpenClass.closed)
        drift = []
        if schema_none and r.share_class != ShareClass.none:
            drift.append(f"catalogue says share_class={r.share_class}, its schema none")
        if schema_closed and r.open_class != OpenClass.closed:
            drift.append(f"catalogue says open_class={r.open_class}, its schema closed")
        not_shared = schema_none or r.share_class == ShareClass.none
        not_open = schema_closed or r.open_class == OpenClass.closed
        if not_shared or not_open:
            hidden.append(Hidden(r.code, not_shared, not_open, tuple(drift)))
    return open_codes, hidden


def check_pii(rt: Runtime, client: PublicClient | None = None) -> CheckResult:
    result = CheckResult("pii")
    open_codes, _ = _open_and_hidden(rt)
    tables = set(inspect(rt.engine).get_table_names())
    for code in open_codes:
        schema = rt.schemas.get(code)
        if schema is None or f"ds_{code}" not in tables:
            continue
        leaks: list[personal_data.Leak] = []
        with guard(result, code), rt.sessions() as session:
            leaks = pii.scan_dataset(session, schema)
        for leak in leaks:
            severity, what = personal_data.KINDS[Kind(leak.kind)]
            result.issues.append(
                Issue(
                    kind=f"pii.{leak.kind}",
                    severity=severity,  # type: ignore[arg-type]
                    subject=f"{code}.{leak.column}",
                    message=f"open dataset {code}: {leak.count} values of {leak.column} "
                    f"hold {what}",
                    detail={"count": leak.count, "example": leak.example, "key": leak.key},
                )
            )
    if client is not None:
        result.issues += _scan_responses(client, open_codes)
    result.gauges.append(Gauge("datasets_scanned", float(len(open_codes))))
    return result


def _response_paths(codes: list[str]) -> Iterator[str]:
    yield "/api/3/action/package_list"
    for code in codes:
        yield f"/api/3/action/package_show?id={code}"
        yield f"/api/3/action/datastore_search?resource_id={code}&limit={RESPONSE_SAMPLE_ROWS}"


def _scan_responses(client: PublicClient, codes: list[str]) -> list[Issue]:
    issues = []
    for path in _response_paths(codes):
        response = client.get(path)
        if response.status_code != 200:
            continue  # an action this node does not serve has nothing to leak
        hits: dict[Kind, list[str]] = {}
        for kind, value in personal_data.find(response.text):
            hits.setdefault(kind, []).append(value)
        for kind, values in hits.items():
            severity, what = personal_data.KINDS[kind]
            issues.append(
                Issue(
                    kind=f"pii.response.{kind.value}",
                    severity=severity,  # type: ignore[arg-type]
                    subject=path.split("?")[0]
                    + ("?" + path.split("?")[1].split("&")[0] if "?" in path else ""),
                    message=f"public response {path} contains {len(values)} × {what}",
                    detail={"example": personal_data.mask(kind, values[0])},
                )
            )
    return issues


def check_exposure(rt: Runtime, client: PublicClient) -> CheckResult:
    """Every hidden resource must be absent from listings and refused by every public data
    action; a 不予共享 resource must also have no sharing grant that still holds."""
    result = CheckResult("exposure")
    _, hidden = _open_and_hidden(rt)
    listed = client.get("/api/3/action/package_list")
    names = set(listed.json().get("result") or []) if listed.status_code == 200 else set()
    for h in hidden:
        reached = [f"package_list lists {h.code}"] if h.code in names else []
        for path in (
            f"/api/3/action/package_show?id={h.code}",
            f"/api/3/action/datastore_search?resource_id={h.code}",
            f"/datasets/{h.code}",
        ):
            response = client.get(path)
            if response.status_code == 200 and _looks_served(response):
                reached.append(f"GET {path} answered 200")
        if reached:
            result.issues.append(
                Issue(
                    kind="exposure.reachable",
                    severity="critical",
                    subject=h.code,
                    message=f"{h.code} is {h.why} but reachable publicly: " + "; ".join(reached),
                    detail={"reached": reached},
                )
            )
    result.issues += _granted(rt, [h for h in hidden if h.not_shared])
    result.gauges.append(Gauge("hidden_resources", float(len(hidden))))
    return result


# Grants that still hold at the time of the query: the records API serves them while they do.
def _granted(rt: Runtime, not_shared: list[Hidden]) -> list[Issue]:
    if not not_shared or "sharing_grant" not in inspect(rt.engine).get_table_names():
        return []
    by_code = {h.code: h for h in not_shared}
    with rt.sessions() as session:
        rows = repo.holding_grants(session, list(by_code), utcnow())
    holding: dict[str, list[str]] = {}
    for code, grant_id in rows:
        holding.setdefault(code, []).append(str(grant_id))
    return [
        Issue(
            kind="exposure.granted",
            severity="critical",
            subject=code,
            message=f"{code} is {by_code[code].why} but {len(grants)} sharing grants still "
            "hold: its records API answers them; revoke them",
            detail={"grants": grants},
        )
        for code, grants in holding.items()
    ]


def _looks_served(response: Any) -> bool:
    if "json" not in response.headers.get("content-type", ""):
        return True
    body = response.json()
    return not (isinstance(body, dict) and body.get("success") is False)
