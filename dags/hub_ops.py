"""
### Operations: is data arriving, moving and stored as it should?

Runs every 15 minutes. One task per check: freshness of every resource against its declared
update cycle, connector heartbeats and last pushes, the relay outbox (backlog and oldest
pending delivery per destination), reachability of the parent and child nodes, database and
payload store size, and quarantined batches. The gauges feed `/metrics` and the staff
console's ops page (`/console/ops`); findings are stored per logical date.

Code: `exchange.pipelines.ops`; same checks: `hub check ops`.
"""

# An Airflow DAG file: in its safe mode the dag processor only reads files naming both words.
import datetime as dt

from exchange.pipelines.dagsupport import assurance_dag

dag = assurance_dag(
    "ops",
    schedule="*/15 * * * *",
    doc_md=__doc__,
    retries=1,
    retry_delay=dt.timedelta(minutes=1),
    timeout=dt.timedelta(minutes=14),
)
