from exchange.core.errors import NotFound


class ResourceNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"resource {code!r} is not in the catalogue")
