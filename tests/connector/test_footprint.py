"""The connector runs on a department's front-end machine: it must not drag the hub along."""

from __future__ import annotations

import subprocess
import sys


def test_reading_and_pushing_a_file_needs_no_database_layer() -> None:
    probe = (
        "import sys\n"
        "from exchange.connector import client, outbox, reader, spool\n"
        "from exchange.core.resource_schema import SCHEMAS_DIR, load_all\n"
        "load_all(SCHEMAS_DIR)\n"
        "print(sorted(m for m in ('sqlalchemy', 'psycopg', 'fastapi', 'pandas') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
