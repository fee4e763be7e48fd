"""How a personal value appears to someone not allowed to see it: masked by its field's sensitivity.

Used wherever values leave their provider: quality findings (logged, stored with quarantined
batches, shown to the sending department's staff) and shared records (API, console, bulk) when
the consumer's grant does not allow plain values. No personal value may appear in clear,
whatever its length or shape.
"""

from __future__ import annotations

from exchange.core.resource_schema import FieldSpec, Sensitivity

MAX_VALUE_CHARS = 64


def display(value: object, spec: FieldSpec) -> str:
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    masked = mask(text, sensitivity_of(spec))
    if len(masked) > MAX_VALUE_CHARS:
        return masked[: MAX_VALUE_CHARS - 1] + "…"
    return masked


def sensitivity_of(spec: FieldSpec) -> Sensitivity:
    # A field checked as an ID number holds ID numbers even if its schema forgot to say so.
    if spec.check == "cn_ric":
        return Sensitivity.personal_id
    return spec.sensitivity


def mask(text: str, sensitivity: Sensitivity) -> str:
    match sensitivity:
        case Sensitivity.personal_id:
            # 330106********1234; shorter (malformed) values keep proportionally less.
            return _keep_ends(text, hidden_at_least=8, head=6, tail=4)
        case Sensitivity.contact:
            return _keep_ends(text, hidden_at_least=4, head=3, tail=4)  # 138****1234
        case Sensitivity.personal_name:
            return text[:1] + "*" * max(len(text) - 1, 1)  # 张*
        case Sensitivity.address:
            return text[:6] + "****"  # 浙江省杭州市****
        case Sensitivity.secret:
            return "****"
    return text


def _keep_ends(text: str, *, hidden_at_least: int, head: int, tail: int) -> str:
    visible = max(len(text) - hidden_at_least, 0)
    keep_tail = min(tail, (visible + 1) // 2)
    keep_head = min(head, visible - keep_tail)
    hidden = len(text) - keep_head - keep_tail
    return text[:keep_head] + "*" * hidden + text[len(text) - keep_tail :]
