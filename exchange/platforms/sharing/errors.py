"""Sharing platform errors: each names what was refused and why, in the one error shape."""

from __future__ import annotations

from exchange.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    HubError,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)


class ResourceNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"resource {code!r} is not in the catalogue")


# -- credentials (codes follow RFC 6749 where a client library reads them) ----------------------
class MissingToken(Unauthorized):
    headers = {"WWW-Authenticate": 'Bearer realm="sharing"'}  # noqa: RUF012

    def __init__(self) -> None:
        super().__init__(
            "send an access token: Authorization: Bearer <token> (POST /sharing/v1/token)"
        )


class InvalidToken(Unauthorized):
    headers = {"WWW-Authenticate": 'Bearer realm="sharing", error="invalid_token"'}  # noqa: RUF012

    def __init__(self, why: str) -> None:
        super().__init__(f"access token rejected: {why}", code="invalid_token")


class InvalidClient(Unauthorized):
    def __init__(self) -> None:
        super().__init__("unknown client, wrong secret or revoked client", code="invalid_client")


class UnsupportedGrantType(BadRequest):
    def __init__(self, got: str) -> None:
        super().__init__(
            f"grant_type {got!r} is not supported; use client_credentials",
            code="unsupported_grant_type",
        )


class InvalidTokenRequest(BadRequest):
    def __init__(self, what: str) -> None:
        super().__init__(what, code="invalid_request")


class CsrfFailed(Forbidden):
    def __init__(self) -> None:
        super().__init__(
            "CSRF: an unsafe call carrying the console session cookie must send the session's "
            "CSRF token in X-CSRF-Token (or authenticate with a bearer token instead)"
        )


class RoleForbidden(Forbidden):
    def __init__(self, role: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"role {role} may not call this; allowed: {', '.join(allowed)}")


class ClientNotFound(NotFound):
    def __init__(self, client_id: object) -> None:
        super().__init__(f"API client {client_id} is not registered here")


class UserExists(Conflict):
    def __init__(self, username: str) -> None:
        super().__init__(f"user {username!r} already exists")


class ClientNotApproved(Forbidden):
    def __init__(self, client_id: object) -> None:
        super().__init__(
            f"client {client_id} waits for its department's approval "
            "(POST /sharing/v1/clients/{id}/approve by that department)"
        )


class NotYourClient(Forbidden):
    pass


class UserNotFound(NotFound):
    def __init__(self, username: str) -> None:
        super().__init__(f"no console user {username!r}")


class UnknownDepartment(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"department {code!r} is not registered at this node")


class DepartmentRequired(Unprocessable):
    def __init__(self, role: str) -> None:
        super().__init__(f"role {role} acts for a department: name one (--department CODE)")


# -- applications and grants ---------------------------------------------------------------
class NotShareable(Forbidden):
    def __init__(self, code: str) -> None:
        super().__init__(f"resource {code!r} is 不予共享 (not shared): it cannot be applied for")


class ResourceNotPublished(Conflict):
    def __init__(self, code: str, missing: list[str]) -> None:
        super().__init__(
            f"resource {code!r} is not published: its catalogue entry lacks {', '.join(missing)}"
        )


class OwnResource(Unprocessable):
    def __init__(self, code: str) -> None:
        super().__init__(f"your department provides {code!r}; it needs no application")


class UnknownFields(Unprocessable):
    def __init__(self, where: str, fields: list[str], code: str) -> None:
        super().__init__(f"{where}: {', '.join(fields)} not among the fields of {code!r}")


class FieldsNotRequested(Unprocessable):
    def __init__(self, where: str, fields: list[str]) -> None:
        super().__init__(f"{where}: {', '.join(fields)} were not requested by the application")


class ApplicationNotFound(NotFound):
    def __init__(self, application_id: object) -> None:
        super().__init__(f"application {application_id} is not one of your department's")


class ApplicationClosed(Conflict):
    def __init__(self, application_id: object, status: str) -> None:
        super().__init__(f"application {application_id} is {status}; it can no longer change")


class ApplicationPending(Conflict):
    def __init__(self, application_id: object) -> None:
        super().__init__(f"application {application_id} for this resource is still open")


class AlreadyGranted(Conflict):
    def __init__(self, grant_id: object) -> None:
        super().__init__(f"grant {grant_id} is active for this resource: renew it instead")


