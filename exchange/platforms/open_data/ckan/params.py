"""CKAN's error shapes and parameter parsing, as CKAN itself checks its parameters."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from exchange.core.db import BIGINT_MAX
from exchange.core.errors import HubError, TooManyRequests
from exchange.platforms.open_data import errors
from exchange.platforms.open_data.portal.service import Schemas


class CkanError(Exception):
    status = 400
    kind = "Bad request"

    def __init__(self, message: str, fields: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})

    def body(self) -> dict[str, Any]:
        return {"__type": self.kind, "message": self.message, **self.fields}


class ValidationError(CkanError):
    status, kind = 409, "Validation Error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", {field: [message]})


class NotFound(CkanError):
    status, kind = 404, "Not Found Error"


class NotAuthorized(CkanError):
    status, kind = 403, "Authorization Error"


class SearchQueryError(CkanError):
    status, kind = 400, "Search Query Error"


class RateLimitError(CkanError):
    status, kind = 429, "Rate Limit Error"


def from_hub_error(exc: HubError) -> CkanError:
    if isinstance(exc, errors.BadParameter):
        return ValidationError(exc.name, exc.message)
    if isinstance(exc, TooManyRequests):
        return RateLimitError(exc.detail)
    if exc.status_code == 404:
        return NotFound(exc.detail)
    if exc.status_code in (401, 403):
        return NotAuthorized(exc.detail)
    return CkanError(exc.detail)


@dataclass(frozen=True)
class Context:
    session: Session
    schemas: Schemas
    base: str
    api_key_id: str | None = None


def integer(params: Mapping[str, Any], name: str, default: int, *, low: int = 0) -> int:
    raw = params.get(name, default)
    try:
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError(name, "Invalid integer") from None
    if value < low:
        raise ValidationError(name, f"Must be at least {low}")
    if value > BIGINT_MAX:  # what the database can take as an OFFSET or LIMIT
        raise ValidationError(name, f"Must be at most {BIGINT_MAX}")
    return value


def boolean(params: Mapping[str, Any], name: str, default: bool) -> bool:
    raw = params.get(name, default)
    if isinstance(raw, bool):
        return raw
    if str(raw).lower() in ("true", "1", "yes"):
        return True
    if str(raw).lower() in ("false", "0", "no"):
        return False
    raise ValidationError(name, "Must be true or false")


def string(params: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise ValidationError(name, "Missing value")
        return None
    if not isinstance(raw, str | int):
        raise ValidationError(name, "Must be a string")
    return str(raw)


def json_value(params: Mapping[str, Any], name: str) -> Any:
    """A structured parameter, given as JSON (POST) or as JSON text (GET)."""
    raw = params.get(name)
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise ValidationError(name, "Cannot parse JSON") from None
    return raw
