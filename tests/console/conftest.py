from tests.platforms.open_data.conftest import live_portal  # noqa: F401  (a `hub serve` process)
