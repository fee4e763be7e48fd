"""How values appear in findings: never a personal value in clear."""

from __future__ import annotations

from datetime import date

import pytest

from exchange.core.masking import MAX_VALUE_CHARS, display, mask
from exchange.core.resource_schema import Sensitivity
from exchange.testing.population_batch import population_schema


@pytest.mark.parametrize(
    ("value", "sensitivity", "shown"),
    [
        ("330106199001011234", Sensitivity.personal_id, "330106********1234"),
        ("3301061990010112", Sensitivity.personal_id, "3301********0112"),
        ("330106", Sensitivity.personal_id, "******"),
        ("13812341234", Sensitivity.contact, "138****1234"),
        ("张三丰", Sensitivity.personal_name, "张**"),
        ("张", Sensitivity.personal_name, "张*"),
        ("浙江省杭州市西湖区文三路1号", Sensitivity.address, "浙江省杭州市****"),
        ("hunter2", Sensitivity.secret, "****"),
        ("living", Sensitivity.ordinary, "living"),
    ],
)
def test_values_are_masked_by_sensitivity(value: str, sensitivity: Sensitivity, shown: str) -> None:
    assert mask(value, sensitivity) == shown


def test_a_malformed_id_number_keeps_at_least_eight_characters_hidden() -> None:
    for length in range(0, 25):
        value = "1" * length
        assert mask(value, Sensitivity.personal_id).count("*") >= min(8, length)


def test_display_truncates_long_values_and_writes_dates_in_iso_form() -> None:
    schema = population_schema()
    assert len(display("x" * 500, schema.field("status"))) == MAX_VALUE_CHARS
    assert display(date(1990, 1, 2), schema.field("birth_date")) == "1990-01-02"
