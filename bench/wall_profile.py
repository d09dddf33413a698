"""Where gunicorn workers' wall time goes, from py-spy's raw (collapsed) samples.

    .venv/bin/python bench/wall_profile.py var/load-profile.txt

bench/load_test.py --profile records every worker with `py-spy record --idle` (waiting
threads included), so a sample is a moment of wall time of one thread. Only the threads
serving requests count here (a stack through gunicorn's `handle_request`); the share of
those samples spent in each stage below is printed, the deepest matching stage winning
(a stage inside another is not counted twice), then the functions where the time was
spent (the innermost Python frame) across all request samples. Idle workers waiting for a
connection and the replica's follower thread are counted apart. At 50 samples a second,
samples / 50 are thread-seconds: a request thread's seconds include time it was runnable
but waiting for a core (py-spy counts it as active), so on a busy machine they exceed the
request's CPU time.
"""

import sys
from collections import Counter
from pathlib import Path

# (label, substring of a frame "function (file:line)"), outermost first: the deepest match
# in a stack names its stage.
STAGES = [
    ("middleware and view (rest)", "handle_request (gunicorn"),
    ("session and user lookup", "get_user (django/contrib/auth"),
    ("service.search (rest)", "search (search/service.py"),
    ("lexical query", "lexical_candidates (search/service.py"),
    ("chunk rows of the FAISS hits", "chunk_rows (search/service.py"),
    ("visibility of the candidate pages", "visible_pages (search/service.py"),
    ("page hydration (pages, services, teams)", "hydrate_pages (search/service.py"),
    ("new database connection", "get_new_connection (django/db/backends"),
    ("replica catch-up in the request", "maybe_catch_up (embeddings/replica.py"),
    ("query encoding", "encode_quer"),
    ("FAISS search and index (re)load", "nearest_chunks (embeddings/vectors.py"),
    ("known problems", "known_problems_for_search (incidents/matching.py"),
    ("known problems: encoding the problems", "refresh (incidents/matching.py"),
    ("serializer", "response_to_dict (search/serializers.py"),
    ("search log write", "log_search (insights/events.py"),
    ("database wait (SQLite lock or I/O)", "execute (django/db/backends/sqlite3"),
]


def stage_of(frames):
    found = "other"
    for frame in frames:
        for label, marker in STAGES:
            if marker in frame:
                found = label
    return found


def summarise(path, top=15, rate=50):
    path = Path(path)
    if not path.exists():
        return f"(no profile at {path}: py-spy could not attach?)"
    stages, leaves = Counter(), Counter()
    idle = follower = other = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        count = int(count)
        frames = stack.split(";")
        if not any("handle_request (gunicorn" in f for f in frames):
            if any("replica" in f for f in frames):
                follower += count
            elif any("gunicorn" in f for f in frames):
                idle += count
            else:
                other += count
            continue
        stages[stage_of(frames)] += count
        leaves[frames[-1]] += count
    total = sum(stages.values())
    if not total:
        return "(no request samples)"
    out = [
        f"worker wall time (py-spy, idle included): {total / rate:.0f} thread-s serving "
        f"requests, {idle / rate:.0f} in gunicorn outside a request (the master, workers "
        f"waiting for a connection), {follower / rate:.0f} in the replica follower, "
        f"{other / rate:.0f} other",
        f"{'stage (deepest wins)':44} {'share':>6}",
    ]
    for label, count in stages.most_common():
        out.append(f"  {label:42} {100 * count / total:5.1f}%")
    out.append(f"innermost frames of request samples (top {top}):")
    for frame, count in leaves.most_common(top):
        out.append(f"  {100 * count / total:5.1f}%  {frame[:110]}")
    return "\n".join(out)


if __name__ == "__main__":
    print(summarise(sys.argv[1] if len(sys.argv) > 1 else "var/load-profile.txt"))
