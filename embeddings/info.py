"""Health of the vector index per locale: DB chunks vs FAISS entries, staleness, pending work."""

import numpy as np

from .encoder import model_ids
from .models import Chunk, PendingIndexUpdate
from .store import IndexUnusable, index_ids, store_for


def index_info(locale_code, model_id):
    """One model's index of one locale against the DB chunk table."""
    chunks = Chunk.objects.filter(locale__language_code=locale_code)
    current = chunks.filter(model_id=model_id)
    db_ids = np.fromiter(current.values_list("pk", flat=True), dtype="int64")
    row = {
        "locale": locale_code,
        "model_id": model_id,
        "db_chunks": current.count(),
        "pages": current.values("page_id").distinct().count(),
        # Vectors of models no longer configured (dropped by the next rebuild).
        "stale_chunks": chunks.exclude(model_id__in=model_ids()).count(),
        "pending_updates": PendingIndexUpdate.objects.count(),
        "index_count": None,
        "generation": None,
        "kind": None,
        "missing_from_index": int(len(db_ids)),
        "extra_in_index": 0,
        "problem": "",
    }
    try:
        loaded = store_for(model_id).load_from_disk(locale_code, model_id)
    except IndexUnusable as exc:
        if len(db_ids) or "no index" not in str(exc):
            row["problem"] = str(exc)
        return row
    present = index_ids(loaded.index)
    row.update(
        index_count=int(loaded.index.ntotal),
        generation=loaded.generation,
        kind=loaded.manifest["kind"],
        missing_from_index=int(len(np.setdiff1d(db_ids, present))),
        extra_in_index=int(len(np.setdiff1d(present, db_ids))),
    )
    return row
