"""
### Security: personal data in public view, hidden resources, rights in use, the audit log

Runs nightly. Four checks, one task each: personal data in every open dataset (whole tables,
scanned in the database) and in sampled public API responses; no 不予共享 / 禁止开放 resource
reachable, neither through the open-data API nor through a sharing grant; grants used after
they expired or were revoked, dormant credentials and consumers reading far above their
baseline; the audit log's hash chain verified end to end. Findings carry a severity (info /
warning / critical) and are stored per logical date.

Code: `exchange.pipelines.security` and `exchange.pipelines.access`; same checks:
`hub check security`.
"""

# An Airflow DAG file: in its safe mode the dag processor only reads files naming both words.
import datetime as dt

from exchange.pipelines.dagsupport import assurance_dag

dag = assurance_dag(
    "security",
    schedule="30 2 * * *",
    doc_md=__doc__,
    retries=2,
    retry_delay=dt.timedelta(minutes=5),
)
