"""Quality-gate throughput on a million synthetic population rows.

    python -m bench.quality_gate [--rows N] [--repeat K]

Prints rows/s for a clean batch and for one where 1% of the ID numbers have a wrong check
character (exact counts, sampled findings). The first run is reported apart: it loads the
division table and stdnum's region table once per process.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pyarrow as pa

from exchange.quality import validate_table
from exchange.testing.population_batch import fixed_width_strings, population_schema
from exchange.testing.population_batch import population_table as make_population


def _with_bad_check_characters(table: pa.Table, every: int) -> pa.Table:
    numbers = table["id_number"].combine_chunks()
    chars = np.frombuffer(numbers.buffers()[2], dtype=np.uint8)[: 18 * len(numbers)]
    matrix = chars.reshape(-1, 18).copy()
    hit = matrix[::every, 17]
    matrix[::every, 17] = np.where(hit == ord("0"), ord("1"), ord("0"))
    return table.set_column(0, "id_number", fixed_width_strings(matrix))


def _timed(table: pa.Table, repeat: int) -> tuple[list[float], int]:
    schema = population_schema()
    seconds, findings = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        report = validate_table(table, schema)
        seconds.append(time.perf_counter() - start)
        findings = sum(report.failures_by_rule.values())
    return seconds, findings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    clean = make_population(args.rows, seed=1)
    print(f"generated {args.rows:,} population rows in {time.perf_counter() - start:.2f} s")
    first, _ = _timed(clean, 1)
    print(f"first run (cold tables): {first[0]:.3f} s")
    for label, table in (
        ("clean", clean),
        ("1% bad check characters", _with_bad_check_characters(clean, every=100)),
    ):
        seconds, failures = _timed(table, args.repeat)
        best, median = min(seconds), statistics.median(seconds)
        print(
            f"{label:>24}: median {median:.3f} s, best {best:.3f} s "
            f"-> {args.rows / median:,.0f} rows/s ({failures:,} failing rows counted)"
        )


if __name__ == "__main__":
    main()
