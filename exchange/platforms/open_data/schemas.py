"""CKAN Action API envelopes: existing clients (ckanapi, harvesters) rely on this exact shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ActionResponse(BaseModel):
    help: str
    success: bool = True
    result: Any
