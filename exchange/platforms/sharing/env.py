"""What the sharing platform builds once per process: caches, keys and the audit writer."""

from __future__ import annotations

from dataclasses import dataclass, field

from exchange.core.resource_schema import ResourceSchema
from exchange.core.runtime import Runtime
from exchange.core.settings import SharingSettings
from exchange.core.signing import KeyPair
from exchange.core.store import PayloadStore
from exchange.platforms.sharing.audit import AuditLog
from exchange.platforms.sharing.crypto import derive_key
from exchange.platforms.sharing.grants import GrantCache
from exchange.platforms.sharing.tokens import TokenVerifier


@dataclass
class SharingEnv:
    node_code: str
    node_name: str
    secure_cookies: bool
    settings: SharingSettings
    schemas: dict[str, ResourceSchema]
    store: PayloadStore
    keys: KeyPair
    audit: AuditLog
    cursor_key: bytes
    cookie_key: bytes
    verifier: TokenVerifier
    grants: GrantCache = field(default_factory=GrantCache)


def build_env(rt: Runtime) -> SharingEnv:
    secret = rt.settings.secret_key.get_secret_value()
    keys = rt.node_keys
    return SharingEnv(
        node_code=rt.settings.node_code,
        node_name=rt.settings.resolved_node_name,
        secure_cookies=rt.settings.base_url.startswith("https://"),
        settings=rt.settings.sharing,
        schemas=rt.schemas,
        store=rt.store,
        keys=keys,
        audit=AuditLog(secret),
        cursor_key=derive_key(secret, "cursor"),
        cookie_key=derive_key(secret, "console-session"),
        verifier=TokenVerifier(keys.private.public_key(), rt.settings.node_code),
    )
