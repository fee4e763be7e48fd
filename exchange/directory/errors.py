"""Errors about who is who: departments, and the key sets of nodes and connectors."""

from __future__ import annotations

import datetime as dt

from exchange.core.errors import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable


class InvalidPublicKey(Unprocessable):
    def __init__(self) -> None:
        super().__init__("public_key: not a base64 Ed25519 public key (32 raw bytes)")


class UnknownKey(Unauthorized):
    def __init__(self, principal: str, key_id: str) -> None:
        super().__init__(f"keyId {principal}:{key_id}: {key_id} is not a key of {principal}")


class KeyRetired(Unauthorized):
    def __init__(self, principal: str, key_id: str, at: dt.datetime) -> None:
        super().__init__(
            f"keyId {principal}:{key_id}: the key was retired at {at.isoformat()}; "
            "sign with a current key"
        )


class NoCurrentKey(Unauthorized):
    def __init__(self, principal: str) -> None:
        super().__init__(f"every key of {principal} is retired; it must be registered again")


class KeyNotYetActive(Unauthorized):
    def __init__(self, principal: str, key_id: str, at: dt.datetime) -> None:
        super().__init__(f"keyId {principal}:{key_id}: the key is valid from {at.isoformat()}")


class NotKeyOwner(Forbidden):
    def __init__(self, caller: str, principal: str) -> None:
        super().__init__(
            f"{caller} may not change the keys of {principal}: only {principal} itself may, "
            "in a request signed with one of its current keys"
        )


class KeyNotFound(NotFound):
    def __init__(self, principal: str, key_id: str) -> None:
        super().__init__(f"key {key_id} is not a key of {principal}")


class KeyWasRetired(Conflict):
    def __init__(self, principal: str, key_id: str) -> None:
        super().__init__(
            f"key {key_id} of {principal} was retired and cannot be used again; make a new key"
        )


class LastKey(Conflict):
    def __init__(self, principal: str, key_id: str) -> None:
        super().__init__(
            f"key {key_id} is the last key of {principal} without a retirement date: "
            "register its successor before retiring it"
        )


class BadDepartment(Unprocessable):
    def __init__(self, problem: str) -> None:
        super().__init__(f"department: {problem}")


class DepartmentExists(Conflict):
    def __init__(self, node_code: str, code: str) -> None:
        super().__init__(f"department {code!r} already exists on node {node_code}")
