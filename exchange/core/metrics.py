"""Prometheus metrics of the node. Route templates (not raw paths) keep label sets bounded."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

HTTP_REQUESTS = Counter(
    "hub_http_requests_total", "HTTP requests handled", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "hub_http_request_duration_seconds",
    "Time from request start to response start",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

BATCHES_RECEIVED = Counter(
    "hub_batches_received_total", "Batches taken in by this node", ["resource", "status"]
)
# Live intake and relay traffic (a scrape sees them at once, no check run needed); resources
# and nodes are labels, never part of a metric's name.
BATCH_ROWS = Counter("hub_batch_rows_total", "Rows of the batches taken in", ["resource", "status"])
BATCH_BYTES = Counter(
    "hub_batch_bytes_total", "Payload bytes of the batches taken in", ["resource", "status"]
)
INTAKE_REFUSALS = Counter(
    "hub_intake_refusals_total",
    "Batch pushes refused before a batch was recorded, by reason (the error's code)",
    ["reason"],
)
RELAY_BATCHES = Counter(
    "hub_relay_batches_total", "Batches delivered to a neighbouring node", ["node", "resource"]
)
RELAY_ROWS = Counter("hub_relay_rows_total", "Rows delivered to a neighbouring node", ["node"])
RELAY_BYTES = Counter(
    "hub_relay_bytes_total", "Payload bytes delivered to a neighbouring node", ["node"]
)
RELAY_ATTEMPTS = Counter(
    "hub_relay_attempts_total",
    "Relay sends to a neighbouring node, by outcome (delivered, retry, rejected)",
    ["node", "outcome"],
)


def render() -> tuple[bytes, str]:
    """This process's metrics, or every worker's when several share the port.

    With PROMETHEUS_MULTIPROC_DIR set (by `hub serve --workers N`), each worker writes its
    samples to files there and a scrape of any worker sums them all.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
