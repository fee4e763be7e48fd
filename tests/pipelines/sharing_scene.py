"""The sharing platform's history in an assurance test city: weeks of reads, sealed.

Credentials and grants go through the platform's own services (apply, approve); audit entries
through its `AuditLog`, so each carries a valid MAC, with its time set back; one seal covers
them all, as a sealer running all along would have left it. Dates are relative to `now`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.core.runtime import Runtime
from exchange.directory import repository as directory
from exchange.directory import service as directory_service
from exchange.platforms.sharing.access import service as credentials
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.applications import service as applications
from exchange.platforms.sharing.applications.schemas import ApplicationCreate, Approval
from exchange.platforms.sharing.audit import chain as audit_chain
from exchange.platforms.sharing.audit import repository as audit_repo
from exchange.platforms.sharing.audit.log import AuditLog, ReadContext
from exchange.platforms.sharing.models import ApiClient, Grant

DAY = dt.timedelta(days=1)
CONSUMERS = {
    "MZ": "民政局",
    "JY": "教育局",
    "ZJ": "住房和城乡建设局",
    "RS": "人力资源和社会保障局",
    "WJ": "卫生健康委员会",
    "SW": "税务局",
}


@dataclass
class Scene:
    """One open session writing a city's sharing history; `done()` seals and commits."""

    rt: Runtime
    session: Session
    now: dt.datetime

    @property
    def log(self) -> AuditLog:
        return AuditLog(self.rt.settings.secret_key.get_secret_value())

    def consumer(
        self, code: str, *, created_days_ago: float = 120, token_days_ago: float | None = 0.1
    ) -> Principal:
        """A consuming department with an API client, last issued a token that long ago."""
        node = directory.get_node(self.session, self.rt.settings.node_code)
        assert node is not None, "seed the city first"
        directory_service.ensure_department(self.session, node, code, CONSUMERS[code])
        return self.client(code, f"{code}-system", created_days_ago, token_days_ago)

    def client(
        self, code: str, name: str, created_days_ago: float, token_days_ago: float | None
    ) -> Principal:
        client, _secret = credentials.create_client(
            self.session,
            self.rt.settings.node_code,
            name=name,
            role=Role.department,
            department=code,
            by="test",
        )
        client.created_at = self.now - created_days_ago * DAY
        client.last_token_at = None if token_days_ago is None else self.now - token_days_ago * DAY
        self.session.flush()
        return credentials.client_principal(client, self.rt.settings.node_code)

    def grant(self, who: Principal, resource: str, *, granted: float, expires: float) -> Grant:
        """Apply and, if the resource needs it, approve as its provider; then date the grant
        `granted` days ago, ending in `expires` days (negative: already over)."""
        ctx = applications.Context(self.rt.settings.sharing, self.rt.schemas, self.rt.store)
        fields = [f.name for f in self.rt.schemas[resource].fields][:5]
        request = ApplicationCreate(
            resource=resource,
            purpose="核验办事群众提交的信息",
            legal_basis="《政务信息资源共享管理暂行办法》第十条",
            fields=fields,
            duration_days=365,
        )
        app = applications.apply(self.session, ctx, who, request)
        if app.status != "approved":
            provider = Principal(
                "user",
                uuid.uuid4(),
                "provider-reviewer",
                Role.department,
                self.rt.settings.node_code,
                app.provider_id,
                None,
            )
            applications.approve(self.session, ctx, provider, app.id, Approval())
        g = self.session.scalars(select(Grant).where(Grant.application_id == app.id)).one()
        g.granted_at = self.now - granted * DAY
        g.expires_at = self.now + expires * DAY
        self.session.flush()
        return g

    def read(
        self,
        who: Principal,
        grant: Grant | None,
        *,
        days_ago: float,
        rows: int,
        outcome: str = "ok",
        resource: str | None = None,
    ) -> int:
        """One audited read (or refusal) that long ago; its id."""
        ctx = ReadContext(who, "api", "核验办事群众提交的信息", f"{who.department_code}-2026-7")
        values = self.log.values(
            ctx,
            action="records",
            resource=grant.resource_code if grant else resource,
            grant_id=grant.id if grant and outcome == "ok" else None,
            keys=[f"k{i}" for i in range(min(rows, 3))],
            rows=rows,
            outcome=outcome,
        )
        values["at"] = self.now - days_ago * DAY
        values["mac"] = self.log.mac(values)
        return audit_repo.append(self.session, values)

    def steady(
        self, who: Principal, grant: Grant, *, days: range, rows: int, hour: float = 0.2
    ) -> list[int]:
        """One read a day for each day ago in `days`, a little over `rows` rows each."""
        return [self.read(who, grant, days_ago=d + hour, rows=rows + (d % 5) * 3) for d in days]

    def done(self) -> None:
        audit_chain.seal(self.session, self.rt.node_keys, now=self.now)
        self.session.commit()


@dataclass(frozen=True)
class Traffic:
    """What the clean history holds that a planted problem may refer to."""

    steady_entries: tuple[int, ...]  # 民政局's daily reads of population, oldest last


def clean_traffic(rt: Runtime, now: dt.datetime) -> Traffic:
    """Normal use: nothing here may be reported.

    * 民政局 reads population every day through a live grant, about 40 rows a day;
    * 教育局's grant expired ten days ago: it read until then and was refused after;
    * 住房和城乡建设局 started two days ago, a few hundred rows a day (no baseline yet, but
      below the volume worth a warning);
    * an old credential of 民政局 was revoked long ago and never used since.
    """
    with rt.sessions() as session:
        scene = Scene(rt, session, now)
        mz = scene.consumer("MZ")
        steady = scene.steady(
            mz, scene.grant(mz, "population", granted=40, expires=325), days=range(29), rows=40
        )
        jy = scene.consumer("JY", token_days_ago=2)
        expired = scene.grant(jy, "population", granted=60, expires=-10)
        scene.steady(jy, expired, days=range(11, 29), rows=20)
        scene.read(jy, None, days_ago=2, rows=0, outcome="GrantExpired", resource="population")
        zj = scene.consumer("ZJ", created_days_ago=3)
        new = scene.grant(zj, "geo_address", granted=2, expires=363)
        scene.read(zj, new, days_ago=1.5, rows=300)
        scene.read(zj, new, days_ago=0.3, rows=600)
        old = scene.client("MZ", "MZ-legacy", created_days_ago=400, token_days_ago=300)
        revoked = session.get(ApiClient, old.id)
        assert revoked is not None
        revoked.revoked_at = now - 200 * DAY
        scene.done()
    return Traffic(tuple(steady))
