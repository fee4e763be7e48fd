"""The node's one typed settings object, read from `HUB_*` variables or a settings file.

A province, a city and a district run the same program; only these settings differ.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from exchange.core import divisions

DEV_SECRET = "dev-insecure-secret-change-me"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class NodeLevel(StrEnum):
    province = "province"
    city = "city"
    district = "district"

    @property
    def parent(self) -> NodeLevel | None:
        return {"city": NodeLevel.province, "district": NodeLevel.city}.get(self.value)


class NodeRef(BaseModel):
    """A neighbouring node: the parent or a child, reachable over HTTP."""

    code: str
    url: str
    name: str | None = None
    public_key: str | None = Field(default=None, description="Ed25519 public key, base64")

    @field_validator("code")
    @classmethod
    def _code_is_a_division(cls, v: str) -> str:
        return divisions.require(v)


class SharingSettings(BaseModel):
    """The sharing platform's rules of the road: deadlines, credentials, quotas, audit sealing."""

    review_working_days: int = Field(
        default=2, ge=1, le=30, description="days the provider has to take up an application"
    )
    answer_working_days: int = Field(
        default=10, ge=5, le=10, description="days the provider has to decide (local rules: 5-10)"
    )
    max_grant_days: int = Field(default=365, ge=1, le=3650)
    token_ttl_s: int = Field(default=300, ge=30, le=3600, description="access token lifetime")
    rate_per_minute: int = Field(default=600, ge=1, description="default calls per grant")
    rows_per_day: int = Field(default=100_000, ge=1, description="default rows per grant")
    max_page_rows: int = Field(default=1000, ge=1, le=32_000)
    max_attachment_bytes: int = Field(default=5 * 1024**2, ge=1024)
    seal_interval_s: float = Field(
        default=1.0, ge=0, description="audit sealing period; 0 disables the in-process sealer"
    )
    console_session_hours: int = Field(default=8, ge=1, le=72)
    console_idle_minutes: int = Field(
        default=30, ge=1, le=720, description="a console session unused this long ends"
    )
    catalogue_bureau: str = Field(
        default="DSJ", description="the department whose staff review and publish the catalogue"
    )
    catalogue_grace_days: int = Field(
        default=30, ge=0, le=365, description="days a version's predecessor still takes batches"
    )
    relay_timeout_s: float = Field(
        default=10.0, ge=0.5, le=120, description="a call across levels' whole time budget"
    )


class WebhookChannel(BaseModel):
    """An HTTP endpoint that receives alerts as JSON.

    `shape = "hub"` posts the alert itself, signed with HMAC-SHA256 over `timestamp.body`
    (header `X-Hub-Alert-Signature: sha256=...`); `shape = "robot"` posts the markdown message
    group-chat robots take (DingTalk / WeCom), signed the DingTalk way when a secret is given.
    """

    url: str
    shape: Literal["hub", "robot"] = "hub"
    secret: SecretStr | None = None


class SmtpChannel(BaseModel):
    host: str
    port: int = Field(default=25, ge=1, le=65535)
    sender: str
    recipients: list[str] = Field(min_length=1)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False


