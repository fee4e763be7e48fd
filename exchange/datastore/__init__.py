"""The datastore: one table per resource, built from its schema file, plus its change history.

Alembic owns the hub's own tables; resource tables follow `schemas/` and are created or
extended by `hub db upgrade` (see `sync_tables`). Each resource has:
* `ds_<code>`: the current state, one row per primary key, deletes kept as tombstones;
* `ds_<code>__hist`: the versions superseded since; with the current table (`versions`)
  every version ever recorded: the change log and the bitemporal history.
"""
