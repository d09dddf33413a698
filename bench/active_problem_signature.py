"""Microseconds per call of the active known problems' signature, the query every search runs
(incidents/matching.py, `_ActiveProblems.current_signature`).

    .venv/bin/python bench/active_problem_signature.py [--calls 3000] [--repeats 5]

Four ways, on the configured database (DATABASE_URL; read only), in one process, in turns:
  orm, problem fields only   the signature before session 11: no service links (stale when a
                             service was linked or unlinked without saving the problem)
  orm, with service links    the same plus the m2m table's service id (one join), through the
                             ORM on every call
  written once, ids only     session 11's statement: the service id from the m2m table, SQL
                             compiled once per connection (stale after a bulk update of a
                             service's slug or name, which sends no signal)
  written once (in use)      the query as the code runs it, with the service's slug and name
                             (a second join): SQL compiled once per connection, then executed
Prints the median and best of --repeats timings of --calls calls each, and the load average
(a busy machine inflates all of them alike; compare them within one run).
"""

import argparse
import os
import statistics
import time

from _django import setup


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    setup()
    from django.db import connection

    from dbutils.prepared import PreparedStatement
    from incidents.matching import _ActiveProblems
    from incidents.models import KnownProblem

    fields = _ActiveProblems.FIELDS

    def fields_only():
        return tuple(KnownProblem.objects.active().order_by("pk").values_list(*fields))

    def with_links():
        rows = KnownProblem.objects.active().order_by("pk", "services")
        return tuple(rows.values_list(*fields, "services"))

    ids_only = PreparedStatement.from_queryset(
        KnownProblem.objects.active().order_by("pk", "services").values_list(*fields, "services"),
        (),
    )

    def written_once_ids_only():
        return tuple(tuple(row) for row in ids_only.rows(()))

    ways = [
        ("orm, problem fields only", fields_only),
        ("orm, with service links", with_links),
        ("written once, ids only", written_once_ids_only),
        ("written once (in use)", _ActiveProblems.current_signature),
    ]
    assert len(with_links()) == len(_ActiveProblems.current_signature())
    print(
        f"# {connection.vendor}, {KnownProblem.objects.active().count()} active problems, "
        f"{len(with_links())} signature rows; load average at start "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    timings = {name: [] for name, _fn in ways}
    for _name, fn in ways:
        for _ in range(200):  # warm
            fn()
    for _ in range(args.repeats):
        for name, fn in ways:  # in turns, so a busy spell hits all of them
            started = time.perf_counter()
            for _ in range(args.calls):
                fn()
            timings[name].append((time.perf_counter() - started) / args.calls * 1e6)
    for name, values in timings.items():
        print(
            f"{name:26s} median {statistics.median(values):6.0f} us, best {min(values):6.0f} us "
            f"per call ({args.repeats} x {args.calls} calls)"
        )
    print(f"# load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
