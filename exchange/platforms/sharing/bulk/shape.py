"""A bulk delivery cut to its grant: the granted fields only, personal ones masked unless plain.

The exchange platform keeps each batch as its provider published it. A consumer whose grant
covers every field in plain values receives that payload; any other consumer receives its own
copy, written once when the delivery is queued, with the records API's masking (the same
`masked_text`). Key fields must be granted in plain: the consumer applies deliveries by key.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from exchange.core.arrow_io import ipc_stream
from exchange.core.resource_schema import ResourceSchema
from exchange.core.row_ops import OP_COLUMN
from exchange.core.store import PayloadStore, StoredObject
from exchange.platforms.sharing.grants.service import GrantView
from exchange.platforms.sharing.records import query
from exchange.platforms.sharing.records.query import MaskPlan
from exchange.platforms.sharing.records.service import masked_text


def plan_for(schema: ResourceSchema, grant: GrantView) -> MaskPlan:
    """The granted fields in the schema's order, each with how it is masked (None: plain)."""
    fields = tuple(f for f in schema.field_names if f in grant.fields)
    return query.mask_plan(schema, grant, fields)


def keys_not_plain(schema: ResourceSchema, plan: MaskPlan) -> list[str]:
    """Key fields the grant leaves out or masks: such a grant cannot take bulk deliveries."""
    plain = {name for name, sensitivity in plan if sensitivity is None}
    return [k for k in schema.primary_key if k not in plain]


def is_as_published(schema: ResourceSchema, plan: MaskPlan) -> bool:
    return len(plan) == len(schema.field_names) and all(s is None for _, s in plan)


def shape(
    store: PayloadStore, payload: StoredObject, plan: MaskPlan, grant: GrantView
) -> StoredObject:
    """Write the batch's payload cut to `plan`; streamed batch by batch, never held whole."""
    key = payload.key.rsplit("/", 1)[0] + f"/grant-{grant.id}.arrow"
    with store.open(payload.key) as src:
        reader = pa.ipc.open_stream(src)
        masked = {name for name, sensitivity in plan if sensitivity is not None}
        fields = [
            reader.schema.field(name).with_type(pa.string())
            if name in masked
            else reader.schema.field(name)
            for name, _ in plan
        ]
        if OP_COLUMN in reader.schema.names:
            fields.append(reader.schema.field(OP_COLUMN))  # deletions travel too
        out = pa.schema(fields)
        return store.put_stream(key, ipc_stream(_cut(reader, plan, out), out))


def _cut(
    reader: pa.RecordBatchStreamReader, plan: MaskPlan, out: pa.Schema
) -> Iterator[pa.RecordBatch]:
    for rb in reader:
        columns = []
        for name, sensitivity in plan:
            col = rb.column(name)
            if sensitivity is not None:
                # Per value in Python, as the API masks: bulk batches are rewritten once each.
                values = [
                    None if v is None else masked_text(v, sensitivity) for v in col.to_pylist()
                ]
                col = pa.array(values, pa.string())
            columns.append(col)
        if OP_COLUMN in out.names:
            columns.append(rb.column(OP_COLUMN))
        yield pa.RecordBatch.from_arrays(columns, schema=out)