class NotProvider(Forbidden):
    def __init__(self, what: str) -> None:
        super().__init__(f"only the providing department may {what}")


class DurationTooLong(Unprocessable):
    def __init__(self, days: int, limit: int, what: str) -> None:
        super().__init__(f"duration_days: {days} exceeds {what} ({limit} days)")


class AttachmentRejected(Unprocessable):
    def __init__(self, why: str) -> None:
        super().__init__(f"attachment: {why}")


class AttachmentTooLarge(PayloadTooLarge):
    def __init__(self, limit: int) -> None:
        super().__init__(f"attachment: larger than {limit} bytes")


class NoAttachment(NotFound):
    def __init__(self, application_id: object) -> None:
        super().__init__(f"application {application_id} has no attachment")


class GrantNotFound(NotFound):
    def __init__(self, grant_id: object) -> None:
        super().__init__(f"grant {grant_id} is not one of your department's")


class GrantClosed(Conflict):
    def __init__(self, grant_id: object, state: str) -> None:
        super().__init__(f"grant {grant_id} is {state}")


# -- reading data ----------------------------------------------------------------------------
class NoGrant(Forbidden):
    def __init__(self, department: str, code: str) -> None:
        super().__init__(
            f"department {department} holds no grant for {code!r}: apply at "
            "POST /sharing/v1/applications (deny by default)"
        )


class GrantExpired(Forbidden):
    def __init__(self, grant_id: object, at: object) -> None:
        super().__init__(f"grant {grant_id} expired at {at}: ask the provider to renew it")


class GrantRevoked(Forbidden):
    def __init__(self, grant_id: object, at: object) -> None:
        super().__init__(f"grant {grant_id} was revoked at {at}")


class ClientRevoked(Forbidden):
    def __init__(self) -> None:
        super().__init__("this API client has been revoked")


class FieldNotGranted(Forbidden):
    def __init__(self, where: str, fields: list[str], code: str) -> None:
        super().__init__(f"{where}: {', '.join(fields)} not granted to you on {code!r}")


class BadFilter(BadRequest):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"filter {field!r}: {problem}")


class BadCursor(BadRequest):
    def __init__(self, why: str = "malformed or altered") -> None:
        super().__init__(f"cursor: {why}; pass back next_cursor exactly as received")


class MissingCallHeader(BadRequest):
    def __init__(self, header: str, code: str) -> None:
        super().__init__(f"header {header} is required on conditional resource {code!r}")


class BadCallHeader(BadRequest):
    def __init__(self, header: str, problem: str) -> None:
        super().__init__(f"header {header}: {problem}")


class RecordNotFound(NotFound):
    def __init__(self, code: str, key: str) -> None:
        super().__init__(f"no record {key!r} in {code!r}")


class KeyLookupUnsupported(BadRequest):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"{code!r} has a composite key: look it up with filters on /records instead"
        )


class QuotaExceeded(TooManyRequests):
    def __init__(self, what: str, limit: int, retry_after_s: int, headers: dict[str, str]) -> None:
        super().__init__(
            f"grant quota reached: {limit} {what}", retry_after_s=retry_after_s, headers=headers
        )


class NotInTime(BadRequest):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"as_of / valid_at: {code!r} is not kept by a base registry, so it has no reads in "
            "time; read it as it is now"
        )


class BulkNeedsKeys(Forbidden):
    def __init__(self, code: str, missing: list[str]) -> None:
        super().__init__(
            f"bulk deliveries of {code!r} are applied by key; your grant does not cover the key "
            f"field(s) {', '.join(missing)} in plain values. Use the masked Parquet snapshots "
            "instead, or apply for the key in plain."
        )


class SubscriptionNotFound(NotFound):
    def __init__(self, subscription_id: object) -> None:
        super().__init__(f"subscription {subscription_id} is not one of your department's")


def is_refusal(exc: BaseException) -> bool:
    """A refused read worth an audit entry: bad input (a missing purpose, a bad filter, a
    tampered cursor), no valid credential, forbidden or over quota."""
    return isinstance(exc, HubError) and exc.status_code in (400, 401, 403, 429)


class RepeatedParameter(BadRequest):
    def __init__(self, name: str) -> None:
        super().__init__(f"query parameter {name!r} may be given once")


class UnknownParameter(BadRequest):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(
            f"unknown query parameter {name[:40]!r}; this route takes {', '.join(known) or 'none'}"
        )
