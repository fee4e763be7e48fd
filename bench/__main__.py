"""`make bench`: every benchmark, each printing its figures against a baseline from the same run.

python -m bench                  all of them at the issues' sizes (tens of minutes)
python -m bench --quick          the same code paths on smaller data (a few minutes)
python -m bench exchange ...     only the named ones
python -m bench soak --minutes 3 one benchmark with its own options (here a 3-minute soak)
"""

from __future__ import annotations

import argparse
import importlib
import time

# name -> (full-size arguments, quick arguments)
BENCHES: dict[str, tuple[list[str], list[str]]] = {
    "quality_gate": ([], ["--rows", "200000", "--repeat", "1"]),
    "registries": ([], ["--rows", "200000", "--lookups", "1000"]),
    "exchange": ([], ["--rows", "200000", "--big-mb", "64", "--relay-mb", "20"]),
    "assurance": ([], ["--rows", "200000"]),
    "portal": ([], ["--datasets", "2000", "--rows", "1000000", "--requests", "100"]),
    "sharing": ([], ["--rows", "200000", "--seconds", "5", "--rounds", "1"]),
    "deploy": ([], ["--rows", "50000", "--seconds", "3", "--rounds", "1", "--batch-mb", "2"]),
    "embedded": ([], ["--rows", "20000", "--small", "500"]),
    "catalogue": ([], ["--resources", "300", "--requests", "50", "--pushes", "5"]),
    "soak": ([], ["--minutes", "0.5"]),
    "vertical": ([], ["--rows", "10000", "--seconds", "3", "--rounds", "1"]),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHES)}")
    ap.add_argument("--quick", action="store_true")
    args, extra = ap.parse_known_args()
    if extra and len(args.names) != 1:
        ap.error(f"options {' '.join(extra)} need exactly one benchmark named")
    unknown = set(args.names) - set(BENCHES)
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    for name in args.names or list(BENCHES):
        full, quick = BENCHES[name]
        module = importlib.import_module(f"bench.{name}")
        start = time.perf_counter()
        module.main((quick if args.quick else full) + extra)
        print(f"[{name} took {time.perf_counter() - start:.0f} s]\n")


main()
