from exchange.core.errors import NotFound, Unavailable


class NodeNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"node {code} is not known to this node")


class NodeNotInitialised(Unavailable):
    def __init__(self) -> None:
        super().__init__("this node has not been initialised: run `hub db upgrade`")
