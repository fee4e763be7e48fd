"""How long the synthetic population takes: `python -m bench.synthetic [ROWS]`."""

from __future__ import annotations

import sys
import time

from basebases.synthetic import people

DEFAULT_ROWS = 1_000_000


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    rows = int(args[0]) if args else DEFAULT_ROWS
    people(1_000, seed=0)  # load schemas and stdnum's region table outside the timing
    started = time.perf_counter()
    table = people(rows, seed=1)
    elapsed = time.perf_counter() - started
    print(
        f"people({rows:_}, seed=1): {elapsed:.2f} s, {rows / elapsed:,.0f} rows/s, "
        f"{table.nbytes / 2**20:.0f} MiB in Arrow"
    )


if __name__ == "__main__":
    main()
