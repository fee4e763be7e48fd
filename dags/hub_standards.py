"""
### Standards: every resource's stored rows against its schema's rules

Runs nightly. One task per resource (dynamic task mapping) runs the resource's expectation
suite — the intake gate's rules, generated from `schemas/` — inside the hub's database with
Great Expectations, stores a quality report, recomputes the resource's catalogue quality score
and records one finding per failing rule. Re-running a date replaces that date's results.

Code: `exchange.pipelines.standards`; same checks: `hub check standards`.
"""

# An Airflow DAG file: in its safe mode the dag processor only reads files naming both words.
import datetime as dt

from exchange.pipelines.dagsupport import assurance_dag

dag = assurance_dag(
    "standards",
    schedule="0 2 * * *",
    doc_md=__doc__,
    retries=2,
    retry_delay=dt.timedelta(minutes=5),
    max_parallel_checks=2,  # each runs a suite inside the database
)