class AlertSettings(BaseModel):
    """Where the assurance systems' alerts go (`HUB_ALERTS__WEBHOOKS='[{"url": ...}]'`)."""

    min_severity: Literal["warning", "critical"] = "critical"
    webhooks: list[WebhookChannel] = Field(default_factory=list)
    smtp: SmtpChannel | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=120)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HUB_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    env: Environment = Environment.development
    node_code: str = Field(default="330100000000", description="12-digit GB/T 2260 code")
    node_level: NodeLevel = NodeLevel.city
    node_name: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    parent: NodeRef | None = None
    children: list[NodeRef] = Field(default_factory=list)

    var_dir: Path = Path("var")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite")
    read_replica_url: str | None = Field(
        default=None, description="PostgreSQL streaming replica for read-heavy queries"
    )
    replica_max_lag_s: float = Field(default=5.0, ge=0, description="staleness bound for reads")
    store_url: str | None = Field(default=None, description="fsspec URL; default ./var/payloads")
    store_options: dict[str, Any] = Field(
        default_factory=dict,
        description='fsspec options, e.g. {"endpoint_url": "http://minio:9000"} for S3',
    )
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    node_key_file: Path | None = Field(
        default=None, description="Ed25519 private key (PEM); default var/node.key, made if absent"
    )

    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_connect_timeout_s: int = Field(default=5, ge=1, le=60)
    max_batch_bytes: int = Field(default=2 * 1024**3, ge=1024)
    caller_rate_per_minute: int = Field(
        default=600, ge=1, description="signed calls per minute per connector or node"
    )
    relay_interval_s: float = Field(
        default=1.0, ge=0, description="outbox poll interval of the relay worker; 0 disables it"
    )
    relay_max_backoff_s: float = Field(default=300, gt=0, description="cap of the retry delay")
    relay_backlog_max: int = Field(
        default=1000, ge=1, description="/readyz is degraded past this many pending relays"
    )
    relay_backlog_max_age_s: float = Field(
        default=3600, gt=0, description="/readyz is degraded while a relay waits longer"
    )
    janitor_interval_s: float = Field(
        default=3600,
        ge=0,
        description="how often leftovers of killed uploads and loads are removed; 0 disables it",
    )
    janitor_grace_s: float = Field(
        default=3600, ge=60, description="age before a leftover payload may be removed"
    )
    clock_offset_s: float = Field(
        default=0,
        description="tests only: shift this node's clock by this many seconds (refused in "
        "production), to see skew reported before it breaks signatures",
    )
    sharing: SharingSettings = Field(default_factory=SharingSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("node_code")
    @classmethod
    def _node_code_is_a_division(cls, v: str) -> str:
        return divisions.require(v)

    @field_validator("node_level")
    @classmethod
    def _level_matches_code(cls, v: NodeLevel, info: ValidationInfo) -> NodeLevel:
        code = info.data.get("node_code")
        if code and divisions.level_of(code) != v.value:
            raise ValueError(
                f"{v.value} does not fit {code}, a {divisions.level_of(code)}-level division"
            )
        return v

    @field_validator("secret_key")
    @classmethod
    def _no_default_secret_outside_development(
        cls, v: SecretStr, info: ValidationInfo
    ) -> SecretStr:
        env = info.data.get("env", Environment.development)
        if env is not Environment.development and v.get_secret_value() == DEV_SECRET:
            raise ValueError(f"the built-in development secret is refused in {env.value}")
        if env is Environment.production and len(v.get_secret_value()) < 32:
            raise ValueError("production secrets must be at least 32 characters")
        return v

    @field_validator("clock_offset_s")
    @classmethod
    def _no_clock_offset_in_production(cls, v: float, info: ValidationInfo) -> float:
        if v and info.data.get("env") is Environment.production:
            raise ValueError("a clock offset is for tests; production keeps its clock by NTP")
        return v

    @model_validator(mode="after")
    def _check_neighbours(self) -> Settings:
        if self.parent and self.node_level is NodeLevel.province:
            raise ValueError("parent: a province node has no parent")
        own = divisions.get(self.node_code)
        if self.parent and own and self.parent.code != own.parent_code:
            raise ValueError(f"parent: {self.parent.code} is not the division above {own.code}")
        for child in self.children:
            if divisions.get(child.code).parent_code != self.node_code:  # type: ignore[union-attr]
                raise ValueError(
                    f"children: {child.code} is not a direct child of {self.node_code}"
                )
        return self

    @property
    def resolved_node_name(self) -> str:
        return self.node_name or divisions.name_of(self.node_code)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'hub.db').resolve()}"

    @property
    def resolved_node_key_file(self) -> Path:
        return self.node_key_file or self.var_dir / "node.key"

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or (self.var_dir / "payloads").resolve().as_uri()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the settings file, so an operator can override one value at start.
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        settings_file = os.environ.get("HUB_SETTINGS_FILE")
        if settings_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(settings_file)))
        return tuple(sources)


class SettingsError(Exception):
    """Invalid configuration, phrased as one line per setting for an operator."""


def describe(error: ValidationError) -> str:
    lines = []
    for err in error.errors():
        loc = "__".join(str(p) for p in err["loc"] if p != "__root__")
        msg = err["msg"].removeprefix("Value error, ")
        head, _, rest = msg.partition(": ")
        if not loc and rest and head.isidentifier():  # whole-object checks name their field
            loc, msg = head, rest
        name = f"HUB_{loc.upper()}" if loc else "settings"
        lines.append(f"invalid setting {name}: {msg}")
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build settings or raise SettingsError naming each bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe(exc)) from None
    except ValueError as exc:  # a malformed settings file or env value pydantic could not parse
        raise SettingsError(f"invalid settings: {exc}") from None
