"""A separate process that serves searches from a vector store directory.

Reads commands on stdin ("search" or "quit"); answers one JSON line per search with the
generation it served and the ids found. Used to prove a running reader picks up a new
generation written by another process without a restart."""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kbsite.settings.test")
sys.path.insert(0, os.getcwd())

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from embeddings.store import VectorStore  # noqa: E402


def main():
    directory, locale, model_id, dimension = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = VectorStore(directory)
    query = np.ones((1, dimension), dtype="float32") / np.sqrt(dimension)

    def no_rebuild(_locale):
        raise RuntimeError("the reader must not need a rebuild in this test")

    for line in sys.stdin:
        if line.strip() == "quit":
            break
        loaded = store.get(locale, model_id, dimension, no_rebuild)
        _, ids = store.search(loaded, query, 100)
        print(
            json.dumps(
                {"generation": loaded.generation, "ids": sorted(int(i) for i in ids[0] if i >= 0)}
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
