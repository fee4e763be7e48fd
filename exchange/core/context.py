"""Per-request context carried across layers without threading it through every call."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# What the caller sent as X-Request-ID (if harmless in logs): kept beside the node's own id for
# tracing a call across nodes, never in its place (a caller cannot choose an audit entry's id).
caller_request_id_var: ContextVar[str | None] = ContextVar("caller_request_id", default=None)
