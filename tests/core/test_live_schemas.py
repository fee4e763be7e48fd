"""The live view's fast path reads a published descriptor as the full check would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exchange.core.resource_schema import SCHEMAS_DIR, schema_from_descriptor


@pytest.mark.parametrize("path", sorted(SCHEMAS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_a_checked_descriptor_loads_to_the_same_schema_without_the_table_schema_pass(
    path: Path,
) -> None:
    descriptor = json.loads(path.read_text("utf-8"))
    full = schema_from_descriptor(descriptor, path)
    fast = schema_from_descriptor(descriptor, path, checked=True)
    assert fast.fields == full.fields
    assert fast.primary_key == full.primary_key
    assert fast.catalog == full.catalog
