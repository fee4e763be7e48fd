from exchange.core.errors import NotFound


class DatasetNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"dataset {name!r} is not an open dataset")
