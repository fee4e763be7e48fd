"""Open-data failures. The portal renders them as HTML pages, /api/3 as CKAN errors, and the
rest of the hub's API with the hub's one JSON body."""

from __future__ import annotations

from exchange.core.errors import BadRequest, Forbidden, NotFound, Unauthorized


class DatasetNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"dataset {name!r} is not an open dataset")


class DataNotOpen(Forbidden):
    """受限开放: the metadata is public, the data needs an approved application."""

    def __init__(self, name: str, application_url: str) -> None:
        super().__init__(
            f"dataset {name!r} is open on application only: apply at {application_url}"
        )
        self.application_url = application_url


class NoData(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"dataset {name!r} has no published rows to serve")


class BadParameter(BadRequest):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(
            f"{name}: {message}",
            problems=[{"field": name, "rule": "invalid", "message": message}],
        )
        self.name = name
        self.message = message


class CsrfRejected(Forbidden):
    def __init__(self) -> None:
        super().__init__(
            "csrf_token: the form's token is missing or does not match; reload the page and "
            "send the form again"
        )


class FeedbackNotFound(NotFound):
    def __init__(self, feedback_id: str) -> None:
        super().__init__(f"feedback {feedback_id!r} does not exist")


class NotProvider(Forbidden):
    def __init__(self, department: str, dataset: str) -> None:
        super().__init__(f"department {department} does not provide dataset {dataset!r}")


class StaffOnly(Unauthorized):
    def __init__(self, reason: str) -> None:
        super().__init__(f"staff sign-in required: {reason}")


class ApiKeyRejected(Unauthorized):
    def __init__(self) -> None:
        super().__init__("API key not recognised or revoked; omit it to use the anonymous limit")
