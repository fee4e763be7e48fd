"""The quality rules of a resource, derived from its schema file.

A rule is plain data (name, field, severity, params) so that the same list can be executed over
an Arrow batch at the gate (`arrow_checks`) and, later, as SQL over a loaded table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from exchange.core import codelists
from exchange.core.resource_schema import FieldSpec, ResourceSchema
from exchange.quality.report import BLOCKING, WARNING, Severity

RIC_FORMAT = r"^[0-9]{17}[0-9X]$"
USCC_FORMAT = r"^[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}$"
SHA256_FORMAT = r"^[0-9a-f]{64}$"
# GB/T 2261.1 codes that say nothing about the person's sex, so cannot contradict an ID number.
GENDER_UNSTATED = ("0", "9")


class RuleName(StrEnum):
    required = "required"
    type = "type"  # the column cannot be read as the schema's type (a gate-only rule)
    enum = "enum"
    pattern = "pattern"
    minimum = "minimum"
    maximum = "maximum"
    unique = "unique"
    primary_key_unique = "primary_key_unique"
    code_list = "code_list"
    cn_ric_format = "cn_ric.format"
    cn_ric_checksum = "cn_ric.checksum"
    cn_ric_region = "cn_ric.region"
    cn_uscc_format = "cn_uscc.format"
    cn_uscc_checksum = "cn_uscc.checksum"
    ric_birth_date = "ric_birth_date"
    ric_gender = "ric_gender"
    division = "division"
    sha256 = "sha256"
    reference = "reference"


@dataclass(frozen=True)
class Rule:
    name: RuleName
    field: str | None  # None for a rule over several fields (a composite primary key)
    severity: Severity = BLOCKING
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class RuleError(ValueError):
    """The schema asks for a rule that cannot be derived (e.g. `ric_gender` with no ID field)."""


_CHECK_FORMAT = {"cn_ric": RIC_FORMAT, "cn_uscc": USCC_FORMAT, "sha256": SHA256_FORMAT}


def derive_rules(schema: ResourceSchema) -> list[Rule]:
    """Every rule of `schema`, field by field in schema order, then the primary key."""
    rules: list[Rule] = []
    for spec in schema.fields:
        rules.extend(_field_rules(schema, spec))
    pk = schema.primary_key
    rules.append(
        Rule(
            RuleName.primary_key_unique,
            pk[0] if len(pk) == 1 else None,
            params={"fields": pk},
        )
    )
    return rules


def _field_rules(schema: ResourceSchema, spec: FieldSpec) -> list[Rule]:
    name = spec.name
    rules: list[Rule] = []
    if spec.required:
        rules.append(Rule(RuleName.required, name))
    if spec.enum is not None:
        rules.append(Rule(RuleName.enum, name, params={"values": spec.enum}))
    # A pattern that is exactly the check's own format rule would only repeat its findings.
    if spec.pattern is not None and spec.pattern != _CHECK_FORMAT.get(spec.check or ""):
        rules.append(Rule(RuleName.pattern, name, params={"pattern": spec.pattern}))
    if spec.minimum is not None:
        rules.append(Rule(RuleName.minimum, name, params={"value": spec.minimum}))
    if spec.maximum is not None:
        rules.append(Rule(RuleName.maximum, name, params={"value": spec.maximum}))
    if spec.unique and schema.primary_key != (name,):
        rules.append(Rule(RuleName.unique, name))
    if spec.code_list is not None and not _code_list_is_implied(spec):
        rules.append(Rule(RuleName.code_list, name, params={"list": spec.code_list}))
    rules.extend(_check_rules(schema, spec))
    for when, ref in spec.references:
        resource, _, target = ref.partition(".")
        params: dict[str, Any] = {"resource": resource, "field": target, "when": when}
        rules.append(Rule(RuleName.reference, name, params=params))
    return rules


def _code_list_is_implied(spec: FieldSpec) -> bool:
    """True when another rule on the field already rejects every value outside the list."""
    if spec.code_list == "GB/T 2260" and spec.check == "division":
        return True
    if spec.enum is not None:
        codes = codelists.get(spec.code_list or "")
        return all(str(v) in codes for v in spec.enum)
    return False


def _check_rules(schema: ResourceSchema, spec: FieldSpec) -> list[Rule]:
    name = spec.name
    match spec.check:
        case None:
            return []
        case "cn_ric":
            return [
                Rule(RuleName.cn_ric_format, name, params={"pattern": RIC_FORMAT}),
                Rule(RuleName.cn_ric_checksum, name),
                Rule(RuleName.cn_ric_region, name, WARNING),
            ]
        case "cn_uscc":
            return [
                Rule(RuleName.cn_uscc_format, name, params={"pattern": USCC_FORMAT}),
                Rule(RuleName.cn_uscc_checksum, name),
            ]
        case "ric_birth_date":
            return [
                Rule(RuleName.ric_birth_date, name, params={"id_field": _ric_field(schema, spec)})
            ]
        case "ric_gender":
            params = {"id_field": _ric_field(schema, spec), "warning_codes": GENDER_UNSTATED}
            return [Rule(RuleName.ric_gender, name, params=params)]
        case "division":
            return [Rule(RuleName.division, name)]
        case "sha256":
            return [Rule(RuleName.sha256, name, params={"pattern": SHA256_FORMAT})]
    raise RuleError(f"{schema.code}.{name}: no rule implements check {spec.check!r}")


def _ric_field(schema: ResourceSchema, spec: FieldSpec) -> str:
    candidates = [f.name for f in schema.fields if f.check == "cn_ric"]
    if len(candidates) != 1:
        raise RuleError(
            f"{schema.code}.{spec.name}: check {spec.check!r} compares with the row's ID number, "
            f"so the schema needs exactly one field with check 'cn_ric' (found {candidates})"
        )
    return candidates[0]
