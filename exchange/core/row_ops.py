"""The optional `_op` column of a batch: what each row asks for.

Its own module so the connector can read files without importing the database layer.
"""

OP_COLUMN = "_op"
OPS = ("upsert", "delete")  # a delete is kept as a tombstone, never a removed row
