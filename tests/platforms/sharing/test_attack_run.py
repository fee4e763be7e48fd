"""A property-based attack run: schemathesis generates valid and invalid calls from the app's own
OpenAPI and sends them in-process (ASGI) with a real department token, on PostgreSQL, against
every sharing and open-data operation. Every check counts: no 5xx, documented status codes and
content types, bodies and headers that match the schema, invalid input refused.

Bounded by examples per operation so it stays well under a minute; a failure names the
operation, the check and the call that reproduces it.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from tests.platforms.sharing.builders import DEFAULT_FIELDS, Caller, grant, load_people

# Sharing and open data; the exchange platform's node-to-node routes are signed, not token-based.
OPERATIONS = r"^/(sharing/v1|api/3/action|datasets|catalog)"
# A catalogue draft is a whole Table Schema descriptor checked against the classification tree,
# the code lists and its own primary key: no OpenAPI schema can say which one is acceptable, so
# a well-formed draft may rightly be 422 and "valid data accepted" is not asked of these two.
DESCRIPTOR_BODIES = {"POST /sharing/v1/catalogue", "PUT /sharing/v1/catalogue/{code}"}
# Examples per operation: the department, who reaches the most code, gets the most.
EXAMPLES = {"department": (8, 4), "admin": (3, 2), "anonymous": (3, 2)}


def _attack(app: object, headers: dict[str, str], positive: int, negative: int) -> list[str]:
    # No NUL characters: the edge refuses them everywhere with 400 NulInRequest (its own test)
    config = schemathesis.Config.from_dict({"generation": {"allow-x00": False}})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    schema = schema.include(path_regex=OPERATIONS)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        excluded = [positive_data_acceptance] if operation.label in DESCRIPTOR_BODIES else []
        for mode, examples in (
            (GenerationMode.POSITIVE, positive),
            (GenerationMode.NEGATIVE, negative),
        ):
            strategy = operation.as_strategy(generation_mode=mode)

            @given(case=strategy)
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,  # the same calls every run: a failure here reproduces
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: schemathesis.Case) -> None:
                # run at once below, within this iteration: `excluded` is this operation's
                case.call_and_validate(headers=headers, excluded_checks=excluded)  # noqa: B023

            try:
                run()
            except Unsatisfiable:  # nothing in this operation can be made invalid
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (AssertionError, BaseExceptionGroup) as exc:
                # collected, not raised: one run reports every failing operation
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert operations >= 30, f"only {operations} operations matched {OPERATIONS}"
    return failures


@pytest.mark.parametrize("who", list(EXAMPLES))
def test_no_check_fails(
    city: TestClient, consumer: Caller, provider: Caller, admin: Caller, who: str
) -> None:
    load_people(city, 5)
    grant(consumer, provider)
    headers = {"department": consumer.headers, "admin": admin.headers, "anonymous": {}}[who]
    failures = _attack(city.app, headers, *EXAMPLES[who])
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/sharing/v1/catalog?q=a%00b", "query"),
        ("/sharing/v1/catalog/pop%00ulation", "path"),
        ("/api/3/action/package_show?id=%00", "query"),
    ],
)
def test_a_nul_anywhere_is_400_naming_where(consumer: Caller, path: str, where: str) -> None:
    r = consumer.get(path)
    assert r.status_code == 400 and r.json()["error"] == "NulInRequest"
    assert r.json()["detail"].startswith(where)


def test_a_nul_in_a_json_body_is_400_and_writes_nothing(consumer: Caller) -> None:
    before = consumer.get("/sharing/v1/applications").json()["items"]
    body = apply_body(purpose="核验\u0000身份")
    r = consumer.http.post(
        "/sharing/v1/applications",
        content=body,
        headers={**consumer.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"] == "NulInRequest", r.text
    assert "body" in r.json()["detail"]
    assert consumer.get("/sharing/v1/applications").json()["items"] == before


def apply_body(**overrides: str) -> str:
    body = {
        "resource": "population",
        "purpose": "核验低保申请人身份",
        "legal_basis": "《社会救助暂行办法》第十一条",
        "fields": DEFAULT_FIELDS,
        "duration_days": 30,
    }
    text = json.dumps(body | {k: "@@" + k for k in overrides}, ensure_ascii=False)
    for k, v in overrides.items():  # the raw JSON text, escapes as the caller wrote them
        text = text.replace(f'"@@{k}"', f'"{v}"')
    return text
